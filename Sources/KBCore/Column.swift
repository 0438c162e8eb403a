import Foundation

/// A read-only array of fixed-size numbers, held either in memory or in a memory-mapped file.
///
/// The suggestion model's big tables (postings, norms, centroids) are columns: a model built in
/// this process owns its memory, a model read from `.kb/suggest-model.bin` points into the
/// mapped file, so that a process reads only the pages its query touches (the posting lists of
/// its own words) instead of the whole model, and many processes share one copy in the page
/// cache. The same scoring code runs over both.
///
/// ```swift
/// let c = Column([1, 2, 3] as [Int32])
/// c[1]  // 2
/// ```
public struct Column<Element: BitwiseCopyable>: @unchecked Sendable, RandomAccessCollection {
  let base: UnsafePointer<Element>?
  public let count: Int
  /// Keeps the memory alive: an owned buffer or the mapped file.
  let owner: AnyObject?

  public init() {
    base = nil
    count = 0
    owner = nil
  }

  public init(_ array: [Element]) {
    self.init(count: array.count) { buffer in
      array.withUnsafeBufferPointer { source in
        if let from = source.baseAddress, let to = buffer.baseAddress { to.update(from: from, count: source.count) }
      }
    }
  }

  /// A column of `count` elements that `fill` writes (every element must be written).
  public init(count: Int, fill: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
    let storage = OwnedBuffer<Element>(count: count)
    try fill(storage.buffer)
    base = UnsafePointer(storage.buffer.baseAddress)
    self.count = count
    owner = storage
  }

  /// The first `count` elements of an owned buffer.
  init(_ storage: OwnedBuffer<Element>, count: Int) {
    base = UnsafePointer(storage.buffer.baseAddress)
    self.count = count
    owner = storage
  }

  /// `count` elements at `offset` bytes into `file` (aligned for `Element`; checked by the caller).
  init(file: MappedFile, offset: Int, count: Int) {
    base = count == 0 ? nil : (file.base + offset).assumingMemoryBound(to: Element.self)
    self.count = count
    owner = file
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  @inline(__always)
  public subscript(i: Int) -> Element {
    precondition(i >= 0 && i < count, "Column index out of range")
    return base.unsafelyUnwrapped[i]
  }

  @inline(__always)
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: base, count: count))
  }

  public var array: [Element] { withUnsafeBufferPointer { Array($0) } }
}

extension Column: Equatable where Element: Equatable {
  public static func == (a: Column, b: Column) -> Bool { a.elementsEqual(b) }
}

/// Memory a column owns (allocated once, freed with the last column that uses it).
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<Element>
  /// The mapping's length when the buffer is a temporary file's pages (0: on the heap).
  private let mappedBytes: Int

  /// `count` zeroed elements on the heap.
  convenience init(count: Int) { self.init(count: count, spillingTo: nil) }

  /// `count` zeroed elements in an unnamed temporary file in `directory`, mapped shared: its
  /// pages belong to the page cache, which writes them back and lets them go when memory is
  /// short, instead of to the process's private memory (the postings of a 100k-document model,
  /// 330 MB, while it is built). On the heap when `directory` is nil or the file cannot be made
  /// or given its blocks (a read-only folder, a full disk).
  init(count: Int, spillingTo directory: String?) {
    let bytes = max(1, count) * MemoryLayout<Element>.stride
    if let directory, count > 0, let base = Self.mapTemporaryFile(in: directory, bytes: bytes) {
      buffer = UnsafeMutableBufferPointer(start: base.bindMemory(to: Element.self, capacity: count), count: count)
      mappedBytes = bytes
    } else {
      buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(1, count))
      if count > 0 { UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0) }
      mappedBytes = 0
    }
  }

  deinit {
    if mappedBytes > 0 { munmap(UnsafeMutableRawPointer(buffer.baseAddress), mappedBytes) } else { buffer.deallocate() }
  }

  /// A file made and unlinked at once (nothing is left behind, even by a killed process), given
  /// its `bytes` of disk up front (zeros: a page of a sparse file that the disk has no room for
  /// would kill the process with SIGBUS when first written) and mapped read-write, shared.
  private static func mapTemporaryFile(in directory: String, bytes: Int) -> UnsafeMutableRawPointer? {
    var template = Array((directory + "/.spill-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { return nil }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    defer { close(fd) }
    guard posix_fallocate(fd, 0, off_t(bytes)) == 0 else { return nil }
    guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else { return nil }
    return p
  }
}

/// A whole file mapped read-only into memory (unmapped when the last column using it goes).
/// The file's pages are read on first touch and stay shared in the page cache; a file renamed
/// over it later does not change what is mapped.
public final class MappedFile: @unchecked Sendable {
  public let base: UnsafeRawPointer
  public let count: Int
  /// The file's identity when it was mapped: inode, size and modification time (ns), which
  /// change whenever the file is rewritten or replaced.
  public let identity: String

  /// Nil when the file cannot be opened or mapped (or is empty).
  public init?(path: String) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
    let size = Int(st.st_size)
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
    base = UnsafeRawPointer(p)
    count = size
    identity = "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
  }

  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), count) }
}

extension ByteWriter {
  /// A column as its count, padding to 64 bytes, then its raw bytes (so that a reader of the
  /// mapped file uses them in place, aligned).
  public mutating func append<T: BitwiseCopyable>(column: Column<T>) {
    append(UInt64(column.count))
    appendPadding(to: 64)
    column.withUnsafeBufferPointer { append(raw: UnsafeRawBufferPointer($0)) }
  }
}

extension ByteReader {
  /// A column written by ``ByteWriter/append(column:)``, pointing into `file` (whose bytes this
  /// reader reads) without a copy; a copy when `file` is nil.
  public mutating func readColumn<T: BitwiseCopyable>(_: T.Type = T.self, file: MappedFile?) throws(Truncated) -> Column<T> {
    let n = try read(UInt64.self)
    try skipPadding(to: 64)
    let size = MemoryLayout<T>.stride
    guard n <= UInt64(remaining / max(1, size)) else { throw Truncated() }
    let count = Int(n)
    let raw = try take(count * size)
    if let file, let start = raw.baseAddress, start >= file.base, start + raw.count <= file.base + file.count {
      let offset = start - file.base
      guard offset % MemoryLayout<T>.alignment == 0 else { throw Truncated() }
      return Column(file: file, offset: offset, count: count)
    }
    return Column(count: count) { buffer in
      if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
    }
  }
}

/// A 64-bit checksum of a byte stream fed in pieces of any size (four lanes of multiply-xor over
/// 8-byte words, so a large model file checks at several GB/s), to tell a damaged model file
/// from a good one.
public struct StreamChecksum: Sendable {
  private var lanes: (UInt64, UInt64, UInt64, UInt64) = (
    0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63
  )
  private var pending: [UInt8] = []
  private var total: UInt64 = 0

  public init() {}

  @inline(__always)
  private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
    var x = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
    x ^= x >> 31
    return x
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    total &+= UInt64(bytes.count)
    var rest = bytes
    if !pending.isEmpty {
      let need = 32 - pending.count
      let take = min(need, rest.count)
      pending.append(contentsOf: rest.prefix(take))
      rest = UnsafeRawBufferPointer(rebasing: rest[take...])
      guard pending.count == 32 else { return }
      let block = pending
      pending.removeAll(keepingCapacity: true)
      block.withUnsafeBytes { consume($0) }
    }
    let whole = rest.count / 32 * 32
    if whole > 0 { consume(UnsafeRawBufferPointer(rebasing: rest[0..<whole])) }
    if whole < rest.count { pending.append(contentsOf: rest[whole...]) }
  }

  private mutating func consume(_ blocks: UnsafeRawBufferPointer) {
    var (a, b, c, d) = lanes
    var i = 0
    while i < blocks.count {
      a = Self.mix(a, blocks.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      b = Self.mix(b, blocks.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
      c = Self.mix(c, blocks.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
      d = Self.mix(d, blocks.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
      i += 32
    }
    lanes = (a, b, c, d)
  }

  public var value: UInt64 {
    var h = Self.mix(lanes.0, lanes.1 &* 3)
    h = Self.mix(h, lanes.2 &* 5)
    h = Self.mix(h, lanes.3 &* 7)
    for b in pending { h = Self.mix(h, UInt64(b)) }
    return Self.mix(h, total)
  }

  public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var c = StreamChecksum()
    c.update(bytes)
    return c.value
  }
}

/// Strings stored as two columns, the bytes of all of them and where each starts (one offset
/// more than strings): read one at a time from a mapped file, never decoded all at once. When
/// built sorted (``init(sorted:)``), ``contains(_:)`` is a binary search over the bytes.
///
/// ```swift
/// let t = StringTable(sorted: ["apple", "pear"])
/// t.contains("pear")  // true
/// ```
public struct StringTable: Sendable, RandomAccessCollection, WordSet {
  package let offsets: Column<UInt64>
  package let bytes: Column<UInt8>

  public init(_ strings: [String]) {
    var offsets: [UInt64] = [0]
    offsets.reserveCapacity(strings.count + 1)
    var bytes: [UInt8] = []
    for s in strings {
      bytes.append(contentsOf: s.utf8)
      offsets.append(UInt64(bytes.count))
    }
    self.offsets = Column(offsets)
    self.bytes = Column(bytes)
  }

  /// Sorted by bytes (UTF-8 order), duplicates removed, for ``contains(_:)``.
  public init<S: Sequence<String>>(sorted strings: S) {
    self.init(Array(Set(strings)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
  }

  /// Columns as stored: nil when the offsets do not rise within the bytes.
  package init?(offsets: Column<UInt64>, bytes: Column<UInt8>) {
    guard offsets.first == 0, offsets.last.map({ $0 == UInt64(bytes.count) }) ?? false else { return nil }
    var previous: UInt64 = 0
    for o in offsets {
      guard o >= previous else { return nil }
      previous = o
    }
    self.offsets = offsets
    self.bytes = bytes
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { Swift.max(0, offsets.count - 1) }

  public subscript(i: Int) -> String {
    let start = Int(offsets[i])
    let end = Int(offsets[i + 1])
    return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
  }

  /// Whether the (sorted) table holds `word`.
  public func contains(_ word: String) -> Bool { position(of: word) != nil }

  /// Where the (sorted) table holds `word`, by binary search over the bytes.
  public func position(of word: String) -> Int? {
    var w = word
    return w.withUTF8 { key in
      bytes.withUnsafeBufferPointer { all in
        var lo = 0
        var hi = endIndex
        while lo < hi {
          let mid = (lo + hi) >> 1
          let s = UnsafeBufferPointer(rebasing: all[Int(offsets[mid])..<Int(offsets[mid + 1])])
          let n = Swift.min(s.count, key.count)
          var c = n == 0 ? 0 : memcmp(s.baseAddress!, key.baseAddress!, n)
          if c == 0 { c = Int32(s.count) - Int32(key.count) }
          if c == 0 { return mid }
          if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
      }
    }
  }
}
