import CWordVectors
import Foundation
import KBTestSupport
import Testing

@testable import KBCore

@Suite struct WordVectorTableTests {
  @Test func builtInTableIsLinkedAndSorted() throws {
    let table = try #require(WordVectors.builtIn)
    #expect(table.count == 40_000)
    #expect(table.dimensions == 384)
    // Binary search needs the words in byte order, and every word must find its own row.
    var previous: [UInt8] = []
    for id in stride(from: 0, to: table.count, by: 97) {
      let word = Array(table.word(id).utf8)
      #expect(previous.lexicographicallyPrecedes(word))
      #expect(table.id(of: word) == id)
      previous = word
    }
    for word in ["death", "die", "delete", "account", "iphone", "dont"] {
      #expect(table.id(of: Array(word.utf8)) != nil, "\(word)")
    }
    for word in ["", "zzzzqxj", "don't", "Death"] {
      #expect(table.id(of: Array(word.utf8)) == nil, "\(word)")
    }
  }

  /// Each row's 4-bit values, decoded one by one here, against the (vectorized) kernel.
  @Test func nibbleKernelDecodesSignedValues() {
    var row = [UInt8](repeating: 0, count: 40)  // 80 dimensions: two 32-wide steps and a rest
    var expected = [Float](repeating: 0.5, count: 80)
    for j in 0..<80 {
      let value = (j * 7 % 16) - 8  // −8…7
      row[j / 2] |= UInt8(value & 15) << (j % 2 == 0 ? 0 : 4)
      expected[j] += 0.25 * Float(value)
    }
    var sum = [Float](repeating: 0.5, count: 80)
    kb_add_nibbles(row, 80, 0.25, &sum)
    #expect(sum == expected)
    var portable = [Float](repeating: 0.5, count: 80)
    kb_add_nibbles_portable(row, 80, 0.25, &portable)
    #expect(portable == expected)
  }

  @Test func halfPrecisionDotKernelMatchesPlainSums() {
    let dims = 40  // two 16-wide steps and a rest
    let rows = (0..<(3 * dims)).map { Float(($0 * 13) % 17) / 17 - 0.5 }
    let query = (0..<dims).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    let halves = SemanticModel.halves(rows)
    var out = [Float](repeating: 0, count: 3)
    kb_dots_f16(halves, 3, dims, query, &out)
    for i in 0..<3 {
      let plain = (0..<dims).reduce(Float(0)) { $0 + rows[i * dims + $1] * query[$1] }
      #expect(abs(out[i] - plain) < 2e-3)
      let exact = (0..<dims).reduce(Float(0)) { $0 + kb_from_f16(halves[i * dims + $1]) * query[$1] }
      #expect(abs(out[i] - exact) < 1e-5)
    }
    var portable = [Float](repeating: 0, count: 3)
    kb_dots_f16_portable(halves, 3, dims, query, &portable)
    for i in 0..<3 { #expect(abs(portable[i] - out[i]) < 1e-5) }
  }

  /// Values half precision holds exactly come back unchanged; others round to nearest even.
  @Test(arguments: [
    (Float(1), UInt16(0x3C00), true), (-2, 0xC000, true), (0.5, 0x3800, true), (0, 0, true),
    (65504, 0x7BFF, true), (.infinity, 0x7C00, true), (5.960464477539063e-8, 0x0001, true),  // 2^-24
    (1.0009765625, 0x3C01, true), (1e6, 0x7C00, false),
    (1.00048828125, 0x3C00, false),  // halfway between 0x3C00 and 0x3C01: to even
    (1.00146484375, 0x3C02, false),  // halfway between 0x3C01 and 0x3C02: to even
  ])
  func halfPrecisionRoundsToNearestEven(value: Float, bits: UInt16, exact: Bool) {
    #expect(SemanticModel.halves([value]) == [bits])
    if exact { #expect(kb_from_f16(bits) == value) }
  }

  @Test func malformedTablesAreRefused() throws {
    let table = try #require(WordVectors.builtIn)
    var size = 0
    let start = try #require(kb_word_vectors(&size))
    let bytes = Array(UnsafeBufferPointer(start: start, count: size))
    #expect(bytes.count == size && table.count > 0)
    func read(_ b: [UInt8]) -> WordVectors? { b.withUnsafeBytes { WordVectors(bytes: $0) } }
    #expect(read(Array(bytes.prefix(size - 1))) == nil)  // truncated
    var magic = bytes
    magic[0] = UInt8(ascii: "X")
    #expect(read(magic) == nil)
    var offsets = bytes
    offsets[16 + 4 * 5] = 0xFF  // an offset past the words' bytes
    offsets[16 + 4 * 5 + 3] = 0x7F
    #expect(read(offsets) == nil)
    #expect(read([]) == nil)
  }
}

@Suite struct SemanticModelTests {
  static let problems = [
    (0, "What happens to your account when you die?"),
    (0, "Memorialized accounts keep a deceased person's profile visible to friends."),
    (1, "Phone battery drains fast overnight"),
    (2, "How do I print a document from my laptop?"),
  ]

  @Test func matchesMeaningWithoutSharedWords() throws {
    let model = try #require(SemanticModel(examples: Self.problems, classCount: 3))
    // No content word in common with its problem's examples.
    let cases = [
      ("after her death", 0), ("her father passed away", 0), ("funeral", 0), ("charge runs out quickly", 1),
      ("charger", 1), ("printer jammed", 2), ("paper jam", 2), ("ink", 2),
    ]
    for (text, expected) in cases {
      let scores = model.scores(for: text)
      #expect(scores.indices.max { scores[$0] < scores[$1] } == expected, "\(text): \(scores)")
    }
  }

  @Test func textsWithoutKnownWordsScoreZero() throws {
    let model = try #require(SemanticModel(examples: Self.problems, classCount: 3))
    #expect(model.scores(for: "zzzqx qqqzz 12345") == [0, 0, 0])
    #expect(model.scores(for: "") == [0, 0, 0])
    let empty = try #require(SemanticModel(examples: [], classCount: 0))
    #expect(empty.scores(for: "battery").isEmpty)
  }

  @Test func idfCountsClassesThatUseAWord() throws {
    let model = try #require(SemanticModel(examples: Self.problems, classCount: 3))
    let table = try #require(WordVectors.builtIn)
    func frequency(_ word: String) throws -> Int32 { model.classFrequency[try #require(table.id(of: Array(word.utf8)))] }
    #expect(try frequency("account") == 1)  // twice in class 0, counted once
    #expect(try frequency("my") == 1)
    #expect(try frequency("battery") == 1)
    #expect(try frequency("the") == 0)
  }

  @Test func roundTripGivesTheSameScores() throws {
    let model = try #require(SemanticModel(examples: Self.problems, classCount: 3))
    var w = ByteWriter()
    model.write(to: &w)
    let table = try #require(WordVectors.builtIn)
    let back = try w.bytes.withUnsafeBytes { raw in
      var r = ByteReader(raw)
      let back = try SemanticModel(reading: &r, vectors: table)
      #expect(r.remaining == 0)
      return back
    }
    #expect(back.centroids == model.centroids)
    #expect(back.classFrequency == model.classFrequency)
    #expect(back.scores(for: "my account after death") == model.scores(for: "my account after death"))
    // A cut anywhere throws.
    for cut in stride(from: 0, to: w.bytes.count, by: max(1, w.bytes.count / 30)) {
      let threw = Array(w.bytes[..<cut]).withUnsafeBytes { raw -> Bool in
        var r = ByteReader(raw)
        return (try? SemanticModel(reading: &r, vectors: table)) == nil
      }
      #expect(threw, "cut at \(cut)")
    }
  }
}

/// ``SemanticModel/updated(changes:classCount:liveClassCount:)`` gives the bits of a model built
/// from scratch over today's classes (`KB_OVERLAY_SEED`, `KB_OVERLAY_ROUNDS` to run longer).
@Suite struct SemanticUpdateTests {
  static let words = "account death profile friends battery drains overnight print document laptop phone charge card refund bill password login the a my is again".split(separator: " ").map(String.init)

  static func sentence(_ rng: inout SeededGenerator) -> String {
    (0..<Int.random(in: 1...9, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
  }

  @Test func anUpdateRanksAsAModelBuiltFromScratch() throws {
    let env = ProcessInfo.processInfo.environment
    var rng = SeededGenerator(seed: UInt64(env["KB_OVERLAY_SEED"] ?? "") ?? 0x5E4A)
    let rounds = Int(env["KB_OVERLAY_ROUNDS"] ?? "") ?? 40
    var recomputedSome = false
    for round in 0..<rounds {
      let baseCount = Int.random(in: 1...8, using: &rng)
      var classes: [[String]] = (0..<baseCount).map { _ in (0..<Int.random(in: 1...4, using: &rng)).map { _ in Self.sentence(&rng) } }
      let base = try #require(SemanticModel(examples: Self.examples(classes), classCount: baseCount))
      var changes: [Int: [String]] = [:]
      for k in 0..<baseCount where Int.random(in: 0..<3, using: &rng) == 0 {
        let now: [String] = Bool.random(using: &rng) && round % 3 == 0 ? [] : (0..<Int.random(in: 1...4, using: &rng)).map { _ in Self.sentence(&rng) }
        changes[k] = now
        classes[k] = now
      }
      if round % 2 == 0 {
        classes.append([Self.sentence(&rng) + " funeral"])
        changes[classes.count - 1] = classes.last!
      }
      let live = classes.indices.filter { !classes[$0].isEmpty }
      let updated = try #require(base.updated(changes: changes, classCount: classes.count, liveClassCount: live.count))
      let rebuilt = try #require(SemanticModel(examples: Self.examples(live.map { classes[$0] }), classCount: live.count))
      for (k, cls) in live.enumerated() {
        let a = Array(updated.centroids[(cls * updated.dimensions)..<((cls + 1) * updated.dimensions)])
        let b = Array(rebuilt.centroids[(k * rebuilt.dimensions)..<((k + 1) * rebuilt.dimensions)])
        #expect(a == b, "round \(round), class \(cls)")
      }
      for _ in 0..<3 {
        let query = Self.sentence(&rng)
        let a = updated.scores(for: query)
        let b = rebuilt.scores(for: query)
        #expect(live.enumerated().allSatisfy { a[$1].bitPattern == b[$0].bitPattern }, "round \(round): \(query)")
      }
      if live.count == baseCount, changes.count < baseCount { recomputedSome = true }
    }
    #expect(recomputedSome)
  }

  static func examples(_ classes: [[String]]) -> [(classIndex: Int, text: String)] {
    classes.enumerated().flatMap { k, texts in texts.map { (k, $0) } }
  }
}

@Suite struct ProductNamesTests {
  @Test func capitalizedInTitlesAndMostUsesIsAProduct() {
    let titles = [
      "Archive in Gmail", "Filters in Gmail", "Vimeo links with a start time", "Link to a time in a YouTube video",
      "Subtitles on YouTube", "Resetting the My Northwind password", "Two-factor codes for My Northwind",
    ]
    let bodies = [
      "Open Gmail and pick the message. In gmail's settings you can also do it.",
      "my account, my phone: it is my problem. Then My Northwind shows it. Gmail again, Gmail.",
      "Sign in to YouTube first.", "Northwind support can help.",
    ]
    let names = ProductNames.guess(titles: titles, texts: titles + bodies)
    // "Vimeo" is in one title only; "My" is a function word.
    #expect(names == ["gmail", "youtube", "northwind"])
    // Even where the bodies write it with a capital (as the sample KB's "My Northwind" does).
    let capitalMy = ProductNames.guess(titles: titles, texts: titles + ["Open My Northwind, then My Northwind again."])
    #expect(!capitalMy.contains("my"))
  }

  @Test func sentenceStartsDoNotCount() {
    // Capitalized only where every word is: at the start of a title, a line or a sentence.
    let titles = ["Archive mail", "Archive photos", "Photos: Backup", "Mail. Backup"]
    #expect(ProductNames.guess(titles: titles, texts: titles + ["Backup first. Archive then."]).isEmpty)
    #expect(ProductNames.capitalizedWords(inTitle: "How to use GitHub's API in Trello") == ["github", "api", "trello"])
    #expect(ProductNames.capitalizedWords(inTitle: "Done. Next step? Then X or Gmail2") == ["gmail"])
  }
}
