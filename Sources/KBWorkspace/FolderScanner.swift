import Foundation
internal import KBStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One Markdown file seen by the scanner.
struct ScannedFile: Sendable {
  var name: String
  var size: Int64
  var mtime: Int64
  /// Why the file cannot be indexed whatever its content (a link leading outside, not a
  /// regular file).
  var problem: String?
}

/// One folder of the knowledge base with its Markdown files.
struct ScannedFolder: Sendable {
  /// Relative to the root, `""` for the root itself.
  var path: String
  var files: [ScannedFile]
  var fingerprint: Int64
}

/// Walks a knowledge base folder with one `stat` per file and no reads.
///
/// Hidden entries (`.git`, `.kb`, editor swap files) and `README.md` files are not documents.
/// A symbolic link is followed only when it stays inside the root; a link leading outside is
/// reported, never read.
struct FolderScanner {
  let root: String
  private let realRoot: String

  init(root: String) {
    self.root = root
    realRoot = Self.realPath(root) ?? root
  }

  /// Every folder, sorted by path. Each level of the tree is listed on all cores (the walk
  /// is one `stat` per file, so at 100k files it is bounded by the kernel's path lookups).
  func scan(from start: String = "") -> [ScannedFolder] {
    var out: [ScannedFolder] = []
    var level: [String] = [start]
    while !level.isEmpty {
      let listed = Self.parallelMap(level) { folder in
        let (files, subfolders) = list(folder)
        return (ScannedFolder(path: folder, files: files, fingerprint: Self.fingerprint(files)), subfolders)
      }
      level = []
      for (folder, subfolders) in listed {
        out.append(folder)
        level.append(contentsOf: subfolders)
      }
    }
    out.sort { $0.path < $1.path }
    return out
  }

  /// Every folder's path, file count and fingerprint, sorted by path, without the file names:
  /// what checking an unchanged knowledge base needs. List a changed folder with ``list(_:names:)``.
  func fingerprints() -> [(path: String, count: Int, fingerprint: Int64)] {
    var out: [(path: String, count: Int, fingerprint: Int64)] = []
    var level: [String] = [""]
    while !level.isEmpty {
      let listed = Self.parallelMap(level) { folder in
        let listing = list(folder, names: false)
        return (folder, listing.count, listing.fingerprint, listing.folders)
      }
      level = []
      for (folder, count, fingerprint, subfolders) in listed {
        out.append((folder, count, fingerprint))
        level.append(contentsOf: subfolders)
      }
    }
    out.sort { $0.path < $1.path }
    return out
  }

  /// `items.map(transform)` on all cores, in order.
  static func parallelMap<T: Sendable, R>(
    _ items: [T], sequentialBudget: UInt64 = 2_000_000, _ transform: (T) -> R
  ) -> [R] {
    // Threads pay off only for a long walk: at 1k files the whole walk takes about a
    // millisecond, less than starting the workers (and far less than waiting for them to be
    // scheduled on a busy machine). So items are done in turn until this call has taken
    // `sequentialBudget` nanoseconds (2 ms); only what is left then goes to all cores.
    var out: [R] = []
    out.reserveCapacity(items.count)
    let start = DispatchTime.now().uptimeNanoseconds
    var next = 0
    while next < items.count, DispatchTime.now().uptimeNanoseconds - start < sequentialBudget {
      out.append(transform(items[next]))
      next += 1
    }
    let rest = items.count - next
    if rest == 0 { return out }
    if rest == 1 { return out + [transform(items[next])] }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: rest)
    results.initialize(repeating: nil)
    defer {
      _ = results.deinitialize()
      results.deallocate()
    }
    nonisolated(unsafe) let output = results
    let first = next
    withoutActuallyEscaping(transform) { transform in
      nonisolated(unsafe) let transform = transform
      DispatchQueue.concurrentPerform(iterations: rest) { i in
        output[i] = transform(items[first + i])
      }
    }
    return out + results.map { $0! }
  }

  private func list(_ folder: String) -> ([ScannedFile], [String]) {
    let listing = list(folder, names: true)
    return (listing.files, listing.folders)
  }

  /// One folder's Markdown files and subfolders. With `names: false` the files are only
  /// counted and fingerprinted, without a `String` per ASCII-named file (`files` is empty):
  /// checking an unchanged knowledge base needs no more.
  func list(_ folder: String, names: Bool) -> (files: [ScannedFile], count: Int, fingerprint: Int64, folders: [String]) {
    let absolute = folder.isEmpty ? root : root + "/" + folder
    guard let dir = opendir(absolute) else { return ([], 0, Self.fingerprint(count: 0, sum: 0), []) }
    defer { closedir(dir) }
    let fd = dirfd(dir)
    var files: [ScannedFile] = []
    var folders: [String] = []
    var count = 0
    var sum: UInt64 = 0
    let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    while let entry = readdir(dir) {
      let cname = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
      let length = strlen(cname)
      let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(cname), count: length)
      if bytes.first == UInt8(ascii: ".") { continue }
      let type = entry.pointee.d_type
      // Names that are not plain ASCII take the String path throughout (String(cString:)
      // repairs invalid UTF-8, and Character rules decide the suffix), as before.
      let ascii = !bytes.contains { $0 >= 0x80 }
      let nonASCIIName: String? = ascii ? nil : String(cString: cname)
      if type == UInt8(DT_DIR) {
        let name = nonASCIIName ?? String(cString: cname)
        folders.append(folder.isEmpty ? name : folder + "/" + name)
        continue
      }
      let isMarkdown: Bool
      if let name = nonASCIIName {
        isMarkdown = name.hasSuffix(".md") && (name.utf8.count != 9 || name.lowercased() != "readme.md")
      } else {
        isMarkdown = Self.isMarkdownASCII(bytes)
      }
      var st = stat()
      if type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) {
        let status = nonASCIIName.map { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } ?? fstatat(fd, cname, &st, AT_SYMLINK_NOFOLLOW)
        guard status == 0 else { continue }
        if (st.st_mode & S_IFMT) == S_IFDIR {
          let name = nonASCIIName ?? String(cString: cname)
          folders.append(folder.isEmpty ? name : folder + "/" + name)
          continue
        }
        if (st.st_mode & S_IFMT) == S_IFLNK {
          // Links to folders are not followed (no loops, no second copy); links to
          // Markdown files are read only when they stay inside the root.
          guard isMarkdown else { continue }
          let name = nonASCIIName ?? String(cString: cname)
          let file = linkedFile(name, linkPath: absolute + "/" + name, linkStat: st)
          count += 1
          sum = sum &+ Self.fileHash(file.name.utf8, size: file.size, mtime: file.mtime)
          if names { files.append(file) }
          continue
        }
      }
      guard isMarkdown else { continue }
      let status = nonASCIIName.map { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } ?? fstatat(fd, cname, &st, AT_SYMLINK_NOFOLLOW)
      guard status == 0 else { continue }
      let regular = (st.st_mode & S_IFMT) == S_IFREG
      let size: Int64 = regular ? Int64(st.st_size) : 0
      let mtime: Int64 = regular ? Self.mtime(st) : 0
      count += 1
      if let name = nonASCIIName {
        sum = sum &+ Self.fileHash(name.utf8, size: size, mtime: mtime)
      } else {
        sum = sum &+ Self.fileHash(bytes, size: size, mtime: mtime)
      }
      if names {
        let name = nonASCIIName ?? String(cString: cname)
        files.append(
          regular
            ? ScannedFile(name: name, size: size, mtime: mtime)
            : ScannedFile(name: name, size: 0, mtime: 0, problem: "not a regular file"))
      }
    }
    return (files, count, Self.fingerprint(count: count, sum: sum), folders)
  }

  /// Whether `folder` (relative) is a folder the scan reaches: every component a real
  /// folder (not a link), none hidden.
  func reaches(folder: String) -> Bool {
    if folder.isEmpty { return true }
    var path = root
    for component in folder.split(separator: "/") {
      if component.hasPrefix(".") { return false }
      path += "/" + component
      var st = stat()
      guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return false }
    }
    return true
  }

  /// The file at `path` (relative) as a scan of its folder would see it, or nil when the scan
  /// would not list it (gone, a folder, not a Markdown document, in a folder the scan does not
  /// reach).
  func entry(_ path: String) -> ScannedFile? {
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard !name.hasPrefix("."), name.hasSuffix(".md"), name.lowercased() != "readme.md", reaches(folder: folder) else {
      return nil
    }
    let absolute = root + "/" + path
    var st = stat()
    guard lstat(absolute, &st) == 0 else { return nil }
    switch st.st_mode & S_IFMT {
    case S_IFDIR: return nil
    case S_IFLNK: return linkedFile(name, linkPath: absolute, linkStat: st)
    case S_IFREG: return ScannedFile(name: name, size: Int64(st.st_size), mtime: Self.mtime(st))
    default: return ScannedFile(name: name, size: 0, mtime: 0, problem: "not a regular file")
    }
  }

  /// `name.hasSuffix(".md") && name.lowercased() != "readme.md"` for an ASCII name.
  static func isMarkdownASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let n = bytes.count
    guard n >= 3, bytes[n - 3] == UInt8(ascii: "."), bytes[n - 2] == UInt8(ascii: "m"),
      bytes[n - 1] == UInt8(ascii: "d")
    else { return false }
    guard n == 9 else { return true }
    let readme = Array("readme.md".utf8)
    for i in 0..<9 {
      let b = bytes[i]
      let lower = (b >= 65 && b <= 90) ? b + 32 : b
      if lower != readme[i] { return true }
    }
    return false
  }

  private func linkedFile(_ name: String, linkPath: String, linkStat: stat) -> ScannedFile {
    guard let target = Self.realPath(linkPath),
      target == realRoot || target.hasPrefix(realRoot + "/")
    else {
      return ScannedFile(
        name: name, size: Int64(linkStat.st_size), mtime: Self.mtime(linkStat),
        problem: "symbolic link points outside the knowledge base; not read")
    }
    var st = stat()
    guard stat(target, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      return ScannedFile(name: name, size: 0, mtime: 0, problem: "symbolic link does not lead to a file")
    }
    return ScannedFile(name: name, size: Int64(st.st_size), mtime: Self.mtime(st))
  }

  static func mtime(_ st: stat) -> Int64 {
    Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
  }

  /// Every symbolic link under `root` (outside `.git`) whose target is outside `root` or does
  /// not exist, relative to the root, sorted. For `kb check`: links a teammate may have committed.
  static func linksLeadingOutside(root: String) -> [String] {
    let realRoot = realPath(root) ?? root
    var out: [String] = []
    var stack = [""]
    while let folder = stack.popLast() {
      let absolute = folder.isEmpty ? root : root + "/" + folder
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { continue }
      for name in names where !(folder.isEmpty && name == ".git") {
        let relative = folder.isEmpty ? name : folder + "/" + name
        var st = stat()
        guard lstat(root + "/" + relative, &st) == 0 else { continue }
        switch st.st_mode & S_IFMT {
        case S_IFLNK:
          if let target = realPath(root + "/" + relative), target == realRoot || target.hasPrefix(realRoot + "/") { continue }
          out.append(relative)
        case S_IFDIR:
          // Not into other repositories or kb's private folder.
          if !(folder.isEmpty && name == ".kb"), !FileManager.default.fileExists(atPath: root + "/" + relative + "/.git") {
            stack.append(relative)
          }
        default: break
        }
      }
    }
    return out.sorted()
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// An order-independent fingerprint of a folder's files: equal when no file was added,
  /// removed, resized or touched. Deterministic across processes (FNV-1a and splitmix64, not
  /// Swift's seeded `Hasher`).
  static func fingerprint(_ files: [ScannedFile]) -> Int64 {
    var sum: UInt64 = 0
    for file in files {
      sum = sum &+ fileHash(file.name.utf8, size: file.size, mtime: file.mtime)
    }
    return fingerprint(count: files.count, sum: sum)
  }

  /// Stored for a folder whose files changed without a listing (a write, a watcher's file
  /// change): it never equals a listing's fingerprint, so the next walk lists the folder, and
  /// the row stays so that a walk still notices when the folder disappears.
  static let staleFingerprint: Int64 = 0

  static func fingerprint(count: Int, sum: UInt64) -> Int64 {
    Int64(bitPattern: (UInt64(count) &* 0x9E37_79B9_7F4A_7C15) &+ sum)
  }

  static func fileHash(_ name: some Sequence<UInt8>, size: Int64, mtime: Int64) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name {
      h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    h ^= UInt64(bitPattern: size) &* 0xff51_afd7_ed55_8ccd
    return splitmix(h ^ UInt64(bitPattern: mtime))
  }

  static func splitmix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
