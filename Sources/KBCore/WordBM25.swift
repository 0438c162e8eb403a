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
  package let averageLength: Float
  let k1: Float = 1.2
  let b: Float = 0.75

  /// Each document is a list of (text, weight) fields.
  public init(documents: [[(text: String, weight: Double)]], terms kind: Terms = .words) {
    self.kind = kind
    documentCount = documents.count
    var terms: [UInt32: Int32] = [:]
    var perDoc: [[(Int32, Float)]] = []
    perDoc.reserveCapacity(documents.count)
    var lengths: [Float] = []
    var df: [Int32] = []
    for fields in documents {
      var tf: [Int32: Float] = [:]
      var length: Float = 0
      for (text, weight) in fields {
        Self.forEachTerm(of: text, kind) { hash in
          length += 1
          let h = ExampleModel.key(hash)
          let id: Int32
          if let known = terms[h] {
            id = known
          } else {
            id = Int32(df.count)
            terms[h] = id
            df.append(0)
          }
          tf[id, default: 0] += Float(weight)
        }
      }
      for id in tf.keys { df[Int(id)] += 1 }
      perDoc.append(tf.map { ($0.key, $0.value) })
      lengths.append(length)
    }
    // Term ids in key order, so that the sorted keys alone say which id each has.
    let sortedKeys = terms.keys.sorted()
    var newID = [Int32](repeating: 0, count: df.count)
    for (position, key) in sortedKeys.enumerated() { newID[Int(terms[key]!)] = Int32(position) }
    var sortedDF = [Int32](repeating: 0, count: df.count)
    for (old, count) in df.enumerated() { sortedDF[Int(newID[old])] = count }
    var start = [Int32](repeating: 0, count: df.count + 1)
    for (i, d) in sortedDF.enumerated() { start[i + 1] = start[i] + d }
    var fill = start
    var postingDoc = [Int32](repeating: 0, count: Int(start.last ?? 0))
    var postingTF = [Float](repeating: 0, count: postingDoc.count)
    for (doc, list) in perDoc.enumerated() {
      for (old, tf) in list {
        let id = Int(newID[Int(old)])
        let at = Int(fill[id])
        postingDoc[at] = Int32(doc)
        postingTF[at] = tf
        fill[id] += 1
      }
    }
    index = SortedKeys(sortedKeys)
    postingStart = Column(start)
    self.postingDoc = Column(postingDoc)
    self.postingTF = Column(postingTF)
    documentLength = Column(lengths)
    averageLength = lengths.isEmpty ? 1 : max(1, lengths.reduce(0, +) / Float(lengths.count))
  }

  /// Tables from their stored columns (see `SuggestModelFile`); nil when they do not fit
  /// together (values used as indexes are checked where a query uses them).
  public init?(
    kind: Terms, keys: Column<UInt32>, prefixStart: Column<Int32>, prefixShift: UInt32, postingStart: Column<Int32>,
    postingDoc: Column<Int32>, postingTF: Column<Float>, documentLength: Column<Float>, averageLength: Float
  ) {
    guard let index = SortedKeys(keys: keys, start: prefixStart, shift: prefixShift),
      postingStart.count == keys.count + 1, postingStart.first == 0,
      postingStart.last.map({ Int($0) == postingDoc.count }) ?? false, postingTF.count == postingDoc.count
    else { return nil }
    self.kind = kind
    documentCount = documentLength.count
    self.index = index
    self.postingStart = postingStart
    self.postingDoc = postingDoc
    self.postingTF = postingTF
    self.documentLength = documentLength
    self.averageLength = averageLength
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
      let df = Float(e - s)
      let idf = max(1e-6, log((n - df + 0.5) / (df + 0.5)))
      for k in s..<e {
        let doc = Int(postingDoc[k])
        guard doc >= 0, doc < documentCount else { continue }
        let tf = postingTF[k]
        let norm = k1 * (1 - b + b * documentLength[doc] / averageLength)
        out[doc] += Double(idf * tf * (k1 + 1) / (tf + norm))
      }
    }
    return out
  }

  /// The id of a key (its position among the sorted keys).
  @inline(__always)
  func termID(_ key: UInt32) -> Int32? { index.position(of: key) }

  /// Calls `body` with the hash of each term of `text`, in order (repeats included).
  @inline(__always)
  static func forEachTerm(of text: String, _ kind: Terms, _ body: (UInt64) -> Void) {
    switch kind {
    case .words:
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

  /// A light English suffix stemmer: plurals, -ing, -ed and a final e, so that "texts",
  /// "texting" and "texted" meet "text", and "changed" meets "change".
  public static func stem(_ word: [UInt8]) -> [UInt8] {
    var w = word
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
    return w
  }

  /// ``stem(_:)`` of a word given as text (lower case).
  public static func stem(_ word: String) -> String {
    String(decoding: stem(Array(word.lowercased().utf8)), as: UTF8.self)
  }
}
