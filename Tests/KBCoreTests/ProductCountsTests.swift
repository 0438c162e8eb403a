import Foundation
import KBTestSupport
import Testing

@testable import KBCore

@Suite struct ProductCountsTests {
  static let words = "gmail dropbox northwind my the archive filters sync photos backup api trello mail open".split(separator: " ").map(String.init)

  /// A random line of words, each capitalized or not, with now and then a sentence end (".",
  /// "?", ":") or a possessive; `capitalShare` differs per word so that shares cross 70%.
  static func text(_ rng: inout SeededGenerator, words count: ClosedRange<Int>) -> String {
    var out = ""
    for i in 0..<Int.random(in: count, using: &rng) {
      let index = Int.random(in: 0..<words.count, using: &rng)
      var w = words[index]
      // Word k is capitalized about (k * 7 % 10 + 1) / 11 of the time.
      if Double.random(in: 0..<1, using: &rng) < Double(index * 7 % 10 + 1) / 11 { w = w.prefix(1).uppercased() + w.dropFirst() }
      if i > 0 { out += [" ", " ", " ", ". ", "? ", ": ", "\n"].randomElement(using: &rng)! }
      out += w + (Int.random(in: 0..<15, using: &rng) == 0 ? "'s" : "")
    }
    return out
  }

  /// The whole-corpus scan that `guess` did before the counts: candidates from the distinct
  /// titles, then their uses over every line of every text.
  static func scan(titles: [String], texts: [String]) -> Set<String> {
    var problems: [String: Int] = [:]
    for title in Set(titles) {
      for word in Set(ProductNames.capitalizedWords(inTitle: title)) { problems[word, default: 0] += 1 }
    }
    let candidates = Set(problems.filter { $0.value >= 2 && !MentionText.functionWords.contains($0.key) }.keys)
    var uses: [String: (capital: Int, all: Int)] = [:]
    for text in texts {
      for line in text.split(separator: "\n") {
        ProductNames.forEachWord(in: line) { word, sentenceStart in
          let lower = word.lowercased()
          guard !sentenceStart, candidates.contains(lower) else { return }
          uses[lower, default: (0, 0)].all += 1
          if word.first!.isUppercase { uses[lower]!.capital += 1 }
        }
      }
    }
    return candidates.filter { w in uses[w].map { $0.all > 0 && Double($0.capital) >= 0.7 * Double($0.all) } ?? false }
  }

  /// Random adds, removes and edits of problem titles (some given twice) and answer texts:
  /// after each step the counts equal counts built afresh, and their names the whole-corpus scan's.
  @Test func countsKeptByDeltasEqualAFreshBuild() throws {
    var rng = SeededGenerator(seed: 0x9A3E)
    var titles: [String] = []
    var texts: [String] = []
    var counts = ProductCounts()
    var namesSeen: Set<Set<String>> = []
    for step in 0..<400 {
      switch Int.random(in: 0..<6, using: &rng) {
      case 0, 1:
        // A new title, or one already counted (a title given twice counts once).
        let t = titles.isEmpty || Bool.random(using: &rng) ? Self.text(&rng, words: 2...5) : titles.randomElement(using: &rng)!
        titles.append(t)
        counts.add(title: t)
      case 2:
        if !titles.isEmpty {
          let removed = counts.remove(title: titles.remove(at: Int.random(in: 0..<titles.count, using: &rng)))
          #expect(removed)
        }
      case 3, 4:
        let t = Self.text(&rng, words: 0...25)
        texts.append(t)
        counts.add(text: t)
      default:
        // An edit: the old text out, a new one in.
        guard !texts.isEmpty else { continue }
        let i = Int.random(in: 0..<texts.count, using: &rng)
        let removed = counts.remove(text: texts[i])
        #expect(removed)
        texts[i] = Self.text(&rng, words: 0...25)
        counts.add(text: texts[i])
      }
      let fresh = ProductCounts(titles: titles.shuffled(using: &rng), texts: texts.shuffled(using: &rng))
      #expect(counts == fresh, "step \(step)")
      #expect(counts.names == Self.scan(titles: titles, texts: texts), "step \(step)")
      #expect(ProductNames.guess(titles: titles, texts: texts) == counts.names, "step \(step)")
      namesSeen.insert(counts.names)
      if step % 50 == 0 { #expect(ProductCounts(stored: counts.stored) == counts) }
    }
    // The sequence made names come and go.
    #expect(namesSeen.count >= 4)
    #expect(namesSeen.contains { !$0.isEmpty })
  }

  @Test func removingWhatWasNotCountedIsReported() {
    var counts = ProductCounts(titles: ["Archive in Gmail"], texts: ["Gmail keeps mail"])
    let results = [
      counts.remove(title: "Filters in Gmail"),
      counts.remove(title: "archive"),  // names no capitalized word: never counted, nothing to remove
      counts.remove(text: "Dropbox keeps files"),
      counts.remove(text: "Gmail keeps mail"),
    ]
    #expect(results == [false, true, false, true])
    // An answer in and out as one: its problem's title and its texts.
    var answer = ProductCounts()
    answer.add(title: "Archive in Gmail", texts: ["Archive in Gmail", "Open Gmail. Then archive in Gmail."])
    #expect(answer == ProductCounts(titles: ["Archive in Gmail"], texts: ["Archive in Gmail", "Open Gmail. Then archive in Gmail."]))
    let out = answer.remove(title: "Archive in Gmail", texts: ["Archive in Gmail", "Open Gmail. Then archive in Gmail."])
    #expect(out && answer == ProductCounts())
  }

  @Test func storedFormRejectsColumnsThatDoNotFit() {
    let counts = ProductCounts(titles: ["Archive in Gmail", "Filters in Gmail"], texts: ["Gmail keeps mail. In Gmail"])
    #expect(counts.names == ["gmail"])
    var s = counts.stored
    #expect(ProductCounts(stored: s) == counts)
    s.words.reverse()
    #expect(ProductCounts(stored: s) == nil)
    s = counts.stored
    s.allUses[0] = -1
    #expect(ProductCounts(stored: s) == nil)
    s = counts.stored
    s.titleCounts.removeLast()
    #expect(ProductCounts(stored: s) == nil)
  }

  /// Each problem's products after a delta (titles changed, problems added or dropped, names
  /// that came or went) equal a recomputation over every title.
  @Test func problemProductsUpdatedForChangedProblemsEqualARecomputation() {
    var rng = SeededGenerator(seed: 0x5E75)
    var titles = (0..<30).map { _ in Self.text(&rng, words: 2...5) }
    var names: Set<String> = ["gmail", "dropbox"]
    var sets = titles.map { ProductNames.named(inTitle: $0, among: names) }
    for step in 0..<200 {
      var changed: Set<Int> = []
      for _ in 0..<Int.random(in: 0...2, using: &rng) {
        let p = Int.random(in: 0..<titles.count, using: &rng)
        titles[p] = Self.text(&rng, words: 2...5)
        changed.insert(p)
      }
      if Int.random(in: 0..<4, using: &rng) == 0 { titles.append(Self.text(&rng, words: 2...5)) }
      if Int.random(in: 0..<6, using: &rng) == 0, titles.count > 1 { titles.removeLast() }
      let old = names
      if Int.random(in: 0..<5, using: &rng) == 0 {
        let w = Self.words.randomElement(using: &rng)!
        if names.contains(w) { names.remove(w) } else { names.insert(w) }
      }
      ProductNames.update(&sets, count: titles.count, titles: { titles[$0] }, changed: changed, names: old, now: names)
      #expect(sets == titles.map { ProductNames.named(inTitle: $0, among: names) }, "step \(step)")
    }
  }

  /// The byte walk over ASCII text finds the very uses the walk over Characters finds; text
  /// with a carriage return or non-ASCII characters takes the Character walk.
  @Test func asciiWalkFindsTheUsesCharactersFind() {
    var rng = SeededGenerator(seed: 0xA5C1)
    let pieces = [
      "Gmail", "gmail", "API", "x", "Ab", "_id", "v2", "it", "'s", " ", "  ", "\t", ".", "? ", "!", ":", ",", "\n",
      "\n\n", "-", "(", "9", "\r\n", "\r", "é", "Éclair", "e\u{301}", "naïve", "Ω", "東京", "🙂",
    ]
    func uses(_ walk: (String, (String, Bool) -> Void) -> Void, _ text: String) -> [String] {
      var out: [String] = []
      walk(text) { word, capital in out.append(word + (capital ? "^" : "")) }
      return out
    }
    var asciiTexts = 0
    for _ in 0..<3000 {
      let text = (0..<Int.random(in: 0...14, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined(
        separator: Bool.random(using: &rng) ? " " : "")
      if text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) { asciiTexts += 1 }
      #expect(uses(ProductNames.forEachUse, text) == uses(ProductNames.forEachUseByCharacter, text), "\(text.debugDescription)")
    }
    #expect(asciiTexts > 200)
  }
}
