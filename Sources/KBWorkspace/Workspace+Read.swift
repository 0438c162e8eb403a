import Foundation
import KBCore
internal import KBStore

/// `kb index`: the counts after bringing the index up to date, and what that did.
public struct IndexSummary: Codable, Sendable {
  public var root: String
  public var answers: Int
  public var cases: Int
  /// Files the index skips (``problems`` says why).
  public var skipped: Int
  public var scanned: Int
  public var added: Int
  public var updated: Int
  public var removed: Int
  public var rebuilt: Bool
  public var problems: [IndexProblem]
  public var seconds: Double
  /// `watcher` when a file watcher said what changed (only that was looked at), `walk` when
  /// every file was checked (docs/WATCHER.md).
  public var source: RefreshSource

  public var documents: Int { answers + cases }
  public var changed: Int { added + updated + removed }
}

/// `kb check`: whether the knowledge base is clean, and its problems.
public struct CheckReport: Codable, Sendable {
  public var ok: Bool
  public var documents: Int
  public var problems: [Diagnostic]
}

/// `kb init`: the knowledge base's root and the files created.
public struct InitReport: Codable, Sendable {
  public var root: String
  public var created: [String]
}

extension Workspace {
  /// Documents matching `filter`, answers first, then by opening time and id.
  public func list(_ filter: DocumentFilter, limit: Int? = nil) throws -> [DocumentSummary] {
    try store.list(filter.filters, limit: limit)
  }

  /// Cases matching `query`, in its order.
  public func cases(_ query: CaseListQuery) throws -> [CaseSummary] {
    try store.cases(query)
  }

  /// Answers, cases and skipped files in the index.
  public func counts() throws -> IndexCounts {
    try store.counts()
  }

  /// Files the index skipped, with the reason.
  public func problems() throws -> [IndexProblem] {
    try store.problems()
  }

  /// `kb index`: brings the index up to date (or rebuilds it from the files) and reports.
  public func index(rebuild: Bool, progress: ((Int, Int) -> Void)? = nil) throws -> IndexSummary {
    let started = Date()
    // The whole file is checked (a damaged page may hide behind an "up to date").
    if !rebuild { try verifyIndex() }
    let report = rebuild ? try self.rebuild(progress: progress) : try refresh(progress: progress)
    let counts = try store.counts()
    let seconds = Date().timeIntervalSince(started)
    return IndexSummary(
      root: root, answers: counts.answers, cases: counts.cases, skipped: counts.problems, scanned: report.scanned,
      added: report.added, updated: report.updated, removed: report.removed, rebuilt: report.rebuilt,
      problems: try store.problems(), seconds: (seconds * 1000).rounded() / 1000, source: report.source)
  }

  /// `kb check`: ``check()`` with the document count.
  public func checkReport() throws -> CheckReport {
    let diagnostics = try check()
    return CheckReport(ok: diagnostics.isEmpty, documents: try store.counts().documents, problems: diagnostics)
  }

  /// `kb init`: makes `folder` a knowledge base (kb.yml, folders, git with the merge driver) and
  /// indexes it.
  public static func create(at folder: String, team: String = "Support") throws -> (Workspace, InitReport) {
    var created = try initialize(at: folder, team: team)
    created += try setUpGit(at: folder)
    let workspace = try Workspace(root: folder)
    try workspace.refresh()
    return (workspace, InitReport(root: workspace.root, created: created))
  }
}
