import Foundation
import KBTestSupport
import Testing

@testable import KBCore

@Suite struct MentionTextTests {
  @Test func messyMentionIsNormalized() {
    let m = MentionText(normalizing: "@NorthwindHelp ur app keeps crashing sooooo annoying 😡😡 https://t.co/abc #iPhoneProblems")
    #expect(m.text == "your app keeps crashing so annoying iphone problems")
    #expect(m.handles == ["@NorthwindHelp"])
    #expect(m.urls == ["https://t.co/abc"])
    #expect(m.hashtags == ["iPhoneProblems"])
    #expect(m.emoji == ["😡", "😡"])
    #expect(m.emojiSentiment == -2)
    #expect(!m.asksQuestion)
  }

  @Test(arguments: [
    ("pls help my txt msgs wont send", "please help my text messages won't send"),
    ("cant log in plz", "can't log in please"),
    ("it is sooooo slowwwww", "it is so slow"),
    ("my phone is goooood now", "my phone is good now"),
    ("dont know why u r ignoring me", "don't know why you are ignoring me"),
    ("Texts repeating &amp; repeating", "texts repeating repeating"),
  ])
  func chatSpellingAndElongation(input: String, expected: String) {
    #expect(MentionText(normalizing: input).text == expected)
  }

  @Test(arguments: [
    ("iPhoneProblems", ["iphone", "problems"]),
    ("textsnotsending", ["texts", "not", "sending"]),
    ("WiFiDown", ["wi", "fi", "down"]),
    ("outage2024", ["outage", "2024"]),
    ("fail_again", ["fail", "again"]),
    ("NorthwindFail", ["northwind", "fail"]),
  ])
  func hashtagsSplitIntoWords(tag: String, words: [String]) {
    #expect(MentionText.splitHashtag(tag) == words)
  }

  @Test func hashtagsSplitWithTheKnowledgeBasesWords() {
    #expect(MentionText.splitHashtag("voicemailbroken", vocabulary: ["voicemail", "broken"]) == ["voicemail", "broken"])
  }

  @Test func termsLeaveOutFunctionWordsButTheTextKeepsThem() {
    let m = MentionText(normalizing: "How do I stop my iPhone getting the same text over and over?")
    #expect(m.asksQuestion)
    #expect(m.words.contains("how") && m.words.contains("not") == false)
    #expect(m.terms == ["stop", "iphone", "text"])
  }

  @Test func synonymsExpandCustomersWords() {
    let m = MentionText(normalizing: "how do i remove my fb account")
    #expect(m.expansions.contains("delete"))
    #expect(m.expansions.contains("facebook"))
  }
}

@Suite struct MentionGuardTests {
  var settings: Settings {
    var s = Settings()
    s.team = "Northwind Help"
    s.products = ["Northwind Mobile", "HomeHub"]
    s.competitors = ["Acme Mobile", "Globex"]
    s.handles = ["@NorthwindHelp"]
    return s
  }

  func kinds(_ text: String, onTopic: Bool = false) -> [MentionGuard.Kind] {
    MentionGuard.check(MentionText(normalizing: text), settings: settings, onTopic: onTopic).map(\.kind)
  }

  @Test func competitorsUnhappyCustomer() {
    #expect(kinds("@AcmeMobile dropped my calls all week, thinking of switching").contains(.competitor))
    #expect(kinds("Globex broadband is down again?").contains(.competitor))
    // Naming us too: it is our conversation.
    #expect(!kinds("@NorthwindHelp is Northwind Mobile better than Acme Mobile for roaming?").contains(.competitor))
  }

  @Test func ventingWithoutAQuestion() {
    #expect(kinds("worst network ever, sick of this 😤").contains(.venting))
    // Venting that also asks for help: the guard says so, and the reply still gives the fix.
    #expect(kinds("worst network ever, how do I fix the signal?").contains(.venting))
    #expect(MentionText(normalizing: "worst network ever, how do I fix the signal?").asksForHelp)
    // A complaint in question form asks nothing.
    #expect(kinds("@NorthwindHelp is the worst customer service").contains(.venting))
    #expect(!MentionText(normalizing: "@NorthwindHelp is the worst customer service").asksForHelp)
    // Gratitude is not venting, however loud.
    #expect(!kinds("Thanks!!").contains(.venting))
    #expect(!kinds("THANK YOU SO MUCH NORTHWIND!!!").contains(.venting))
    #expect(!kinds("my texts repeat").contains(.venting))
  }

  @Test func unrelatedTrendingHashtag() {
    #expect(kinds("happy friday everyone #FridayFeeling").contains(.unrelatedTrend))
    #expect(!kinds("my HomeHub light is orange #fail").contains(.unrelatedTrend))
    #expect(!kinds("texts repeating #annoying", onTopic: true).contains(.unrelatedTrend))
  }

  @Test func abusiveThreateningAndSelfHarm() {
    // Swearing at a problem is frustration; name-calling is abuse.
    #expect(kinds("your support is shit, fix it") == [.venting])
    #expect(kinds("wtf is wrong with my phone") == [.venting])
    #expect(kinds("you useless idiots, fix it").contains(.abusive))
    // "shoot me a DM" is a request, not a threat.
    #expect(!kinds("shoot me a DM with the details").contains(.threat))
    #expect(kinds("I will shoot up your store").contains(.threat))
    #expect(kinds("fix my internet or I will burn down your store").contains(.threat))
    #expect(kinds("phone cut off, bills everywhere, I want to die").contains(.selfHarm))
    #expect(kinds("my texts repeat").isEmpty)
  }

  @Test func personalDataIsFlaggedAndMasked() {
    let guards = MentionGuard.check(
      MentionText(normalizing: "charged twice on 4111-1111-1111-1111, email me at ana@example.com"), settings: settings,
      onTopic: true)
    let personal = guards.first { $0.kind == .personalData }
    #expect(personal?.evidence == ["card number ending 1111", "e-mail address"])
    // Not a card: fails the Luhn check.
    #expect(MentionGuard.personalData(in: "order 1234567812345678 is late").contains { $0.hasPrefix("card") } == false)
    #expect(MentionGuard.personalData(in: "call me on +44 7700 900123").first == "phone number ending 23")
  }
}

@Suite struct ReplyDraftTests {
  let agent = ReplyDraft.Agent(name: "Jason Reyes")

  @Test func followsThePlaybook() throws {
    let draft = try #require(ReplyDraft.write(
      .init(customer: "@ana", title: "Texts repeat", step: "Turn the phone off for two minutes."),
      templates: ReplyTemplates(), settings: Settings(), agent: agent, channel: "twitter"))
    #expect(draft.text == "@ana Thanks for flagging this, and sorry for the frustration. Here's what usually fixes it: Turn the phone off for two minutes. ^JR")
    #expect(draft.limit == 280 && !draft.truncated && draft.template == "fix")
  }

  @Test(arguments: [("twitter", 280), ("x", 280), ("mastodon", 500)])
  func staysWithinTheChannelLimitAndKeepsTheSignature(channel: String, limit: Int) throws {
    var settings = Settings()
    settings.signature = "— {name}, {team}"
    settings.team = "Northwind Help"
    let step = String(repeating: "Open Settings, then Messages, then switch iMessage off and on again. ", count: 12)
    let draft = try #require(ReplyDraft.write(
      .init(customer: "@ana", title: "Texts repeat", step: step, needsPrivate: true), templates: ReplyTemplates(),
      settings: settings, agent: agent, channel: channel))
    #expect(draft.text.count <= limit)
    #expect(draft.length == draft.text.count)
    #expect(draft.truncated)
    #expect(draft.text.hasSuffix(" — Jason Reyes, Northwind Help"))
    #expect(draft.text.contains("Send us a DM"))
    #expect(draft.text.contains("…"))
  }

  @Test func noLimitWithoutAChannel() throws {
    let step = String(repeating: "word ", count: 100)
    let draft = try #require(ReplyDraft.write(
      .init(step: step), templates: ReplyTemplates(), settings: Settings(), agent: agent, channel: nil))
    #expect(draft.limit == nil && !draft.truncated && draft.text.count > 500)
  }

  @Test func guardsPickTheTemplate() {
    func template(_ guards: [MentionGuard.Kind]) -> String? {
      ReplyDraft.write(
        .init(customer: "@bo", step: "Restart.", guards: guards), templates: ReplyTemplates(), settings: Settings(),
        agent: agent, channel: "twitter")?.template
    }
    #expect(template([.competitor]) == "competitor")
    #expect(template([.venting]) == "venting")
    #expect(template([.personalData]) == "sensitive")
    #expect(template([.selfHarm]) == "care")
    #expect(template([.threat]) == nil)
    #expect(template([.unrelatedTrend]) == nil)
  }

  @Test func templatesFromKBYml() throws {
    let settings = try Settings(parsing: """
      team: Northwind
      signature: "-{initials}"
      reply_templates:
        fix: "{customer} On it! {step}"
        private: "DM us."
      """)
    let templates = ReplyTemplates(settings: settings)
    let draft = try #require(ReplyDraft.write(
      .init(customer: "@ana", step: "Restart.", needsPrivate: true), templates: templates, settings: settings, agent: agent,
      channel: "twitter"))
    #expect(draft.text == "@ana On it! Restart. -JR")
    #expect(templates.text("venting") == ReplyTemplates.defaults["venting"])
  }
}

@Suite struct RankingModelTests {
  @Test func exampleModelMatchesMisspellingsThroughCharacterNgrams() {
    let model = ExampleModel(
      examples: [(0, "same text message keeps repeating"), (1, "battery drains fast"), (2, "router light blinking orange")],
      classCount: 3)
    let scores = model.classScores(for: "txt mesage repeatng").scores
    #expect(scores[0] > scores[1] && scores[0] > scores[2])
  }

  @Test func bm25WeightsTitlesAboveBodies() {
    let bm25 = WordBM25(documents: [
      [("Router light", 3), ("", 2), ("", 1), ("Check the cable.", 1)],
      [("Billing", 3), ("", 2), ("", 1), ("The router light on your bill.", 1)],
    ])
    let s = bm25.scores(for: "router")
    #expect(s[0] > s[1] && s[1] > 0)
  }

  @Test(arguments: [("texts", "text"), ("texting", "text"), ("stopped", "stop"), ("changed", "chang"), ("change", "chang"), ("batteries", "battery")])
  func lightStemmer(word: String, stem: String) {
    #expect(WordBM25.stem(word) == stem)
  }
}

@Suite struct RankingModelCodingTests {
  static let texts = [
    (0, "same text message keeps repeating"), (0, "texts arrive twice, three times, again and again"),
    (1, "battery drains fast overnight"), (1, "phone dies by noon even at 100%"),
    (2, "router light blinking orange"), (2, "no internet light, orange blinking after the move"),
  ]

  /// The model rebuilt from its stored columns, as the model file's reader does.
  func fromColumns(_ m: ExampleModel, normSums: Column<UInt64>? = nil, frequency: Column<Int32>? = nil) -> ExampleModel? {
    ExampleModel(
      config: m.config, classCount: m.classCount, keys: m.index.keys, slots: m.index.slots,
      frequency: frequency ?? m.frequency, postingStart: m.postingStart, postingExample: m.postingExample,
      postingCount: m.postingCount, exampleClass: m.exampleClass, normSums: normSums ?? m.normSums)
  }

  @Test func exampleModelFromItsColumnsRanksBitIdentically() throws {
    let model = ExampleModel(examples: Self.texts, classCount: 3)
    let back = try #require(fromColumns(model))
    #expect(back.inverseNorm.map(\.bitPattern) == model.inverseNorm.map(\.bitPattern))
    for query in ["my txt messages keep repeating", "orange light", "battery"] {
      let a = model.classScoresWithMean(for: query)
      let b = back.classScoresWithMean(for: query)
      #expect(a.scores.map(\.bitPattern) == b.scores.map(\.bitPattern))
      #expect(a.mean.map(\.bitPattern) == b.mean.map(\.bitPattern))
    }
  }

  /// Scores depend on the examples, not on their order (norms are exact integer sums, a
  /// class's mean a fixed-point sum): what lets an example added later give a rebuilt model's bits.
  @Test func exampleOrderDoesNotChangeAnyBit() {
    var rng = SeededGenerator(seed: 0x0DE4)
    let words = "text message repeat loop battery charge drain router light orange modem blink phone dies fast slow again twice never keeps".split(separator: " ")
    // Many examples a class, so that a float sum of their cosines would depend on the order.
    let examples = Self.texts + (0..<90).map { i in
      (i % 3, (0..<Int.random(in: 3...7, using: &rng)).map { _ in String(words.randomElement(using: &rng)!) }.joined(separator: " "))
    }
    let model = ExampleModel(examples: examples, classCount: 3)
    for _ in 0..<5 {
      let shuffled = ExampleModel(examples: examples.shuffled(using: &rng), classCount: 3)
      for query in ["my txt messages keep repeating", "orange light modem", "battery charge", "zzz"] {
        let a = model.classScoresWithMean(for: query)
        let b = shuffled.classScoresWithMean(for: query)
        #expect(a.scores.map(\.bitPattern) == b.scores.map(\.bitPattern))
        #expect(a.best.map(\.bitPattern) == b.best.map(\.bitPattern))
        #expect(a.mean.map(\.bitPattern) == b.mean.map(\.bitPattern))
      }
    }
  }

  /// More examples than a batch of the build (8,192), one without features among them: both
  /// passes cross batch boundaries. Built with its postings in a scratch folder's temporary
  /// file, on the heap, from a shuffled list and with a scratch folder that does not exist:
  /// the same postings (each list in example order), the same bits, and nothing left behind.
  @Test func aLargeModelIsBuiltInBatchesAndInScratchPages() throws {
    var rng = SeededGenerator(seed: 0x5B11)
    let words = "text message repeat loop battery charge drain router light orange modem blink phone dies fast slow again twice never keeps app login password reset card declined refund".split(separator: " ")
    var examples: [(classIndex: Int, text: String)] = (0..<9000).map { i in
      (i % 40, (0..<Int.random(in: 2...6, using: &rng)).map { _ in String(words.randomElement(using: &rng)!) }.joined(separator: " "))
    }
    examples.insert((7, "!!!"), at: 5000)
    let heap = ExampleModel(examples: examples, classCount: 40)
    #expect(heap.exampleCount == 9000)
    let scratch = try TempFolder("scratch")
    let spilled = ExampleModel(examples: examples, classCount: 40, scratch: scratch.path)
    let missing = ExampleModel(examples: examples, classCount: 40, scratch: scratch.path + "/missing")
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    // A feature's id is the order it was met in (arbitrary): compare the postings by key.
    func postings(_ m: ExampleModel, _ key: UInt32) -> [(Int32, UInt8)] {
      guard let id = m.featureID(key) else { return [] }
      return (Int(m.postingStart[Int(id)])..<Int(m.postingStart[Int(id) + 1])).map { (m.postingExample[$0], m.postingCount[$0]) }
    }
    for other in [spilled, missing] {
      #expect(other.index.keys.count == heap.index.keys.count)
      #expect(other.normSums == heap.normSums)
      #expect(heap.index.keys.allSatisfy { key in postings(other, key).elementsEqual(postings(heap, key), by: ==) })
    }
    for id in 0..<(heap.postingStart.count - 1) {
      let list = heap.postingExample[Int(heap.postingStart[id])..<Int(heap.postingStart[id + 1])]
      #expect(zip(list, list.dropFirst()).allSatisfy { $0 < $1 })
    }
    let shuffled = ExampleModel(examples: examples.shuffled(using: &rng), classCount: 40, scratch: scratch.path)
    for query in ["my txt messages keep repeating", "card declined after password reset", "modem light"] {
      let a = heap.classScoresWithMean(for: query)
      for b in [spilled.classScoresWithMean(for: query), shuffled.classScoresWithMean(for: query)] {
        #expect(a.scores.map(\.bitPattern) == b.scores.map(\.bitPattern))
        #expect(a.best.map(\.bitPattern) == b.best.map(\.bitPattern))
        #expect(a.mean.map(\.bitPattern) == b.mean.map(\.bitPattern))
      }
    }
  }

  @Test func columnsThatDoNotFitTogetherAreRefused() {
    let model = ExampleModel(examples: Self.texts, classCount: 3)
    #expect(fromColumns(model, normSums: Column(Array(model.normSums.dropLast()))) == nil)
    #expect(fromColumns(model, frequency: Column(Array(model.frequency.dropLast()))) == nil)
  }

  /// The norms derived from the fixed-point sums (idf = A − L) are the tf-idf vectors' norms:
  /// an example's own text is its nearest neighbour with a cosine of 1.
  @Test func normsFromSumsAreTheTFIDFNorms() throws {
    let model = ExampleModel(examples: Self.texts, classCount: 3)
    for e in 0..<model.exampleCount {
      var square: Double = 0
      for f in 0..<model.keys.count {
        for k in Int(model.postingStart[f])..<Int(model.postingStart[f + 1]) where model.postingExample[k] == Int32(e) {
          let w = Double(ExampleModel.termWeights[Int(model.postingCount[k])]) * Double(model.idf(Int32(f)))
          square += w * w
        }
      }
      #expect(abs(Double(model.inverseNorm[e]) - 1 / square.squareRoot()) < 1e-5 / square.squareRoot())
    }
    let own = model.classScoresWithMean(for: "router light blinking orange")
    #expect(abs(own.best[2] - 1) < 1e-4)
    #expect(own.best[0] < 0.5 && own.best[1] < 0.5)
  }

  @Test func idfCountsClassesNotExamples() throws {
    // "texts" is in two examples of one class, "battery" in one example of another: over
    // classes both are in one of three, so they weigh the same; over examples "texts" is
    // commoner and weighs less.
    let examples = [(0, "texts repeat"), (0, "texts again"), (1, "battery drains"), (2, "router light")]
    let byClass = ExampleModel(examples: examples, classCount: 3)
    var config = ExampleModel.Config()
    config.idfOverClasses = false
    let byExample = ExampleModel(examples: examples, classCount: 3, config: config)
    func idf(_ model: ExampleModel, _ word: String) throws -> Float {
      let key = ExampleModel.key(ExampleModel.fnv(Array(word.utf8), seed: 0x77))
      return model.idf(try #require(model.featureID(key)))
    }
    #expect(try idf(byClass, "texts") == idf(byClass, "battery"))
    #expect(try idf(byExample, "texts") < idf(byExample, "battery"))
    #expect(try idf(byClass, "texts") > idf(byExample, "texts"))
  }

  @Test func wordBM25RoundTripIsIdentical() throws {
    for kind in [WordBM25.Terms.words, .charTrigrams] {
      let bm25 = WordBM25(documents: [
        [("Router light", 3), ("orange light", 2), ("", 1), ("Check the cable.", 1)],
        [("Billing", 3), ("", 2), ("", 1), ("The router light on your bill.", 1)],
      ], terms: kind)
      var w = ByteWriter()
      bm25.write(to: &w)
      let back = try w.bytes.withUnsafeBytes { raw in
        var r = ByteReader(raw)
        return try WordBM25(reading: &r)
      }
      #expect(back.kind == kind)
      #expect(back.scores(for: "routr light blinking") == bm25.scores(for: "routr light blinking"))
    }
  }

  @Test func characterTrigramBM25MatchesAMisspelling() {
    let bm25 = WordBM25(documents: [
      [("Router light blinking", 3), ("", 2), ("", 1), ("", 1)],
      [("Battery drains", 3), ("", 2), ("", 1), ("", 1)],
    ], terms: .charTrigrams)
    let s = bm25.scores(for: "routr blinkin")
    #expect(s[0] > 0 && s[1] == 0)
  }

  @Test func varintsRoundTrip() {
    let values: [UInt64] = [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, .max]
    var w = ByteWriter()
    for v in values { w.append(varint: v) }
    #expect(w.bytes.count == 1 + 1 + 1 + 2 + 2 + 2 + 3 + 6 + 10)
    let (read, endThrows) = w.bytes.withUnsafeBytes { raw -> ([UInt64], Bool) in
      var r = ByteReader(raw)
      var read: [UInt64] = []
      for _ in values { if let v = try? r.readVarint() { read.append(v) } }
      let endThrows = (try? r.readVarint()) == nil
      return (read, endThrows)
    }
    #expect(read == values)
    #expect(endThrows)
  }
}

@Suite struct SortedKeysTests {
  @Test func findsEveryKeyAndNoOther() {
    var rng = SeededGenerator(seed: 0x5EED)
    for size in [0, 1, 2, 17, 5_000] {
      let keys = Array(Set((0..<size).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) })).sorted()
      let index = SortedKeys(keys)
      for (i, k) in keys.enumerated() { #expect(index.position(of: k) == Int32(i)) }
      let present = Set(keys)
      for _ in 0..<200 {
        let k = UInt32.random(in: 0...UInt32.max, using: &rng)
        if !present.contains(k) { #expect(index.position(of: k) == nil) }
      }
      #expect(index.position(of: 0) == (present.contains(0) ? 0 : nil))
      #expect(index.position(of: .max) == (present.contains(.max) ? Int32(keys.count - 1) : nil))
    }
  }
}

@Suite struct KeyTableTests {
  @Test func findsEveryKeyAndRefusesRepeats() {
    var rng = SeededGenerator(seed: 0x5EED)
    for size in [0, 1, 3, 1_000, 20_000] {
      let keys = Array(Set((0..<size).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }))
      guard let table = KeyTable(keys) else {
        Issue.record("distinct keys refused")
        continue
      }
      for (i, k) in keys.enumerated() { #expect(table.id(of: k) == Int32(i)) }
      let present = Set(keys)
      for _ in 0..<200 {
        let k = UInt32.random(in: 0...UInt32.max, using: &rng)
        if !present.contains(k) { #expect(table.id(of: k) == nil) }
      }
    }
    #expect(KeyTable([5, 9, 5]) == nil)
  }
}

/// ``ExampleModel/Overlay``: a saved base plus replaced and new classes ranks bit for bit as the
/// model rebuilt from today's examples (`KB_OVERLAY_SEED`, `KB_OVERLAY_ROUNDS` to run longer).
@Suite struct ExampleOverlayTests {
  static let words = "text message repeat loop battery charge drain router light orange modem blink phone dies fast slow again twice never keeps account login password reset card bill".split(separator: " ").map(String.init)

  static func sentence(_ rng: inout SeededGenerator) -> String {
    (0..<Int.random(in: 1...8, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
  }

  @Test func overlayRanksAsTheRebuiltModel() {
    let env = ProcessInfo.processInfo.environment
    var rng = SeededGenerator(seed: UInt64(env["KB_OVERLAY_SEED"] ?? "") ?? 0x0E7A)
    let rounds = Int(env["KB_OVERLAY_ROUNDS"] ?? "") ?? 40
    for _ in 0..<rounds {
      let baseCount = Int.random(in: 1...7, using: &rng)
      var classes: [[String]] = (0..<baseCount).map { _ in (0..<Int.random(in: 1...5, using: &rng)).map { _ in Self.sentence(&rng) } }
      let base = ExampleModel(examples: Self.examples(classes), classCount: baseCount)
      // Change some classes (some emptied, some given an example no feature of which is new),
      // and add new ones.
      var changes: [Int: (old: [String], new: [String])] = [:]
      for cls in 0..<baseCount where Bool.random(using: &rng) {
        let new: [String] = Int.random(in: 0..<4, using: &rng) == 0 ? [] : (0..<Int.random(in: 1...5, using: &rng)).map { _ in Self.sentence(&rng) }
        changes[cls] = (classes[cls], new)
        classes[cls] = new
      }
      for _ in 0..<Int.random(in: 0...2, using: &rng) {
        let new = (0..<Int.random(in: 1...4, using: &rng)).map { _ in Self.sentence(&rng) } + ["zebra unicorn \(Int.random(in: 0...9, using: &rng))"]
        changes[classes.count] = ([], new)
        classes.append(new)
      }
      // The rebuilt model knows only the classes that have examples now.
      let live = classes.indices.filter { !classes[$0].isEmpty }
      let rebuilt = ExampleModel(examples: Self.examples(live.map { classes[$0] }), classCount: live.count)
      let overlay = ExampleModel.Overlay(base: base, classCount: classes.count, liveClassCount: live.count, changes: changes)
      for _ in 0..<4 {
        let query = Self.sentence(&rng) + (Bool.random(using: &rng) ? " zebra" : "")
        let a = overlay.classScoresWithMean(for: query)
        let b = rebuilt.classScoresWithMean(for: query)
        for (k, cls) in live.enumerated() {
          #expect(a.scores[cls].bitPattern == b.scores[k].bitPattern, "class \(cls) for \(query)")
          #expect(a.best[cls].bitPattern == b.best[k].bitPattern)
          #expect(a.mean[cls].bitPattern == b.mean[k].bitPattern)
        }
        for cls in classes.indices where classes[cls].isEmpty { #expect(a.scores[cls] == 0 && a.mean[cls] == 0) }
      }
    }
  }

  static func examples(_ classes: [[String]]) -> [(classIndex: Int, text: String)] {
    classes.enumerated().flatMap { cls, texts in texts.map { (cls, $0) } }
  }
}
