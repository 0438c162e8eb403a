import Foundation

extension ExampleModel {
  /// The model built from scratch over today's examples, kept as a saved (mapped) base plus what
  /// changed since: some classes' examples replaced, new classes added. It ranks bit for bit as
  /// the rebuilt model, at the cost of the change, not of the knowledge base.
  ///
  /// Why it is exact: everything the base stores is a count or an integer sum (see ``ExampleModel``).
  /// A replaced class leaves the base's examples of that class out and brings its new ones as a
  /// small model of their own; each feature's class count moves by the classes that gained or
  /// lost it; the norm sums of the base's examples on a feature whose count moved get that
  /// feature's own difference (S₁ and S₂ are sums of per-feature fixed-point terms, so the
  /// corrected sum is the sum made from scratch); A follows the number of classes. A class's
  /// scores do not depend on its examples' order (``exampleOrderDoesNotChangeAnyBit``), and each
  /// example's cosine is summed over the query's features in key order either way.
  ///
  /// ```swift
  /// let overlay = ExampleModel.Overlay(base: saved, classCount: 3, liveClassCount: 3,
  ///                                    changes: [2: (old: [], new: ["texts repeat"])])
  /// let scores = overlay.classScoresWithMean(for: "same text over and over")
  /// ```
  public struct Overlay: Sendable {
    public let base: ExampleModel
    /// Class ids: the base's, then new ones (a class left with no answers keeps its id and no
    /// examples).
    public let classCount: Int
    /// A = 1 + ln(N + 1), N the classes that exist now.
    let idfBase: Double
    /// Per class id: whether the base's examples of the class are left out (it changed).
    let replaced: [Bool]
    /// Each changed feature's class count minus the base's.
    let frequencyDelta: [UInt32: Int32]
    /// The replaced classes' examples as they are now: postings over their own feature ids.
    let addedIDs: [UInt32: Int32]
    let addedStart: Column<Int32>
    let addedExample: Column<Int32>
    let addedCount: Column<UInt8>
    let addedClass: [Int32]
    let addedInverseNorm: [Float]
    /// The base's examples' inverse norms under today's counts.
    let baseInverseNorm: [Float]

    /// `changes`: for each class whose examples changed (or that is new: ids from
    /// `base.classCount` up to `classCount`), every example text it had in the base and every one
    /// it has now (empty: it has none). `liveClassCount`: how many classes exist now (those with
    /// an answer), the count the idf is over.
    public init(base: ExampleModel, classCount: Int, liveClassCount: Int, changes: [Int: (old: [String], new: [String])]) {
      precondition(base.config.idfOverClasses && classCount >= base.classCount)
      self.base = base
      self.classCount = classCount
      let a = ExampleModel.idfBase(count: liveClassCount)
      idfBase = a
      var replaced = [Bool](repeating: false, count: classCount)
      var delta: [UInt32: Int32] = [:]
      var addedFeatures: [[(UInt32, UInt8)]] = []
      var addedClass: [Int32] = []
      // A changed class's examples are mostly the same before and now: each text is counted once.
      var countsOf: [String: [UInt32: Int]] = [:]
      func featureCounts(_ text: String) -> [UInt32: Int] {
        if let known = countsOf[text] { return known }
        let counts = ExampleModel.featureCounts(text, config: base.config)
        countsOf[text] = counts
        return counts
      }
      // Classes in id order, so that the added examples come in the same order in every process.
      for cls in changes.keys.sorted() {
        guard let change = changes[cls], cls >= 0, cls < classCount else { continue }
        replaced[cls] = true
        var before: Set<UInt32> = []
        for text in change.old { before.formUnion(featureCounts(text).keys) }
        var after: Set<UInt32> = []
        for text in change.new {
          let counts = featureCounts(text)
          guard !counts.isEmpty else { continue }
          after.formUnion(counts.keys)
          addedFeatures.append(counts.map { ($0.key, ExampleModel.storedCount($0.value)) })
          addedClass.append(Int32(cls))
        }
        for key in after where !before.contains(key) { delta[key, default: 0] += 1 }
        for key in before where !after.contains(key) { delta[key, default: 0] -= 1 }
      }
      delta = delta.filter { $0.value != 0 }
      self.replaced = replaced
      frequencyDelta = delta
      // L of a feature's class count today, looked up once a feature (the base's key table is
      // large: each lookup is a page of it).
      var logOf: [UInt32: Double] = [:]
      func logFrequency(_ key: UInt32) -> Double {
        if let known = logOf[key] { return known }
        let f = (base.featureID(key).map { base.frequency[Int($0)] } ?? 0) + (delta[key] ?? 0)
        let l = ExampleModel.logFrequency(f)
        logOf[key] = l
        return l
      }
      // The added examples' postings (CSR over their own ids, in first-seen order) and norms.
      var ids: [UInt32: Int32] = [:]
      var postingsOf: [[(Int32, UInt8)]] = []
      var addedNorm: [Float] = []
      for (e, features) in addedFeatures.enumerated() {
        var s = NormSums()
        for (key, count) in features {
          s.add(tf: ExampleModel.termWeights[Int(count)], log: logFrequency(key))
          let id: Int32
          if let known = ids[key] {
            id = known
          } else {
            id = Int32(postingsOf.count)
            ids[key] = id
            postingsOf.append([])
          }
          postingsOf[Int(id)].append((Int32(e), count))
        }
        addedNorm.append(ExampleModel.inverseNorm(s0: s.s0, s1: s.s1, s2: s.s2, base: a))
      }
      var start: [Int32] = [0]
      var example: [Int32] = []
      var count: [UInt8] = []
      for list in postingsOf {
        for (e, c) in list {
          example.append(e)
          count.append(c)
        }
        start.append(Int32(example.count))
      }
      addedIDs = ids
      addedStart = Column(start)
      addedExample = Column(example)
      addedCount = Column(count)
      self.addedClass = addedClass
      addedInverseNorm = addedNorm
      baseInverseNorm = Self.correctedInverseNorms(base: base, delta: delta, replaced: replaced, a: a)
    }

    /// The base's examples' inverse norms under today's counts: S₁ and S₂ of the examples on
    /// each feature whose count moved get that feature's difference (one walk of its
    /// postings; examples of replaced classes are left out and need none).
    static func correctedInverseNorms(base: ExampleModel, delta: [UInt32: Int32], replaced: [Bool], a: Double) -> [Float] {
      let n = base.exampleCount
      var s1 = [UInt64](repeating: 0, count: n)
      var s2 = [UInt64](repeating: 0, count: n)
      var touched = [Bool](repeating: false, count: n)
      // Features in key order: the same walk in every process (integer sums: any order is exact).
      for key in delta.keys.sorted() {
        guard let id = base.featureID(key) else { continue }
        let before = base.frequency[Int(id)]
        let now = before + delta[key]!
        let lBefore = ExampleModel.logFrequency(before)
        let lNow = ExampleModel.logFrequency(now)
        // Each stored count's difference, computed when first met.
        var table = [(UInt64, UInt64)?](repeating: nil, count: 256)
        let from = Int(base.postingStart[Int(id)])
        let to = Int(base.postingStart[Int(id) + 1])
        guard from >= 0, from <= to, to <= base.postingExample.count else { continue }
        base.postingExample.withUnsafeBufferPointer { ex in
          base.postingCount.withUnsafeBufferPointer { counts in
            base.exampleClass.withUnsafeBufferPointer { classes in
              for k in from..<to {
                let e = Int(ex[k])
                guard e >= 0, e < n else { continue }
                let cls = Int(classes[e])
                if cls < replaced.count, replaced[cls] { continue }
                let c = Int(counts[k])
                let d: (UInt64, UInt64)
                if let known = table[c] {
                  d = known
                } else {
                  let tf = ExampleModel.termWeights[c]
                  let old = NormSums.logTerms(tf: tf, log: lBefore)
                  let new = NormSums.logTerms(tf: tf, log: lNow)
                  d = (new.0 &- old.0, new.1 &- old.1)
                  table[c] = d
                }
                s1[e] &+= d.0
                s2[e] &+= d.1
                touched[e] = true
              }
            }
          }
        }
      }
      var out = [Float](repeating: 0, count: n)
      base.normSums.withUnsafeBufferPointer { sums in
        for e in 0..<n {
          out[e] = ExampleModel.inverseNorm(
            s0: sums[3 * e], s1: sums[3 * e + 1] &+ (touched[e] ? s1[e] : 0), s2: sums[3 * e + 2] &+ (touched[e] ? s2[e] : 0),
            base: a)
        }
      }
      return out
    }

    /// As ``ExampleModel/classScoresWithMean(for:)`` of the model rebuilt from today's examples
    /// (per class id of this overlay).
    public func classScoresWithMean(for text: String) -> (scores: [Float], best: [Float], mean: [Float]) {
      let a = idfBase
      let query = ExampleModel.queryVector(text, config: base.config) { key -> (id: (Int32, Int32), idf: Float)? in
        let baseID = base.featureID(key)
        let f = (baseID.map { base.frequency[Int($0)] } ?? 0) + (frequencyDelta[key] ?? 0)
        guard f > 0 else { return nil }
        return ((baseID ?? -1, addedIDs[key] ?? -1), Float(a - ExampleModel.logFrequency(f)))
      }
      guard !query.isEmpty else {
        let zero = [Float](repeating: 0, count: classCount)
        return (zero, zero, zero)
      }
      var baseCosine = [Float](repeating: 0, count: base.exampleCount)
      ExampleModel.accumulate(
        query.compactMap { $0.id.0 >= 0 ? ($0.id.0, $0.weight) : nil }, postingStart: base.postingStart,
        postingExample: base.postingExample, postingCount: base.postingCount, into: &baseCosine)
      var addedCosine = [Float](repeating: 0, count: addedClass.count)
      ExampleModel.accumulate(
        query.compactMap { $0.id.1 >= 0 ? ($0.id.1, $0.weight) : nil }, postingStart: addedStart,
        postingExample: addedExample, postingCount: addedCount, into: &addedCosine)
      var tally = ClassTally(classCount: classCount, top: base.config.top)
      baseCosine.withUnsafeBufferPointer { cos in
        baseInverseNorm.withUnsafeBufferPointer { norms in
          base.exampleClass.withUnsafeBufferPointer { classes in
            replaced.withUnsafeBufferPointer { skip in
              tally.add(cosines: cos, inverseNorms: norms, classes: classes, skip: skip)
            }
          }
        }
      }
      addedCosine.withUnsafeBufferPointer { cos in
        addedInverseNorm.withUnsafeBufferPointer { norms in
          addedClass.withUnsafeBufferPointer { classes in
            tally.add(cosines: cos, inverseNorms: norms, classes: classes, skip: nil)
          }
        }
      }
      return tally.result()
    }
  }

  /// 1 / √(A²·S₀ − 2A·S₁ + S₂) for sums in 2⁻³² units (0 for an empty example).
  @inline(__always)
  static func inverseNorm(s0: UInt64, s1: UInt64, s2: UInt64, base a: Double) -> Float {
    let square = a * a * (Double(s0) / NormSums.scale) - 2 * a * (Double(s1) / NormSums.scale) + Double(s2) / NormSums.scale
    return square > 0 ? Float(1 / square.squareRoot()) : 0
  }
}
