import Foundation

/// In-memory bm25 over documents with weighted fields, computed the way SQLite FTS5's `bm25()`
/// does (weighted term frequency over all fields, one length per document, k1 1.2, b 0.75),
/// with a light suffix stemmer. `kb suggest` keeps it beside the example model so that a
/// suggestion costs no SQL: at 10,000 documents an FTS5 OR query over a whole mention takes
/// several milliseconds, this a fraction of one.
///
/// ```swift
/// let bm25 = WordBM25(documents: [[("Texts repeat", 3), ("same sms again", 2)]])
/// bm25.scores(for: "my texts keep repeating")  // [0.9…]
/// ```
public struct WordBM25: Sendable {
  /// What a term is: a stemmed word, or a character 3-gram of a word padded with spaces
  /// (" text " → " te", "tex", "ext", "xt "), which matches misspellings and word forms.
  public enum Terms: UInt8, Sendable { case words = 0, charTrigrams = 1 }

  public let kind: Terms
  public let documentCount: Int
  /// The terms' 32-bit keys (folded hashes), sorted: a term's id is its position.
  package let index: SortedKeys
  var keys: Column<UInt32> { index.keys }
  package let postingStart: Column<Int32>
  package let postingDoc: Column<Int32>
  package let postingTF: Column<Float>
  package let documentLength: Column<Float>
  /// The sum of the document lengths (terms), exact: what the model file stores, and what a
  /// delta (``Overlay``) changes by the lengths of the documents it removes and adds.
  package let totalLength: Int64
  package let averageLength: Float
  static let k1: Float = 1.2
  static let b: Float = 0.75

  /// Each document is a list of (text, weight) fields. `scratch`: a folder where the postings
  /// may be built in a temporary file's pages (``OwnedBuffer/init(count:spillingTo:)``).
  public init(documents: [[(text: String, weight: Double)]], terms kind: Terms = .words, scratch: String? = nil) {
    self.kind = kind
    documentCount = documents.count
    // Two passes over the documents' term frequencies (ids, document frequencies and lengths;
    // then the postings), rather than every document's list held between them (at 100k
    // documents, 7.5 million pairs: 62 MB at the peak of a model's build).
    var terms: [UInt32: Int32] = [:]
    var lengths: [Float] = []
    var total: Int64 = 0
    var df: [Int32] = []
    Self.forEachTermFrequencies(documents, kind) { _, tf, length in
      for h in tf.keys {
        let id: Int32
        if let known = terms[h] {
          id = known
        } else {
          id = Int32(df.count)
          terms[h] = id
          df.append(0)
        }
        df[Int(id)] += 1
      }
      lengths.append(Float(length))
      total += Int64(length)
    }
    // Term ids in key order, so that the sorted keys alone say which id each has.
    let sortedKeys = terms.keys.sorted()
    var start = [Int32](repeating: 0, count: sortedKeys.count + 1)
    for (position, key) in sortedKeys.enumerated() {
      start[position + 1] = start[position] + df[Int(terms[key]!)]
      terms[key] = Int32(position)
    }
    df = []
    // The postings, placed straight into the columns in document order.
    var fill = start
    let postings = Int(start.last ?? 0)
    let postingDoc = OwnedBuffer<Int32>(count: postings, spillingTo: scratch)
    let postingTF = OwnedBuffer<Float>(count: postings, spillingTo: scratch)
    Self.forEachTermFrequencies(documents, kind) { doc, frequencies, _ in
      for (h, tf) in frequencies {
        let id = Int(terms[h]!)  // Every term was given an id by the first pass.
        let at = Int(fill[id])
        postingDoc.buffer[at] = Int32(doc)
        postingTF.buffer[at] = tf
        fill[id] += 1
      }
    }
    index = SortedKeys(sortedKeys)
    postingStart = Column(start)
    self.postingDoc = Column(postingDoc, count: postings)
    self.postingTF = Column(postingTF, count: postings)
    documentLength = Column(lengths)
    totalLength = total
    averageLength = Self.averageLength(total: total, count: documents.count)
  }

  /// Calls `body` with each document's index, term frequencies and length, in order, computed
  /// on every core 2,048 documents at a time.
  static func forEachTermFrequencies(
    _ documents: [[(text: String, weight: Double)]], _ kind: Terms, body: (Int, [UInt32: Float], Int) -> Void
  ) {
    forEachInBatches(Array(documents.indices), batchSize: 2048, make: { Self.termFrequencies(of: documents[$0], kind) }) {
      body($0, $1.tf, $1.length)
    }
  }

  /// A document's weighted term frequencies (by term key) and its length in terms. Depends on
  /// the document alone: a document added to a built model gets the bits a rebuild gives it.
  static func termFrequencies(of fields: [(text: String, weight: Double)], _ kind: Terms) -> (tf: [UInt32: Float], length: Int) {
    var tf: [UInt32: Float] = [:]
    var length = 0
    for (text, weight) in fields {
      Self.forEachTerm(of: text, kind) { hash in
        length += 1
        tf[ExampleModel.key(hash), default: 0] += Float(weight)
      }
    }
    return (tf, length)
  }

  /// The average document length from the exact (integer) total: the same bits whatever the
  /// documents' order, and whether the total was summed at build or kept by deltas. (Up to
  /// 2^24 terms in all it is the float sum it replaces, bit for bit.)
  static func averageLength(total: Int64, count: Int) -> Float {
    count == 0 ? 1 : max(1, Float(total) / Float(count))
  }

  /// Tables from their stored columns (see `SuggestModelFile`); nil when they do not fit
  /// together (values used as indexes are checked where a query uses them).
  public init?(
    kind: Terms, keys: Column<UInt32>, prefixStart: Column<Int32>, prefixShift: UInt32, postingStart: Column<Int32>,
    postingDoc: Column<Int32>, postingTF: Column<Float>, documentLength: Column<Float>, totalLength: Int64
  ) {
    guard totalLength >= 0, let index = SortedKeys(keys: keys, start: prefixStart, shift: prefixShift),
      postingStart.count == keys.count + 1, postingStart.first == 0,
      postingStart.last.map({ Int($0) == postingDoc.count }) ?? false, postingTF.count == postingDoc.count
    else { return nil }
    self.init(
      kind: kind, index: index, postingStart: postingStart, postingDoc: postingDoc, postingTF: postingTF,
      documentLength: documentLength, totalLength: totalLength)
  }

  /// Tables made elsewhere in this module (``Overlay/merged()``).
  init(
    kind: Terms, index: SortedKeys, postingStart: Column<Int32>, postingDoc: Column<Int32>, postingTF: Column<Float>,
    documentLength: Column<Float>, totalLength: Int64
  ) {
    self.kind = kind
    documentCount = documentLength.count
    self.index = index
    self.postingStart = postingStart
    self.postingDoc = postingDoc
    self.postingTF = postingTF
    self.documentLength = documentLength
    self.totalLength = totalLength
    averageLength = Self.averageLength(total: totalLength, count: documentLength.count)
  }

  /// bm25 of every document for the query's distinct words (0 when none matches).
  public func scores(for query: String) -> [Double] {
    var out = [Double](repeating: 0, count: documentCount)
    var seen: Set<UInt32> = []
    let n = Float(documentCount)
    var ids: [Int32] = []
    Self.forEachTerm(of: query, kind) { hash in
      let h = ExampleModel.key(hash)
      if seen.insert(h).inserted, let id = termID(h) { ids.append(id) }
    }
    for id in ids {
      let s = Int(postingStart[Int(id)])
      let e = Int(postingStart[Int(id) + 1])
      guard s >= 0, s <= e, e <= postingDoc.count else { continue }  // (a damaged file)
      let idf = Self.idf(documents: n, having: Float(e - s))
      for k in s..<e {
        let doc = Int(postingDoc[k])
        guard doc >= 0, doc < documentCount else { continue }
        out[doc] += Self.score(idf: idf, tf: postingTF[k], length: documentLength[doc], averageLength: averageLength)
      }
    }
    return out
  }

  /// A term's idf among `n` documents of which `df` have it (never below 1e-6).
  @inline(__always)
  static func idf(documents n: Float, having df: Float) -> Float {
    max(1e-6, log((n - df + 0.5) / (df + 0.5)))
  }

  /// A term's part of a document's score. Both ``scores(for:)`` and ``Overlay/scores(for:)``
  /// use it, so that equal statistics give equal bits.
  @inline(__always)
  static func score(idf: Float, tf: Float, length: Float, averageLength: Float) -> Double {
    let norm = k1 * (1 - b + b * length / averageLength)
    return Double(idf * tf * (k1 + 1) / (tf + norm))
  }

  /// The id of a key (its position among the sorted keys).
  @inline(__always)
  func termID(_ key: UInt32) -> Int32? { index.position(of: key) }

  /// Calls `body` with the hash of each term of `text`, in order (repeats included).
  @inline(__always)
  static func forEachTerm(of text: String, _ kind: Terms, _ body: (UInt64) -> Void) {
    switch kind {
    case .words:
      // ASCII text: its words are walked in one reused buffer, stemmed in place (no array a
      // word); the same terms as the general path, which takes any other text.
      guard !forEachASCIIWordTerm(of: text, body) else { return }
      for word in ExampleModel.words(text) { body(ExampleModel.fnv(Self.stem(word), seed: 0x5EED)) }
    case .charTrigrams:
      var padded: [UInt8] = []
      for word in ExampleModel.words(text) {
        padded.removeAll(keepingCapacity: true)
        padded.append(32)
        padded.append(contentsOf: word)
        padded.append(32)
        guard padded.count >= 3 else { continue }
        for start in 0...(padded.count - 3) { body(ExampleModel.fnv(padded[start..<(start + 3)], seed: 0x3C3)) }
      }
    }
  }

  /// The `.words` terms of `text` if it is ASCII (false, and nothing called, if not).
  @inline(never)
  static func forEachASCIIWordTerm(of text: String, _ body: (UInt64) -> Void) -> Bool {
    var text = text
    return text.withUTF8 { bytes -> Bool in
      guard !bytes.contains(where: { $0 >= 0x80 }) else { return false }
      forEachASCIIWord(in: bytes) { word in
        stem(&word)
        body(ExampleModel.fnv(word, seed: 0x5EED))
      }
      return true
    }
  }

  /// ``ExampleModel/words(_:)`` of ASCII text, each word given in one reused buffer (which
  /// `body` may change): lower-cased letters and digits, apostrophes dropped inside words.
  @inline(__always)
  static func forEachASCIIWord(in bytes: UnsafeBufferPointer<UInt8>, _ body: (inout [UInt8]) -> Void) {
    var word: [UInt8] = []
    word.reserveCapacity(32)
    for b in bytes {
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        word.append(b)
      case UInt8(ascii: "A")...UInt8(ascii: "Z"):
        word.append(b + 32)
      case UInt8(ascii: "'"):
        continue
      default:
        if !word.isEmpty {
          body(&word)
          word.removeAll(keepingCapacity: true)
        }
      }
    }
    if !word.isEmpty { body(&word) }
  }

  /// A light English suffix stemmer: plurals, -ing, -ed and a final e, so that "texts",
  /// "texting" and "texted" meet "text", and "changed" meets "change".
  public static func stem(_ word: [UInt8]) -> [UInt8] {
    var w = word
    stem(&w)
    return w
  }

  /// ``stem(_:)`` in place.
  static func stem(_ w: inout [UInt8]) {
    @inline(__always) func ends(_ suffix: StaticString) -> Bool {
      let n = suffix.utf8CodeUnitCount
      guard w.count >= n else { return false }
      let p = suffix.utf8Start
      for i in 0..<n where w[w.count - n + i] != p[i] { return false }
      return true
    }
    if w.count > 4, ends("ies") {
      w.removeLast(3)
      w.append(UInt8(ascii: "y"))
    } else if w.count > 4, ends("sses") {
      w.removeLast(2)
    } else if w.count > 3, ends("s"), !ends("ss"), !ends("us"), !ends("is") {
      w.removeLast()
    }
    if w.count > 5, ends("ing") {
      w.removeLast(3)
    } else if w.count > 4, ends("ed") {
      w.removeLast(2)
    }
    if w.count > 4, ends("e") { w.removeLast() }
    // A doubled final consonant left by -ing/-ed ("stopped" → "stopp" → "stop").
    if w.count > 3, w[w.count - 1] == w[w.count - 2] {
      let c = w[w.count - 1]
      if c != UInt8(ascii: "l"), c != UInt8(ascii: "s"), !"aeiou".utf8.contains(c) { w.removeLast() }
    }
  }

  /// ``stem(_:)`` of a word given as text (lower case).
  public static func stem(_ word: String) -> String {
    String(decoding: stem(Array(word.lowercased().utf8)), as: UTF8.self)
  }
}
