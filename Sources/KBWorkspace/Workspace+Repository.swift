import Foundation
import KBCore
import KBStore
import KBSync

/// `kb status`: local changes, ahead/behind as of the last fetch, the last sync, conflicts.
public struct RepositoryStatus: Codable, Equatable, Sendable {
  public var branch: String?
  public var remote: String?
  public var head: String?
  public var changes: [KBRepository.Change]
  public var ahead: Int
  public var behind: Int
  public var lastSync: Date?
  public var pendingPush: Bool
  public var conflicts: [String]
}

/// A document with merge conflicts to settle (`kb conflicts`).
public struct ConflictedDocument: Codable, Equatable, Sendable {
  public var path: String
  public var id: String?
  /// What conflicts, from the last sync's report, else what the file shows.
  public var details: [String]
  /// The lines (1-based) that start a `<<<<<<<` block.
  public var markerLines: [Int]
}

extension Workspace {
  /// Local changes, ahead/behind (offline, as of the last fetch), the last sync and the paths of
  /// conflicted documents.
  public func repositoryStatus() throws -> RepositoryStatus {
    let status = try KBRepository.status(kbRoot: root)
    let last = lastSync()
    return RepositoryStatus(
      branch: status.branch, remote: status.remote, head: status.head, changes: status.changes, ahead: status.ahead,
      behind: status.behind, lastSync: last?.time, pendingPush: last?.pendingPush ?? false,
      conflicts: try store.conflictedPaths())
  }

  /// Documents a merge left with conflicts, including ones whose broken front matter keeps them
  /// out of the index.
  public func conflicts() throws -> [ConflictedDocument] {
    var paths = try store.conflictedPaths()
    for problem in try store.problems() where !paths.contains(problem.path) {
      if let text = try? readText(problem.path), text.contains("\n<<<<<<< ") { paths.append(problem.path) }
    }
    let last = lastSync()
    var items: [ConflictedDocument] = []
    for path in paths {
      let text = (try? readText(path)) ?? ""
      var lines: [Int] = []
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      where line.hasPrefix("<<<<<<<") { lines.append(i + 1) }
      let id = try? readDocument(at: path).id
      let details = last?.conflicts.first(where: { $0.path == path })?.details
        ?? (lines.isEmpty ? ["marked as conflicted in its front matter"] : ["both versions kept between markers"])
      items.append(ConflictedDocument(path: path, id: id, details: details, markerLines: lines))
    }
    return items
  }
}
