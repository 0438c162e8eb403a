import Foundation

// What the repository reports, as plain values. KBSync produces them; KBWorkspace returns them
// to the front ends, which never see KBSync.

/// A file a sync merged, or kept both versions of.
public struct MergedFile: Codable, Equatable, Sendable {
  /// Path relative to the knowledge base root.
  public var path: String
  /// `merged` (both sides changed it, merged cleanly), `conflict` (both versions kept with
  /// markers), `kept-edit` (edited on one side, deleted on the other: the edit was kept),
  /// `deleted` (deleted on one side, unchanged on the other).
  public var outcome: String
  /// What conflicts, or what was decided.
  public var details: [String]

  public init(path: String, outcome: String, details: [String]) {
    self.path = path
    self.outcome = outcome
    self.details = details
  }
}

/// A local change under the knowledge base.
public struct RepositoryChange: Codable, Equatable, Sendable {
  public var path: String
  /// added, modified, deleted, renamed, conflicted
  public var kind: String

  public init(path: String, kind: String) {
    self.path = path
    self.kind = kind
  }
}

/// Where the repository stands: branch, remote, local changes, commits ahead and behind.
public struct RepositoryStatus: Codable, Equatable, Sendable {
  public var branch: String?
  /// The remote's branch this one syncs with (`branch.<name>.merge`), `nil` before the first sync.
  public var remoteBranch: String?
  /// The remote's URL, without a password.
  public var remote: String?
  public var head: String?
  /// Uncommitted changes under the knowledge base.
  public var changes: [RepositoryChange]
  /// Commits here that the remote does not have (as of the last fetch).
  public var ahead: Int
  /// Commits on the remote not merged here (as of the last fetch).
  public var behind: Int

  public init(
    branch: String?, remoteBranch: String? = nil, remote: String?, head: String?, changes: [RepositoryChange], ahead: Int,
    behind: Int
  ) {
    self.branch = branch
    self.remoteBranch = remoteBranch
    self.remote = remote
    self.head = head
    self.changes = changes
    self.ahead = ahead
    self.behind = behind
  }
}

/// One commit of the history.
public struct CommitSummary: Codable, Equatable, Sendable {
  public var commit: String
  public var author: String
  public var email: String
  public var date: Date
  public var message: String

  public init(commit: String, author: String, email: String, date: Date, message: String) {
    self.commit = commit
    self.author = author
    self.email = email
    self.date = date
    self.message = message
  }
}
