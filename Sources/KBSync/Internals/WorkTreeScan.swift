import CLibgit2
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Stages the work tree's changes the way `git add -A` does, but from one `lstat` per file
/// compared with the index's stat cache, instead of libgit2's status machinery (which costs
/// 3-4x as much at 10,000 files: it diffs, sorts and checks attributes for every entry).
///
/// A file is re-hashed (`git_index_add_bypath`) only when its size, modification time, inode or
/// executable bit differ from its index entry, or when the entry is "racily clean" (modified in
/// the same instant the index was written, so its stat data proves nothing): git's own rule.
/// New files are staged unless ignored; files gone from disk are removed from the index.
extension GitRepository {
  /// What `stageAll` found: the paths it re-hashed, added or removed (for tests and tracing).
  struct StageReport: Equatable {
    var rehashed: [String] = []
    var added: [String] = []
    var removed: [String] = []
    /// Re-hashed files whose content or mode differs from the index (the others only had their
    /// stat data refreshed).
    var modified: [String] = []
    var isEmpty: Bool { rehashed.isEmpty && added.isEmpty && removed.isEmpty }
    /// True when the index's content changed, not just its stat cache.
    var changesContent: Bool { !modified.isEmpty || !added.isEmpty || !removed.isEmpty }
  }

  // MARK: The index as the last sync left it

  /// The index file's checksum (its last 20 bytes): any write of the index changes it.
  private func indexChecksum() -> String? {
    let fd = open(String(cString: git_repository_path(pointer)) + "index", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_size > 32 else { return nil }
    var bytes = [UInt8](repeating: 0, count: 20)
    guard pread(fd, &bytes, 20, off_t(st.st_size - 20)) == 20 else { return nil }
    return bytes.map { String(format: "%02x", $0) }.joined()
  }

  private var cleanIndexRecord: String { String(cString: git_repository_path(pointer)) + "kb-clean-index" }

  private func cleanIndexLine(head: GitOID, prefix: String) -> String? {
    indexChecksum().map { "\(head) \($0) \(prefix)\n" }
  }

  /// Notes that the index (under `prefix`) equals `head`'s tree, as at the end of a sync: the
  /// index was committed, then updated by the checkout of exactly what changed.
  func recordCleanIndex(head: GitOID, prefix: String) {
    guard let line = cleanIndexLine(head: head, prefix: prefix) else { return }
    try? Data(line.utf8).write(to: URL(fileURLWithPath: cleanIndexRecord), options: .atomic)
  }

  /// True when the index file and `head` are exactly those of the last record: then the index
  /// (under `prefix`) still equals `head`'s tree and there is nothing to commit, which spares
  /// writing a tree of every document (8 ms at 10,000). Any write of the index (a `git add`,
  /// kb staging a change) changes its checksum and so falls back to the full check.
  func isIndexRecordedClean(head: GitOID, prefix: String) -> Bool {
    guard let recorded = try? String(contentsOfFile: cleanIndexRecord, encoding: .utf8) else { return false }
    return recorded == cleanIndexLine(head: head, prefix: prefix)
  }

  /// Stages every change under `prefix` ("" = the whole work tree). `.git`, `.kb` folders and
  /// `.kb-tmp-` files (kb's atomic-write temporaries) are never staged.
  @discardableResult
  /// `splitFrom`: from how many files on the comparison is split over the cores (tests lower it).
  /// `trace`: the sync's step timings.
  func stageAll(prefix: String, splitFrom: Int = 20_000, trace: SyncTrace = .off) throws(GitError) -> StageReport {
    guard let workdir else { return StageReport() }
    // The index is read from disk (as another process may have written it) on a thread of its
    // own while the folders are scanned: libgit2 parses every entry and verifies the file's
    // checksum, 8 ms at 10,000 documents and 90 ms at 100,000.
    let loader = IndexLoader(repositoryAt: workdir)
    var loaded: (index: GitHandle, time: timespec)?
    func index() throws(GitError) -> (index: GitHandle, time: timespec) {
      if let loaded { return loaded }
      let time = try loader.take(into: self)
      let handle = GitHandle(try make("git_repository_index") { git_repository_index(&$0, pointer) }, free: git_index_free)
      trace("stage: index read")
      loaded = (handle, time)
      return (handle, time)
    }
    /// Whether the index tracks anything under `folder`.
    func tracks(_ folder: String) throws(GitError) -> Bool {
      var position = 0
      return git_index_find_prefix(&position, try index().index.pointer, folder + "/") == 0
    }

    // The folders of one depth are read on every core (readdir, then an lstat of each file
    // relative to its folder), as git's preloaded index spreads its lstats; the ignore rules
    // (libgit2, one thread) are asked between depths, for untracked folders only.
    var listings: [Listing] = []
    var level = [prefix]
    while !level.isEmpty {
      let read = Self.scanFolders(level, in: workdir)
      listings.append(contentsOf: read)
      level = []
      for listing in read {
        for folder in listing.folders {
          // An ignored folder is skipped unless something in it is tracked (added with -f).
          if isIgnored(folder + "/"), !(try tracks(folder)) { continue }
          level.append(folder)
        }
      }
    }
    trace("stage: listed and stat \(listings.reduce(0) { $0 + $1.stats.count }) files")
    let (index, indexTime) = try index()

    // The entries are looked up in libgit2's own index (a hash map by path) as files are found;
    // here they are only counted, without making a string of each, to know afterwards whether
    // any is missing from the disk.
    let scope = prefix.isEmpty ? "" : prefix + "/"
    var inScope = 0
    var conflicted: Set<String> = []
    for i in 0..<git_index_entrycount(index.pointer) {
      guard let e = git_index_get_byindex(index.pointer, i), let p = e.pointee.path else { continue }
      guard scope.isEmpty || strncmp(p, scope, scope.utf8.count) == 0 else { continue }
      if (e.pointee.flags >> 12) & 0x3 != 0 { conflicted.insert(String(cString: p)); continue }
      if e.pointee.mode == 0o160000 { continue }  // a submodule: not ours to stage
      inScope += 1
    }

    trace("stage: \(inScope) index entries")

    // The files are compared with their entries on every core: lookups only read libgit2's index
    // (a hash map by path). Whether a new file is ignored is asked afterwards, on this thread
    // (libgit2's ignore rules are cached as they are read).
    var report = StageReport()
    var toAdd: [String] = []
    var found = 0  // index entries found on disk: when all are, nothing was deleted
    var before: [String: (oid: git_oid, mode: UInt32)] = [:]  // of the files to hash again
    var fresh: [String] = []  // files without an entry
    for part in Self.compare(listings, with: index.pointer, indexTime: indexTime, splitFrom: splitFrom) {
      found += part.found
      toAdd += part.rehashed
      report.rehashed += part.rehashed
      before.merge(part.before) { a, _ in a }
      fresh += part.fresh
    }
    for path in fresh where conflicted.contains(path) || !isIgnored(path) {
      toAdd.append(path)
      report.added.append(path)
    }
    if found < inScope {
      var onDisk = Set<String>()
      for listing in listings {
        var nameStart = 0
        for _ in listing.stats {
          let nameEnd = listing.names[nameStart...].firstIndex(of: 0) ?? listing.names.count
          let name = String(decoding: listing.names[nameStart..<nameEnd], as: UTF8.self)
          onDisk.insert(listing.folder.isEmpty ? name : listing.folder + "/" + name)
          nameStart = nameEnd + 1
        }
      }
      for i in 0..<git_index_entrycount(index.pointer) {
        guard let e = git_index_get_byindex(index.pointer, i)?.pointee, let p = e.path,
          (e.flags >> 12) & 0x3 == 0, e.mode != 0o160000
        else { continue }
        let path = String(cString: p)
        if (scope.isEmpty || path.hasPrefix(scope)), !onDisk.contains(path) { report.removed.append(path) }
      }
    }
    for path in conflicted where !toAdd.contains(path) { report.removed.append(path) }
    guard !toAdd.isEmpty || !report.removed.isEmpty else { return report }
    for path in report.removed.sorted() {
      try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, path))
    }
    for path in toAdd.sorted() {
      try check("git_index_add_bypath", git_index_add_bypath(index.pointer, path))
      if var old = before[path], var after = git_index_get_bypath(index.pointer, path, 0)?.pointee {
        if git_oid_equal(&old.oid, &after.id) == 0 || old.mode != after.mode { report.modified.append(path) }
      }
    }
    report.modified.sort()
    // Writing the index (1 MB at 10,000 documents) only to refresh the stat data of a few files
    // that turned out unchanged costs more than hashing them again next time; it is written when
    // content changed, or when many files were refreshed (a fresh clone, a restore that touched
    // every file), so that they are not hashed again on every call.
    if report.changesContent || report.rehashed.count > 16 {
      try check("git_index_write", git_index_write(index.pointer))
    }
    report.rehashed.sort()
    report.added.sort()
    report.removed.sort()
    return report
  }

  /// What one folder holds: its files with their `lstat`, and its sub-folders (other
  /// repositories inside this one left out). Paths are relative to the work tree.
  private struct Listing: Sendable {
    /// The folder, relative to the work tree ("" for the top).
    var folder = ""
    /// The files' names, each followed by a 0 byte, in the order of `stats`.
    var names: [UInt8] = []
    var stats: [stat] = []
    /// Sub-folders, relative to the work tree.
    var folders: [String] = []
  }

  /// What comparing some folders' files with the index found.
  private struct Comparison {
    var found = 0
    var rehashed: [String] = []
    var before: [String: (oid: git_oid, mode: UInt32)] = [:]
    var fresh: [String] = []
  }

  /// Compares the listed files with their index entries (git's racy rule for `indexTime`), the
  /// listings split in parts of about equal file counts, one part a core.
  private static func compare(
    _ listings: [Listing], with index: OpaquePointer, indexTime: timespec, splitFrom: Int
  ) -> [Comparison] {
    let total = listings.reduce(0) { $0 + $1.stats.count }
    let cores = total < splitFrom ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    var ranges: [Range<Int>] = []
    var start = 0, count = 0
    for (i, listing) in listings.enumerated() {
      count += listing.stats.count
      if count >= total * (ranges.count + 1) / cores, ranges.count < cores - 1 {
        ranges.append(start..<(i + 1))
        start = i + 1
      }
    }
    ranges.append(start..<listings.count)
    let parts = ranges
    final class Results: @unchecked Sendable {
      var values: [Comparison]
      init(_ n: Int) { values = Array(repeating: Comparison(), count: n) }
    }
    let results = Results(parts.count)
    nonisolated(unsafe) let index = index
    results.values.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let out = buffer
      DispatchQueue.concurrentPerform(iterations: parts.count) { part in
        out[part] = compare(listings[parts[part]], with: index, indexTime: indexTime)
      }
    }
    return results.values
  }

  private static func compare(_ listings: ArraySlice<Listing>, with index: OpaquePointer, indexTime: timespec) -> Comparison {
    var result = Comparison()
    // Each file's path is assembled in one buffer as a C string for the index lookup; a Swift
    // string is made only for the few files that changed (100,000 strings cost more than the
    // lstats at 100k documents).
    var buffer = [CChar](repeating: 0, count: 4096)
    for listing in listings {
      let folder = Array(listing.folder.utf8CString.dropLast()) + (listing.folder.isEmpty ? [] : [CChar(UInt8(ascii: "/"))])
      var nameStart = 0
      for st in listing.stats {
        let nameEnd = listing.names[nameStart...].firstIndex(of: 0) ?? listing.names.count
        let length = folder.count + (nameEnd - nameStart)
        if length + 1 > buffer.count { buffer = [CChar](repeating: 0, count: length * 2) }
        buffer.withUnsafeMutableBufferPointer { b in
          for (i, c) in folder.enumerated() { b[i] = c }
          var j = folder.count
          for k in nameStart..<nameEnd { b[j] = CChar(bitPattern: listing.names[k]); j += 1 }
          b[j] = 0
        }
        nameStart = nameEnd + 1
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFLNK else { continue }
        guard let c = git_index_get_bypath(index, buffer, 0)?.pointee, c.mode != 0o160000 else {
          result.fresh.append(String(cString: buffer))
          continue
        }
        result.found += 1
        let mode: UInt32 = type == S_IFLNK ? 0o120000 : (st.st_mode & 0o100 != 0 ? 0o100755 : 0o100644)
        let racy = Int(c.mtime.seconds) > indexTime.tv_sec
          || (Int(c.mtime.seconds) == indexTime.tv_sec && Int(c.mtime.nanoseconds) >= indexTime.tv_nsec)
        if racy || c.mode != mode || c.file_size != UInt32(truncatingIfNeeded: st.st_size)
          || c.mtime.seconds != Int32(truncatingIfNeeded: st.st_mtim.tv_sec)
          || c.mtime.nanoseconds != UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec)
          || c.ino != UInt32(truncatingIfNeeded: st.st_ino)
        {
          let path = String(cString: buffer)
          result.rehashed.append(path)
          result.before[path] = (c.id, c.mode)
        }
      }
    }
    return result
  }

  /// Reads `folders` (relative to `root`) on every core.
  private static func scanFolders(_ folders: [String], in root: String) -> [Listing] {
    final class Results: @unchecked Sendable {
      var values: [Listing]
      init(_ n: Int) { values = Array(repeating: Listing(), count: n) }
    }
    let results = Results(folders.count)
    results.values.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let out = buffer
      DispatchQueue.concurrentPerform(iterations: folders.count) { i in
        out[i] = scanFolder(folders[i], in: root)
      }
    }
    return results.values
  }

  private static func scanFolder(_ dir: String, in root: String) -> Listing {
    var listing = Listing(folder: dir)
    guard let handle = opendir(dir.isEmpty ? root : root + "/" + dir) else { return listing }
    defer { closedir(handle) }
    let fd = dirfd(handle)
    while let entry = readdir(handle) {
      let skip: Bool = withUnsafePointer(to: &entry.pointee.d_name) { p in
        p.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { c in
          strcmp(c, ".") == 0 || strcmp(c, "..") == 0 || strcmp(c, ".git") == 0 || strcmp(c, ".kb") == 0
            || strstr(c, ".kb-tmp-") != nil
        }
      }
      if skip { continue }
      let isFolder: Bool? = withUnsafePointer(to: &entry.pointee.d_name) { p in
        p.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { c -> Bool? in
          var st = stat()
          if entry.pointee.d_type == UInt8(DT_DIR) {
            return faccessat(fd, String(cString: c) + "/.git", F_OK, AT_SYMLINK_NOFOLLOW) != 0 ? true : nil
          }
          guard fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }  // gone meanwhile
          switch st.st_mode & S_IFMT {
          case S_IFREG, S_IFLNK:
            listing.stats.append(st)
            let length = strlen(c)
            c.withMemoryRebound(to: UInt8.self, capacity: length) { listing.names.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
            listing.names.append(0)
            return false
          case S_IFDIR:
            return faccessat(fd, String(cString: c) + "/.git", F_OK, AT_SYMLINK_NOFOLLOW) != 0 ? true : nil
          default:
            return nil
          }
        }
      }
      if isFolder == true {
        let name = withUnsafePointer(to: &entry.pointee.d_name) { p in
          p.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
        }
        listing.folders.append(dir.isEmpty ? name : dir + "/" + name)
      }
    }
    return listing
  }

  private func isIgnored(_ path: String) -> Bool {
    var ignored: Int32 = 0
    return git_ignore_path_is_ignored(&ignored, pointer, path) == 0 && ignored == 1
  }
}

/// Reads a repository's index on a thread of its own, through a handle of its own (a libgit2
/// handle is never shared between threads), and then hands it to another handle on the same
/// repository.
final class IndexLoader: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var index: OpaquePointer?
  private var time = timespec(tv_sec: Int.max, tv_nsec: 0)
  private var error: GitError?

  init(repositoryAt path: String) {
    Thread.detachNewThread { [self] in
      self.error = SyncEngine.attempt { () throws(GitError) in
        let repo = try GitRepository(discovering: path)
        var st = stat()
        if lstat(repo.gitDirectory + "/index", &st) == 0 { self.time = st.st_mtim }
        var loaded: OpaquePointer?
        try check("git_repository_index", git_repository_index(&loaded, repo.pointer))
        self.index = loaded  // this reference outlives `repo`, freed at the end of the closure
      }
      self.done.signal()
    }
  }

  deinit {
    done.wait()  // never free a handle the thread still uses
    if let index { git_index_free(index) }
  }

  /// Waits for the index, gives it to `repository`, and returns the index file's modification
  /// time when it was read (for the racily-clean rule). Call it once.
  func take(into repository: GitRepository) throws(GitError) -> timespec {
    done.wait()
    done.signal()  // deinit waits too
    if let error { throw error }
    guard let index else { throw GitError(code: -1, function: "git_repository_index", message: "the index was not read") }
    try check("git_repository_set_index", git_repository_set_index(repository.pointer, index))
    git_index_free(index)
    self.index = nil
    return time
  }
}
