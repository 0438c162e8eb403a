import Foundation
import Testing

@testable import KBCore
@testable import KBStore
@testable import KBWorkspace

/// The repository's sample knowledge base (kb/), copied to a temporary folder.
private final class SampleKB {
  let root = NSTemporaryDirectory() + "kb-sample-\(UUID().uuidString)"
  let workspace: Workspace

  init() throws {
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("kb").path
    try FileManager.default.copyItem(atPath: source, toPath: root)
    try? FileManager.default.removeItem(atPath: root + "/.kb")
    workspace = try Workspace(root: root)
    try workspace.refresh()
  }

  deinit { try? FileManager.default.removeItem(atPath: root) }

  func write(_ relative: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + relative))
    try workspace.refresh()
  }

  func suggest(_ text: String, author: String? = nil) throws -> SuggestionResult {
    try workspace.suggest(Mention.plain(text, author: author), options: SuggestOptions(agent: Identity(name: "Jason Reyes", email: nil)))
  }

  func suggest(json: String) throws -> SuggestionResult {
    try workspace.suggest(try #require(try Mention.parse(json: Data(json.utf8)).first), options: SuggestOptions(agent: Identity(name: "Jason Reyes", email: nil)))
  }
}

@Suite struct MentionToReplyTests {
  // MARK: 1. One normalization for every input shape

  @Test func entitiesAreDecodedForPlainJSONAndText() throws {
    let kb = try SampleKB()
    let parsed = try Mention.parse(json: Data(#"{"text": "bill went &gt; £100 &amp; nobody answers", "author": "ana"}"#.utf8))
    #expect(parsed.first?.text == "bill went > £100 & nobody answers")
    #expect(Mention.plain("texts &amp; calls &#39;down&#39;").text == "texts & calls 'down'")
    let opened = try kb.workspace.openCase(from: parsed[0])
    #expect(!opened.document.id.contains("gt") && !opened.document.id.contains("amp"))
    #expect(opened.document.complaint == "bill went > £100 & nobody answers")
    let result = try kb.suggest("my bill went &gt; £100 this month")
    #expect(!result.normalized.contains("gt"))
  }

  @Test func gluedHandlesAndLinksAreSplitOff() {
    let m = MentionText(normalizing: "love it.@NorthwindHelp why?@NorthwindHelp see:https://t.co/xY12 (@Globex)")
    #expect(m.handles == ["@NorthwindHelp", "@NorthwindHelp", "@Globex"])
    #expect(m.urls == ["https://t.co/xY12"])
    #expect(!m.words.contains { $0.contains("northwind") || $0 == "https" || $0 == "co" || $0.contains("globex") })
    #expect(m.words.contains("see") && m.words.contains("why"))
    // An e-mail address stays whole.
    #expect(MentionText(normalizing: "mail ana@example.com").handles.isEmpty)
  }

  @Test func variationSelectorsAndJoinersLeaveWords() {
    #expect(MentionText(normalizing: "wifi\u{FE0F} down").words == ["wifi", "down"])
    #expect(MentionText(normalizing: "pass\u{200D}word reset").words == ["password", "reset"])
    #expect(MentionText(normalizing: "router\u{200B}broken").words == ["router", "broken"])
    let emoji = MentionText(normalizing: "help 👩‍💻 ❤️")
    #expect(emoji.words == ["help"] && emoji.emoji.count == 2)
  }

  @Test func thePlatformIDRefusesADuplicateWithoutALink() throws {
    let kb = try SampleKB()
    let post = #"{"id": "1850000000000000042", "channel": "twitter", "text": "router light flashing orange since the storm", "author": "dana"}"#
    let mentions = try Mention.parse(json: Data(post.utf8))
    var run = try kb.workspace.openCases(from: mentions)
    #expect(run.opened.count == 1 && run.skipped.isEmpty)
    #expect(run.opened[0].document.source == "https://x.com/i/web/status/1850000000000000042")
    run = try kb.workspace.openCases(from: try Mention.parse(json: Data(post.utf8)))
    #expect(run.opened.isEmpty)
    #expect(run.skipped.map(\.reason) == ["already-opened"])
    // A plain object with an id and no channel.
    let plain = try Mention.parse(json: Data(#"{"id": 77, "text": "no signal at home since Monday"}"#.utf8))
    #expect(try kb.workspace.openCases(from: plain).opened.count == 1)
    #expect(try kb.workspace.openCases(from: plain).skipped.first?.reason == "already-opened")
  }

  // MARK: 2. Our own accounts

  @Test(arguments: [
    ("@NorthwindHelp", nil as String?, true), ("northwindhelp", nil, true), ("@NORTHWINDHELP", "twitter", true),
    ("@northwind@mastodon.social", "mastodon", true), ("@Northwind", "mastodon", true),
    ("@northwind@other.social", "mastodon", false), ("@NorthwindHelp@mastodon.social", "mastodon", false),
    ("@northwind", "twitter", false), ("@ana", nil, false),
  ])
  func ownAccountsAreRecognized(author: String, channel: String?, ours: Bool) throws {
    let kb = try SampleKB()
    var mention = Mention.plain("Planned maintenance tonight: texts may be delayed", author: author)
    mention.channel = channel
    let result = try kb.workspace.suggest(mention, options: SuggestOptions())
    #expect((result.verdict == .ownAccount) == ours)
    if ours {
      #expect(result.reply == nil && result.suggestions.isEmpty && result.ownHandle != nil)
      let run = try kb.workspace.openCases(from: [mention])
      #expect(run.opened.isEmpty && run.skipped.first?.reason == "own-account")
    }
  }

  // MARK: 3. Honest verdicts

  @Test(arguments: [
    "#MondayMotivation #GoalsForTheWeek #Blessed",
    "Loving the new season of the show, cannot wait for Friday",
    "anyone selling old game consoles near me?",
    "just setting up my twttr",
  ])
  func postsAboutSomethingElseGetNoKnownFix(text: String) throws {
    let kb = try SampleKB()
    let result = try kb.suggest(text)
    #expect(result.verdict == .noKnownFix, "\(result.suggestions.first.map { "\($0.id) \($0.likelihood)" } ?? "")")
    #expect(!result.suggestions.isEmpty || text.hasPrefix("#"))
    #expect(result.suggestions.allSatisfy { $0.confidence != .high })
  }

  @Test func aDraftAnswerIsNeverAKnownFix() throws {
    let kb = try SampleKB()
    try kb.write("answers/hub-beeps.md", """
      ---
      id: hub-beeps
      type: answer
      title: Northwind Hub beeps at night
      draft: true
      symptoms:
        - my hub keeps beeping at night
        - the router beeps every few minutes
      ---
      ## Fix
      1. Suggested turning off the night alert in the app.
      """)
    let result = try kb.suggest("my hub keeps beeping at night, how do I stop it?")
    #expect(result.suggestions.first?.id == "hub-beeps")
    #expect(result.suggestions.first?.draft == true)
    #expect(result.verdict != .knownFix)
    #expect(result.reply?.text.contains("Suggested") == false)
  }

  // MARK: 5. Customer-facing replies

  @Test func theREADMEsCommandGetsTheRepeatingSMSFixAndADraftAPersonWouldSend() throws {
    let kb = try SampleKB()
    let result = try kb.suggest("my iphone keeps getting the same text over and over, how do I stop it??")
    #expect(result.verdict == .knownFix)
    #expect(result.suggestions.first?.id == "iphone-sms-repeats")
    let reply = try #require(result.reply)
    #expect(reply.text.contains("Power the phone off completely"))
    #expect(reply.text.hasSuffix("^JR") && reply.length <= 280)
  }

  @Test func everySampleAnswerHasACustomerFacingReply() throws {
    let kb = try SampleKB()
    let folder = kb.root + "/answers"
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".md") }
    #expect(files.count >= 49)
    for name in files {
      let document = try Document(path: "answers/" + name, text: String(contentsOfFile: folder + "/" + name, encoding: .utf8))
      let replies = CustomerReply.replies(frontMatter: document.frontMatter, body: document.bodyText)
      let english = try #require(replies["en"], "\(name) has no reply")
      #expect(!CustomerReply.isAgentAddressed(english), "\(name): \(english)")
    }
  }

  @Test func agentInstructionsAreNeverQuoted() throws {
    let kb = try SampleKB()
    try kb.write("answers/sim-pin-locked.md", """
      ---
      id: sim-pin-locked
      type: answer
      title: SIM locked after wrong PIN (PUK code)
      symptoms:
        - my sim is locked and asks for a puk code
        - phone says sim locked enter puk
      ---
      ## Fix
      1. Ask the customer to DM us the last four digits of the SIM number.
      2. Check the CRM for the PUK and tell them to enter it.
      3. Tell the customer to choose a new PIN.
      """)
    let result = try kb.suggest("my sim is locked and asks for a puk code, what do I do?", author: "sam")
    #expect(result.suggestions.first?.id == "sim-pin-locked")
    let reply = try #require(result.reply)
    for phrase in ["Ask the customer", "Check the CRM", "tell them", "Tell the customer"] {
      #expect(!reply.text.contains(phrase), "\(reply.text)")
    }
    #expect(reply.text.hasPrefix("@sam "))
    #expect(CustomerReply.isAgentAddressed("Ask the customer to DM us the amounts."))
    #expect(CustomerReply.isAgentAddressed("Check the CRM for the account's PUK."))
    #expect(CustomerReply.isAgentAddressed("Suggested powering off for a few minutes."))
    #expect(!CustomerReply.isAgentAddressed("Power the phone off completely for a few minutes."))
    #expect(!CustomerReply.isAgentAddressed("Check that Wi-Fi Calling is on in Settings."))
  }

  @Test func theReplyStartsWithTheHandleNeverAnInternalID() throws {
    let kb = try SampleKB()
    let tweet = #"{"data": {"author_id": "2244994945", "id": "1275828087666679809", "text": "my iphone keeps getting the same text over and over, how do I stop it?"}}"#
    let result = try kb.suggest(json: tweet)
    let reply = try #require(result.reply)
    #expect(!reply.text.contains("x:") && !reply.text.contains("2244994945"))
    #expect(result.mention.author == nil && result.mention.authorID == "x:2244994945")
    let withIncludes = #"{"data": {"author_id": "1", "id": "2", "text": "my iphone keeps getting the same text over and over"}, "includes": {"users": [{"id": "1", "username": "dana_k"}]}}"#
    #expect(try kb.suggest(json: withIncludes).reply?.text.hasPrefix("@dana_k ") == true)
  }

  @Test func anotherLanguageGetsItsReplyOrANote() throws {
    let kb = try SampleKB()
    // No known fix for a Spanish post: the draft says the customer wrote in Spanish.
    let spanish = try kb.suggest("hola, mi teléfono no funciona desde ayer y nadie me ayuda")
    #expect(spanish.language == "es")
    #expect(spanish.reply?.note?.contains("Spanish") == true)
    // An answer with a Spanish reply answers in Spanish.
    let opened = try kb.workspace.openCase(from: Mention.plain(
      "mi iPhone recibe el mismo mensaje una y otra vez, cómo lo paro?", author: "lucia"))
    let draft = try kb.workspace.draftCaseReply(
      caseID: opened.document.id, answer: "iphone-sms-repeats", agent: Identity(name: "Jason Reyes", email: nil))
    #expect(draft.text.hasPrefix("@lucia Apaga el teléfono"))
    #expect(draft.notes.isEmpty)
    let other = try kb.workspace.draftCaseReply(
      caseID: opened.document.id, answer: "slow-wifi", agent: Identity(name: "Jason Reyes", email: nil))
    #expect(other.notes.contains { $0.contains("Spanish") })
  }

  // MARK: 4. Guards in the drafts

  @Test func guardsPickAReplyASupportLeadWouldSend() throws {
    let kb = try SampleKB()
    #expect(try kb.suggest("Thanks!!", author: "bo").reply?.template == "thanks")
    let abuse = try kb.suggest("wtf my router is blinking orange again", author: "bo")
    #expect(!abuse.guards.contains { $0.kind == .personalData || $0.kind == .abusive })
    #expect(abuse.reply?.text.contains("personal details") == false)
    let dm = try kb.suggest("shoot me a DM when the broadband outage is fixed", author: "bo")
    #expect(!dm.guards.contains { $0.kind == .threat } && dm.reply != nil)
    let both = try kb.suggest("worst service ever. my texts keep repeating on my iphone, how do i stop it?", author: "bo")
    #expect(both.guards.contains { $0.kind == .venting })
    #expect(both.verdict == .knownFix && both.reply?.template == "venting_fix")
    #expect(both.reply?.text.contains("Power the phone off") == true)
    let order = try kb.suggest("my order 123456789012 never arrived", author: "bo")
    #expect(!order.guards.contains { $0.kind == .personalData })
  }

  // MARK: 6. The reply macro

  @Test func caseReplyDraftsShowsAndLogsTheRightKind() throws {
    let kb = try SampleKB()
    let opened = try kb.workspace.openCase(from: Mention.plain(
      "my iphone keeps getting the same text over and over, how do I stop it?", author: "@ana", channel: "twitter"))
    let id = opened.document.id
    let agent = Identity(name: "Jason Reyes", email: nil)
    let draft = try kb.workspace.draftCaseReply(caseID: id, agent: agent)
    #expect(draft.kind == "acted" && draft.answer == "iphone-sms-repeats")
    #expect(draft.status == "open" && draft.nextStatus == "acknowledged")
    #expect(draft.text.hasPrefix("@ana ") && draft.text.contains("Power the phone off"))
    // Nothing is written before it is sent.
    #expect(try kb.workspace.caseDocument(id: id).journal.entries.isEmpty)
    let change = try kb.workspace.sendCaseReply(draft, author: "Jason Reyes")
    #expect(change.entry.kind == .acted && change.status == .acknowledged)
    #expect(change.entry.text.hasPrefix("Replied: @ana ") && change.entry.text.contains("[[iphone-sms-repeats]]"))
    // Words given instead of a draft: an acknowledgement.
    let ack = try kb.workspace.draftCaseReply(caseID: id, text: "Looking into this now.", agent: agent)
    #expect(ack.kind == "acknowledged" && ack.text == "@ana Looking into this now.")
    // A case from our own account has no one to reply to.
    let ours = try kb.workspace.openCase(from: Mention.plain("maintenance tonight", author: "@someone"))
    #expect(throws: (any Error).self) {
      try kb.workspace.draftCaseReply(caseID: ours.document.id, answer: "no-such-answer", agent: agent)
    }
  }
}
