import Foundation
import KBTestSupport
import Testing

@testable import KBCore

@Suite struct WordBM25OverlayTests {
  typealias Document = [(text: String, weight: Double)]

  static let words = """
    the router light blinking orange modem texts text texting repeat repeated battery batteries drains \
    charge charging phone dies fast slow again twice never keeps Gmail archive filters Dropbox sync \
    stopped stopping changed change refund invoice billing password reset login Northwind
    """.split(separator: " ").map(String.init)

  /// A random answer: title, symptoms, tags and body, with whole and fractional weights (so
  /// that a term's frequency is a float sum), "the" in most bodies (a term in many postings).
  static func document(_ rng: inout SeededGenerator, fresh: Int) -> Document {
    func text(_ count: ClosedRange<Int>) -> String {
      (0..<Int.random(in: count, using: &rng)).map { _ in
        // Now and then a word no base document has (only added documents use it).
        Int.random(in: 0..<12, using: &rng) == 0 ? "zq\(fresh % 7)x" : words.randomElement(using: &rng)!
      }.joined(separator: " ")
    }
    let weights: [Double] = [3, 2, 1, 1].map { Int.random(in: 0..<4, using: &rng) == 0 ? $0 * 0.7 + 0.15 : $0 }
    return [
      (text(1...5), weights[0]), (text(0...8), weights[1]), (text(0...2), weights[2]),
      ("the " + text(0...30), weights[3]),
    ]
  }

  static func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

  /// Random removals, additions and edits (a removal plus an addition) against one base: after
  /// each step the overlay scores every current document with the bits of a model rebuilt from
  /// the current documents (in a shuffled order), and removed documents 0.
  @Test(arguments: [WordBM25.Terms.words, .charTrigrams])
  func overlayRanksExactlyAsARebuild(kind: WordBM25.Terms) throws {
    var rng = SeededGenerator(seed: kind == .words ? 0xB325 : 0x3C3B)
    let baseDocs = (0..<80).map { _ in Self.document(&rng, fresh: 0) }
    let built = WordBM25(documents: baseDocs, terms: kind)
    // As the model file's reader makes it: from the stored columns.
    let base = try #require(
      WordBM25(
        kind: kind, keys: built.index.keys, prefixStart: built.index.start, prefixShift: built.index.shift,
        postingStart: built.postingStart, postingDoc: built.postingDoc, postingTF: built.postingTF,
        documentLength: built.documentLength, totalLength: built.totalLength))
    var removed: Set<Int> = []
    var added: [Document] = []
    var fresh = 0
    for step in 0..<40 {
      for _ in 0..<Int.random(in: 0...3, using: &rng) {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:  // remove a base document
          if let r = (0..<baseDocs.count).filter({ !removed.contains($0) }).randomElement(using: &rng) { removed.insert(r) }
        case 1:  // remove an added one
          if !added.isEmpty { added.remove(at: Int.random(in: 0..<added.count, using: &rng)) }
        case 2:  // edit a base document: the delta removes it and adds its new text
          if let r = (0..<baseDocs.count).filter({ !removed.contains($0) }).randomElement(using: &rng) {
            removed.insert(r)
            var d = baseDocs[r]
            d[3].text += " " + Self.words.randomElement(using: &rng)!
            added.append(d)
          }
        default:
          fresh += 1
          added.append(Self.document(&rng, fresh: fresh))
        }
      }
      let overlay = WordBM25.Overlay(base: base, removed: removed, added: added)
      // The current documents, each with its position in the overlay's scores, shuffled.
      var current: [(position: Int, document: Document)] = baseDocs.indices.filter { !removed.contains($0) }.map { ($0, baseDocs[$0]) }
      current += added.enumerated().map { (baseDocs.count + $0.offset, $0.element) }
      current.shuffle(using: &rng)
      let rebuilt = WordBM25(documents: current.map(\.document), terms: kind)
      #expect(overlay.documentCount == current.count)
      #expect(overlay.totalLength == rebuilt.totalLength)
      #expect(overlay.averageLength.bitPattern == rebuilt.averageLength.bitPattern)
      // Folded into a new base: the columns a build from the current documents (kept base ones
      // in order, then the added) has.
      let merged = overlay.merged()
      let ordered = WordBM25(
        documents: baseDocs.indices.filter { !removed.contains($0) }.map { baseDocs[$0] } + added, terms: kind)
      #expect(merged.keys.array == ordered.keys.array && merged.index == ordered.index)
      #expect(merged.postingStart.array == ordered.postingStart.array)
      #expect(merged.postingDoc.array == ordered.postingDoc.array)
      #expect(merged.postingTF.array.map(\.bitPattern) == ordered.postingTF.array.map(\.bitPattern))
      #expect(merged.documentLength.array == ordered.documentLength.array)
      #expect(merged.totalLength == ordered.totalLength && merged.documentCount == ordered.documentCount)
      var queries = (0..<5).map { _ in (0..<Int.random(in: 1...6, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }.joined(separator: " ") }
      queries += ["the", "zq\(fresh % 7)x texts", "unknownword", "routr blinkng the"]
      for query in queries {
        let o = overlay.scores(for: query)
        let r = rebuilt.scores(for: query)
        #expect(o.count == baseDocs.count + added.count)
        var expected = [Double](repeating: 0, count: o.count)
        for (i, c) in current.enumerated() { expected[c.position] = r[i] }
        let differs = o.indices.first { o[$0].bitPattern != expected[$0].bitPattern }
        #expect(Self.bits(merged.scores(for: query)) == Self.bits(ordered.scores(for: query)))
        #expect(differs == nil, "step \(step), query '\(query)': document \(differs ?? -1) scores \(differs.map { o[$0] } ?? 0), rebuilt \(differs.map { expected[$0] } ?? 0)")
      }
    }
  }

  @Test func anEmptyDeltaScoresAsTheBase() {
    var rng = SeededGenerator(seed: 7)
    let base = WordBM25(documents: (0..<30).map { _ in Self.document(&rng, fresh: 0) })
    let overlay = WordBM25.Overlay(base: base, removed: [], added: [])
    for query in ["router light", "the battery drains", "nothing"] {
      #expect(Self.bits(overlay.scores(for: query)) == Self.bits(base.scores(for: query)))
    }
  }

  @Test func removingEveryDocumentLeavesNoScore() {
    let base = WordBM25(documents: [[("Router light", 3)], [("Battery drains", 3)]])
    let overlay = WordBM25.Overlay(base: base, removed: [0, 1], added: [])
    #expect(overlay.documentCount == 0)
    #expect(overlay.scores(for: "router battery") == [0, 0])
  }

  /// The average length comes from an exact integer total, so the documents' order never
  /// changes a bit of it (a float sum in document order would, past 2^24 terms in all).
  @Test func averageLengthIsTheExactTotalOverTheCount() {
    #expect(WordBM25.averageLength(total: 0, count: 0) == 1)
    #expect(WordBM25.averageLength(total: 7, count: 2) == 3.5)
    let big: Int64 = (1 << 24) + 3
    #expect(WordBM25.averageLength(total: big, count: 3) == Float(big) / 3)
  }

  /// The ASCII walk gives the terms of the general one (words of ``ExampleModel/words(_:)``,
  /// stemmed, hashed), and any other text takes the general one.
  @Test func asciiTermWalkGivesTheGeneralTerms() {
    var rng = SeededGenerator(seed: 0xA5C2)
    let pieces = [
      "Texts", "texting", "stopped", "batteries", "classes", "don't", "it's", "'", "x", "A1", "_", "-", " ", "\n", ".", "?",
      "9", "’", "é", "Éclair", "naïve", "東京", "🙂", "e\u{301}",
    ]
    var asciiTexts = 0
    for _ in 0..<2000 {
      let text = (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined(
        separator: Bool.random(using: &rng) ? " " : "")
      if text.utf8.allSatisfy({ $0 < 0x80 }) { asciiTexts += 1 }
      var terms: [UInt64] = []
      WordBM25.forEachTerm(of: text, .words) { terms.append($0) }
      let general = ExampleModel.words(text).map { ExampleModel.fnv(WordBM25.stem($0), seed: 0x5EED) }
      #expect(terms == general, "\(text.debugDescription)")
    }
    #expect(asciiTexts > 200)
  }
}
