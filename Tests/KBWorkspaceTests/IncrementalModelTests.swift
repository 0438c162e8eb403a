import Foundation
import KBCore
import KBStore
import Testing

@testable import KBWorkspace

/// The suggestion model kept up to date through the refresh path (one knowledge base, changed
/// step by step, its index updated in place and its model reused, reloaded or rebuilt as its
/// inputs say) must rank exactly as a model built from scratch over the same files.
///
/// Seeded and sized from the environment: `KB_MODEL_PROPERTY_SEED` (default 13),
/// `KB_MODEL_PROPERTY_STEPS` (default 24), e.g. `KB_MODEL_PROPERTY_SEED=7
/// KB_MODEL_PROPERTY_STEPS=200 swift test --filter IncrementalModelTests`.
@Suite struct IncrementalModelTests {
  /// SplitMix64: the same sequence for the same seed on every machine.
  struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
  }

  static let words = [
    "iphone", "text", "message", "repeats", "battery", "drains", "router", "light", "orange", "refund",
    "account", "password", "reset", "login", "fails", "app", "crashes", "update", "wifi", "slow", "order",
    "missing", "delivery", "late", "card", "declined", "payment", "screen", "black", "sound", "Gmail",
    "Dropbox", "sync", "photos", "backup", "delete", "profile", "hub", "blinks", "again", "after", "storm",
  ]
  static let titles = [
    "iPhone text messages repeat", "Battery drains after the update", "Router light blinking orange",
    "Refund not showing", "Password reset email missing", "Gmail sync stops on the phone",
    "Dropbox photos backup fails", "Card declined at checkout", "Delivery is late",
  ]
  static let mentions = [
    "my iphone keeps getting the same text over and over",
    "battery dead by lunch since the update",
    "hub blinking orange no wifi after the storm",
    "where is my refund, ordered two weeks ago",
    "gmail wont sync photos to dropbox",
    "card declined again when I pay",
  ]

  final class Folder {
    let root = NSTemporaryDirectory() + "kb-model-property-\(UUID().uuidString)"
    init() throws { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ relative: String, _ text: String) throws {
      let path = root + "/" + relative
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func read(_ relative: String) -> String? { try? String(contentsOfFile: root + "/" + relative, encoding: .utf8) }
    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: root + "/" + relative) }

    /// A copy of the files only (no `.kb/`): what a teammate's fresh clone would index.
    func copyOfFiles() throws -> Folder {
      let copy = try Folder()
      let names = try FileManager.default.subpathsOfDirectory(atPath: root)
      for name in names where name.hasSuffix(".md") || name == "kb.yml" {
        guard !name.hasPrefix(".kb") else { continue }
        try copy.write(name, read(name) ?? "")
      }
      return copy
    }
  }

  /// The knowledge base as the test sees it: answers and cases by number.
  struct Model {
    var answers: [Int: (title: String, symptoms: [String], body: String)] = [:]
    var cases: [Int: (answer: Int?, status: String, complaint: String, journal: [String])] = [:]
    var nextAnswer = 0
    var nextCase = 0
  }

  static func phrase(_ r: inout Random, _ n: Int) -> String {
    (0..<n).map { _ in r.pick(words) }.joined(separator: " ")
  }

  static func answerText(_ i: Int, _ a: (title: String, symptoms: [String], body: String)) -> String {
    """
    ---
    id: answer-\(i)
    type: answer
    title: "\(a.title)"
    symptoms:
    \(a.symptoms.map { "  - \"\($0)\"" }.joined(separator: "\n"))
    ---

    \(a.body)

    ## Fix

    1. Try it again.
    """
  }

  static func caseText(_ i: Int, _ c: (answer: Int?, status: String, complaint: String, journal: [String])) -> String {
    """
    ---
    id: case-\(i)
    type: case
    status: \(c.status)
    channel: twitter
    customer: "@someone"
    opened: 2024-10-20T16:05:00Z
    \(c.answer.map { "answer: answer-\($0)" } ?? "")
    ---

    > \(c.complaint)

    ## Journal

    - 2024-10-20T16:05:00Z · Jason Reyes · opened · From twitter.
    \(c.journal.joined(separator: "\n"))

    """
  }

  /// One random change to the files (and to `m`).
  static func step(_ r: inout Random, _ m: inout Model, _ folder: Folder) throws -> String {
    let answerIDs = m.answers.keys.sorted()
    let caseIDs = m.cases.keys.sorted()
    switch r.below(9) {
    case 0, 1:
      let i = m.nextAnswer
      m.nextAnswer += 1
      // Often a title already used: an alternative answer to the same problem.
      let title = r.chance(40) && !answerIDs.isEmpty ? m.answers[r.pick(answerIDs)]!.title : r.pick(titles)
      m.answers[i] = (title, [phrase(&r, 4), phrase(&r, 3)], phrase(&r, 12))
      try folder.write("answers/answer-\(i).md", answerText(i, m.answers[i]!))
      return "add answer \(i)"
    case 2:
      guard let i = answerIDs.isEmpty ? nil : r.pick(answerIDs) else { return "nothing" }
      if r.chance(30) { m.answers[i]!.title = r.pick(titles) } else { m.answers[i]!.body += " " + phrase(&r, 5) }
      try folder.write("answers/answer-\(i).md", answerText(i, m.answers[i]!))
      return "edit answer \(i)"
    case 3:
      guard answerIDs.count > 2, let i = Optional(r.pick(answerIDs)) else { return "nothing" }
      m.answers[i] = nil
      try folder.remove("answers/answer-\(i).md")
      return "delete answer \(i)"
    case 4:
      let i = m.nextCase
      m.nextCase += 1
      m.cases[i] = (nil, "open", phrase(&r, 7), [])
      try folder.write("cases/2024/10/case-\(i).md", caseText(i, m.cases[i]!))
      return "open case \(i)"
    case 5:
      guard !caseIDs.isEmpty, !answerIDs.isEmpty else { return "nothing" }
      let i = r.pick(caseIDs)
      m.cases[i]!.answer = r.pick(answerIDs)
      m.cases[i]!.status = r.chance(80) ? "resolved" : "closed"
      m.cases[i]!.journal.append("- 2024-10-21T10:00:00Z · Jason Reyes · resolved · Fixed.")
      try folder.write("cases/2024/10/case-\(i).md", caseText(i, m.cases[i]!))
      return "resolve case \(i)"
    case 6:
      guard !caseIDs.isEmpty else { return "nothing" }
      let i = r.pick(caseIDs)
      let outcome = r.pick(["Held: all good.", "Did not hold: still broken.", "didn't hold - again", "Customer did not reply."])
      m.cases[i]!.journal.append("- 2024-10-23T10:00:00Z · Jason Reyes · checked-back · \(outcome)")
      try folder.write("cases/2024/10/case-\(i).md", caseText(i, m.cases[i]!))
      return "check back case \(i)"
    case 7:
      guard !caseIDs.isEmpty else { return "nothing" }
      let i = r.pick(caseIDs)
      if r.chance(50) {
        m.cases[i]!.journal.append("- 2024-10-22T10:00:00Z · Jason Reyes · note · \(phrase(&r, 4))")
      } else {
        m.cases[i]!.complaint = phrase(&r, 6)
      }
      try folder.write("cases/2024/10/case-\(i).md", caseText(i, m.cases[i]!))
      return "edit case \(i)"
    default:
      guard !caseIDs.isEmpty else { return "nothing" }
      let i = r.pick(caseIDs)
      m.cases[i] = nil
      try folder.remove("cases/2024/10/case-\(i).md")
      return "delete case \(i)"
    }
  }

  /// Everything a suggestion shows that the model decides, for every mention.
  static func rankings(_ ws: Workspace) throws -> [String] {
    try mentions.map { text in
      let result = try ws.suggest(Mention(text: text), options: SuggestOptions(limit: 5))
      return result.verdict.rawValue + " " + result.suggestions.map { s in
        "\(s.id) \(s.score) \(s.similarity) \(s.confidence) \(s.evidence.cases)/\(s.evidence.held)/\(s.evidence.failed)"
      }.joined(separator: " | ")
    }
  }

  @Test func incrementallyMaintainedModelRanksExactlyAsOneBuiltFromScratch() throws {
    let env = ProcessInfo.processInfo.environment
    let seed = env["KB_MODEL_PROPERTY_SEED"].flatMap(UInt64.init) ?? 13
    let steps = env["KB_MODEL_PROPERTY_STEPS"].flatMap(Int.init) ?? 24
    var r = Random(state: seed)
    var m = Model()
    let folder = try Folder()
    try folder.write("kb.yml", "team: \"Northwind Help\"\n")
    for _ in 0..<4 { _ = try Self.step(&r, &m, folder) }
    let ws = try Workspace(root: folder.root)
    try ws.refresh()
    var log: [String] = []
    var overlays = 0
    for n in 0..<steps {
      // One to three changes between suggestions, as a sync or an editor brings them.
      for _ in 0...r.below(3) { log.append(try Self.step(&r, &m, folder)) }
      try ws.refresh()
      let incremental = try Self.rankings(ws)
      // Mostly the saved model plus the documents changed since (``Suggester/overlaid``).
      if try ws.suggester().base != nil { overlays += 1 }
      let copy = try folder.copyOfFiles()
      let fresh = try Workspace(root: copy.root)
      try fresh.refresh()
      let rebuilt = try Self.rankings(fresh)
      #expect(incremental == rebuilt, "seed \(seed), step \(n) after: \(log.suffix(3))")
      // The counts kept by deltas are the counts a fresh index computes.
      #expect(try ws.store.suggestState() == fresh.store.suggestState(), "seed \(seed), step \(n)")
      let a = try ws.store.answerEvidence().mapValues { "\($0.cases)/\($0.held)/\($0.failed)" }
      let b = try fresh.store.answerEvidence().mapValues { "\($0.cases)/\($0.held)/\($0.failed)" }
      #expect(a == b, "seed \(seed), step \(n)")
      if incremental != rebuilt { break }
    }
    #expect(overlays * 2 > steps, "only \(overlays) of \(steps) steps kept the saved model")
  }

  /// The overlay's harder cases, one at a time, each ranked as a fresh index of the same files:
  /// an answer taking an id another answer has, at an earlier path (the cases naming it move to
  /// its problem); an answer joining another problem by its title (its old problem left empty,
  /// then given an answer again); a title without letters (a problem of its own); a rename; a
  /// case linked to another answer; every answer of a problem removed.
  @Test func hardChangesRankAsARebuild() throws {
    let folder = try Folder()
    try folder.write("kb.yml", "team: \"Northwind Help\"\n")
    let answer = { (id: String, title: String, symptom: String, body: String) -> String in
      "---\nid: \(id)\ntype: answer\ntitle: \"\(title)\"\nsymptoms:\n  - \"\(symptom)\"\n---\n\n\(body)\n"
    }
    let kase = { (id: String, answerID: String, complaint: String) -> String in
      "---\nid: \(id)\ntype: case\nstatus: resolved\nchannel: twitter\ncustomer: \"@someone\"\nopened: 2024-10-20T16:05:00Z\nanswer: \(answerID)\n---\n\n> \(complaint)\n\n## Journal\n\n- 2024-10-20T16:05:00Z · Jason Reyes · opened · From twitter.\n"
    }
    try folder.write("answers/m-router.md", answer("router", "Router light blinking orange", "hub blinks orange", "Restart the hub."))
    try folder.write("answers/n-refund.md", answer("refund", "Refund not showing", "where is my refund", "Refunds take five days."))
    try folder.write("answers/p-battery.md", answer("battery", "Battery drains fast", "phone dead by lunch", "Turn off background refresh."))
    try folder.write("cases/c1.md", kase("c1", "router", "zyxel box flashing amber since the storm"))
    try folder.write("cases/c2.md", kase("c2", "refund", "two weeks and still no money back"))
    let ws = try Workspace(root: folder.root)
    _ = try ws.refresh()
    _ = try ws.suggester()
    let steps: [(String, () throws -> Void)] = [
      ("an earlier path takes the id router", {
        try folder.write("answers/a-router.md", answer("router", "Modem keeps rebooting", "modem restarts every hour", "Replace the adapter."))
      }),
      ("refund joins the battery problem by its title", {
        try folder.write("answers/n-refund.md", answer("refund", "Battery drains fast", "refund of a battery", "Check the warranty."))
      }),
      ("a title without letters", {
        try folder.write("answers/q-dash.md", answer("dash", "—", "nothing works at all", "Call us."))
      }),
      ("the refund problem has an answer again", {
        try folder.write("answers/o-refund2.md", answer("refund2", "Refund not showing", "money not back yet", "Wait five days."))
      }),
      ("a rename", {
        try FileManager.default.moveItem(atPath: folder.root + "/answers/p-battery.md", toPath: folder.root + "/answers/z-battery.md")
      }),
      ("a case linked to another answer", { try folder.write("cases/c1.md", kase("c1", "battery", "zyxel box flashing amber since the storm")) }),
      ("every router answer removed", {
        try FileManager.default.removeItem(atPath: folder.root + "/answers/a-router.md")
        try FileManager.default.removeItem(atPath: folder.root + "/answers/m-router.md")
      }),
    ]
    for (name, change) in steps {
      try change()
      _ = try ws.refresh()
      let incremental = try Self.rankings(ws)
      #expect(try ws.suggester().base != nil, "\(name): the saved model plus the change")
      let copy = try folder.copyOfFiles()
      let fresh = try Workspace(root: copy.root)
      _ = try fresh.refresh()
      #expect(incremental == (try Self.rankings(fresh)), "\(name)")
    }
  }

  @Test func aJournalLineOrACheckBackKeepsTheModelAndUpdatesTheTrust() throws {
    let folder = try Folder()
    try folder.write("kb.yml", "team: \"Northwind Help\"\n")
    var m = Model()
    m.answers[0] = ("Router light blinking orange", ["no internet orange light"], "The hub lost its line.")
    m.answers[1] = ("Refund not showing", ["where is my refund"], "Refunds take five days.")
    m.cases[0] = (0, "resolved", "zyxel box flashing amber since the storm", [])
    for (i, a) in m.answers { try folder.write("answers/answer-\(i).md", Self.answerText(i, a)) }
    try folder.write("cases/2024/10/case-0.md", Self.caseText(0, m.cases[0]!))
    let ws = try Workspace(root: folder.root)
    try ws.refresh()
    let before = try ws.suggester()
    let state = try ws.store.suggestState()
    m.cases[0]!.journal.append("- 2024-10-23T10:00:00Z · Jason Reyes · checked-back · Held: fine since.")
    try folder.write("cases/2024/10/case-0.md", Self.caseText(0, m.cases[0]!))
    try ws.refresh()
    #expect(try ws.store.suggestState() == state, "a check back is not a model input")
    let after = try ws.suggester()
    #expect(after === before, "the model is kept, not rebuilt or reloaded")
    let result = try ws.suggest(Mention(text: "zyxel flashing amber"), options: SuggestOptions())
    #expect(result.suggestions.first?.evidence == Suggester.Evidence(cases: 1, held: 1, failed: 0))
    // Its complaint changes: that is a model input.
    m.cases[0]!.complaint = "amber light on the zyxel"
    try folder.write("cases/2024/10/case-0.md", Self.caseText(0, m.cases[0]!))
    try ws.refresh()
    #expect(try ws.store.suggestState() != state)
    #expect(try ws.suggester() !== before)
  }
}
