import Foundation
#if canImport(Glibc)
  import Glibc
#endif
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
  package init(root: String, created: [String]) {
    self.root = root
    self.created = created
  }
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
    // No whole-file check here: opening the knowledge base checked the file when it was not as
    // kb left it, and a query that meets damage rebuilds the index ('kb check' checks it all).
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
}

extension Workspace {
  /// The path of a document given by id or by path (`….md`, which must be inside the root).
  public func documentPath(_ idOrPath: String) throws -> String {
    if idOrPath.hasSuffix(".md") {
      _ = try resolve(idOrPath)
      return idOrPath
    }
    return try uniquePath(forID: idOrPath)
  }

  /// The one file with this id.
  func uniquePath(forID typed: String) throws -> String {
    // A unique start of an id, or its words after the date, is as good as the id.
    let id = try resolveID(typed)
    let paths = try store.paths(forID: id)
    guard let first = paths.first else { throw WorkspaceError.documentNotFound(id) }
    guard paths.count == 1 else { throw WorkspaceError.ambiguousID(id, paths: paths) }
    return first
  }
}

/// What KBWorkspaceGit (the part of the application layer that touches git) needs of the index,
/// which stays private to this module.
extension Workspace {
  package func indexMeta(_ key: String) throws -> String? { try store.meta(key) }
  package func setIndexMeta(_ key: String, _ value: String?) throws { try store.setMeta(key, value) }
  package func conflictedPaths() throws -> [String] { try store.conflictedPaths() }
  package func indexProblems() throws -> [IndexProblem] { try store.problems() }
  package func indexCounts() throws -> IndexCounts { try store.counts() }
}

/// A sync, or another repository operation, that failed. `description` says what to do;
/// `kind` sorts the failures for programs (MCP's error codes).
public struct SyncFailure: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// No identity to sign commits with.
    case noIdentity = "no_identity"
    /// Another sync holds the knowledge base.
    case busy
    /// No repository, no remote, or not on a branch.
    case notSetUp = "not_set_up"
    /// Anything else: the remote, the network, git.
    case failed = "sync_failed"
  }

  public var kind: Kind
  public var description: String

  package init(kind: Kind, description: String) {
    self.kind = kind
    self.description = description
  }

  /// No identity to sign with (the same words as KBSync's `SyncError.noIdentity`).
  package static let noIdentity = SyncFailure(
    kind: .noIdentity,
    description: "No identity configured: set 'git config user.name \"Your Name\"' and 'git config user.email you@example.com', or write 'name = …' and 'email = …' in .kb/identity. Commits are signed by the person who made them, never by a shared account.")
}

extension Workspace {
  /// Documents that hold conflicts to settle: flagged in the index (markers or a `conflicts:`
  /// field), plus files the index could not read that hold markers (a merge that broke a front
  /// matter).
  ///
  /// What each unreadable file held is remembered with its size and modification time
  /// (``MarkerScan``): a long-lived process reads again only the files that changed.
  public func conflictedDocuments() throws -> [String] {
    var paths = try store.conflictedPaths()
    let problems = try store.problems().map(\.path).filter { !paths.contains($0) }
    paths += markerScan.filesWithMarkers(problems) { path in
      guard let text = try? readText(path) else { return false }
      return text.hasPrefix("<<<<<<< ") || text.contains("\n<<<<<<< ")
    }
    return paths.sorted()
  }
}

/// Whether files hold conflict markers, remembered by (size, modification time): only a file
/// that changed is read again.
final class MarkerScan: @unchecked Sendable {
  private let lock = NSLock()
  private var seen: [String: (size: Int64, mtime: Int64, markers: Bool)] = [:]
  let root: String

  init(root: String) { self.root = root }

  /// The paths (relative to the root) among `paths` whose file holds markers; `read` looks.
  func filesWithMarkers(_ paths: [String], read: (String) -> Bool) -> [String] {
    lock.withLock {
      var out: [String] = []
      var next: [String: (size: Int64, mtime: Int64, markers: Bool)] = [:]
      for path in paths {
        var st = stat()
        guard stat(root + "/" + path, &st) == 0 else { continue }
        let size = Int64(st.st_size), mtime = FolderScanner.mtime(st)
        let markers: Bool
        if let known = seen[path], known.size == size, known.mtime == mtime {
          markers = known.markers
        } else {
          markers = read(path)
        }
        next[path] = (size, mtime, markers)
        if markers { out.append(path) }
      }
      seen = next
      return out
    }
  }
}
