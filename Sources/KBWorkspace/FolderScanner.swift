import Foundation
import KBStore

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
  func scan() -> [ScannedFolder] {
    var out: [ScannedFolder] = []
    var level: [String] = [""]
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

  /// `items.map(transform)` on all cores, in order.
  static func parallelMap<T: Sendable, R>(_ items: [T], _ transform: (T) -> R) -> [R] {
    if items.count < 2 { return items.map(transform) }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    defer {
      _ = results.deinitialize()
      results.deallocate()
    }
    nonisolated(unsafe) let output = results
    withoutActuallyEscaping(transform) { transform in
      nonisolated(unsafe) let transform = transform
      DispatchQueue.concurrentPerform(iterations: items.count) { i in
        output[i] = transform(items[i])
      }
    }
    return results.map { $0! }
  }

  private func list(_ folder: String) -> ([ScannedFile], [String]) {
    let absolute = folder.isEmpty ? root : root + "/" + folder
    guard let dir = opendir(absolute) else { return ([], []) }
    defer { closedir(dir) }
    let fd = dirfd(dir)
    var files: [ScannedFile] = []
    var folders: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name.hasPrefix(".") { continue }
      let type = entry.pointee.d_type
      let relative = folder.isEmpty ? name : folder + "/" + name
      if type == UInt8(DT_DIR) {
        folders.append(relative)
        continue
      }
      let isMarkdown = name.hasSuffix(".md") && (name.utf8.count != 9 || name.lowercased() != "readme.md")
      var st = stat()
      if type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) {
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
        if (st.st_mode & S_IFMT) == S_IFDIR {
          folders.append(relative)
          continue
        }
        if (st.st_mode & S_IFMT) == S_IFLNK {
          // Links to folders are not followed (no loops, no second copy); links to
          // Markdown files are read only when they stay inside the root.
          guard isMarkdown else { continue }
          files.append(linkedFile(name, linkPath: absolute + "/" + name, linkStat: st))
          continue
        }
      }
      guard isMarkdown else { continue }
      guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
      if (st.st_mode & S_IFMT) != S_IFREG {
        files.append(ScannedFile(name: name, size: 0, mtime: 0, problem: "not a regular file"))
        continue
      }
      files.append(ScannedFile(name: name, size: Int64(st.st_size), mtime: Self.mtime(st)))
    }
    return (files, folders)
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

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// An order-independent fingerprint of a folder's files: equal when no file was added,
  /// removed, resized or touched. Deterministic across processes (FNV-1a and splitmix64, not
  /// Swift's seeded `Hasher`).
  static func fingerprint(_ files: [ScannedFile]) -> Int64 {
    var sum: UInt64 = UInt64(files.count) &* 0x9E37_79B9_7F4A_7C15
    for file in files {
      var h: UInt64 = 0xcbf2_9ce4_8422_2325
      for byte in file.name.utf8 {
        h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
      }
      h ^= UInt64(bitPattern: file.size) &* 0xff51_afd7_ed55_8ccd
      h = splitmix(h ^ UInt64(bitPattern: file.mtime))
      sum = sum &+ h
    }
    return Int64(bitPattern: sum)
  }

  static func splitmix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
