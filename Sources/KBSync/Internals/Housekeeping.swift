import CLibgit2
import Foundation

/// The housekeeping git's command line does after a fetch, a merge or a push (`git gc --auto`),
/// which libgit2 does not have.
///
/// Every sync adds a pack: the fetched objects to the clone, the pushed ones to a remote on a
/// path. Without a repack they pile up, one a sync, each holding whole copies of the trees that
/// changed (no deltas against older versions), so object lookups slow down and the object store
/// grows by the size of those trees on every sync. Past git's own limits (`gc.autoPackLimit`, 50
/// packs; `gc.auto`, about 6,700 loose objects; `gc.auto = 0` turns it off, as in git) kb starts
/// `git gc --auto --quiet`, which repacks with deltas in the background while the sync returns.
/// Without git on the PATH nothing happens and nothing is lost: the packs stay valid, only more
/// numerous (docs/SYNC.md says so).
///
/// The gc holds `kb-gc.lock` in the git folder (an flock on its standard input, not detached, so
/// that the lock lasts exactly as long as git gc and its prune) and the next sync waits for it
/// before writing an object (``waitForCollection(_:)``): git's prune removes every empty object
/// folder (`objects/24`), and libgit2 writes a loose object by making that folder and then
/// renaming a temporary file into it, so a sync writing beside a gc failed with "failed to rename
/// lockfile to '.git/objects/24/…': No such file or directory".
enum Housekeeping {
  /// The lock a gc started by kb holds while it runs, in the git folder.
  static func lockPath(_ gitDirectory: String) -> String { gitDirectory + "/kb-gc.lock" }

  /// Waits until no `git gc` started by kb runs in `repository` (returns at once when none
  /// does; `waiting` is called first when one does); returns whether it had to wait.
  @discardableResult
  static func waitForCollection(_ repository: GitRepository, waiting: () -> Void = {}) -> Bool {
    let fd = open(lockPath(repository.gitDirectory), O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 { return false }
    waiting()
    while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
    return true
  }

  /// Starts `git gc --auto` for `repository` when it is past git's limits; returns whether it did.
  @discardableResult
  static func collectIfNeeded(_ repository: GitRepository) -> Bool {
    let (packLimit, looseLimit) = limits(of: repository)
    guard looseLimit > 0 else { return false }
    let objects = repository.gitDirectory + "/objects"
    let packs = (try? FileManager.default.contentsOfDirectory(atPath: objects + "/pack")) ?? []
    let kept = Set(packs.filter { $0.hasSuffix(".keep") }.map { $0.dropLast(5) })
    let packCount = packs.filter { $0.hasSuffix(".pack") && !kept.contains($0.dropLast(5)) }.count
    // git's own estimate of the loose objects: the ones in objects/17, times 256.
    let sample = ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/17")) ?? []).count
    guard (packLimit > 0 && packCount > packLimit) || sample > (looseLimit + 255) / 256 else { return false }
    let fd = open(lockPath(repository.gitDirectory), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    // A gc kb started earlier still runs: it does the work.
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    // Not detached (a detached git closes its standard input, and with it the lock): kb does not
    // wait for it, the lock lives as long as git gc, its repack and its prune.
    git.arguments = ["git", "-c", "gc.autoDetach=false", "--git-dir=" + repository.gitDirectory, "gc", "--auto", "--quiet"]
    git.standardInput = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
    git.standardOutput = FileHandle.nullDevice
    git.standardError = FileHandle.nullDevice
    do { try git.run() } catch { return false }
    return true
  }

  /// `gc.autoPackLimit` and `gc.auto` as git reads them (repository, global and system config).
  private static func limits(of repository: GitRepository) -> (packs: Int32, loose: Int32) {
    var config: OpaquePointer?
    guard git_repository_config_snapshot(&config, repository.pointer) == 0, let config else { return (50, 6700) }
    defer { git_config_free(config) }
    var packs: Int32 = 50, loose: Int32 = 6700
    if git_config_get_int32(&packs, config, "gc.autoPackLimit") != 0 { packs = 50 }
    if git_config_get_int32(&loose, config, "gc.auto") != 0 { loose = 6700 }
    return (packs, loose)
  }
}
