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
  public let dimensions: Int
  /// Unit-length class vectors, `classCount` × `dimensions`, in half precision (IEEE binary16;
  /// all zero for a class none of whose words is in the table). A query reads all of them, so
  /// their size sets its cost: 2.4 MB at 10,000 answers (3,187 problems), where floats took
  /// 4.9 MB and twice the time. Cosines move by ~1e-4. (Signed bytes with a scale per class
  /// would take 1.2 MB but moved cosines by up to 0.004, enough to swap close problems.)
  package let centroids: Column<UInt16>
  /// For each table word: the number of classes whose examples use it.
  package let classFrequency: Column<Int32>
  let vectors: WordVectors

  /// Examples longer than this many words are cut (an answer's whole body counts, within reason).
  public static let maxWords = 1000

  /// Builds the model over `examples` (class index in `0..<classCount`, text); nil when there
  /// is no word-vector table.
  public init?(examples: [(classIndex: Int, text: String)], classCount: Int, vectors: WordVectors? = .builtIn) {
    guard let vectors else { return nil }
    self.vectors = vectors
    self.classCount = classCount
    let dims = vectors.dimensions
    dimensions = dims
    // Each example's words, as table rows (words not in the table dropped), in parallel; each
    // worker remembers the rows of the words it has looked up.
    let rows = ParallelSlots<[Int32]>(count: examples.count)
    let chunks = max(1, min(8, examples.count / 256))
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      var known: [[UInt8]: Int32] = [:]
      var i = chunk
      while i < examples.count {
        var ids: [Int32] = []
        for word in ExampleModel.words(examples[i].text).prefix(Self.maxWords) {
          let id: Int32
          if let seen = known[word] {
            id = seen
          } else {
            id = vectors.id(of: word).map { Int32($0) } ?? -1
            known[word] = id
          }
          if id >= 0 { ids.append(id) }
        }
        rows.set(i, ids)
        i += chunks
      }
    }
    let exampleRows = (0..<examples.count).map { rows.take($0) }
    // Class frequency of each word: examples grouped by class, a word counted once per class.
    let order = examples.indices.sorted { (examples[$0].classIndex, $0) < (examples[$1].classIndex, $1) }
    var frequency = [Int32](repeating: 0, count: vectors.count)
    var lastClass = [Int](repeating: -1, count: vectors.count)
    for e in order {
      let cls = examples[e].classIndex
      for id in exampleRows[e] where lastClass[Int(id)] != cls {
        lastClass[Int(id)] = cls
        frequency[Int(id)] += 1
      }
    }
    classFrequency = Column(frequency)
    let weight = frequency.map { Self.idf(classes: $0, of: classCount) }
    // Centroids: the sum of each class's unit example vectors, then unit length. Each worker
    // takes a run of whole classes (examples in class order), so it writes its own rows.
    var centroids = [Float](repeating: 0, count: classCount * dims)
    let workers = min(chunks, 4)
    var bounds = (0...workers).map { order.count * $0 / workers }
    for w in 1..<workers {
      // Move each cut forward to the start of a class.
      bounds[w] = max(bounds[w], bounds[w - 1])
      while bounds[w] > 0, bounds[w] < order.count,
        examples[order[bounds[w]]].classIndex == examples[order[bounds[w] - 1]].classIndex
      {
        bounds[w] += 1
      }
    }
    let exampleClass = examples.map(\.classIndex)
    let cuts = bounds
    centroids.withUnsafeMutableBufferPointer { all in
      nonisolated(unsafe) let sums = all.baseAddress
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        guard let sums else { return }
        var v = [Float](repeating: 0, count: dims)
        v.withUnsafeMutableBufferPointer { v in
          for k in cuts[worker]..<cuts[worker + 1] {
            let e = order[k]
            guard !exampleRows[e].isEmpty else { continue }
            v.update(repeating: 0)
            for id in exampleRows[e] { vectors.add(Int(id), weight: weight[Int(id)], to: v.baseAddress!) }
            var norm: Float = 0
            for x in v { norm += x * x }
            guard norm > 0 else { continue }
            let inv = 1 / norm.squareRoot()
            let row = sums + exampleClass[e] * dims
            for j in 0..<dims { row[j] += v[j] * inv }
          }
        }
      }
    }
    Self.normalizeRows(&centroids, dims: dims)
    self.centroids = Column(Self.halves(centroids))
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
  public init?(classCount: Int, centroids: Column<UInt16>, classFrequency: Column<Int32>, vectors: WordVectors) {
    guard classCount >= 0, centroids.count == classCount * vectors.dimensions, classFrequency.count == vectors.count
    else { return nil }
    self.init(
      classCount: classCount, dimensions: vectors.dimensions, centroids: centroids, classFrequency: classFrequency,
      vectors: vectors)
  }

  /// A model read back from the cache file.
  init(
    classCount: Int, dimensions: Int, centroids: Column<UInt16>, classFrequency: Column<Int32>, vectors: WordVectors
  ) {
    self.classCount = classCount
    self.dimensions = dimensions
    self.centroids = centroids
    self.classFrequency = classFrequency
    self.vectors = vectors
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
        vectors.add(id, weight: Self.idf(classes: classFrequency[id], of: classCount), to: v.baseAddress!)
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
