import Foundation

/// A nearest-neighbour text model over example messages: each example is a tf-idf vector of
/// word 1–2-grams and character 3–5-grams, and a query scores each class by the cosine
/// similarity of its closest examples.
///
/// It needs no training and no downloaded model: the examples are the knowledge base's own
/// words (an answer's title and symptoms, its body, and the complaints of resolved cases that
/// link to it). Misspellings and word forms still match through the shared character n-grams.
///
/// ```swift
/// let model = ExampleModel(examples: [(0, "texts repeat"), (1, "battery drains")], classCount: 2)
/// let scores = model.classScores(for: "same text over and over")
/// ```
public struct ExampleModel: Sendable {
  /// How a class's score comes from its examples' cosines.
  public struct Config: Sendable, Equatable {
    /// The class score is the mean of its best `top` example cosines (fewer when it has fewer).
    public var top: Int = 2
    /// Longest examples are cut to this many words (long answer bodies add noise and cost).
    public var maxWords: Int = 80
    /// Whether a feature's idf counts the classes that have it (true) or the examples (false).
    /// A class's examples are not independent documents (alternative answers to one problem
    /// repeat its words; banking77's ten symptoms per intent share theirs), so counting them
    /// one by one makes a word that names one problem look common. Per class: stackfaq MRR@10
    /// 0.897 → 0.904, banking77 0.810 → 0.814 under cross-validation (docs/RANKING.md).
    public var idfOverClasses: Bool = true
    public init() {}
  }

  public let config: Config
  public let classCount: Int
  /// The features' 32-bit keys (folded n-gram hashes) in id (first-seen) order, and the table
  /// from key to id.
  package let index: KeyTable
  var keys: Column<UInt32> { index.keys }
  /// Everything stored is a count or a sum that one example's arrival or departure changes by
  /// its own share: for each feature, how many classes (or examples) have it; each posting's
  /// count in its example (its term weight, sublinear tf, follows: no idf, no norm); each example's class and
  /// three fixed-point sums that give its norm for any idf. The idf, the norms and so the
  /// weights are derived from them (`idf(_:)`, `inverseNorm`), never stored.
  package let frequency: Column<Int32>
  package let postingStart: Column<Int32>
  package let postingExample: Column<Int32>
  /// Each posting's count of the feature in its example (``storedCount(_:)``); its term
  /// weight is ``termWeights``[count].
  package let postingCount: Column<UInt8>
  package let exampleClass: Column<Int32>
  /// Per example, three sums in 2⁻³² units (exact integer addition, so the same in any order
  /// and under any sequence of deltas): Σ tf², Σ tf²·L and Σ tf²·L² over its features, where
  /// L = ln(frequency + 1). With idf = A − L, A = 1 + ln(N + 1) (``idf(frequency:over:)``), the
  /// example's squared tf-idf norm is A²·S₀ − 2A·S₁ + S₂: a new class (N + 1) changes only A,
  /// and a feature's frequency changes only the sums of the examples on its postings.
  package let normSums: Column<UInt64>
  /// 1 / the L2 norm of each example's tf-idf vector, derived from `normSums` and the counts.
  package let inverseNorm: Column<Float>
  /// The count the idf is over: classes, or examples (``Config/idfOverClasses``).
  var idfCount: Int { config.idfOverClasses ? classCount : exampleClass.count }
  /// A = 1 + ln(N + 1).
  let idfBase: Double

  public var exampleCount: Int { exampleClass.count }

  /// Builds the model. `examples` pairs a class index (`0..<classCount`) with a text.
  ///
  /// Two passes over the examples' features, each pass computing them on every core a batch
  /// at a time and letting them go once counted or placed: the first, in class order, gives
  /// each feature its id, its document frequency and its number of postings; the second, in
  /// example order, places the postings and sums the norms. Counting the features twice costs
  /// a few seconds at 100,000 documents; keeping every example's features between the two
  /// (220,000 examples of ~300 features) held ~600 MB.
  ///
  /// `scratch`: a folder where the postings may be built in a temporary file's pages rather
  /// than in private memory (``OwnedBuffer/init(count:spillingTo:)``); nil: on the heap.
  public init(
    examples: [(classIndex: Int, text: String)], classCount: Int, config: Config = Config(), scratch: String? = nil
  ) {
    self.init(list: ExampleList(examples), classCount: classCount, config: config, scratch: scratch)
  }

  /// The model of `list`'s examples (their texts made as each pass asks for them).
  public init(list: ExampleList, classCount: Int, config: Config = Config(), scratch: String? = nil) {
    self.config = config
    self.classCount = classCount
    let examples = list.classes
    let text = list.text
    // Document frequency: examples, or distinct classes (examples grouped by class, so that a
    // feature's last counted class says whether this one was counted already).
    var order = Array(examples.indices)
    if config.idfOverClasses { order.sort { (examples[$0], $0) < (examples[$1], $1) } }
    var features: [UInt32: Int32] = [:]
    var df: [Int32] = []
    var postingsOfFeature: [Int32] = []
    var lastClass: [Int32] = []
    var hasFeatures = [Bool](repeating: false, count: examples.count)
    Self.forEachFeatureVector(order, text: text, config: config, transform: { $0 }) { e, vector in
      guard !vector.isEmpty else { return }
      hasFeatures[e] = true
      let cls = Int32(examples[e])
      for (key, _) in vector {
        let id: Int
        if let known = features[key] {
          id = Int(known)
        } else {
          id = df.count
          features[key] = Int32(id)
          df.append(0)
          postingsOfFeature.append(0)
          lastClass.append(-1)
        }
        postingsOfFeature[id] += 1
        guard !config.idfOverClasses || lastClass[id] != cls else { continue }
        lastClass[id] = cls
        df[id] += 1
      }
    }
    lastClass = []
    // The examples that have features, in their order, and their classes.
    var exampleClass: [Int32] = []
    var kept: [Int] = []
    for e in examples.indices where hasFeatures[e] {
      kept.append(e)
      exampleClass.append(Int32(examples[e]))
    }
    var postingStart = [Int32](repeating: 0, count: df.count + 1)
    for id in postingsOfFeature.indices { postingStart[id + 1] = postingStart[id] + postingsOfFeature[id] }
    postingsOfFeature = []
    var keysByID = [UInt32](repeating: 0, count: df.count)
    for (key, id) in features { keysByID[Int(id)] = key }
    let logFrequency = df.map { Self.logFrequency($0) }
    let total = Int(postingStart.last ?? 0)
    // Each example's norm sums and its postings (an inverted index, CSR, filled in place).
    var sums = [UInt64](repeating: 0, count: 3 * kept.count)
    let postingExample = OwnedBuffer<Int32>(count: total, spillingTo: scratch)
    let postingCount = OwnedBuffer<UInt8>(count: total, spillingTo: scratch)
    var fill = postingStart
    let ids = features
    features = [:]
    var i = 0
    Self.forEachFeatureVector(kept, text: text, config: config, transform: { vector in
      vector.map { (UInt32(ids[$0.0]!), $0.1) }  // Every feature was given an id by the first pass.
    }) { _, vector in
      var s = NormSums()
      for (id, count) in vector {
        s.add(tf: Self.termWeights[Int(count)], log: logFrequency[Int(id)])
        let at = Int(fill[Int(id)])
        postingExample.buffer[at] = Int32(i)
        postingCount.buffer[at] = count
        fill[Int(id)] += 1
      }
      sums[3 * i] = s.s0
      sums[3 * i + 1] = s.s1
      sums[3 * i + 2] = s.s2
      i += 1
    }
    index = KeyTable(keysByID)!  // Distinct: they are a dictionary's keys.
    frequency = Column(df)
    self.postingStart = Column(postingStart)
    self.postingExample = Column(postingExample, count: total)
    self.postingCount = Column(postingCount, count: total)
    self.exampleClass = Column(exampleClass)
    normSums = Column(sums)
    idfBase = Self.idfBase(count: config.idfOverClasses ? classCount : exampleClass.count)
    inverseNorm = Self.inverseNorms(normSums, base: idfBase)
  }

  /// Calls `body` with each example of `order` and its features (key, stored count) passed
  /// through `transform`, in `order`, computed on every core 8,192 examples at a time.
  static func forEachFeatureVector<T>(
    _ order: [Int], text: @escaping @Sendable (Int) -> String, config: Config,
    transform: @escaping @Sendable ([(UInt32, UInt8)]) -> T, body: (Int, T) -> Void
  ) {
    forEachInBatches(order, batchSize: 8192, make: { e in
      transform(Self.featureCounts(text(e), config: config).map { ($0.key, Self.storedCount($0.value)) })
    }, body: body)
  }

  /// A model from its stored columns (see `SuggestModelFile`); nil when they do not fit
  /// together. Every value a query's loops use as an index is checked here or where used.
  public init?(
    config: Config, classCount: Int, keys: Column<UInt32>, slots: Column<UInt64>, frequency: Column<Int32>,
    postingStart: Column<Int32>, postingExample: Column<Int32>, postingCount: Column<UInt8>,
    exampleClass: Column<Int32>, normSums: Column<UInt64>
  ) {
    guard let index = KeyTable(keys: keys, slots: slots), frequency.count == keys.count,
      postingStart.count == keys.count + 1, postingStart.first == 0,
      postingStart.last.map({ Int($0) == postingExample.count }) ?? false,
      postingCount.count == postingExample.count, normSums.count == 3 * exampleClass.count, classCount >= 0,
      exampleClass.allSatisfy({ $0 >= 0 && Int($0) < classCount })
    else { return nil }
    self.config = config
    self.classCount = classCount
    self.index = index
    self.frequency = frequency
    self.postingStart = postingStart
    self.postingExample = postingExample
    self.postingCount = postingCount
    self.exampleClass = exampleClass
    self.normSums = normSums
    idfBase = Self.idfBase(count: config.idfOverClasses ? classCount : exampleClass.count)
    inverseNorm = Self.inverseNorms(normSums, base: idfBase)
  }

  /// A = 1 + ln(N + 1) for an idf over N classes or examples.
  static func idfBase(count: Int) -> Double { 1 + log(Double(count) + 1) }

  /// L = ln(frequency + 1).
  @inline(__always)
  static func logFrequency(_ frequency: Int32) -> Double { log(Double(frequency) + 1) }

  /// A feature's idf, log((N + 1) / (frequency + 1)) + 1, computed as A − L so that the norm
  /// sums (``normSums``) need no idf: the same expression at build and query time.
  @inline(__always)
  package func idf(_ id: Int32) -> Float { Float(idfBase - Self.logFrequency(frequency[Int(id)])) }

  /// 1 / √(A²·S₀ − 2A·S₁ + S₂) per example (0 for an empty one).
  static func inverseNorms(_ sums: Column<UInt64>, base a: Double) -> Column<Float> {
    let n = sums.count / 3
    return Column(count: n) { out in
      sums.withUnsafeBufferPointer { s in
        for e in 0..<n { out[e] = inverseNorm(s0: s[3 * e], s1: s[3 * e + 1], s2: s[3 * e + 2], base: a) }
      }
    }
  }

  /// The id of a key (its position among the sorted keys).
  @inline(__always)
  func featureID(_ key: UInt32) -> Int32? { index.id(of: key) }

  /// Cosine similarity of the query with every example, then per class the mean of its best
  /// `config.top` cosines. Also returns each class's single best cosine (an absolute measure
  /// of fit, for confidence).
  public func classScores(for text: String) -> (scores: [Float], best: [Float]) {
    let r = classScoresWithMean(for: text)
    return (r.scores, r.best)
  }

  /// 2²⁴: the fixed-point unit of a class's sum of cosines.
  static let meanScale: Float = 16_777_216

  /// ``classScores(for:)`` plus each class's mean cosine over all its examples.
  public func classScoresWithMean(for text: String) -> (scores: [Float], best: [Float], mean: [Float]) {
    let query = queryVector(text)
    guard !query.isEmpty else {
      let zero = [Float](repeating: 0, count: classCount)
      return (zero, zero, zero)
    }
    var cosine = [Float](repeating: 0, count: exampleClass.count)
    Self.accumulate(query, postingStart: postingStart, postingExample: postingExample, postingCount: postingCount, into: &cosine)
    var tally = ClassTally(classCount: classCount, top: config.top)
    cosine.withUnsafeBufferPointer { cos in
      inverseNorm.withUnsafeBufferPointer { inverseNorm in
        exampleClass.withUnsafeBufferPointer { classes in
          tally.add(cosines: cos, inverseNorms: inverseNorm, classes: classes, skip: nil)
        }
      }
    }
    return tally.result()
  }

  /// Adds each query feature's weight times each posting's term weight to its example's
  /// cosine (the example's norm is applied later, once per example; the query's factors carry
  /// the idf twice: query and example). `query` holds feature ids of these postings.
  static func accumulate(
    _ query: [(Int32, Float)], postingStart: Column<Int32>, postingExample: Column<Int32>, postingCount: Column<UInt8>,
    into cosine: inout [Float]
  ) {
    let examples = UInt32(cosine.count)
    postingExample.withUnsafeBufferPointer { ex in
      postingCount.withUnsafeBufferPointer { counts in
        Self.termWeights.withUnsafeBufferPointer { weight in
          cosine.withUnsafeMutableBufferPointer { cos in
            for (id, qw) in query {
              guard id >= 0, Int(id) + 1 < postingStart.count else { continue }
              let start = Int(postingStart[Int(id)])
              let end = Int(postingStart[Int(id) + 1])
              // A model read from a file is checked as it is used: a run out of order or an
              // example out of range (a damaged file) is skipped, never read or written past.
              guard start >= 0, start <= end, end <= ex.count else { continue }
              for k in start..<end {
                let e = UInt32(bitPattern: ex[k])
                if e < examples { cos[Int(e)] += qw * weight[Int(counts[k])] }
              }
            }
          }
        }
      }
    }
  }

  /// Per class: its best `top` cosines, how many examples it has, and the sum of its cosines in
  /// fixed point (2⁻²⁴ units: the scaling is exact in Float and the truncation to an integer the
  /// same everywhere), so that the mean does not depend on the order of a class's examples: an
  /// example added to a class later, or kept in an overlay, gives the same bits.
  struct ClassTally {
    let classCount: Int
    let top: Int
    var kept: [Float]
    var examplesPerClass: [Int32]
    var sumUnits: [Int64]

    init(classCount: Int, top: Int) {
      self.classCount = classCount
      self.top = max(1, top)
      kept = [Float](repeating: 0, count: classCount * self.top)
      examplesPerClass = [Int32](repeating: 0, count: classCount)
      sumUnits = [Int64](repeating: 0, count: classCount)
    }

    /// Counts each example (cosine × inverse norm) in its class; examples of a class `skip`
    /// marks are left out. Unchecked buffers: every example's class is below `classCount`
    /// (built so, or checked when read from the cache file), and this loop runs over every
    /// example for every query.
    mutating func add(
      cosines cos: UnsafeBufferPointer<Float>, inverseNorms inverseNorm: UnsafeBufferPointer<Float>,
      classes: UnsafeBufferPointer<Int32>, skip: UnsafeBufferPointer<Bool>?
    ) {
      let top = self.top
      kept.withUnsafeMutableBufferPointer { kept in
        sumUnits.withUnsafeMutableBufferPointer { sumUnits in
          examplesPerClass.withUnsafeMutableBufferPointer { perClass in
            for i in 0..<cos.count {
              let cls = Int(classes[i])
              if let skip, cls < skip.count, skip[cls] { continue }
              let c = cos[i] * inverseNorm[i]
              perClass[cls] &+= 1
              guard c > 0 else { continue }
              sumUnits[cls] &+= Int64(min(c, 2) * ExampleModel.meanScale)  // (a cosine is at most 1)
              let base = cls * top
              // Insert c into the sorted (descending) slots.
              var j = top - 1
              guard c > kept[base + j] else { continue }
              while j > 0, kept[base + j - 1] < c {
                kept[base + j] = kept[base + j - 1]
                j -= 1
              }
              kept[base + j] = c
            }
          }
        }
      }
    }

    /// Per class: the mean of its best `top` cosines, its best, and its mean over all examples.
    func result() -> (scores: [Float], best: [Float], mean: [Float]) {
      var scores = [Float](repeating: 0, count: classCount)
      var best = [Float](repeating: 0, count: classCount)
      var mean = [Float](repeating: 0, count: classCount)
      for cls in 0..<classCount {
        let n = min(top, Int(examplesPerClass[cls]))
        guard n > 0 else { continue }
        var sum: Float = 0
        for j in 0..<n { sum += kept[cls * top + j] }
        scores[cls] = sum / Float(n)
        best[cls] = kept[cls * top]
        mean[cls] = Float(Double(sumUnits[cls]) / Double(ExampleModel.meanScale) / Double(examplesPerClass[cls]))
      }
      return (scores, best, mean)
    }
  }

  /// The text's tf-idf vector over the model's features (sublinear tf, L2-normalized), each
  /// weight times the feature's idf once more (the example side's idf: postings hold term
  /// weights only); features no example has are left out, as a fitted tf-idf vocabulary would.
  /// In key order, so that the sums over it come out the same in every process and for every
  /// model built from the same examples (a dictionary's order changes from one instance to the next).
  func queryVector(_ text: String) -> [(Int32, Float)] {
    let a = idfBase
    return Self.queryVector(text, config: config) { key in
      guard let id = featureID(key) else { return nil }
      return (id, Float(a - Self.logFrequency(frequency[Int(id)])))
    }.map { ($0.id, $0.weight) }
  }

  /// The query vector over the features `feature` knows (its id and idf; nil for a feature no
  /// example has), in key order.
  static func queryVector<ID>(
    _ text: String, config: Config, feature: (UInt32) -> (id: ID, idf: Float)?
  ) -> [(id: ID, weight: Float)] {
    let counts = Self.featureCounts(text, config: config).sorted { $0.key < $1.key }
    var query: [(id: ID, weight: Float)] = []
    var idfs: [Float] = []
    var norm: Float = 0
    for (key, count) in counts {
      guard let (id, featureIDF) = feature(key) else { continue }
      let w = Self.sublinear(Float(count)) * featureIDF
      query.append((id, w))
      idfs.append(featureIDF)
      norm += w * w
    }
    guard norm > 0 else { return [] }
    let inv = 1 / norm.squareRoot()
    for i in query.indices { query[i].weight = (query[i].weight * inv) * idfs[i] }
    return query
  }

  /// An example's norm sums (``normSums``) in fixed point, 2⁻³² units: exact integer
  /// addition, so the same whatever order its features come in, and a delta (one feature's
  /// frequency moving) added later gives the same bits as a sum made from scratch.
  struct NormSums {
    static let scale: Double = 4_294_967_296
    var s0: UInt64 = 0
    var s1: UInt64 = 0
    var s2: UInt64 = 0

    @inline(__always)
    static func units(_ x: Double) -> UInt64 { UInt64((x * scale).rounded()) }

    /// Adds one feature: term weight `tf`, L = `log` (ln(frequency + 1)).
    @inline(__always)
    mutating func add(tf: Float, log: Double) {
      let square = Double(tf) * Double(tf)
      s0 &+= Self.units(square)
      s1 &+= Self.units(square * log)
      s2 &+= Self.units(square * log * log)
    }

    /// What one feature of term weight `tf` adds to S₁ and S₂ at L = `log` (as ``add(tf:log:)``).
    @inline(__always)
    static func logTerms(tf: Float, log: Double) -> (UInt64, UInt64) {
      let square = Double(tf) * Double(tf)
      return (units(square * log), units(square * log * log))
    }
  }

  // MARK: Features

  /// Lower-case words of letters and digits (apostrophes dropped inside words: don't → dont).
  public static func words(_ text: String) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var current: [UInt8] = []
    var utf8 = text.utf8.makeIterator()
    var pendingNonASCII: [UInt8] = []
    func flushNonASCII() {
      // A multi-byte character: letters and digits join the word, anything else ends it.
      guard !pendingNonASCII.isEmpty else { return }
      let s = String(decoding: pendingNonASCII, as: UTF8.self)
      pendingNonASCII.removeAll(keepingCapacity: true)
      if s == "’" { return }
      if let scalar = s.unicodeScalars.first, scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
        current.append(contentsOf: s.lowercased().utf8)
      } else if !current.isEmpty {
        out.append(current)
        current.removeAll(keepingCapacity: true)
      }
    }
    while let b = utf8.next() {
      if b >= 0x80 {
        // Continuation bytes (10xxxxxx) extend the pending character; a lead byte starts one.
        if b & 0xC0 != 0x80 { flushNonASCII() }
        pendingNonASCII.append(b)
        continue
      }
      if !pendingNonASCII.isEmpty { flushNonASCII() }
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        current.append(b)
      case UInt8(ascii: "A")...UInt8(ascii: "Z"):
        current.append(b + 32)
      case UInt8(ascii: "'"):
        continue
      default:
        if !current.isEmpty {
          out.append(current)
          current.removeAll(keepingCapacity: true)
        }
      }
    }
    flushNonASCII()
    if !current.isEmpty { out.append(current) }
    return out
  }

  /// A 64-bit n-gram hash folded to the 32-bit key features are stored under.
  @inline(__always)
  static func key(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h ^ (h >> 32)) }

  /// Each feature's count in the text (its first `config.maxWords` words).
  static func featureCounts(_ text: String, config: Config) -> [UInt32: Int] {
    var words = Self.words(text)
    if words.count > config.maxWords { words.removeLast(words.count - config.maxWords) }
    var raw: [UInt32: Int] = [:]
    raw.reserveCapacity(words.count * 12)
    var previous: UInt64?
    for word in words {
      let h = fnv(word, seed: 0x77)
      raw[key(h), default: 0] += 1
      if let previous { raw[key(previous &* 31 &+ h ^ 0xB16A), default: 0] += 1 }
      previous = h
      // Character n-grams of " word ", n = 3…5.
      var padded: [UInt8] = [32]
      padded.append(contentsOf: word)
      padded.append(32)
      for n in 3...5 where padded.count >= n {
        for start in 0...(padded.count - n) {
          raw[key(fnv(padded[start..<(start + n)], seed: UInt64(n))), default: 0] += 1
        }
      }
    }
    return raw
  }

  /// An example's stored count of a feature: at most 255 (one byte a posting; only an n-gram
  /// repeated that often inside one example of at most 80 words, in words thousands of
  /// characters long, reaches it).
  @inline(__always)
  static func storedCount(_ count: Int) -> UInt8 { UInt8(clamping: count) }

  /// The term weight of each stored count, 1 + ln(count) (index 0 unused).
  static let termWeights: [Float] = (0...255).map { $0 == 0 ? 0 : sublinear(Float($0)) }

  /// Sublinear term frequency, 1 + ln(count).
  @inline(__always)
  static func sublinear(_ count: Float) -> Float { 1 + log(count) }

  @inline(__always)
  static func fnv<C: Collection>(_ bytes: C, seed: UInt64) -> UInt64 where C.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (seed &* 0x100_0000_01b3)
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }
}

/// The examples a model learns from: each one's class, and its text, made when a pass of the
/// build asks for it (a text derived from a document, such as an answer's body without its
/// headings, need not be held through the whole build: 76 MB at 100k documents).
public struct ExampleList: Sendable {
  public let classes: [Int]
  public let text: @Sendable (Int) -> String

  public init(classes: [Int], text: @escaping @Sendable (Int) -> String) {
    self.classes = classes
    self.text = text
  }

  public init(_ examples: [(classIndex: Int, text: String)]) {
    let texts = examples.map(\.text)
    self.init(classes: examples.map(\.classIndex)) { texts[$0] }
  }

  public var count: Int { classes.count }
}

/// Calls `body` with each item of `items` and `make(item)`, in order. `make` runs on every core,
/// `batchSize` items at a time: no more than one batch of its results is held at once (a
/// model's build reads each document's features this way, twice, rather than hold them all).
func forEachInBatches<T>(
  _ items: [Int], batchSize: Int, make: @escaping @Sendable (Int) -> T, body: (Int, T) -> Void
) {
  var from = 0
  while from < items.count {
    let batch = Array(items[from..<min(items.count, from + batchSize)])
    let slots = ParallelSlots<T>(count: batch.count)
    let chunks = max(1, min(8, batch.count / 128))
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      var k = chunk
      while k < batch.count {
        slots.set(k, make(batch[k]))
        k += chunks
      }
    }
    for k in batch.indices { body(batch[k], slots.take(k)) }
    from += batchSize
  }
}

/// Slots filled by parallel workers, each slot written once.
final class ParallelSlots<T>: @unchecked Sendable {
  private var items: [T?]
  private let lock = NSLock()
  init(count: Int) { items = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ value: T) { lock.withLock { items[i] = value } }
  func take(_ i: Int) -> T { lock.withLock { let v = items[i]!; items[i] = nil; return v } }
}
