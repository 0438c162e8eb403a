import Foundation
import KBSync

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `kb sync` reports: the engine's result plus the re-indexing.
public struct SyncReport: Codable, Equatable, Sendable {
  public var sync: SyncResult
  /// Paths re-indexed (exactly the tree diff between HEAD before and after the sync).
  public var reindexed: Int
  public var seconds: Double
  /// Every document in the tree that still holds conflicts after this sync (markers or a
  /// `conflicts:` field), whoever created them: a teammate's conflicted merge that came in is
  /// reported like one made here.
  public var conflicted: [String] = []
  /// Warnings to show (a stale git lock removed, …).
  public var warnings: [String] = []
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

extension Workspace {
  /// Documents that hold conflicts to settle: flagged in the index (markers or a `conflicts:`
  /// field), plus files the index could not read that hold markers (a merge that broke a front
  /// matter).
  public func conflictedDocuments() throws -> [String] {
    var paths = try store.conflictedPaths()
    for problem in try store.problems() where !paths.contains(problem.path) {
      if let text = try? readText(problem.path), text.hasPrefix("<<<<<<< ") || text.contains("\n<<<<<<< ") { paths.append(problem.path) }
    }
    return paths.sorted()
  }

  public var syncStatePath: String { root + "/.kb/sync.json" }

  /// The last sync's state, `nil` before the first sync.
  public func lastSync() -> SyncState? {
    guard let data = FileManager.default.contents(atPath: syncStatePath) else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(SyncState.self, from: data)
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
      if waited >= timeout { throw SyncError.locked(waited: waited) }
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
  /// - Parameter identity: who commits (`kb mcp` passes its agent); default: ``Identity/current(in:environment:)``.
  public func sync(
    merger: any DocumentMerger = SyncMerger.default, options: SyncOptions = .fromEnvironment(), lockTimeout: Double = 10,
    identity: Identity? = nil
  ) throws -> SyncReport {
    SyncEngine.trace("workspace open")
    guard let identity = identity ?? Identity.current(in: root) else { throw SyncError.noIdentity }
    let started = Date()
    return try withSyncLock(timeout: lockTimeout) { dead in
      SyncEngine.trace("identity, lock")
      var options = options
      options.deadSyncStarted = dead
      if options.credentialFile == nil { options.credentialFile = root + "/.kb/credentials" }
      let engine = SyncEngine(kbRoot: root, merger: merger, options: options)
      let result = try engine.sync(name: identity.name, email: identity.email ?? "")
      SyncEngine.trace("engine done")
      let report = try reindex(paths: result.changedPaths)
      SyncEngine.trace("re-indexed")
      try store.setMeta("last_indexed_commit", result.head)
      let state = SyncState(
        time: Date(), head: result.head, pushed: result.pushed, pendingPush: result.pendingPush,
        conflicts: result.conflicts, merged: result.merged)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      encoder.dateEncodingStrategy = .iso8601
      // Derived state (kb status reads it): atomic, but not worth an fsync.
      try? Self.atomicWrite(try encoder.encode(state), to: syncStatePath, durable: false)
      var out = SyncReport(
        sync: result, reindexed: report.updated + report.removed,
        seconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000)
      out.conflicted = (try? conflictedDocuments()) ?? result.conflicts.map(\.path)
      out.warnings = result.warnings
      return out
    }
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
    if try KBRepository.initialize(at: root) { created.append(".git/") }
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
