import Foundation

/// Whether the best suggestion is a known fix: one logistic score over four measures of how
/// well the answer fits the mention, with two cut-offs, fitted on the development sets with
/// their cross-domain runs (one set's queries against the other set's knowledge base, where
/// every "known fix" is false) and checked by cross-validation (docs/RANKING.md, "Verdicts";
/// `scripts/verdict-cv` refits them).
///
/// ```swift
/// let model = RankingParameters.shipped.verdict  // VerdictModel.standard
/// model.level(similarity: 0.62, semantic: 0.71, gap: 6, coverage: 0.75, matched: 3)  // .known
/// model.level(similarity: 0.15, semantic: 0.38, gap: 1, coverage: 0.2, matched: 1)   // .none
/// ```
public struct VerdictModel: Codable, Sendable, Equatable {
  /// Weight of the best example cosine (word and character n-grams, 0–1).
  public var similarity: Double
  /// Weight of the semantic cosine (word vectors, 0–1).
  public var semantic: Double
  /// Weight of the fused-score lead over the next suggestion (z units).
  public var gap: Double
  /// Weight of the share of the mention's content words the answer has (0–1).
  public var coverage: Double
  public var bias: Double
  /// Score from which the best answer is a known fix.
  public var knownThreshold: Double
  /// Score from which it is a possible fix (check before sending).
  public var possibleThreshold: Double

  enum CodingKeys: String, CodingKey {
    case similarity, semantic, gap, coverage, bias
    case knownThreshold = "known_threshold"
    case possibleThreshold = "possible_threshold"
  }

  public init(
    similarity: Double, semantic: Double, gap: Double, coverage: Double, bias: Double, knownThreshold: Double,
    possibleThreshold: Double
  ) {
    self.similarity = similarity
    self.semantic = semantic
    self.gap = gap
    self.coverage = coverage
    self.bias = bias
    self.knownThreshold = knownThreshold
    self.possibleThreshold = possibleThreshold
  }

  /// Fitted on stackfaq and banking77 dev, in-domain and cross-domain (800 rankings): logistic
  /// regression of "the first suggestion is right"; the known-fix cut-off is the lowest score at
  /// which, on every set, known fixes are right ≥ 91% of the time in-domain and ≤ 4% of
  /// cross-domain queries get one; the possible-fix cut-off the same at 75% / 10%.
  public static let standard = VerdictModel(
    similarity: 3.7528, semantic: 11.7917, gap: 0.1172, coverage: 2.8268, bias: -9.8418, knownThreshold: 0.4153,
    possibleThreshold: -1.5917)

  public enum Level: Int, Sendable, Comparable {
    case none, possible, known
    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
  }

  /// The logistic score (log-odds that the answer is right).
  public func score(similarity s: Double, semantic m: Double, gap g: Double, coverage c: Double) -> Double {
    similarity * s + semantic * m + gap * min(max(g, 0), 30) + coverage * c + bias
  }

  /// The probability the score stands for (calibrated on the development sets only).
  public func probability(_ score: Double) -> Double { 1 / (1 + exp(-score)) }

  /// The level: never above `none` when no content word of the mention is in the answer.
  public func level(similarity s: Double, semantic m: Double, gap g: Double, coverage c: Double, matched: Int) -> Level {
    guard matched > 0 else { return .none }
    let x = score(similarity: s, semantic: m, gap: g, coverage: c)
    return x >= knownThreshold ? .known : x >= possibleThreshold ? .possible : .none
  }
}
