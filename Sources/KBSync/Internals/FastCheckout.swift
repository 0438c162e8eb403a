import CLibgit2
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The checkout of a sync's incoming changes, file by file.
///
/// `git_checkout_tree` with a list of paths still walks the trees and folders around them, and
/// at 100,000 documents it cost about 55 ms of CPU for ten files before writing the index. A sync
/// knows exactly which files change (its tree diff, with both sides' blobs), so it checks and
/// writes those and nothing else, with the same safety: a file is replaced or removed only when
/// it still holds what the index says (same stat data, or same content when the stat data cannot
/// tell: git's racy rule), and a new file is written only where nothing is. If any file does not
/// qualify, or needs what only libgit2's checkout does (a symbolic link, a submodule, a filter
/// from `.gitattributes` or `core.autocrlf`, a changed `.gitattributes`, a file where a folder
/// must go), nothing is touched and the caller falls back to `checkoutSafely`.
extension GitRepository {
  /// Applies `changes` (from HEAD's tree to the new one) to the work tree and the index, and
  /// writes the index. Returns false, having changed nothing, when it cannot do so safely.
  func checkoutChanges(_ changes: [TreeChange]) throws(GitError) -> Bool {
    guard let workdir, !changes.isEmpty else { return changes.isEmpty }
    let root = workdir.hasSuffix("/") ? workdir : workdir + "/"
    let index = GitHandle(try make("git_repository_index") { git_repository_index(&$0, pointer) }, free: git_index_free)
    var indexFile = stat()
    let indexTime = lstat(gitDirectory + "/index", &indexFile) == 0 ? indexFile.st_mtim : timespec(tv_sec: 0, tv_nsec: 0)
    let removed = Set(changes.filter { $0.new == nil }.map(\.path))

    // 1. Check everything before touching anything.
    for change in changes {
      let name = change.path.split(separator: "/").last.map(String.init) ?? change.path
      if name == ".gitattributes" { return false }
      for file in [change.old, change.new].compactMap({ $0 }) where file.mode != 0o100644 && file.mode != 0o100755 {
        return false
      }
      if change.new != nil, try needsFilter(change.path) { return false }
      var st = stat()
      let exists = lstat(root + change.path, &st) == 0
      if let old = change.old {
        guard exists, st.st_mode & S_IFMT == S_IFREG,
          let entry = git_index_get_bypath(index.pointer, change.path, 0)?.pointee,
          entry.mode == old.mode, GitOID(entry.id) == old.id,
          try unchanged(root + change.path, st, entry, old, indexTime)
        else { return false }
      } else {
        guard !exists, git_index_get_bypath(index.pointer, change.path, 0) == nil else { return false }
        // Every folder on the way is a folder, or absent, or a file that goes away here.
        var folder = (change.path as NSString).deletingLastPathComponent
        while !folder.isEmpty {
          var f = stat()
          if lstat(root + folder, &f) == 0, f.st_mode & S_IFMT != S_IFDIR, !removed.contains(folder) { return false }
          folder = (folder as NSString).deletingLastPathComponent
        }
      }
    }

    // 2. Removals first (a file may give way to a folder of the same name), then the writes.
    let odb = try objectDatabase()
    for change in changes where change.new == nil {
      guard unlink(root + change.path) == 0 || errno == ENOENT else { throw GitError.posix("unlink", change.path) }
      try check("git_index_remove", git_index_remove(index.pointer, change.path, 0))
      var folder = (change.path as NSString).deletingLastPathComponent
      while !folder.isEmpty, rmdir(root + folder) == 0 { folder = (folder as NSString).deletingLastPathComponent }
    }
    for change in changes {
      guard let new = change.new else { continue }
      let path = root + change.path
      try makeFolders(root, (change.path as NSString).deletingLastPathComponent)
      var raw = new.id.raw
      let blob = GitHandle(try make("git_odb_read") { git_odb_read(&$0, odb.pointer, &raw) }, free: git_odb_object_free)
      let temporary = path + ".kb-tmp-checkout"
      let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, new.mode == 0o100755 ? 0o777 : 0o666)
      guard fd >= 0 else { throw GitError.posix("open", change.path) }
      var written = 0
      let size = git_odb_object_size(blob.pointer)
      let data = git_odb_object_data(blob.pointer)!
      while written < size {
        let n = write(fd, data + written, size - written)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { close(fd); unlink(temporary); throw GitError.posix("write", change.path) }
        written += n
      }
      var st = stat()
      guard fstat(fd, &st) == 0, close(fd) == 0 else { unlink(temporary); throw GitError.posix("close", change.path) }
      guard rename(temporary, path) == 0 else { unlink(temporary); throw GitError.posix("rename", change.path) }
      var entry = git_index_entry()
      entry.ctime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_ctim.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec))
      entry.mtime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_mtim.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec))
      entry.dev = UInt32(truncatingIfNeeded: st.st_dev)
      entry.ino = UInt32(truncatingIfNeeded: st.st_ino)
      entry.mode = new.mode
      entry.uid = st.st_uid
      entry.gid = st.st_gid
      entry.file_size = UInt32(truncatingIfNeeded: st.st_size)
      entry.id = new.id.raw
      let code = change.path.withCString { (p) -> Int32 in
        entry.path = p
        return git_index_add(index.pointer, &entry)
      }
      try check("git_index_add", code)
    }
    try check("git_index_write", git_index_write(index.pointer))
    return true
  }

  /// True when the file at `path` (with `st`) still holds `old`, as its index `entry` says.
  private func unchanged(_ path: String, _ st: stat, _ entry: git_index_entry, _ old: TreeFile, _ indexTime: timespec) throws(GitError) -> Bool {
    let executable = st.st_mode & 0o100 != 0
    guard executable == (old.mode == 0o100755) else { return false }
    let racy = Int(entry.mtime.seconds) > indexTime.tv_sec
      || (Int(entry.mtime.seconds) == indexTime.tv_sec && Int(entry.mtime.nanoseconds) >= indexTime.tv_nsec)
    if !racy, entry.file_size == UInt32(truncatingIfNeeded: st.st_size),
      entry.mtime.seconds == Int32(truncatingIfNeeded: st.st_mtim.tv_sec),
      entry.mtime.nanoseconds == UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec),
      entry.ino == UInt32(truncatingIfNeeded: st.st_ino)
    {
      return true
    }
    var id = git_oid()
    guard git_odb_hashfile(&id, path, GIT_OBJECT_BLOB) == 0 else { return false }
    return GitOID(id) == old.id
  }

  /// True when writing a file at `path` goes through a filter (line endings, ident, a filter
  /// driver): then the file's bytes are not the blob's, and libgit2's checkout writes it.
  private func needsFilter(_ path: String) throws(GitError) -> Bool {
    var filters: OpaquePointer?
    try check("git_filter_list_load", git_filter_list_load(&filters, pointer, nil, path, GIT_FILTER_TO_WORKTREE, 0))
    guard let filters else { return false }
    git_filter_list_free(filters)
    return true
  }

  /// Creates `folder` (relative to `root`) and the folders above it that are missing.
  private func makeFolders(_ root: String, _ folder: String) throws(GitError) {
    guard !folder.isEmpty else { return }
    var st = stat()
    if lstat(root + folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { return }
    try makeFolders(root, (folder as NSString).deletingLastPathComponent)
    guard mkdir(root + folder, 0o777) == 0 || errno == EEXIST else { throw GitError.posix("mkdir", folder) }
  }
}

extension GitError {
  /// A failed system call on a work-tree file, with the system's message.
  static func posix(_ call: String, _ path: String) -> GitError {
    GitError(code: -1, function: call, message: "\(call) '\(path)': \(String(cString: strerror(errno)))")
  }
}
