/// Every constant of the ranking, in one named value: what `kb search` and `kb suggest` rank
/// with, what `kb suggest --parameters` prints, and what `scripts/eval` and `scripts/rank-cv`
/// read. docs/RANKING.md describes each field under the same name.
///
/// ```swift
/// let p = RankingParameters.shipped
/// p.fusion.semantic  // 2.0
/// ```
public struct RankingParameters: Codable, Equatable, Sendable {
  /// bm25 weights of a document's fields.
  public struct FieldWeights: Codable, Equatable, Sendable {
    public var title: Double
    public var symptoms: Double
    public var tags: Double
    public var body: Double

    public init(title: Double, symptoms: Double, tags: Double, body: Double) {
      self.title = title
      self.symptoms = symptoms
      self.tags = tags
      self.body = body
    }
  }

  /// The weights of the signals' z-scores in the fused score of an answer.
  public struct Fusion: Codable, Equatable, Sendable {
    /// Word bm25 over the answer's fields (``RankingParameters/suggestFields``).
    public var bm25: Double
    /// The example model: nearest-neighbour cosine over the problem's examples.
    public var exampleModel: Double
    /// The example model's weight when the binary has no word-vector table (no semantic model).
    public var exampleModelAlone: Double
    /// The semantic model: cosine of the text's and the problem's static word vectors.
    public var semantic: Double
    /// The check-back record, (held − did not hold) / (held + did not hold + 1), added as is.
    public var trust: Double
    /// The product check: +1 when the text and the problem's title name the same product, −1
    /// when the title names only others, added as is.
    public var product: Double

    enum CodingKeys: String, CodingKey {
      case bm25, semantic, trust, product
      case exampleModel = "example_model"
      case exampleModelAlone = "example_model_alone"
    }
  }

  /// How the example model scores a problem.
  public struct ExampleModel: Codable, Equatable, Sendable {
    /// The problem's score is the mean of its `top` best example cosines …
    public var top: Int
    /// … plus `meanWeight` × the mean cosine over all its examples.
    public var meanWeight: Double
    /// Examples are cut to this many words.
    public var maxWords: Int

    enum CodingKeys: String, CodingKey {
      case top
      case meanWeight = "mean_weight"
      case maxWords = "max_words"
    }
  }

  /// When a suggestion's confidence is high, medium or low (``Confidence/level(similarity:coverage:matched:rank:runnerUpGap:parameters:)``).
  /// `similarity` is the best cosine of the text with one of the problem's examples (0…1);
  /// `coverage` the share of the text's words the answer has.
  public struct ConfidenceThresholds: Codable, Equatable, Sendable {
    /// High: similarity at least this …
    public var highSimilarity: Double
    /// … or at least this with coverage at least ``highCoverage``.
    public var highSimilarityCovered: Double
    public var highCoverage: Double
    /// Medium: similarity at least this …
    public var mediumSimilarity: Double
    /// … or at least this with coverage at least ``mediumCoverage`` …
    public var mediumSimilarityCovered: Double
    public var mediumCoverage: Double
    /// … or no similarity at all (no example model) and coverage at least this.
    public var mediumCoverageAlone: Double
    /// Low whatever the rest says when no word of the text is in the answer and the similarity
    /// is below this.
    public var noWordSimilarity: Double
    /// The best answer drops from high to medium when the runner-up (another problem) scores
    /// within this margin.
    public var nearTieMargin: Double

    enum CodingKeys: String, CodingKey {
      case highSimilarity = "high_similarity"
      case highSimilarityCovered = "high_similarity_covered"
      case highCoverage = "high_coverage"
      case mediumSimilarity = "medium_similarity"
      case mediumSimilarityCovered = "medium_similarity_covered"
      case mediumCoverage = "medium_coverage"
      case mediumCoverageAlone = "medium_coverage_alone"
      case noWordSimilarity = "no_word_similarity"
      case nearTieMargin = "near_tie_margin"
    }
  }

  /// `kb search`: FTS5 bm25 weights of the indexed columns.
  public var searchFields: FieldWeights
  /// `kb suggest`: word bm25 weights of an answer's fields (also the `--ranker bm25` baseline's).
  public var suggestFields: FieldWeights
  public var fusion: Fusion
  public var exampleModel: ExampleModel
  /// Demotion (in z units) of each further answer to a problem already listed. 100 outweighs
  /// any score gap: every problem's best answer comes before any problem's second one.
  public var diversityPenalty: Double
  public var confidence: ConfidenceThresholds

  enum CodingKeys: String, CodingKey {
    case fusion, confidence
    case searchFields = "search_fields"
    case suggestFields = "suggest_fields"
    case exampleModel = "example_model"
    case diversityPenalty = "diversity_penalty"
  }

  /// The parameters `kb` ships with, picked under cross-validation on the two development sets
  /// (docs/RANKING.md gives the figures behind each).
  public static let shipped = RankingParameters(
    searchFields: FieldWeights(title: 8, symptoms: 5, tags: 3, body: 1),
    suggestFields: FieldWeights(title: 3, symptoms: 2, tags: 1, body: 1),
    fusion: Fusion(bm25: 1, exampleModel: 1, exampleModelAlone: 1.5, semantic: 2, trust: 0.25, product: 1.5),
    exampleModel: ExampleModel(top: 3, meanWeight: 2, maxWords: 80),
    diversityPenalty: 100,
    confidence: ConfidenceThresholds(
      highSimilarity: 0.5, highSimilarityCovered: 0.35, highCoverage: 0.5, mediumSimilarity: 0.25,
      mediumSimilarityCovered: 0.15, mediumCoverage: 0.5, mediumCoverageAlone: 0.6, noWordSimilarity: 0.4,
      nearTieMargin: 0.25))
}
