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
/// `git gc --auto --quiet`, which repacks with deltas in the background (git detaches it) while the
/// sync returns. Without git on the PATH nothing happens and nothing is lost: the packs stay
/// valid, only more numerous (docs/SYNC.md says so).
enum Housekeeping {
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
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    git.arguments = ["git", "--git-dir=" + repository.gitDirectory, "gc", "--auto", "--quiet"]
    git.standardInput = FileHandle.nullDevice
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
