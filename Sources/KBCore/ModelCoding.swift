import Foundation

/// Appends values to a byte buffer in little-endian order: the on-disk model cache's writer.
/// Arrays of numbers are copied as raw bytes (no per-element encoding), so a model of many
/// megabytes writes and reads in milliseconds.
public struct ByteWriter: Sendable {
  public private(set) var bytes: [UInt8] = []
  public init() {}

  public mutating func append<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  public mutating func append(_ value: Float) { append(value.bitPattern) }
  public mutating func append(_ value: Double) { append(value.bitPattern) }

  public mutating func append(_ string: String) {
    let utf8 = Array(string.utf8)
    append(UInt64(utf8.count))
    bytes.append(contentsOf: utf8)
  }

  /// An array of fixed-size numbers, as its count then its raw (little-endian host) bytes.
  public mutating func append<T: BitwiseCopyable>(array: [T]) {
    append(UInt64(array.count))
    array.withUnsafeBytes { bytes.append(contentsOf: $0) }
  }

  /// An unsigned integer in LEB128 (7 bits a byte, low first): small numbers take one byte.
  public mutating func append(varint value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  /// Raw bytes as they are.
  public mutating func append(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

  /// Zero bytes up to the next multiple of `alignment` (from the start of this writer's bytes).
  public mutating func appendPadding(to alignment: Int) {
    while bytes.count % alignment != 0 { bytes.append(0) }
  }

  public var count: Int { bytes.count }

  public mutating func reserveCapacity(_ n: Int) { bytes.reserveCapacity(n) }

  public mutating func append(strings: [String]) {
    append(UInt64(strings.count))
    for s in strings { append(s) }
  }
}

/// Reads what ``ByteWriter`` wrote; every read is bounds-checked and throws on truncation.
public struct ByteReader: ~Copyable {
  public struct Truncated: Error, CustomStringConvertible {
    public var description: String { "the model cache file is truncated or malformed" }
  }

  let base: UnsafeRawBufferPointer
  public private(set) var offset = 0

  /// `bytes` must stay alive while the reader is used.
  public init(_ bytes: UnsafeRawBufferPointer) { base = bytes }

  public var remaining: Int { base.count - offset }

  /// The bytes not read yet (valid while the reader's bytes are), for a decoder's tight loop;
  /// follow with ``skip(_:)`` by what it consumed.
  public var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: base[offset...]) }

  public mutating func skip(_ n: Int) throws(Truncated) { _ = try take(n) }

  /// Skips what ``ByteWriter/appendPadding(to:)`` wrote (offsets from the start of the bytes).
  public mutating func skipPadding(to alignment: Int) throws(Truncated) {
    let pad = (alignment - offset % alignment) % alignment
    try skip(pad)
  }

  public mutating func take(_ n: Int) throws(Truncated) -> UnsafeRawBufferPointer {
    guard n >= 0, n <= remaining else { throw Truncated() }
    let slice = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)])
    offset += n
    return slice
  }

  public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(Truncated) -> T {
    let raw = try take(MemoryLayout<T>.size)
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: raw) }
    return T(littleEndian: value)
  }

  /// An integer written by ``ByteWriter/append(varint:)``.
  @inline(__always)
  public mutating func readVarint() throws(Truncated) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard offset < base.count, shift < 64 else { throw Truncated() }
      let b = base[offset]
      offset += 1
      result |= UInt64(b & 0x7F) << shift
      if b < 0x80 { return result }
      shift += 7
    }
  }

  /// A varint that must fit an Int32 and be below `limit`.
  @inline(__always)
  public mutating func readVarint(below limit: Int) throws(Truncated) -> Int {
    let v = try readVarint()
    guard v < UInt64(limit) else { throw Truncated() }
    return Int(v)
  }

  public mutating func readFloat() throws(Truncated) -> Float { Float(bitPattern: try read(UInt32.self)) }

  public mutating func readCount() throws(Truncated) -> Int {
    let n: UInt64 = try read()
    guard n <= UInt64(remaining) else { throw Truncated() }  // Every element takes ≥ 1 byte.
    return Int(n)
  }

  public mutating func readString() throws(Truncated) -> String {
    let n = try readCount()
    let raw = try take(n)
    return String(decoding: raw, as: UTF8.self)
  }

  public mutating func readArray<T: BitwiseCopyable>(_: T.Type = T.self) throws(Truncated) -> [T] {
    let n = try readCount()
    let size = MemoryLayout<T>.stride
    guard n <= remaining / max(1, size) else { throw Truncated() }
    let raw = try take(n * size)
    return [T](unsafeUninitializedCapacity: n) { buffer, count in
      UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
      count = n
    }
  }

  public mutating func readStrings() throws(Truncated) -> [String] {
    let n = try readCount()
    var out: [String] = []
    out.reserveCapacity(n)
    for _ in 0..<n { out.append(try readString()) }
    return out
  }
}

/// A fast 64-bit checksum of a byte buffer (FNV-style over 8-byte words), to tell a damaged
/// cache file from a good one.
public func modelChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
  let words = bytes.count / 8
  for i in 0..<words {
    let w = bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
    h = (h ^ w) &* 0x100_0000_01b3
    h ^= h >> 29
  }
  for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
  return h
}

/// A structural check failed while reading a model: indices out of range and the like.
public struct ModelDecodingError: Error, CustomStringConvertible {
  public var description: String { "the model cache file is inconsistent" }
  public init() {}
}

extension WordBM25 {
  /// Writes the tables for ``init(reading:)``: term keys as sorted deltas, each posting as a
  /// varint gap between document numbers and its weighted term frequency as a varint (the field
  /// weights are whole numbers), document lengths as varints; floats as they are otherwise.
  public func write(to w: inout ByteWriter) {
    w.append(kind.rawValue)
    w.append(varint: UInt64(documentCount))
    w.append(varint: UInt64(keys.count))
    var previousKey: UInt32 = 0
    for k in keys {
      w.append(varint: UInt64(k - previousKey))
      previousKey = k
    }
    for t in 0..<keys.count { w.append(varint: UInt64(postingStart[t + 1] - postingStart[t])) }
    func whole(_ x: Float) -> Bool { x >= 0 && x < 16_777_216 && x == x.rounded() }
    let integral = postingTF.allSatisfy(whole) && documentLength.allSatisfy(whole)
    w.append(UInt8(integral ? 1 : 0))
    for t in 0..<keys.count {
      var previous: Int32 = -1
      for k in Int(postingStart[t])..<Int(postingStart[t + 1]) {
        w.append(varint: UInt64(postingDoc[k] - previous - 1))
        previous = postingDoc[k]
        if integral { w.append(varint: UInt64(postingTF[k])) }
      }
    }
    if integral {
      for l in documentLength { w.append(varint: UInt64(l)) }
    } else {
      w.append(array: postingTF.array)
      w.append(array: documentLength.array)
    }
    w.append(varint: UInt64(totalLength))
  }

  /// Reads tables written by ``write(to:)``, checking every index and order they rely on.
  public init(reading r: inout ByteReader) throws {
    guard let kind = Terms(rawValue: try r.read(UInt8.self)) else { throw ModelDecodingError() }
    let documentCount = try r.readVarint(below: Int(Int32.max))
    let termCount = try r.readVarint(below: min(Int(Int32.max), r.remaining + 1))
    var keys = [UInt32](repeating: 0, count: termCount)
    var key: UInt64 = 0
    for t in 0..<termCount {
      let delta = try r.readVarint()
      key += delta
      guard (t == 0 || delta > 0), key <= UInt64(UInt32.max) else { throw ModelDecodingError() }
      keys[t] = UInt32(key)
    }
    var postingStart = [Int32](repeating: 0, count: termCount + 1)
    for t in 0..<termCount {
      let end = Int(postingStart[t]) + (try r.readVarint(below: documentCount + 1))
      guard end < Int(Int32.max) else { throw ModelDecodingError() }
      postingStart[t + 1] = Int32(end)
    }
    let integral = try r.read(UInt8.self)
    guard integral <= 1 else { throw ModelDecodingError() }
    let total = Int(postingStart[termCount])
    guard total <= r.remaining else { throw ModelDecodingError() }
    var postingDoc = [Int32](repeating: 0, count: total)
    var postingTF = [Float](repeating: 0, count: integral == 1 ? total : 0)
    for t in 0..<termCount {
      var previous = -1
      for k in Int(postingStart[t])..<Int(postingStart[t + 1]) {
        let d = previous + 1 + (try r.readVarint(below: documentCount))
        guard d < documentCount else { throw ModelDecodingError() }
        previous = d
        postingDoc[k] = Int32(d)
        if integral == 1 { postingTF[k] = Float(try r.readVarint(below: 1 << 24)) }
      }
    }
    var documentLength: [Float]
    if integral == 1 {
      documentLength = []
      documentLength.reserveCapacity(documentCount)
      for _ in 0..<documentCount { documentLength.append(Float(try r.readVarint(below: 1 << 24))) }
    } else {
      postingTF = try r.readArray()
      documentLength = try r.readArray()
      guard postingTF.count == total, documentLength.count == documentCount else { throw ModelDecodingError() }
    }
    let totalLength = try r.readVarint()
    guard totalLength <= UInt64(Int64.max), documentLength.reduce(Int64(0), { $0 + Int64($1) }) == Int64(totalLength)
    else { throw ModelDecodingError() }
    self.kind = kind
    self.documentCount = documentCount
    self.index = SortedKeys(keys)
    self.postingStart = Column(postingStart)
    self.postingDoc = Column(postingDoc)
    self.postingTF = Column(postingTF)
    self.documentLength = Column(documentLength)
    self.totalLength = Int64(totalLength)
    averageLength = Self.averageLength(total: self.totalLength, count: documentCount)
  }
}

extension SemanticModel {
  /// Writes the built model for ``init(reading:vectors:)``: the class centroids (raw halves)
  /// and the class frequency of each table word the examples use.
  public func write(to w: inout ByteWriter) {
    w.append(Int64(classCount))
    w.append(Int64(dimensions))
    w.append(array: centroids.array)
    // Sparse: most table words are in no example.
    let words = classFrequency.indices.filter { classFrequency[$0] > 0 }
    w.append(array: words.map { Int32($0) })
    w.append(array: words.map { classFrequency[$0] })
  }

  /// Reads what ``write(to:)`` wrote, for the table `vectors` it was built with.
  public init(reading r: inout ByteReader, vectors: WordVectors) throws {
    let classCount = Int(try r.read(Int64.self))
    let dimensions = Int(try r.read(Int64.self))
    let centroids: [UInt16] = try r.readArray()
    let words: [Int32] = try r.readArray()
    let counts: [Int32] = try r.readArray()
    guard classCount >= 0, dimensions == vectors.dimensions, centroids.count == classCount * dimensions,
      words.count == counts.count, words.allSatisfy({ $0 >= 0 && Int($0) < vectors.count }),
      counts.allSatisfy({ $0 > 0 && Int($0) <= classCount })
    else { throw ModelDecodingError() }
    var frequency = [Int32](repeating: 0, count: vectors.count)
    for (word, count) in zip(words, counts) { frequency[Int(word)] = count }
    guard let model = SemanticModel(
      classCount: classCount, centroids: Column(centroids), classFrequency: Column(frequency), vectors: vectors)
    else { throw ModelDecodingError() }
    self = model
  }
}
