import Foundation
import KBTestSupport
import Testing

@testable import KBCore

@Suite struct WordCountsTests {
  static let words = "router light blinking orange Modem texts text repeat battery drains wi-fi café 5G naïve".split(separator: " ").map(String.init)

  /// Random answers' texts added, removed and edited: the counted set always holds exactly the
  /// words of the texts now counted, and equals counts built afresh.
  @Test func countsKeptByDeltasEqualAFreshBuild() {
    var rng = SeededGenerator(seed: 0x70CA)
    var texts: [String] = []
    var vocabulary = WordCounts()
    for step in 0..<300 {
      switch Int.random(in: 0..<3, using: &rng) {
      case 0 where !texts.isEmpty:
        let removed = vocabulary.remove(text: texts.remove(at: Int.random(in: 0..<texts.count, using: &rng)))
        #expect(removed)
      case 1 where !texts.isEmpty:
        let i = Int.random(in: 0..<texts.count, using: &rng)
        let removed = vocabulary.remove(text: texts[i])
        #expect(removed)
        texts[i] = (0..<Int.random(in: 0...6, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }.joined(separator: " ")
        vocabulary.add(text: texts[i])
      default:
        let t = (0..<Int.random(in: 0...6, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }.joined(separator: ", ")
        texts.append(t)
        vocabulary.add(text: t)
      }
      #expect(vocabulary.words == Set(texts.flatMap { SearchQuery.words(in: $0) }), "step \(step)")
      #expect(vocabulary == WordCounts(texts: texts.shuffled(using: &rng)), "step \(step)")
      let s = vocabulary.stored
      #expect(WordCounts(words: s.words, counts: s.counts) == vocabulary)
    }
  }

  @Test func aWordLeavesWhenItsLastTextDoes() {
    var vocabulary = WordCounts(texts: ["Router light blinking", "Router resets", "router router"])
    #expect(vocabulary.counts["router"] == 3)
    vocabulary.remove(text: "Router resets")
    #expect(vocabulary.contains("router") && !vocabulary.contains("resets"))
    let removed = vocabulary.remove(text: "battery drains")
    #expect(!removed)
    let s = vocabulary.stored
    #expect(WordCounts(words: s.words.reversed(), counts: s.counts.reversed()) == nil)
    #expect(WordCounts(words: s.words, counts: s.counts.map { _ in 0 }) == nil)
  }
}
