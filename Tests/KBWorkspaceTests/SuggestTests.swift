import Foundation
import KBCore
import KBStore
import KBTestSupport
import Testing

@testable import KBWorkspace

/// A small knowledge base for suggestions, in its own temporary folder.
private final class SuggestKB {
  let kb: TempKB
  var root: String { kb.root }

  init(settings: String = "team: \"Northwind Help\"\nsignature: \"^{initials}\"\n") throws {
    kb = try TempKB("suggest", settings: settings)
  }

  func write(_ relative: String, _ text: String) throws { try kb.write(relative, text) }

  func answer(_ id: String, title: String, symptoms: [String], tags: [String] = [], body: String) throws {
    let s = symptoms.map { "  - \"\($0)\"" }.joined(separator: "\n")
    try write("answers/\(id).md", """
      ---
      id: \(id)
      type: answer
      title: "\(title)"
      tags: [\(tags.joined(separator: ", "))]
      symptoms:
      \(s)
      ---

      \(body)
      """)
  }

  func resolvedCase(_ id: String, answer: String, complaint: String, checkBack: String?) throws {
    var journal = "- 2024-10-20T16:09:00Z · Jason Reyes · resolved · Fixed.\n"
    if let checkBack { journal += "- 2024-10-23T16:09:00Z · Jason Reyes · checked-back · \(checkBack)\n" }
    try write("cases/2024/10/\(id).md", """
      ---
      id: \(id)
      type: case
      status: resolved
      channel: twitter
      customer: "@someone"
      opened: 2024-10-20T16:05:00Z
      answer: \(answer)
      ---

      > \(complaint)

      ## Journal

      \(journal)
      """)
  }

  /// The sample answers: the repeating-SMS fix among look-alikes.
  func seed() throws {
    try answer(
      "iphone-sms-repeats", title: "iPhone shows the same text message again and again",
      symptoms: ["the same SMS keeps arriving over and over", "duplicate texts on iPhone", "message repeats every few minutes"],
      tags: ["iphone", "sms"],
      body: """
        The carrier's message center resends an SMS the phone did not acknowledge.

        ## Fix

        1. Turn the iPhone off for two minutes, then on again.
        2. Settings › Messages: turn iMessage off and on.
        3. If it keeps repeating, reset network settings.
        """)
    try answer(
      "iphone-battery-drain", title: "iPhone battery drains fast after an update",
      symptoms: ["battery dies by lunch", "phone gets hot and the battery drops"], tags: ["iphone", "battery"],
      body: "## Fix\n\n1. Check Battery Health.\n2. Turn off Background App Refresh.\n")
    try answer(
      "group-texts-split", title: "Group texts arrive as separate messages",
      symptoms: ["group chat split into single texts", "replies to a group text go to one person"], tags: ["sms"],
      body: "## Fix\n\n1. Turn on MMS Messaging.\n2. Turn on Group Messaging.\n")
    try answer(
      "router-orange-light", title: "Router light blinking orange",
      symptoms: ["no internet, orange light", "wifi down and the hub blinks"], tags: ["broadband"],
      body: "## Fix\n\n1. Check the cable into the wall socket.\n2. Restart the router.\n")
    try answer(
      "refund-not-showing", title: "Refund not showing on my account",
      symptoms: ["where is my refund", "money back has not arrived"], tags: ["billing"],
      body: "Refunds take 3–5 working days. DM us your order number and we will chase it.\n\n## Fix\n\n1. Check the refund date in the app.\n")
  }

  func workspace() throws -> Workspace {
    let ws = try Workspace(root: root)
    try ws.refresh()
    return ws
  }
}

@Suite struct SuggestTests {
  let complaint = "my iphone keeps getting the same text over and over, how do I stop it??"

  @Test func repeatingSMSComplaintRanksTheRepeatingSMSFixFirst() throws {
    let kb = try SuggestKB()
    try kb.seed()
    let ws = try kb.workspace()
    let result = try ws.suggest(
      Mention(text: complaint, author: "@ana", channel: "twitter"),
      options: SuggestOptions(agent: Identity(name: "Jason Reyes", email: nil)))
    #expect(result.suggestions.first?.id == "iphone-sms-repeats")
    #expect(result.verdict == .knownFix)
    #expect(result.suggestions.first?.confidence != .low)
    #expect(result.suggestions.first?.fix.first == "Turn the iPhone off for two minutes, then on again.")
    #expect(result.suggestions.first?.matched.contains("iphone") == true)
    #expect(result.suggestions.first?.matched.contains("text") == true)
    #expect(result.suggestions.count == 3)
    let reply = try #require(result.reply)
    #expect(reply.text.hasPrefix("@ana "))
    #expect(reply.text.contains("Turn the iPhone off for two minutes"))
    #expect(reply.text.hasSuffix("^JR"))
    #expect(reply.length <= 280 && reply.limit == 280)
  }

  @Test func nothingFitsSaysNoKnownFix() throws {
    let kb = try SuggestKB()
    try kb.seed()
    let ws = try kb.workspace()
    let result = try ws.suggest(Mention(text: "what time does the parade start on saturday?"), options: SuggestOptions())
    #expect(result.verdict == .noKnownFix)
    #expect(result.message == "no known fix; open a case")
    #expect(result.suggestions.allSatisfy { $0.confidence == .low }, "\(result.suggestions.map { ($0.id, $0.similarity, $0.matched) })")
    // The reply offers a private channel instead of a fix.
    #expect(result.reply?.template == "no_fix")
    #expect(result.reply?.privateChannel == true)
  }

  @Test func resolvedCasesTeachPhrasingAndCheckBacksSetTrust() throws {
    let kb = try SuggestKB()
    try kb.seed()
    // Customers' own words, seen only in resolved cases.
    try kb.resolvedCase(
      "c1", answer: "router-orange-light", complaint: "my zyxel box is flashing amber since the storm",
      checkBack: "Held: no drops since.")
    try kb.resolvedCase(
      "c2", answer: "router-orange-light", complaint: "zyxel box flashing amber again", checkBack: "Held: fine.")
    try kb.resolvedCase(
      "c3", answer: "iphone-battery-drain", complaint: "battery dead by noon", checkBack: "Did not hold: still drains.")
    let ws = try kb.workspace()
    let result = try ws.suggest(Mention(text: "zyxel flashing amber"), options: SuggestOptions())
    #expect(result.suggestions.first?.id == "router-orange-light")
    #expect(result.suggestions.first?.evidence == Suggester.Evidence(cases: 2, held: 2, failed: 0))
    let battery = try ws.suggest(Mention(text: "battery drains"), options: SuggestOptions())
    let b = try #require(battery.suggestions.first { $0.id == "iphone-battery-drain" })
    #expect(b.evidence.failed == 1)
  }

  @Test func theModelFollowsTheIndex() throws {
    let kb = try SuggestKB()
    try kb.seed()
    let ws = try kb.workspace()
    let first = try ws.suggester()
    #expect(try ws.suggester() === first)
    try kb.answer("esim-transfer", title: "Move an eSIM to a new phone", symptoms: ["esim will not transfer"], body: "## Fix\n\n1. Use Quick Start.\n")
    try ws.refresh()
    let second = try ws.suggester()
    #expect(second !== first)
    let result = try ws.suggest(Mention(text: "esim wont transfer to my new phone"), options: SuggestOptions())
    #expect(result.suggestions.first?.id == "esim-transfer")
  }

  @Test func guardsReachTheResultAndTheReply() throws {
    let kb = try SuggestKB(settings: """
      team: "Northwind Help"
      products: ["Northwind Mobile"]
      competitors: ["Acme Mobile"]
      handles: ["@NorthwindHelp"]
      reply_templates:
        competitor: "{customer} That sounds rough, sorry. Hope Acme sorts it!"
      """)
    try kb.seed()
    let ws = try kb.workspace()
    let rival = try ws.suggest(Mention(text: "Acme Mobile dropped all my calls again, worst network ever 😡", author: "@bo"), options: SuggestOptions())
    #expect(rival.guards.map(\.kind).contains(.competitor))
    #expect(rival.reply?.template == "competitor")
    #expect(rival.reply?.text.hasPrefix("@bo That sounds rough, sorry.") == true)
    let card = try ws.suggest(Mention(text: "refund still missing, my card is 4111 1111 1111 1111 can you check"), options: SuggestOptions())
    #expect(card.guards.map(\.kind).contains(.personalData))
    #expect(card.reply?.privateChannel == true)
    #expect(card.reply?.text.contains("1111") == false)
    let trend = try ws.suggest(Mention(text: "happy friday everyone #FridayFeeling #WeekendVibes"), options: SuggestOptions())
    #expect(trend.guards.map(\.kind).contains(.unrelatedTrend), "\(trend.suggestions.map { ($0.id, $0.similarity, $0.matched) })")
    #expect(trend.reply == nil)
  }

  /// A question about one product gets that product's fix before a look-alike for another.
  @Test func theProductTheMentionNamesComesFirst() throws {
    let kb = try SuggestKB()
    let bodies = [
      "youtube": "Right-click the YouTube video and copy the link at the current time. YouTube adds t=.",
      "vimeo": "In Vimeo, add #t=1m30s to the link. Vimeo jumps there.",
    ]
    for product in ["YouTube", "Vimeo"] {
      let key = product.lowercased()
      try kb.answer(
        "\(key)-time-link", title: "Link to a specific time in a \(product) video", symptoms: [], body: bodies[key]!)
      try kb.answer("\(key)-subtitles", title: "Subtitles on \(product)", symptoms: [], body: "\(product) shows captions.")
      try kb.answer("\(key)-privacy", title: "Private videos on \(product)", symptoms: [], body: "\(product) keeps them hidden.")
    }
    let ws = try kb.workspace()
    let suggester = try ws.suggester()
    #expect(suggester.products == ["youtube", "vimeo"])
    for product in ["youtube", "vimeo"] {
      let result = try ws.suggest(Mention(text: "how do i share a \(product) link that starts at 1:30"), options: SuggestOptions())
      #expect(result.suggestions.first?.id == "\(product)-time-link", "\(result.suggestions.map(\.id))")
    }
    // Saved with the model and read back.
    let loaded = try #require(SuggestModelCache(path: ws.suggestModelPath).load(store: ws.store))
    #expect(loaded.state == suggester.state)
    #expect(loaded.products == suggester.products)
    #expect(loaded.problemProducts == suggester.problemProducts)
  }

  @Test func templatesFolderOverridesKBYml() throws {
    let kb = try SuggestKB()
    try kb.seed()
    try kb.write("templates/fix.md", "{customer} Sorry about that! Try: {step}\n")
    let ws = try kb.workspace()
    let result = try ws.suggest(Mention(text: complaint, author: "@ana"), options: SuggestOptions(channel: "twitter"))
    #expect(result.reply?.text.hasPrefix("@ana Sorry about that! Try: Turn the iPhone off") == true)
  }

}

/// Who signs: `.kb/identity`, else git's `user.name` and `user.email` (read by `git config`
/// itself, started with posix_spawn), else `GIT_AUTHOR_NAME`.
@Suite struct IdentityTests {
  @Test func gitConfigNamesTheSignerWhenNoIdentityFileDoes() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kb-identity-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    // A home of its own: no global config of the machine's user.
    let environment = ["HOME": root, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                       "GIT_CONFIG_NOSYSTEM": "1"]
    #expect(Identity.current(in: root, environment: environment) == nil)
    for args in [["init", "-q", root], ["-C", root, "config", "user.name", "Ana Lima"], ["-C", root, "config", "user.email", "ana@example.com"]] {
      let git = Process()
      git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
      git.arguments = args
      git.environment = environment
      try git.run()
      git.waitUntilExit()
      #expect(git.terminationStatus == 0)
    }
    let identity = try #require(Identity.current(in: root, environment: environment))
    #expect(identity.name == "Ana Lima" && identity.email == "ana@example.com")
    // The identity file wins.
    try FileManager.default.createDirectory(atPath: root + "/.kb", withIntermediateDirectories: true)
    try "name = Jason Reyes\n".write(toFile: root + "/.kb/identity", atomically: true, encoding: .utf8)
    #expect(Identity.current(in: root, environment: environment)?.name == "Jason Reyes")
  }
}
