import Foundation
import KBCore
@_exported import KBWorkspace
internal import KBSync

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension SyncFailure {
  init(_ error: SyncError) {
    let kind: Kind
    switch error {
    case .noIdentity: kind = .noIdentity
    case .locked: kind = .busy
    case .notARepository, .noRemote, .detachedHead: kind = .notSetUp
    default: kind = .failed
    }
    self.init(kind: kind, description: error.description)
  }

  /// Runs a repository operation, turning KBSync's errors into this one.
  static func mapping<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as SyncError {
      throw SyncFailure(error)
    }
  }
}

/// What `kb sync` reports (`kb sync --json`, MCP `sync`): the engine's result plus the
/// re-indexing. Keys as documented in docs/CLI.md.
public struct SyncReport: Codable, Equatable, Sendable {
  public var remote: String
  public var branch: String
  /// The commit made from local changes, if there were any.
  public var committed: String?
  public var head: String?
  /// Paths changed by teammates that came in.
  public var incoming: [String]
  /// Paths changed here that went out (or wait to go out).
  public var outgoing: [String]
  /// Files changed on both sides and merged (conflicts too).
  public var merged: [MergedFile]
  /// Files where both versions were kept with markers.
  public var conflicts: [MergedFile]
  /// Paths re-indexed (exactly the tree diff between HEAD before and after the sync).
  public var reindexed: Int
  public var pushed: Bool
  /// True when the work is committed locally but could not be pushed after every attempt.
  public var pendingPush: Bool
  public var attempts: Int
  public var seconds: Double
  /// The remote's branch this one syncs with (the one its HEAD names; docs/SYNC.md).
  public var remoteBranch: String?
  /// Every document in the tree that still holds conflicts after this sync (markers or a
  /// `conflicts:` field), whoever created them: a teammate's conflicted merge that came in is
  /// reported like one made here.
  public var conflicted: [String] = []
  /// Warnings to show (a stale git lock removed, …).
  public var warnings: [String] = []

  /// How the sync ended.
  public enum Outcome: Sendable { case pushed, pendingPush, nothingYet }

  public var outcome: Outcome { pushed ? .pushed : pendingPush ? .pendingPush : .nothingYet }

  /// The local branch, and the remote's when it has another name (`master → main`).
  public var branches: String { remoteBranch.map { $0 == branch ? branch : "\(branch) → \($0)" } ?? branch }

  /// One sentence for people and agents on how the sync ended.
  public var message: String {
    switch outcome {
    case .pushed:
      "Synced with \(remote) (\(branches)): \(incoming.count) in, \(outgoing.count) out, \(conflicts.count) conflict(s)"
        + (conflicted.isEmpty ? "." : "; \(conflicted.count) document(s) with conflicts to settle (kb conflicts).")
    case .pendingPush:
      "Pending push: the work is committed locally but the remote kept moving (\(attempts) attempts). Sync again later."
    case .nothingYet:
      "Nothing to sync yet: no commits here or on \(remote)."
    }
  }

  init(_ r: SyncResult, reindexed: Int, seconds: Double) {
    remote = r.remote
    branch = r.branch
    remoteBranch = r.remoteBranch
    warnings = r.warnings
    committed = r.committed
    head = r.head
    incoming = r.incoming
    outgoing = r.outgoing
    merged = r.merged
    conflicts = r.conflicts
    self.reindexed = reindexed
    pushed = r.pushed
    pendingPush = r.pendingPush
    attempts = r.attempts
    self.seconds = seconds
  }
}

/// snake_case like every other result; `pendingPush` and `remoteBranch` are kept as aliases for
/// one release (docs/CLI.md, Output).
extension SyncReport {
  enum CodingKeys: String, CodingKey {
    case remote, branch, committed, head, incoming, outgoing, merged, conflicts, reindexed, pushed, attempts, seconds
    case conflicted, warnings
    case pendingPush = "pending_push", pendingPushAlias = "pendingPush"
    case remoteBranch = "remote_branch", remoteBranchAlias = "remoteBranch"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(remote, forKey: .remote)
    try c.encode(branch, forKey: .branch)
    try c.encodeIfPresent(committed, forKey: .committed)
    try c.encodeIfPresent(head, forKey: .head)
    try c.encode(incoming, forKey: .incoming)
    try c.encode(outgoing, forKey: .outgoing)
    try c.encode(merged, forKey: .merged)
    try c.encode(conflicts, forKey: .conflicts)
    try c.encode(reindexed, forKey: .reindexed)
    try c.encode(pushed, forKey: .pushed)
    try c.encode(attempts, forKey: .attempts)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(conflicted, forKey: .conflicted)
    try c.encode(warnings, forKey: .warnings)
    try c.encode(pendingPush, forKey: .pendingPush)
    try c.encode(pendingPush, forKey: .pendingPushAlias)
    try c.encodeIfPresent(remoteBranch, forKey: .remoteBranch)
    try c.encodeIfPresent(remoteBranch, forKey: .remoteBranchAlias)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    remote = try c.decode(String.self, forKey: .remote)
    branch = try c.decode(String.self, forKey: .branch)
    committed = try c.decodeIfPresent(String.self, forKey: .committed)
    head = try c.decodeIfPresent(String.self, forKey: .head)
    incoming = try c.decode([String].self, forKey: .incoming)
    outgoing = try c.decode([String].self, forKey: .outgoing)
    merged = try c.decode([MergedFile].self, forKey: .merged)
    conflicts = try c.decode([MergedFile].self, forKey: .conflicts)
    reindexed = try c.decode(Int.self, forKey: .reindexed)
    pushed = try c.decode(Bool.self, forKey: .pushed)
    pendingPush = try c.decodeIfPresent(Bool.self, forKey: .pendingPush) ?? c.decode(Bool.self, forKey: .pendingPushAlias)
    attempts = try c.decode(Int.self, forKey: .attempts)
    seconds = try c.decode(Double.self, forKey: .seconds)
    remoteBranch = try c.decodeIfPresent(String.self, forKey: .remoteBranch) ?? c.decodeIfPresent(String.self, forKey: .remoteBranchAlias)
    conflicted = try c.decodeIfPresent([String].self, forKey: .conflicted) ?? []
    warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
  }
}

/// The state of the last sync, kept in `.kb/sync.json` for `kb status` and `kb conflicts`.
public struct SyncState: Codable, Equatable, Sendable {
  public var time: Date
  public var head: String?
  public var pushed: Bool
  public var pendingPush: Bool
  public var conflicts: [MergedFile]
  public var merged: [MergedFile]
}

/// `kb status`: the repository, the last sync, and the documents with conflicts.
public struct StatusReport: Codable, Equatable, Sendable {
  public var branch: String?
  /// The remote's branch this one syncs with (`branch.<name>.merge`), absent before the first sync.
  public var remoteBranch: String?
  /// The remote's URL, without a password.
  public var remote: String?
  public var head: String?
  public var changes: [RepositoryChange]
  public var ahead: Int
  public var behind: Int
  public var lastSync: Date?
  public var pendingPush: Bool
  public var conflicts: [String]
  /// Whether a file watcher keeps the index fresh (docs/WATCHER.md).
  public var watcher: WatchReport

  /// snake_case like every other result; `lastSync` and `pendingPush` are kept as aliases for one release.
  enum CodingKeys: String, CodingKey {
    case branch, remote, head, changes, ahead, behind, conflicts, watcher
    case lastSync = "last_sync", pendingPush = "pending_push", remoteBranch = "remote_branch"
    case lastSyncAlias = "lastSync", pendingPushAlias = "pendingPush", remoteBranchAlias = "remoteBranch"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(branch, forKey: .branch)
    try c.encodeIfPresent(remote, forKey: .remote)
    try c.encodeIfPresent(head, forKey: .head)
    try c.encode(changes, forKey: .changes)
    try c.encode(ahead, forKey: .ahead)
    try c.encode(behind, forKey: .behind)
    try c.encode(conflicts, forKey: .conflicts)
    try c.encode(watcher, forKey: .watcher)
    try c.encodeIfPresent(lastSync, forKey: .lastSync)
    try c.encodeIfPresent(lastSync, forKey: .lastSyncAlias)
    try c.encode(pendingPush, forKey: .pendingPush)
    try c.encode(pendingPush, forKey: .pendingPushAlias)
    try c.encodeIfPresent(remoteBranch, forKey: .remoteBranch)
    try c.encodeIfPresent(remoteBranch, forKey: .remoteBranchAlias)
  }
}

extension StatusReport {
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    branch = try c.decodeIfPresent(String.self, forKey: .branch)
    remote = try c.decodeIfPresent(String.self, forKey: .remote)
    head = try c.decodeIfPresent(String.self, forKey: .head)
    changes = try c.decode([RepositoryChange].self, forKey: .changes)
    ahead = try c.decode(Int.self, forKey: .ahead)
    behind = try c.decode(Int.self, forKey: .behind)
    conflicts = try c.decode([String].self, forKey: .conflicts)
    watcher = try c.decode(WatchReport.self, forKey: .watcher)
    lastSync = try c.decodeIfPresent(Date.self, forKey: .lastSync) ?? c.decodeIfPresent(Date.self, forKey: .lastSyncAlias)
    pendingPush = try c.decodeIfPresent(Bool.self, forKey: .pendingPush) ?? c.decode(Bool.self, forKey: .pendingPushAlias)
    remoteBranch = try c.decodeIfPresent(String.self, forKey: .remoteBranch) ?? c.decodeIfPresent(String.self, forKey: .remoteBranchAlias)
  }
}

/// A document with merge conflicts to settle (`kb conflicts`).
public struct ConflictItem: Codable, Equatable, Sendable {
  public var path: String
  public var id: String?
  /// What conflicts, as the last sync said (or what the file shows).
  public var details: [String]
  /// The lines (1-based) where a `<<<<<<<` marker starts.
  public var markerLines: [Int]

  /// snake_case like every other result; `markerLines` is kept as an alias for one release.
  enum CodingKeys: String, CodingKey { case path, id, details, markerLines = "marker_lines", markerLinesAlias = "markerLines" }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(path, forKey: .path)
    try c.encodeIfPresent(id, forKey: .id)
    try c.encode(details, forKey: .details)
    try c.encode(markerLines, forKey: .markerLines)
    try c.encode(markerLines, forKey: .markerLinesAlias)
  }
}

extension ConflictItem {
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    path = try c.decode(String.self, forKey: .path)
    id = try c.decodeIfPresent(String.self, forKey: .id)
    details = try c.decode([String].self, forKey: .details)
    markerLines = try c.decodeIfPresent([Int].self, forKey: .markerLines) ?? c.decode([Int].self, forKey: .markerLinesAlias)
  }
}

/// `kb log`: the commits that changed the knowledge base, or one document.
public struct HistoryReport: Sendable {
  /// The document's path, when the history is of one document.
  public var path: String?
  public var commits: [CommitSummary]
}

/// `kb clone`: where the knowledge base now is and what it holds.
public struct CloneReport: Encodable, Sendable {
  public var root: String
  public var documents: Int
  public var created: [String]
  public var indexed: Int
  public var answers: Int
  public var cases: Int

  enum CodingKeys: String, CodingKey { case root, documents, created, indexed }
}

/// What the merge driver made of one file (`kb merge-driver`).
public struct DocumentMergeReport: Sendable {
  public var text: String
  public var clean: Bool
  public var conflicts: [String]
  public var notes: [String]
}

extension Workspace {
  public var syncStatePath: String { root + "/.kb/sync.json" }

  /// The last sync's state, `nil` before the first sync.
  public func lastSync() -> SyncState? {
    guard let data = FileManager.default.contents(atPath: syncStatePath) else { return nil }
    return try? JSONFormat.decoder().decode(SyncState.self, from: data)
  }

  /// Runs `body` holding `.kb/lock`, waiting at most `timeout` seconds for another holder
  /// (another `kb sync`) to finish. While it runs, the lock file holds `kb sync PID START`; it
  /// is emptied at the end. `body` gets the start time of a sync that was killed (its record was
  /// still there), so that git lock files it left can be told from live ones (see `GitLocks`).
  public func withSyncLock<T>(timeout: Double, _ body: (_ deadSyncStarted: Date?) throws -> T) throws -> T {
    try Self.refuseLink(root + "/.kb/lock", display: ".kb/lock")
    let fd = open(root + "/.kb/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
      throw WorkspaceError.io(path: ".kb/lock", reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    let started = Date()
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR else {
        throw WorkspaceError.io(path: ".kb/lock", reason: String(cString: strerror(errno)))
      }
      let waited = Date().timeIntervalSince(started)
      if waited >= timeout { throw SyncFailure(.locked(waited: waited)) }
      usleep(100_000)
    }
    defer { flock(fd, LOCK_UN) }
    // A record left in the file: the sync that wrote it was killed.
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = pread(fd, &buffer, buffer.count, 0)
    var dead: Date?
    if n > 0 {
      let fields = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
      if fields.count >= 4, fields[0] == "kb", fields[1] == "sync", let t = Double(fields[3].trimmingCharacters(in: .whitespacesAndNewlines)) {
        dead = Date(timeIntervalSince1970: t)
      }
    }
    let record = Array("kb sync \(getpid()) \(Date().timeIntervalSince1970)\n".utf8)
    _ = ftruncate(fd, 0)
    _ = pwrite(fd, record, record.count, 0)
    defer { _ = ftruncate(fd, 0) }
    return try body(dead)
  }

  /// `kb sync`: under the lock, commit every change under the knowledge base as the agent,
  /// fetch, merge, push; then re-index exactly the paths that changed.
  ///
  /// - Parameters:
  ///   - lockTimeout: seconds to wait for another sync of this knowledge base.
  ///   - identity: who commits (`kb mcp` passes its agent); default: ``Identity/current(in:environment:)``.
  ///   - progress: progress lines (the CLI shows them on a terminal only).
  /// - Throws: ``SyncFailure``, or an index error.
  public func sync(
    lockTimeout: Double = 10, identity: Identity? = nil, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> SyncReport {
    // The one place the sync's settings and test hooks are read from the environment.
    let environment = ProcessInfo.processInfo.environment
    var options = SyncOptions.fromEnvironment(environment)
    options.progress = progress
    return try sync(options: options, hooks: SyncHooks.fromEnvironment(environment), lockTimeout: lockTimeout, identity: identity)
  }

  func sync(
    merger: any DocumentMerger = SyncMerger.default, options: SyncOptions, hooks: SyncHooks = SyncHooks(),
    lockTimeout: Double = 10, identity: Identity? = nil
  ) throws -> SyncReport {
    let trace = hooks.trace
    trace("workspace open")
    guard let identity = identity ?? Identity.current(in: root) else { throw SyncFailure(.noIdentity) }
    let started = Date()
    return try withSyncLock(timeout: lockTimeout) { dead in
      trace("identity, lock")
      var options = options
      options.deadSyncStarted = dead
      if options.credentialFile == nil { options.credentialFile = root + "/.kb/credentials" }
      let engine = SyncEngine(kbRoot: root, merger: merger, options: options, hooks: hooks)
      let result = try SyncFailure.mapping { try engine.sync(name: identity.name, email: identity.email ?? "") }
      trace("engine done")
      let report = try reindex(paths: result.changedPaths)
      trace("re-indexed")
      try setIndexMeta("last_indexed_commit", result.head)
      let state = SyncState(
        time: Date(), head: result.head, pushed: result.pushed, pendingPush: result.pendingPush,
        conflicts: result.conflicts, merged: result.merged)
      // Derived state (kb status reads it): atomic, but not worth an fsync.
      try? Self.atomicWrite(try JSONFormat.encoder().encode(state), to: syncStatePath, durable: false)
      var out = SyncReport(
        result, reindexed: report.updated + report.removed,
        seconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000)
      out.conflicted = (try? conflictedDocuments()) ?? result.conflicts.map(\.path)
      out.warnings = result.warnings
      return out
    }
  }

  /// Starts libgit2 on a background thread, to overlap with opening the index: call it first
  /// in a command that will touch git.
  public static func prepareForSync() {
    KBRepository.warmUp()
  }

  /// `kb status`: local changes, commits ahead and behind (as of the last fetch), the last sync
  /// and the documents with conflicts. Offline.
  public func status() throws -> StatusReport {
    let status = try SyncFailure.mapping { try KBRepository.status(kbRoot: root) }
    let last = lastSync()
    return StatusReport(
      branch: status.branch, remoteBranch: status.remoteBranch, remote: status.remote, head: status.head,
      changes: status.changes, ahead: status.ahead,
      behind: status.behind, lastSync: last?.time, pendingPush: last?.pendingPush ?? false,
      conflicts: try conflictedDocuments(), watcher: watchReport())
  }

  /// `kb conflicts`: documents marked as conflicted, and those whose front matter a merge broke
  /// (unindexed, but with conflict markers), with what conflicts in each.
  public func conflicts() throws -> [ConflictItem] {
    let paths = try conflictedDocuments()
    let last = lastSync()
    return paths.map { path in
      let text = (try? readText(path)) ?? ""
      var lines: [Int] = []
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      where line.hasPrefix("<<<<<<<") { lines.append(i + 1) }
      let id = try? readDocument(at: path).id
      let details = lines.isEmpty
        ? ["its 'conflicts:' field lists values two edits disagreed on (no markers left): take one with --take, or delete the field"]
        : last?.conflicts.first(where: { $0.path == path })?.details ?? ["both versions kept between markers"]
      return ConflictItem(path: path, id: id, details: details, markerLines: lines)
    }
  }

  /// `kb log`: the history of the knowledge base, or of one document (by id or path), newest
  /// first.
  public func history(of idOrPath: String? = nil, limit: Int = 20) throws -> HistoryReport {
    let path = try idOrPath.map(documentPath)
    let commits = try SyncFailure.mapping { try KBRepository.log(kbRoot: root, path: path, limit: limit) }
    return HistoryReport(path: path, commits: commits)
  }

  /// `kb clone`: clones a team's knowledge base into `folder`, starts one when the remote is
  /// empty, sets up the merge driver and indexes it.
  public static func clone(
    url: String, into folder: String, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> (Workspace, CloneReport) {
    guard !FileManager.default.fileExists(atPath: folder + "/.git") else {
      throw WorkspaceError.invalidInput("'\(folder)' already holds a repository.")
    }
    let local = !url.contains("://") && !url.contains(":") ? URL(fileURLWithPath: url).standardizedFileURL.path : url
    if let path = localClonePath(url), !FileManager.default.fileExists(atPath: path) {
      throw WorkspaceError.unreadable(
        path: url, reason: "no such folder. Give the path of a git repository, or a URL (https://, ssh://, git@host:path).")
    }
    try SyncFailure.mapping { try KBRepository.clone(url: local, into: folder, progress: progress) }
    var created: [String] = []
    if !FileManager.default.fileExists(atPath: folder + "/kb.yml") {
      created = try initialize(at: folder)  // an empty remote: start a knowledge base
    }
    created += try setUpGit(at: folder)
    let workspace = try Workspace(root: folder)
    let report = try workspace.refresh()
    let counts = try workspace.indexCounts()
    return (workspace, CloneReport(
      root: workspace.root, documents: counts.documents, created: created, indexed: report.added,
      answers: counts.answers, cases: counts.cases))
  }

  /// The folder a remote names when it is local: a plain path or a `file://` URL.
  static func localClonePath(_ url: String) -> String? {
    if url.hasPrefix("file://") { return URL(string: url)?.path }
    guard !url.contains("://"), !url.contains(":") else { return nil }
    return URL(fileURLWithPath: url).standardizedFileURL.path
  }

  /// `url` without the password of its user part, for anything shown or written.
  public static func redactedURL(_ url: String) -> String { KBRepository.redacted(url) }

  /// The folder `kb clone URL` creates: the URL's last part without `.git`.
  public static func defaultCloneFolder(_ url: String) -> String {
    var name = url
    while name.hasSuffix("/") { name.removeLast() }
    name = String(name.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? "kb")
    if name.hasSuffix(".git") { name.removeLast(4) }
    return name.isEmpty ? "kb" : name
  }

  /// git's merge driver for one document (`kb merge-driver`): the domain merge `kb sync` runs.
  /// `base` is `nil` when both sides added the file.
  public static func mergeDocument(base: String?, ours: String, theirs: String, path: String) -> DocumentMergeReport {
    let r = SyncMerger.default.merge(base: base, ours: ours, theirs: theirs, path: path)
    return DocumentMergeReport(text: r.text, clean: r.clean, conflicts: r.conflicts, notes: r.notes)
  }
}

extension Workspace {
  /// Makes the knowledge base at `root` ready for sync: `git init` (branch `main`) when it is not
  /// inside a repository, `.gitattributes` with `*.md merge=kb`, and the merge driver in the
  /// repository's config. Returns what was created.
  @discardableResult
  public static func setUpGit(at path: String) throws -> [String] {
    let root = absolute(path)
    var created: [String] = []
    if try SyncFailure.mapping({ try KBRepository.initialize(at: root) }) { created.append(".git/") }
    let attributes = root + "/.gitattributes"
    let existing = FileManager.default.contents(atPath: attributes).flatMap { String(data: $0, encoding: .utf8) } ?? ""
    if !existing.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == KBRepository.attributesLine }) {
      let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n")
        + "# Merge documents with Casebook's domain merge (kb merge-driver), also for git pull.\n"
        + KBRepository.attributesLine + "\n"
      try atomicWrite(Data(text.utf8), to: attributes)
      created.append(".gitattributes")
    }
    return created
  }
}

extension Workspace {
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
