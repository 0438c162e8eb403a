import Foundation

/// Git's lock files (`.git/index.lock`, `.git/refs/heads/main.lock`, …) that a killed `kb sync`
/// leaves behind.
///
/// libgit2 creates them with `O_EXCL` and renames them into place; a process killed in between
/// leaves the lock, and every later write of that file fails ("the index is locked") until it is
/// removed. git cannot tell a stale lock from a live one; kb can, because every `kb sync` holds
/// kb's own lock (`.kb/lock`, an `flock` that dies with the process) and writes its pid and start
/// time into it, and clears them when it ends. A record found there by the next sync is a sync
/// that was killed: git locks created since it started are its leftovers and are removed (with a
/// warning). A lock older than that, or one found when no sync was killed, may belong to a git
/// command that is running: it is left alone and reported.
public enum GitLocks {
  /// Removes the stale locks; returns a warning for each. Throws for an `index.lock` that is not
  /// known to be stale (libgit2 would fail on it anyway, with a less helpful message).
  static func clearStale(gitDirectory: String, since deadSyncStarted: Date?) throws(SyncError) -> [String] {
    var warnings: [String] = []
    for lock in lockFiles(in: gitDirectory) {
      var st = stat()
      guard lstat(lock, &st) == 0 else { continue }
      let mtime = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
      if let dead = deadSyncStarted, mtime.timeIntervalSince(dead) >= -1 {
        if unlink(lock) == 0 {
          warnings.append("warning: removed \(lock), left by a kb sync that was killed.")
        }
      } else if lock.hasSuffix("/index.lock") {
        throw .gitLocked(path: lock)
      }
    }
    return warnings
  }

  /// The lock files a sync may leave: the index, HEAD, config, packed refs, and any ref's.
  static func lockFiles(in gitDirectory: String) -> [String] {
    var out: [String] = []
    for name in ["index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "FETCH_HEAD.lock"] {
      let path = gitDirectory + "/" + name
      if FileManager.default.fileExists(atPath: path) { out.append(path) }
    }
    if let walker = FileManager.default.enumerator(atPath: gitDirectory + "/refs") {
      for case let file as String in walker where file.hasSuffix(".lock") { out.append(gitDirectory + "/refs/" + file) }
    }
    return out
  }
}
