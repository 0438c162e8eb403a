import Foundation
import KBTestSupport
import Testing

@testable import KBRank

@Suite struct FusionTests {
  @Test func zscoresHaveMeanZeroAndUnitDeviation() {
    let z = Fusion.zscores([1, 2, 3, 4])
    #expect(abs(z.reduce(0, +)) < 1e-12)
    #expect(abs(z.map { $0 * $0 }.reduce(0, +) / 4 - 1) < 1e-12)
    #expect(Fusion.zscores([5, 5, 5]) == [0, 0, 0])
    #expect(Fusion.zscores([7]) == [0])
  }

  @Test func fusedScoreWeighsEachSignalByItsParameter() {
    var p = RankingParameters.shipped
    let c = Components(bm25: [1, 0], knn: [0, 1], similarity: [0, 0], semantic: [], product: [])
    // Without a semantic signal the example model weighs `exampleModelAlone`.
    p.fusion.exampleModelAlone = 3
    let s = Fusion.scores(c, evidence: [Evidence(), Evidence()], parameters: p)
    // z(bm25) = [1, -1], z(knn) = [-1, 1]: 1·1 + 3·(−1) = −2 and the reverse.
    #expect(s == [-2, 2])
    let withSemantic = Components(bm25: [1, 0], knn: [0, 1], similarity: [0, 0], semantic: [1, 0], product: [1, -1])
    let t = Fusion.scores(withSemantic, evidence: [Evidence(), Evidence()], parameters: .shipped)
    let w = RankingParameters.shipped.fusion
    #expect(t[0] == w.bm25 - w.exampleModel + w.semantic + w.product)
  }

  @Test func trustReadsCheckBacksAsTheCaseLifecycleDoes() {
    var e = Evidence()
    e.add(checkBacks: ["Held: no more loops", "Did not hold: again today", "held up fine", "Not held: still broken"])
    // "held up fine" says nothing (no "Held:"), as `CheckBack.outcome` reads it.
    #expect(e.cases == 1)
    #expect(e.held == 1)
    #expect(e.failed == 2)
    #expect(e.trust == (1.0 - 2.0) / 4.0)
    #expect(Evidence().trust == 0)
  }

  @Test func diversityListsEveryProblemsBestAnswerFirst() {
    // Answers 0, 1 are one problem, 2 another; scores 3, 2, 1.
    let picked = Fusion.diversify([0, 1, 2], score: [3, 2, 1], problemOf: [0, 0, 1], limit: 3, parameters: .shipped)
    #expect(picked == [0, 2, 1])
    var none = RankingParameters.shipped
    none.diversityPenalty = 0
    #expect(Fusion.diversify([0, 1, 2], score: [3, 2, 1], problemOf: [0, 0, 1], limit: 2, parameters: none) == [0, 1])
  }

  @Test func bestKeepsTheTopMatchingAnswersInOrder() {
    let order = Fusion.best([0.5, 3, -1, 2, 9], matching: { $0 != 4 }, keep: 3)
    #expect(order == [1, 3, 0])
  }
}

@Suite struct ConfidenceTests {
  let t = RankingParameters.shipped.confidence

  @Test func thresholdsDecideTheLevel() {
    #expect(Confidence.level(similarity: t.highSimilarity, coverage: 0, matched: 1, rank: 0, runnerUpGap: nil) == .high)
    #expect(Confidence.level(similarity: t.highSimilarityCovered, coverage: t.highCoverage, matched: 1, rank: 0, runnerUpGap: nil) == .high)
    #expect(Confidence.level(similarity: t.highSimilarityCovered, coverage: 0, matched: 1, rank: 0, runnerUpGap: nil) == .medium)
    #expect(Confidence.level(similarity: t.mediumSimilarity - 0.01, coverage: 0, matched: 1, rank: 0, runnerUpGap: nil) == .low)
    #expect(Confidence.level(similarity: 0, coverage: t.mediumCoverageAlone, matched: 2, rank: 0, runnerUpGap: nil) == .medium)
  }

  @Test func noSharedWordNearTieAndLowerRanksCapTheLevel() {
    #expect(Confidence.level(similarity: t.noWordSimilarity - 0.01, coverage: 0, matched: 0, rank: 0, runnerUpGap: nil) == .low)
    #expect(Confidence.level(similarity: 0.9, coverage: 1, matched: 3, rank: 1, runnerUpGap: nil) == .medium)
    #expect(Confidence.level(similarity: 0.9, coverage: 1, matched: 3, rank: 0, runnerUpGap: t.nearTieMargin / 2) == .medium)
    #expect(Confidence.level(similarity: 0.9, coverage: 1, matched: 3, rank: 0, runnerUpGap: t.nearTieMargin) == .high)
  }
}

@Suite struct RankingParametersTests {
  @Test func jsonUsesTheDocumentedNames() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = String(decoding: try encoder.encode(RankingParameters.shipped), as: UTF8.self)
    for key in ["search_fields", "suggest_fields", "example_model", "diversity_penalty", "near_tie_margin", "\"semantic\":2"] {
      #expect(json.contains(key), "missing \(key)")
    }
    #expect(try JSONDecoder().decode(RankingParameters.self, from: Data(json.utf8)) == .shipped)
  }

  @Test func docsDescribeEveryParameter() throws {
    // docs/RANKING.md names every field of the JSON `kb suggest --parameters` prints.
    let text = try String(contentsOfFile: packageRoot + "/docs/RANKING.md", encoding: .utf8)
    let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(RankingParameters.shipped)) as! [String: Any]
    var names: [String] = []
    func walk(_ object: [String: Any], _ prefix: String) {
      for (key, value) in object {
        if let inner = value as? [String: Any] { walk(inner, prefix + key + ".") } else { names.append(prefix + key) }
      }
    }
    walk(json, "")
    for name in names { #expect(text.contains("`\(name)`"), "docs/RANKING.md does not describe `\(name)`") }
  }
}
