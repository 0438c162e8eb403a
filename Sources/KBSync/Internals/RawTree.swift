import CLibgit2
import Glibc

/// A tree object read as the bytes git stores (`<mode> <name>\0<20-byte id>`, sorted), without
/// libgit2's parse into entry objects.
///
/// The trees of a big knowledge base are large (a folder of 10,000 answers is a 600 KB tree), and
/// a sync compares a few of them pair by pair: walking both byte strings side by side costs one
/// `memcmp` per entry, where looking each entry up in the other parsed tree cost a binary search
/// of string comparisons (and the parse itself).
struct RawTree {
  private let object: GitHandle  // a git_odb_object, which owns `bytes`
  let bytes: UnsafeRawBufferPointer

  struct Entry {
    var mode: UInt32
    var name: UnsafeRawBufferPointer
    var id: UnsafeRawPointer  // 20 bytes inside the tree's buffer

    var isTree: Bool { mode & 0o170000 == 0o040000 }
    var oid: GitOID { GitOID(id.assumingMemoryBound(to: git_oid.self).pointee) }
    var nameString: String { String(decoding: name, as: UTF8.self) }
    func sameObject(as other: Entry) -> Bool { mode == other.mode && memcmp(id, other.id, 20) == 0 }
  }

  init(_ id: GitOID, in odb: OpaquePointer) throws(GitError) {
    var raw = id.raw
    object = GitHandle(try make("git_odb_read") { git_odb_read(&$0, odb, &raw) }, free: git_odb_object_free)
    guard git_odb_object_type(object.pointer) == GIT_OBJECT_TREE else {
      throw GitError(code: -1, function: "tree", message: "object \(id) is not a tree")
    }
    bytes = UnsafeRawBufferPointer(start: git_odb_object_data(object.pointer), count: git_odb_object_size(object.pointer))
  }

  /// Calls `body` with each entry, in the tree's order.
  func forEach(_ body: (Entry) throws(GitError) -> Void) throws(GitError) {
    var at = 0
    while at < bytes.count {
      guard let entry = entry(at: &at) else { throw GitError(code: -1, function: "tree", message: "a tree object is malformed") }
      try body(entry)
    }
  }

  /// Parses the entry at `at` and moves `at` past it; `nil` when the bytes are malformed.
  func entry(at: inout Int) -> Entry? {
    guard let base = bytes.baseAddress else { return nil }
    var mode: UInt32 = 0
    var i = at
    while i < bytes.count, bytes[i] != 0x20 {
      let digit = bytes[i] &- 0x30
      guard digit < 8 else { return nil }
      mode = mode << 3 | UInt32(digit)
      i += 1
    }
    let nameStart = i + 1
    guard nameStart < bytes.count, let nul = memchr(base + nameStart, 0, bytes.count - nameStart) else { return nil }
    let nameEnd = base.distance(to: UnsafeRawPointer(nul))
    guard nameEnd + 21 <= bytes.count else { return nil }
    at = nameEnd + 21
    return Entry(mode: mode, name: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd]), id: base + nameEnd + 1)
  }

  /// git's order of tree entries: by name, a tree's name compared as if it ended in "/".
  static func order(_ a: Entry, _ b: Entry) -> Int32 {
    let n = min(a.name.count, b.name.count)
    let c = n == 0 ? 0 : memcmp(a.name.baseAddress!, b.name.baseAddress!, n)
    if c != 0 { return c }
    let x: UInt8 = a.name.count > n ? a.name[n] : (a.isTree ? 0x2F : 0)
    let y: UInt8 = b.name.count > n ? b.name[n] : (b.isTree ? 0x2F : 0)
    return Int32(x) - Int32(y)
  }

  /// Walks two trees side by side (`nil`: the empty tree) and calls `body` for each entry that
  /// differs: `(old, new)`, either `nil` when the entry is only on one side. A name that is a file
  /// on one side and a folder on the other comes as two calls (a deletion and an addition).
  static func differences(
    _ old: RawTree?, _ new: RawTree?, _ body: (Entry?, Entry?) throws(GitError) -> Void
  ) throws(GitError) {
    var i = 0, j = 0
    let oldCount = old?.bytes.count ?? 0, newCount = new?.bytes.count ?? 0
    var x: Entry?, y: Entry?
    func next(_ tree: RawTree?, _ at: inout Int, _ count: Int) throws(GitError) -> Entry? {
      guard let tree, at < count else { return nil }
      guard let e = tree.entry(at: &at) else { throw GitError(code: -1, function: "tree", message: "a tree object is malformed") }
      return e
    }
    x = try next(old, &i, oldCount)
    y = try next(new, &j, newCount)
    while x != nil || y != nil {
      guard let a = x else { try body(nil, y); y = try next(new, &j, newCount); continue }
      guard let b = y else { try body(a, nil); x = try next(old, &i, oldCount); continue }
      let c = order(a, b)
      if c < 0 {
        try body(a, nil)
        x = try next(old, &i, oldCount)
      } else if c > 0 {
        try body(nil, b)
        y = try next(new, &j, newCount)
      } else {
        if !a.sameObject(as: b) { try body(a, b) }
        x = try next(old, &i, oldCount)
        y = try next(new, &j, newCount)
      }
    }
  }
}
