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

  public mutating func readFloat() throws(Truncated) -> Float { Float(bitPattern: try read(UInt32.self)) }
  public mutating func readDouble() throws(Truncated) -> Double { Double(bitPattern: try read(UInt64.self)) }

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

extension ExampleModel {
  /// Writes the built model (features, idf, postings) for ``init(reading:)``.
  public func write(to w: inout ByteWriter) {
    w.append(Int64(config.top))
    w.append(config.wordWeight)
    w.append(config.charWeight)
    w.append(Int64(config.maxWords))
    w.append(Int64(classCount))
    // Feature hashes ordered by id, so the id is the position.
    var hashes = [UInt64](repeating: 0, count: idf.count)
    for (h, id) in features { hashes[Int(id)] = h }
    w.append(array: hashes)
    w.append(array: idf)
    w.append(array: postingStart)
    w.append(array: postingExample)
    w.append(array: postingWeight)
    w.append(array: exampleClass)
  }

  /// Reads a model written by ``write(to:)``, checking that every index is in range.
  public init(reading r: inout ByteReader) throws {
    var config = Config()
    config.top = Int(try r.read(Int64.self))
    config.wordWeight = try r.readFloat()
    config.charWeight = try r.readFloat()
    config.maxWords = Int(try r.read(Int64.self))
    let classCount = Int(try r.read(Int64.self))
    let hashes: [UInt64] = try r.readArray()
    let idf: [Float] = try r.readArray()
    let postingStart: [Int32] = try r.readArray()
    let postingExample: [Int32] = try r.readArray()
    let postingWeight: [Float] = try r.readArray()
    let exampleClass: [Int32] = try r.readArray()
    guard config.top >= 0, config.top < 1 << 20, classCount >= 0, classCount < 1 << 31,
      hashes.count == idf.count, postingStart.count == idf.count + 1,
      postingExample.count == postingWeight.count, postingStart.first == 0,
      Int(postingStart.last ?? -1) == postingExample.count
    else { throw ModelDecodingError() }
    var previous: Int32 = 0
    for s in postingStart {
      guard s >= previous else { throw ModelDecodingError() }
      previous = s
    }
    let examples = Int32(exampleClass.count)
    for e in postingExample where e < 0 || e >= examples { throw ModelDecodingError() }
    for c in exampleClass where c < 0 || Int(c) >= classCount { throw ModelDecodingError() }
    var features: [UInt64: Int32] = [:]
    features.reserveCapacity(hashes.count)
    for (id, h) in hashes.enumerated() { features[h] = Int32(id) }
    guard features.count == hashes.count else { throw ModelDecodingError() }
    self.config = config
    self.classCount = classCount
    self.features = features
    self.idf = idf
    self.postingStart = postingStart
    self.postingExample = postingExample
    self.postingWeight = postingWeight
    self.exampleClass = exampleClass
  }
}

extension WordBM25 {
  /// Writes the tables for ``init(reading:)``.
  public func write(to w: inout ByteWriter) {
    w.append(Int64(documentCount))
    var hashes = [UInt64](repeating: 0, count: max(0, postingStart.count - 1))
    for (h, id) in terms { hashes[Int(id)] = h }
    w.append(array: hashes)
    w.append(array: postingStart)
    w.append(array: postingDoc)
    w.append(array: postingTF)
    w.append(array: documentLength)
    w.append(averageLength)
  }

  /// Reads tables written by ``write(to:)``, checking that every index is in range.
  public init(reading r: inout ByteReader) throws {
    let documentCount = Int(try r.read(Int64.self))
    let hashes: [UInt64] = try r.readArray()
    let postingStart: [Int32] = try r.readArray()
    let postingDoc: [Int32] = try r.readArray()
    let postingTF: [Float] = try r.readArray()
    let documentLength: [Float] = try r.readArray()
    let averageLength = try r.readFloat()
    guard documentCount >= 0, documentLength.count == documentCount, postingStart.count == hashes.count + 1,
      postingDoc.count == postingTF.count, postingStart.first == 0, Int(postingStart.last ?? -1) == postingDoc.count
    else { throw ModelDecodingError() }
    var previous: Int32 = 0
    for s in postingStart {
      guard s >= previous else { throw ModelDecodingError() }
      previous = s
    }
    for d in postingDoc where d < 0 || Int(d) >= documentCount { throw ModelDecodingError() }
    var terms: [UInt64: Int32] = [:]
    terms.reserveCapacity(hashes.count)
    for (id, h) in hashes.enumerated() { terms[h] = Int32(id) }
    guard terms.count == hashes.count else { throw ModelDecodingError() }
    self.kind = .words
    self.documentCount = documentCount
    self.terms = terms
    self.postingStart = postingStart
    self.postingDoc = postingDoc
    self.postingTF = postingTF
    self.documentLength = documentLength
    self.averageLength = averageLength
  }
}
