import CWordVectors

/// Static word vectors: for each of the 40,000 most frequent English words, a 384-number
/// vector that places words of similar meaning close together ("death" near "die", "safe" near
/// "secure"), so that `kb suggest` can match a complaint to a fix that says the same thing in
/// other words.
///
/// The table is data, not a model: `scripts/word-vectors` built it once, at development time,
/// by running each word through the sentence-embedding model all-MiniLM-L6-v2 and fitting the
/// vectors so that sums of them match the model's embeddings of WordNet's sentences; it is
/// assembled into the binary (`Sources/CWordVectors`). Nothing is downloaded or run at run
/// time; a text's vector is a weighted sum of its words' vectors (``SemanticModel``).
///
/// Layout (little-endian, see the script): "KBWV", version 1, count, dimensions; count + 1
/// offsets into the words' bytes; the words, sorted by bytes; padding to 4; one Float32 scale
/// per word; then 4-bit values, two a byte (the even dimension in the low nibble).
public struct WordVectors: @unchecked Sendable {
  /// The table linked into this binary, or nil if it is missing or malformed (the ranker then
  /// runs on its lexical signals alone).
  public static let builtIn: WordVectors? = {
    var size = 0
    guard let start = kb_word_vectors(&size), size > 0 else { return nil }
    return WordVectors(bytes: UnsafeRawBufferPointer(start: start, count: size))
  }()

  public let count: Int
  public let dimensions: Int
  private let offsets: UnsafeRawPointer
  private let wordBytes: UnsafePointer<UInt8>
  private let scales: UnsafeRawPointer
  private let values: UnsafePointer<UInt8>

  /// Reads a table (its bytes must outlive it: the built-in one is static data). Nil when the
  /// bytes are not a well-formed table.
  public init?(bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= 16, let base = bytes.baseAddress,
      bytes.prefix(4).elementsEqual("KBWV".utf8),
      bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian == 1
    else { return nil }
    let count = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
    let dims = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
    guard count > 0, dims > 0, dims % 2 == 0, 16 + 4 * (count + 1) <= bytes.count else { return nil }
    let wordsAt = 16 + 4 * (count + 1)
    let wordLength = Int(bytes.loadUnaligned(fromByteOffset: 16 + 4 * count, as: UInt32.self).littleEndian)
    let scalesAt = (wordsAt + wordLength + 3) & ~3
    let valuesAt = scalesAt + 4 * count
    guard valuesAt + count * dims / 2 == bytes.count else { return nil }
    // Offsets must rise: a damaged table must not send a lookup outside the words' bytes.
    var previous: UInt32 = 0
    for i in 0...count {
      let o = bytes.loadUnaligned(fromByteOffset: 16 + 4 * i, as: UInt32.self).littleEndian
      guard o >= previous, Int(o) <= wordLength else { return nil }
      previous = o
    }
    self.count = count
    dimensions = dims
    offsets = base + 16
    wordBytes = (base + wordsAt).assumingMemoryBound(to: UInt8.self)
    scales = base + scalesAt
    values = (base + valuesAt).assumingMemoryBound(to: UInt8.self)
  }

  @inline(__always)
  private func offset(_ i: Int) -> Int {
    Int(UInt32(littleEndian: offsets.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
  }

  /// The word's row, by binary search over the sorted words (lower case, no apostrophes, as
  /// ``ExampleModel/words(_:)`` gives them).
  public func id(of word: [UInt8]) -> Int? {
    var low = 0
    var high = count
    while low < high {
      let mid = (low + high) / 2
      let start = offset(mid)
      let length = offset(mid + 1) - start
      let order = word.withUnsafeBufferPointer { w -> Int32 in
        let n = min(w.count, length)
        let c = n == 0 ? 0 : memcmp(w.baseAddress!, wordBytes + start, n)
        return c != 0 ? c : Int32(w.count) - Int32(length)
      }
      if order == 0 { return mid }
      if order < 0 { high = mid } else { low = mid + 1 }
    }
    return nil
  }

  /// A checksum of the words and scales (which change with any vector): the model cache is
  /// keyed by it, so a binary with another table does not reuse centroids built from this one.
  public var fingerprint: UInt64 {
    let end = UnsafeRawPointer(values)
    return modelChecksum(UnsafeRawBufferPointer(start: offsets, count: end - offsets))
  }

  /// The word at a row (for tests and diagnostics).
  public func word(_ id: Int) -> String {
    let start = offset(id)
    return String(decoding: UnsafeBufferPointer(start: wordBytes + start, count: offset(id + 1) - start), as: UTF8.self)
  }

  /// Adds `weight` × the word's vector to `sum` (`dimensions` floats).
  @inline(__always)
  public func add(_ id: Int, weight: Float, to sum: UnsafeMutablePointer<Float>) {
    let scale = weight * Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: 4 * id, as: UInt32.self)))
    kb_add_nibbles(values + id * (dimensions / 2), dimensions, scale, sum)
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
