import CWordVectors
import Foundation

/// Meaning-level similarity between a text and each class (problem), from static word vectors:
/// it finds "What happens to your Facebook account when you die?" for "Where does my account go
/// after my death?", where the two share no content word.
///
/// A text's vector is the sum of its words' vectors (``WordVectors``), each weighted by the
/// word's idf over the classes (a word every problem uses says little); a class's vector is
/// the normalized sum of its examples' normalized vectors (a centroid: every example of a
/// problem counts once, however long); the score is the cosine of the two. Words missing from
/// the table add nothing (the lexical signals still see them).
///
/// ```swift
/// let model = SemanticModel(examples: [(0, "delete my account"), (1, "battery drains")], classCount: 2)
/// let scores = model?.scores(for: "remove my profile")  // class 0 first
/// ```
public struct SemanticModel: Sendable {
  public let classCount: Int
  /// The number of classes the idf is over (the problems that exist: an overlay's class ids
  /// may include problems left with no answers, ``updated(changes:classCount:liveClassCount:)``).
  public let idfClasses: Int
  public let dimensions: Int
  /// Unit-length class vectors, `classCount` × `dimensions`, in half precision (IEEE binary16;
  /// all zero for a class none of whose words is in the table). A query reads all of them, so
  /// their size sets its cost: 2.4 MB at 10,000 answers (3,187 problems), where floats took
  /// 4.9 MB and twice the time. Cosines move by ~1e-4. (Signed bytes with a scale per class
  /// would take 1.2 MB but moved cosines by up to 0.004, enough to swap close problems.)
  package let centroids: Column<UInt16>
  /// For each table word: the number of classes whose examples use it.
  package let classFrequency: Column<Int32>
  /// The examples' words as table rows, examples grouped by class in their original order:
  /// class k's examples are `classStart[k]..<classStart[k + 1]`, example e's words
  /// `rows[exampleStart[e]..<exampleStart[e + 1]]`. What a centroid is recomputed from when the
  /// idf moves (``updated(changes:classCount:liveClassCount:)``); empty for a model that cannot
  /// be updated (an overlay, or one read without them).
  package let classStart: Column<Int32>
  package let exampleStart: Column<Int32>
  package let rows: Column<UInt16>
  let vectors: WordVectors

  /// Examples longer than this many words are cut (an answer's whole body counts, within reason).
  public static let maxWords = 1000

  /// Builds the model over `examples` (class index in `0..<classCount`, text); nil when there
  /// is no word-vector table.
  public init?(examples: [(classIndex: Int, text: String)], classCount: Int, vectors: WordVectors? = .builtIn) {
    self.init(list: ExampleList(examples), classCount: classCount, vectors: vectors)
  }

  /// The model of `list`'s examples (their texts made once each, as their rows are).
  public init?(list: ExampleList, classCount: Int, vectors: WordVectors? = .builtIn) {
    guard let vectors, vectors.count <= Int(UInt16.max) + 1 else { return nil }
    let examples = list.classes
    // Each example's words, as table rows (words not in the table dropped), in parallel.
    var exampleRows = Self.tableRows(count: list.count, text: list.text, vectors: vectors)
    // Examples grouped by class, in their order within it.
    let order = examples.indices.sorted { (examples[$0], $0) < (examples[$1], $1) }
    var classStart = [Int32](repeating: 0, count: classCount + 1)
    for e in examples.indices { classStart[examples[e] + 1] += 1 }
    for k in 0..<classCount { classStart[k + 1] += classStart[k] }
    // One table of rows, written in place, each example's own list let go once copied.
    var exampleStart: [Int32] = [0]
    exampleStart.reserveCapacity(order.count + 1)
    let total = exampleRows.reduce(0) { $0 + $1.count }
    let rows = Column<UInt16>(count: total) { out in
      var at = 0
      for e in order {
        for w in exampleRows[e] {
          out[at] = w
          at += 1
        }
        exampleRows[e] = []
        exampleStart.append(Int32(at))
      }
    }
    // Class frequency of each word: a word counted once per class.
    var frequency = [Int32](repeating: 0, count: vectors.count)
    var lastClass = [Int](repeating: -1, count: vectors.count)
    for k in 0..<classCount {
      for w in rows[Int(exampleStart[Int(classStart[k])])..<Int(exampleStart[Int(classStart[k + 1])])]
      where lastClass[Int(w)] != k {
        lastClass[Int(w)] = k
        frequency[Int(w)] += 1
      }
    }
    self.init(
      vectors: vectors, classCount: classCount, idfClasses: classCount, classFrequency: frequency,
      classStart: Column(classStart), exampleStart: Column(exampleStart), rows: rows, keepRows: true,
      recompute: { _ in true }, rowsOf: { k in (k, nil) }, keep: nil)
  }

  /// Each text's words as table rows (its first ``maxWords``; words not in the table dropped),
  /// in parallel; each worker remembers the rows of the words it has looked up.
  static func tableRows(_ texts: [String], vectors: WordVectors) -> [[UInt16]] {
    tableRows(count: texts.count, text: { texts[$0] }, vectors: vectors)
  }

  static func tableRows(count: Int, text: @Sendable (Int) -> String, vectors: WordVectors) -> [[UInt16]] {
    let out = ParallelSlots<[UInt16]>(count: count)
    let chunks = max(1, min(8, count / 256))
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      var known: [[UInt8]: Int32] = [:]
      var i = chunk
      while i < count {
        var ids: [UInt16] = []
        for word in ExampleModel.words(text(i)).prefix(Self.maxWords) {
          let id: Int32
          if let seen = known[word] {
            id = seen
          } else {
            id = vectors.id(of: word).map { Int32($0) } ?? -1
            known[word] = id
          }
          if id >= 0 { ids.append(UInt16(id)) }
        }
        out.set(i, ids)
        i += chunks
      }
    }
    return (0..<count).map { out.take($0) }
  }

  /// The centroids under the idf of `frequency` over `idfClasses` classes: a class's is the
  /// normalized sum of its examples' unit vectors, summed in example order (one function for
  /// a build and an update, so both give the same bits). Classes `recompute` says no to keep
  /// their row of `keep`; `rowsOf` gives a class's examples: (a class of the stored rows, or nil
  /// and its own rows).
  private init(
    vectors: WordVectors, classCount: Int, idfClasses: Int, classFrequency frequency: [Int32], classStart: Column<Int32>,
    exampleStart: Column<Int32>, rows: Column<UInt16>, keepRows: Bool, recompute: (Int) -> Bool,
    rowsOf: (Int) -> (stored: Int?, own: [[UInt16]]?), keep: Column<UInt16>?
  ) {
    self.vectors = vectors
    self.classCount = classCount
    self.idfClasses = idfClasses
    let dims = vectors.dimensions
    dimensions = dims
    let weight = frequency.map { Self.idf(classes: $0, of: idfClasses) }
    // Written in place (no copy into the column after).
    let out = OwnedBuffer<UInt16>(count: classCount * dims)
    let todo = (0..<classCount).filter(recompute)
    let sources = todo.map(rowsOf)
    let workers = max(1, min(4, todo.count / 64))
    do {
      nonisolated(unsafe) let halves = out.buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var v = [Float](repeating: 0, count: dims)
        var sum = [Float](repeating: 0, count: dims)
        var t = worker
        while t < todo.count {
          let k = todo[t]
          sum.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
          func addExample(_ words: UnsafeBufferPointer<UInt16>) {
            guard !words.isEmpty else { return }
            v.withUnsafeMutableBufferPointer { v in
              v.update(repeating: 0)
              for id in words { vectors.add(Int(id), weight: weight[Int(id)], to: v.baseAddress!) }
              var norm: Float = 0
              for x in v { norm += x * x }
              guard norm > 0 else { return }
              let inv = 1 / norm.squareRoot()
              sum.withUnsafeMutableBufferPointer { s in for j in 0..<dims { s[j] += v[j] * inv } }
            }
          }
          let source = sources[t]
          if let stored = source.stored {
            rows.withUnsafeBufferPointer { r in
              for e in Int(classStart[stored])..<Int(classStart[stored + 1]) {
                addExample(UnsafeBufferPointer(rebasing: r[Int(exampleStart[e])..<Int(exampleStart[e + 1])]))
              }
            }
          } else {
            for words in source.own ?? [] { words.withUnsafeBufferPointer { addExample($0) } }
          }
          Self.normalizeRows(&sum, dims: dims)
          sum.withUnsafeBufferPointer { s in kb_to_f16(s.baseAddress!, halves + k * dims, dims) }
          t += workers
        }
      }
    }
    if let keep {
      let kept = min(keep.count / max(1, dims), classCount)
      keep.withUnsafeBufferPointer { old in
        for k in 0..<kept where !recompute(k) {
          for j in 0..<dims { out.buffer[k * dims + j] = old[k * dims + j] }
        }
      }
    }
    centroids = Column(out, count: classCount * dims)
    self.classFrequency = Column(frequency)
    // An update's result keeps no rows: the next update starts from the saved model again.
    self.classStart = keepRows ? classStart : Column()
    self.exampleStart = keepRows ? exampleStart : Column()
    self.rows = keepRows ? rows : Column()
  }

  /// Whether the model holds its examples' rows (and so can be updated).
  public var canUpdate: Bool {
    classStart.count == classCount + 1
      && Self.rowsFit(classCount: classCount, classStart: classStart, exampleStart: exampleStart, rows: rows, vectors: vectors)
  }

  /// The model rebuilt from scratch over the same examples except those of the classes in
  /// `changes` (each class's examples now, in order; empty: none), with `classCount` classes
  /// (ids past this model's are new) of which `liveClassCount` exist (the idf's count), bit for
  /// bit, at the cost of what moved: a centroid is recomputed when its class changed, or one of
  /// its words' class counts moved, or the number of classes did (then all are). Nil when this
  /// model cannot be updated (``canUpdate``).
  public func updated(changes: [Int: [String]], classCount newCount: Int, liveClassCount: Int) -> SemanticModel? {
    guard canUpdate, newCount >= classCount else { return nil }
    let touched = changes.keys.sorted()
    let newRows = Self.tableRows(touched.flatMap { changes[$0]! }, vectors: vectors)
    var own: [Int: [[UInt16]]] = [:]
    var at = 0
    for k in touched {
      let n = changes[k]!.count
      own[k] = Array(newRows[at..<(at + n)])
      at += n
    }
    // Class counts moved by the touched classes' word sets before and now.
    var frequency = classFrequency.array
    func words(ofStored k: Int) -> Set<UInt16> {
      guard k < classCount else { return [] }
      return Set(rows[Int(exampleStart[Int(classStart[k])])..<Int(exampleStart[Int(classStart[k + 1])])])
    }
    for k in touched {
      for w in words(ofStored: k) { frequency[Int(w)] -= 1 }
      for w in Set(own[k]!.joined()) { frequency[Int(w)] += 1 }
    }
    var moved = [Bool](repeating: false, count: frequency.count)
    var anyMoved = false
    for w in frequency.indices where frequency[w] != classFrequency[w] {
      moved[w] = true
      anyMoved = true
    }
    let all = liveClassCount != idfClasses
    var recompute = [Bool](repeating: all, count: newCount)
    for k in touched { recompute[k] = true }
    if !all, anyMoved {
      rows.withUnsafeBufferPointer { r in
        for k in 0..<classCount where !recompute[k] {
          for i in Int(exampleStart[Int(classStart[k])])..<Int(exampleStart[Int(classStart[k + 1])]) where moved[Int(r[i])] {
            recompute[k] = true
            break
          }
        }
      }
    }
    return SemanticModel(
      vectors: vectors, classCount: newCount, idfClasses: liveClassCount, classFrequency: frequency,
      classStart: classStart, exampleStart: exampleStart, rows: rows, keepRows: false, recompute: { recompute[$0] },
      rowsOf: { k in own[k].map { (nil, $0) } ?? (k, nil) }, keep: centroids)
  }

  /// Floats in half precision, rounded to nearest even.
  static func halves(_ values: [Float]) -> [UInt16] {
    var out = [UInt16](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBufferPointer { o in
        if let from = v.baseAddress, let to = o.baseAddress { kb_to_f16(from, to, v.count) }
      }
    }
    return out
  }

  /// A model from its stored columns (see `SuggestModelFile`); nil when they do not fit the
  /// table `vectors` or each other.
  public init?(
    classCount: Int, idfClasses: Int? = nil, centroids: Column<UInt16>, classFrequency: Column<Int32>,
    classStart: Column<Int32> = Column(), exampleStart: Column<Int32> = Column(), rows: Column<UInt16> = Column(),
    vectors: WordVectors
  ) {
    // The rows are checked when an update reads them (``rowsFit``), not here: a suggestion
    // never reads them, and should not read their pages.
    guard classCount >= 0, idfClasses.map({ $0 >= 0 && $0 <= classCount }) ?? true,
      centroids.count == classCount * vectors.dimensions, classFrequency.count == vectors.count,
      classStart.isEmpty || classStart.count == classCount + 1
    else { return nil }
    self.vectors = vectors
    self.classCount = classCount
    self.idfClasses = idfClasses ?? classCount
    dimensions = vectors.dimensions
    self.centroids = centroids
    self.classFrequency = classFrequency
    self.classStart = classStart
    self.exampleStart = exampleStart
    self.rows = rows
  }

  /// Whether stored rows are a whole consistent set (every run rising and inside its column,
  /// every word in the table).
  static func rowsFit(classCount: Int, classStart: Column<Int32>, exampleStart: Column<Int32>, rows: Column<UInt16>, vectors: WordVectors) -> Bool {
    guard classStart.count == classCount + 1, classStart.first == 0, exampleStart.first == 0,
      Int(classStart.last!) == exampleStart.count - 1, Int(exampleStart.last!) == rows.count
    else { return false }
    var previous: Int32 = 0
    for s in classStart { guard s >= previous else { return false }; previous = s }
    previous = 0
    for s in exampleStart { guard s >= previous else { return false }; previous = s }
    return rows.allSatisfy { Int($0) < vectors.count }
  }

  @inline(__always)
  static func idf(classes: Int32, of count: Int) -> Float {
    log(Float(count + 1) / Float(classes + 1)) + 1
  }

  static func normalizeRows(_ m: inout [Float], dims: Int) {
    m.withUnsafeMutableBufferPointer { m in
      for row in stride(from: 0, to: m.count, by: dims) {
        var norm: Float = 0
        for j in row..<(row + dims) { norm += m[j] * m[j] }
        guard norm > 0 else { continue }
        let inv = 1 / norm.squareRoot()
        for j in row..<(row + dims) { m[j] *= inv }
      }
    }
  }

  /// The text's unit vector (nil when none of its words is in the table): idf-weighted sum of
  /// its words' vectors (a word no example uses has the highest idf).
  func vector(for text: String) -> [Float]? {
    var v = [Float](repeating: 0, count: dimensions)
    var any = false
    v.withUnsafeMutableBufferPointer { v in
      for word in ExampleModel.words(text).prefix(Self.maxWords) {
        guard let id = vectors.id(of: word) else { continue }
        vectors.add(id, weight: Self.idf(classes: classFrequency[id], of: idfClasses), to: v.baseAddress!)
        any = true
      }
    }
    guard any else { return nil }
    Self.normalizeRows(&v, dims: dimensions)
    return v
  }

  /// Cosine of the text with every class (0 for all when none of its words is in the table).
  public func scores(for text: String) -> [Float] {
    var out = [Float](repeating: 0, count: classCount)
    guard classCount > 0, let q = vector(for: text) else { return out }
    q.withUnsafeBufferPointer { q in
      centroids.withUnsafeBufferPointer { c in
        out.withUnsafeMutableBufferPointer { out in
          kb_dots_f16(c.baseAddress!, classCount, dimensions, q.baseAddress!, out.baseAddress!)
        }
      }
    }
    return out
  }
}
