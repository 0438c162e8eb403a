import KBCore

/// Which ranking to run: the full one, or plain FTS5 bm25 (the baseline, for evaluation).
public enum Ranker: String, Sendable, CaseIterable, Codable { case full, bm25 }

/// What resolved cases say about an answer.
public struct Evidence: Sendable, Equatable, Codable {
  /// Cases linked to the answer.
  public var cases: Int
  /// Check backs that said the fix held, and that it did not.
  public var held: Int
  public var failed: Int

  public init(cases: Int = 0, held: Int = 0, failed: Int = 0) {
    self.cases = cases
    self.held = held
    self.failed = failed
  }

  /// Counts one linked case and its check-back entries, read as the case lifecycle reads them
  /// (``CheckBack/outcome(of:)``).
  public mutating func add(checkBacks: [String]) {
    cases += 1
    for text in checkBacks {
      switch CheckBack.outcome(of: text) {
      case true?: held += 1
      case false?: failed += 1
      case nil: break
      }
    }
  }

  /// The check-back record: (held − did not hold) / (held + did not hold + 1), 0 without check
  /// backs. Weighted by ``RankingParameters/Fusion/trust``.
  public var trust: Double {
    held + failed == 0 ? 0 : Double(held - failed) / Double(held + failed + 1)
  }
}

/// The signals of the full ranker for one text, one value per answer.
public struct Components: Sendable {
  /// Word bm25 (in memory, light stemmer).
  public var bm25: [Double]
  /// Example model: top-k mean cosine + `meanWeight` × mean cosine of the answer's problem.
  public var knn: [Double]
  /// Best example cosine of the answer's problem (absolute fit).
  public var similarity: [Double]
  /// Semantic model: cosine of the text's and the answer's problem's word vectors (empty
  /// without a word-vector table).
  public var semantic: [Double]
  /// Product check: +1, −1 or 0 (empty when the text names no product).
  public var product: [Double]

  public init(bm25: [Double], knn: [Double], similarity: [Double], semantic: [Double], product: [Double]) {
    self.bm25 = bm25
    self.knn = knn
    self.similarity = similarity
    self.semantic = semantic
    self.product = product
  }
}

/// The full ranker's arithmetic: z-score fusion of the signals, then one answer per problem
/// first. Pure: the models that produce the signals are built elsewhere.
public enum Fusion {
  /// (x − mean) / standard deviation; all 0 when the values do not vary.
  public static func zscores(_ values: [Double]) -> [Double] {
    guard values.count > 1 else { return values.map { _ in 0 } }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    let sd = variance.squareRoot()
    guard sd > 0 else { return values.map { _ in 0 } }
    return values.map { ($0 - mean) / sd }
  }

  /// The fused score of every answer: w·z(bm25) + w·z(example model) + w·trust
  /// + w·z(semantic model) + w·product check, with the weights of `parameters.fusion`.
  public static func scores(_ c: Components, evidence: [Evidence], parameters: RankingParameters) -> [Double] {
    let w = parameters.fusion
    let n = c.bm25.count
    let zb = zscores(c.bm25)
    let zk = zscores(c.knn)
    let zs = c.semantic.isEmpty ? [] : zscores(c.semantic)
    // Without a word-vector table the example model keeps the weight it had alone.
    let modelWeight = zs.isEmpty ? w.exampleModelAlone : w.exampleModel
    var score = [Double](repeating: 0, count: n)
    for i in 0..<n {
      score[i] = w.bm25 * zb[i] + modelWeight * zk[i] + w.trust * evidence[i].trust
      if !zs.isEmpty { score[i] += w.semantic * zs[i] }
      if !c.product.isEmpty { score[i] += w.product * c.product[i] }
    }
    return score
  }

  /// The `keep` best of the answers that match at all (some bm25 or some similarity), best
  /// first, by insertion into a short sorted list (no sort of every answer).
  public static func best(_ score: [Double], matching: (Int) -> Bool, keep: Int) -> [Int] {
    var order: [Int] = []
    order.reserveCapacity(keep + 1)
    for i in score.indices where matching(i) {
      if order.count == keep, let last = order.last, score[i] <= score[last] { continue }
      var at = order.count
      while at > 0, score[order[at - 1]] < score[i] { at -= 1 }
      order.insert(i, at: at)
      if order.count > keep { order.removeLast() }
    }
    return order
  }

  /// Answers that share a problem are alternative fixes: each further answer to a problem
  /// already picked is demoted by `parameters.diversityPenalty`, so the next problems get a
  /// look-in (like MMR). Returns at most `limit` of `pool`, in the new order.
  public static func diversify(
    _ pool: [Int], score: [Double], problemOf: [Int], limit: Int, parameters: RankingParameters
  ) -> [Int] {
    var pool = pool
    var seen: [Int: Int] = [:]
    var picked: [Int] = []
    while !pool.isEmpty, picked.count < limit {
      var bestAt = 0
      var bestValue = -Double.infinity
      for (k, i) in pool.enumerated() {
        let v = score[i] - parameters.diversityPenalty * Double(seen[problemOf[i], default: 0])
        if v > bestValue { bestValue = v; bestAt = k }
      }
      let i = pool.remove(at: bestAt)
      seen[problemOf[i], default: 0] += 1
      picked.append(i)
    }
    return picked
  }
}

/// How sure a suggestion is. `kb suggest` calls a mention a known fix when its best suggestion
/// is at least medium.
public enum Confidence: String, Codable, Sendable, Comparable {
  case low, medium, high

  var rank: Int { self == .high ? 2 : self == .medium ? 1 : 0 }
  public static func < (a: Confidence, b: Confidence) -> Bool { a.rank < b.rank }

  /// The confidence of the suggestion at `rank` (0 = best) from absolute fit (`similarity`, the
  /// best example cosine) and `coverage` (the share of the text's words the answer has, of which
  /// there are `matched`). `runnerUpGap`: for the best suggestion, its score minus the runner-up's
  /// when the runner-up is another problem (`nil` otherwise); a near tie lowers high to medium.
  public static func level(
    similarity sim: Double, coverage: Double, matched: Int, rank: Int, runnerUpGap: Double?,
    parameters: RankingParameters = .shipped
  ) -> Confidence {
    let t = parameters.confidence
    var level: Confidence
    if sim >= t.highSimilarity || (sim >= t.highSimilarityCovered && coverage >= t.highCoverage) {
      level = .high
    } else if sim >= t.mediumSimilarity || (sim >= t.mediumSimilarityCovered && coverage >= t.mediumCoverage)
      || (sim == 0 && coverage >= t.mediumCoverageAlone)
    {
      level = .medium
    } else {
      level = .low
    }
    // No content word in common: character overlap alone is not a fit.
    if matched == 0, sim < t.noWordSimilarity { level = .low }
    if rank > 0, level == .high { level = .medium }
    if let gap = runnerUpGap, level == .high, gap < t.nearTieMargin { level = .medium }
    return level
  }
}
