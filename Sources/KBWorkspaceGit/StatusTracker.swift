import Foundation
import KBCore
internal import KBSync
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

/// `kb status` kept up to date in a long-lived process (`kb serve`) without walking the work
/// tree after every change.
///
/// The first call walks the work tree (libgit2's status, as `kb status` does). Later calls ask
/// the folder's watcher (``Workspace/watchedChanges(since:)``) which Markdown files changed since
/// the previous call and ask git about those files only. The whole tree is walked again when
/// the watcher cannot say (no watcher, an overflow, a folder created or removed), when git's own
/// state moved (its index, HEAD, refs or last fetch: a commit, a sync, a checkout), when a file
/// the watcher does not follow changed (kb.yml, .gitattributes, .gitignore, a file added at the
/// top), and at least every ``maxAge`` seconds, for the files no watcher reports (a file that
/// is not Markdown in a subfolder).
public final class StatusTracker: @unchecked Sendable {
  private let lock = NSLock()
  private var changes: [String: String] = [:]
  private var stamp = ""
  private var token: String?
  private var last: StatusReport?
  /// When the work tree was last walked.
  public private(set) var walked = Date.distantPast
  /// Seconds after which the next call walks the whole work tree again.
  public var maxAge: TimeInterval = 60

  public init() {}

  /// Whether the next call will walk the whole work tree because the last walk is older than
  /// ``maxAge`` (`kb serve` does that walk in the background, ahead of a page).
  public func walkIsDue(now: Date = Date()) -> Bool {
    lock.withLock { now.timeIntervalSince(walked) >= maxAge }
  }

  func report(_ workspace: Workspace, now: Date) throws -> StatusReport {
    try lock.withLock {
      let stampBefore = Self.stamp(workspace.root)
      // The watcher's token is taken before git looks: a file changed meanwhile is asked about again.
      let answer = workspace.watchedChanges(since: token)
      var paths: [String]?
      if let last, stampBefore == stamp, now.timeIntervalSince(walked) < maxAge, case .changes(let list, _)? = answer,
        !list.contains(where: \.isFolder)
      {
        if list.isEmpty {
          token = answer.flatMap(Self.token)
          return last
        }
        paths = list.map(\.path)
      }
      let status = try SyncFailure.mapping { try KBRepository.status(kbRoot: workspace.root, paths: paths) }
      if let paths {
        for path in paths { changes[path] = nil }
      } else {
        changes = [:]
        walked = now
      }
      for change in status.changes { changes[change.path] = change.kind }
      token = answer.flatMap(Self.token)
      // A walk may rewrite git's index (fresher file times): its own write is not a change.
      stamp = paths == nil ? Self.stamp(workspace.root) : stampBefore
      let sync = workspace.lastSync()
      let report = StatusReport(
        branch: status.branch, remoteBranch: status.remoteBranch, remote: status.remote, head: status.head,
        changes: changes.sorted { $0.key < $1.key }.map { RepositoryChange(path: $0.key, kind: $0.value) },
        ahead: status.ahead, behind: status.behind, lastSync: sync?.time, pendingPush: sync?.pendingPush ?? false,
        conflicts: try workspace.conflictedDocuments(), watcher: workspace.watchReport())
      last = report
      return report
    }
  }

  static func token(_ answer: WatchAnswer) -> String? {
    switch answer {
    case .changes(_, let token): token
    case .walk(let token): token
    }
  }

  /// Sizes and modification times of what moves when git's state does (its index, HEAD, refs,
  /// last fetch, the sync record) and of the files no watcher reports: kb.yml, .gitattributes,
  /// .gitignore and the top folder itself (a file added or removed there).
  static func stamp(_ root: String) -> String {
    var folder = root
    var gitDir: String?
    while !folder.isEmpty {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: folder + "/.git", isDirectory: &isDir) {
        gitDir = isDir.boolValue ? folder + "/.git" : nil
        break
      }
      let parent = (folder as NSString).deletingLastPathComponent
      if parent == folder { break }
      folder = parent
    }
    var files = ["kb.yml", ".gitattributes", ".gitignore", "", ".kb/sync.json"].map { root + "/" + $0 }
    if let gitDir {
      files += ["index", "HEAD", "FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD", "packed-refs", "logs/HEAD", "logs/refs/remotes", "refs/heads"]
        .map { gitDir + "/" + $0 }
    }
    return files.map { path in
      var st = stat()
      guard stat(path, &st) == 0 else { return "-" }
      return "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_size)"
    }.joined(separator: ",")
  }
}

extension Workspace {
  /// `kb status` (``status()``) kept by `tracker`: after the first call, only the files the
  /// watcher saw change are asked about (see ``StatusTracker``).
  public func status(tracking tracker: StatusTracker, now: Date = Date()) throws -> StatusReport {
    try tracker.report(self, now: now)
  }
}
