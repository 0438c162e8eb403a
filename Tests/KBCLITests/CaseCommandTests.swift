import ArgumentParser
import Foundation
import KBTestSupport
import Testing

@testable import KBCLI
@testable import KBCore
@testable import KBWorkspace

/// Runs the built `kb` in a temporary knowledge base, in KBTestSupport's sandbox (its own HOME
/// and empty git config: no identity unless a test gives one, so entries are signed on purpose).
struct KBProcess {
  let sandbox: Sandbox
  let root: String

  init() throws {
    sandbox = try Sandbox("cli-cases")
    root = sandbox.dir + "/kb"
    try Workspace.initialize(at: root)
    try "---\nid: iphone-sms-repeats\ntype: answer\ntitle: Text message repeats endlessly on iPhone\nsymptoms:\n  - the same text keeps arriving\n---\n## Fix\n1. Power off.\n"
      .write(toFile: root + "/answers/iphone-sms-repeats.md", atomically: true, encoding: .utf8)
  }

  @discardableResult
  func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    try sandbox.kb(arguments, in: root, environment: ["KB_DIR": root].merging(environment) { $1 }, stdin: stdin ?? "")
  }

  func caseFiles() -> [String] {
    (FileManager.default.enumerator(atPath: root + "/cases")?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".md") }.sorted()
  }

  func allFiles() -> [String] {
    (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { !$0.hasPrefix(".kb") }.sorted()
  }

  func remove() {}
}

func fixtureText(_ name: String) throws -> String {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/mentions/\(name)")
  return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct CaseCommandParsingTests {
  func message(_ arguments: [String]) -> String? {
    do {
      let command = try KBCommand.parseAsRoot(arguments)
      _ = command
      return nil
    } catch {
      #expect(KBCommand.exitCode(for: error) == .validationFailure)
      return KBCommand.message(for: error)
    }
  }

  @Test func rejectsBadInputWithUsage() {
    #expect(message(["case", "log", "c1", "--kind", "shrug", "x"])?.contains("Unknown journal kind 'shrug'") == true)
    #expect(message(["case", "log", "c1", "--kind", "checked-back", "--held", "--not-held"]) == "Pass --held or --not-held, not both.")
    #expect(message(["case", "log", "c1", "--kind", "note", "--held", "x"]) == "--held and --not-held go with --kind checked-back.")
    #expect(message(["case", "resolve", "c1", "--follow-up", "soon"])?.contains("'soon' is not a delay") == true)
    #expect(message(["case", "due", "--tz", "Mars/Olympus"])?.contains("not a time zone") == true)
    #expect(message(["case", "open", "--at", "yesterday", "words"])?.contains("not a time") == true)
    #expect(message(["cases", "--status", "bogus"])?.contains("Unknown status 'bogus'") == true)
    #expect(message(["cases", "--sort", "size"]) != nil)
    #expect(message(["stats", "--by", "team"]) == "'--by team': only '--by agent' is supported.")
    #expect(message(["stats", "--since", "last week"])?.contains("not a date") == true)
  }

  @Test func parsesEveryCaseCommand() throws {
    let open = try #require(try KBCommand.parseAsRoot([
      "case", "open", "--customer", "@s", "--channel", "twitter", "--url", "https://x.com/s/status/1", "--at",
      "2024-01-01T10:00:00Z", "It", "broke",
    ]) as? KBCommand.CaseOpen)
    #expect(open.customer == "@s" && open.channel == "twitter" && open.words == ["It", "broke"])
    #expect(open.fill(Mention(text: "x")).createdAt == Timestamp.parse("2024-01-01T10:00:00Z"))
    let log = try #require(try KBCommand.parseAsRoot([
      "case", "log", "c1", "--kind", "checked-back", "--held", "--as", "Tina <t@example.com>", "--tz", "Europe/Berlin",
    ]) as? KBCommand.CaseLog)
    #expect(log.id == "c1" && log.kind == "checked-back" && log.held && !log.notHeld && log.author == "Tina <t@example.com>")
    #expect(try log.timeZone.zone().1 == "Europe/Berlin")
    let assign = try #require(try KBCommand.parseAsRoot(["case", "assign", "c1", "tina", "Jason", "has", "left"]) as? KBCommand.CaseAssign)
    #expect(assign.agent == "tina" && assign.words == ["Jason", "has", "left"])
    let resolve = try #require(
      try KBCommand.parseAsRoot(["case", "resolve", "c1", "--answer", "a1", "--follow-up", "1w"]) as? KBCommand.CaseResolve)
    #expect(resolve.answer == "a1" && resolve.followUp == "1w")
    let due = try #require(try KBCommand.parseAsRoot(["case", "due", "--today", "2024-01-01", "--json"]) as? KBCommand.CaseDue)
    #expect(due.today == "2024-01-01" && due.global.json)
    let promote = try #require(
      try KBCommand.parseAsRoot(["case", "promote", "c1", "--title", "T", "--id", "t"]) as? KBCommand.CasePromote)
    #expect(promote.title == "T" && promote.answerID == "t")
    let cases = try #require(try KBCommand.parseAsRoot([
      "cases", "--status", "active", "--assignee", "tina", "--sort", "follow-up", "--reverse",
    ]) as? KBCommand.CasesList)
    #expect(try cases.flags().statuses == [.open, .acknowledged, .pending, .offline, .escalated])
    #expect(cases.sort == .followUp && cases.reverse && cases.assignee == "tina")
    let stats = try #require(
      try KBCommand.parseAsRoot(["stats", "--since", "2024-01-01", "--by", "agent", "--json"]) as? KBCommand.Stats)
    #expect(stats.since == "2024-01-01" && stats.by == "agent" && stats.global.json)
  }


  @Test func runsInProcess() throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    func run(_ arguments: [String]) throws {
      var command = try KBCommand.parseAsRoot(arguments)
      try command.run()
    }
    try run([
      "case", "open", "--kb", kb.root, "--customer", "stevebuttry", "--channel", "Twitter", "--at", "2009-10-20T16:05:00Z",
      "--id", "sms-loop", "My", "texts", "repeat",
    ])
    try run([
      "case", "log", "--kb", kb.root, "sms-loop", "--kind", "acknowledged", "--as", "Jason Reyes", "--at", "2009-10-20T16:09:00Z",
      "Saw", "your", "tweet",
    ])
    let document = try Workspace(root: kb.root).caseDocument(id: "sms-loop")
    #expect(document.customer == "@stevebuttry")
    #expect(document.channel == "twitter")
    #expect(document.status == .acknowledged)
    #expect(document.journal.entries.map(\.entry.line) == ["- 2009-10-20T16:09:00Z · Jason Reyes · acknowledged · Saw your tweet"])
  }
}

@Suite struct CaseCommandEndToEndTests {
  init() throws { try #require(BuiltBinary.kbProblem == nil, "\(BuiltBinary.kbProblem ?? "")") }

  @Test func openFromTheThreeMentionFormatsOnStandardInput() throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    var r = try kb.run(["case", "open", "--json"], stdin: try fixtureText("mastodon-status.json"))
    #expect(r.status == 0, "\(r.stderr)")
    let opened = try #require(try r.json()["opened"] as? [[String: Any]])
    let c = try #require(opened.first?["case"] as? [String: Any])
    #expect(c["customer"] as? String == "@Gargron@mastodon.social")
    #expect(c["channel"] as? String == "mastodon")
    #expect(c["status"] as? String == "open")
    #expect((opened.first?["similar"] as? [Any])?.isEmpty == true)

    r = try kb.run(["case", "open", "-"], stdin: try fixtureText("x-v2-single-tweet.json"))
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("Opened case 2020-06-24-learn-create-sentiment-score "))

    r = try kb.run(["case", "open", "--json"], stdin: try fixtureText("x-v2-multiple-tweets.json"))
    #expect(r.status == 0, "\(r.stderr)")
    #expect((try r.json()["opened"] as? [Any])?.count == 3)
    #expect(kb.caseFiles().count == 5)

    // The same mentions again open nothing new: one is refused, a batch skips them.
    r = try kb.run(["case", "open", "-"], stdin: try fixtureText("mastodon-status.json"))
    #expect(r.status == 1)
    #expect(r.stderr.contains("was already opened as case"))
    r = try kb.run(["case", "open", "--json"], stdin: try fixtureText("x-v2-multiple-tweets.json"))
    #expect(r.status == 0, "\(r.stderr)")
    #expect((try r.json()["opened"] as? [Any])?.isEmpty == true)
    #expect((try r.json()["skipped"] as? [Any])?.count == 3)
    #expect(kb.caseFiles().count == 5)

    // A plain object and JSON lines; flags fill what the JSON lacks.
    let lines = """
      {"text": "My iPhone keeps sending the same text message again and again", "author": "stevebuttry", "created_at": "2009-10-20T16:05:00Z"}
      {"text": "Same here, the same text message keeps arriving again and again on my iPhone", "author": {"username": "dana", "name": "Dana"}, "url": "https://x.com/dana/status/2"}
      """
    r = try kb.run(["case", "open", "--channel", "twitter", "--at", "2009-10-20T18:00:00Z", "--json"], stdin: lines)
    #expect(r.status == 0, "\(r.stderr)")
    let two = try #require(try r.json()["opened"] as? [[String: Any]])
    #expect(two.count == 2)
    let second = try #require(two[1]["case"] as? [String: Any])
    #expect(second["opened"] as? String == "2009-10-20T18:00:00Z")
    #expect(second["channel"] as? String == "twitter")
    #expect(second["customer"] as? String == "@dana")
    let similar = try #require(two[1]["similar"] as? [[String: Any]])
    #expect(similar.map { $0["id"] as? String } == [(two[0]["case"] as? [String: Any])?["id"] as? String])
  }

  @Test(arguments: [
    ("{\"text\": \"broken", "standard input: not valid JSON"),
    ("{\"author\": \"@x\"}", "standard input: missing 'text'"),
    ("{\"text\": \"one\"}\n{\"text\": 2}\n", "line 2: 'text' must be a string"),
    ("[1, 2]", "expected a JSON object"),
    ("", "no input"),
  ])
  func badJSONIsAClearErrorAndWritesNothing(input: String, expected: String) throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    let before = kb.allFiles()
    let r = try kb.run(["case", "open", "-"], stdin: input)
    #expect(r.status == 1)
    #expect(r.stderr.hasPrefix("Error: "))
    #expect(r.stderr.contains(expected), "\(r.stderr)")
    #expect(r.stdout.isEmpty)
    #expect(kb.allFiles() == before)
  }

  @Test func workACaseFromOpenToPromote() throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    var r = try kb.run([
      "case", "open", "--customer", "@stevebuttry", "--channel", "twitter", "--url", "https://twitter.com/stevebuttry/status/1",
      "--at", "2009-10-20T16:05:00Z", "--id", "sms-loop", "--tag", "iphone",
      "Does anyone know how to stop a text message from repeating endlessly on the iPhone?",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "Opened case sms-loop from @stevebuttry on twitter (cases/2009/10/sms-loop.md)\n")

    // Unsigned: no identity anywhere.
    r = try kb.run(["case", "log", "sms-loop", "--kind", "acknowledged", "Hello"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("Who is writing?"))
    // Signed by the agent identity in .kb/identity.
    try "name = Jason Reyes\nemail = jason@example.com\n".write(toFile: kb.root + "/.kb/identity", atomically: true, encoding: .utf8)
    r = try kb.run(["case", "log", "sms-loop", "--kind", "acknowledged", "--at", "2009-10-20T16:09:00Z", "--json", "I'm with AT&T. Can I help?"])
    #expect(r.status == 0, "\(r.stderr)")
    var json = try r.json()
    #expect(json["previous_status"] as? String == "open")
    #expect(json["status"] as? String == "acknowledged")
    #expect((json["entry"] as? [String: Any])?["author"] as? String == "Jason Reyes")
    #expect((json["entry"] as? [String: Any])?["line"] as? Int == 14)

    r = try kb.run(["case", "log", "sms-loop", "--kind", "acted", "--at", "2009-10-20T16:20:00Z", "Power off completely for a few minutes."])
    #expect(r.stdout == "Logged acted on sms-loop as Jason Reyes: acknowledged\n")
    r = try kb.run(["case", "assign", "sms-loop", "tina", "--at", "2009-10-20T16:50:00Z", "Jason", "has", "left", "for", "the", "day"])
    #expect(r.status == 0, "\(r.stderr)")
    r = try kb.run(["case", "log", "sms-loop", "--kind", "closed", "Done"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("never resolved"))

    r = try kb.run(["case", "resolve", "sms-loop", "--answer", "nope", "--as", "Tina Ng"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("--answer nope: no answer has that id"))
    r = try kb.run([
      "case", "resolve", "sms-loop", "--as", "Tina Ng <tina@example.com>", "--at", "2009-10-30T23:30:00Z", "--tz", "Europe/Berlin",
      "--follow-up", "3d", "--json", "Loop stopped.",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    json = try r.json()
    #expect(json["status"] as? String == "resolved")
    #expect(json["follow_up"] as? String == "2009-11-03")

    r = try kb.run(["case", "due", "--today", "2009-11-02"])
    #expect(r.stdout == "No follow-ups due on 2009-11-02.\n")
    r = try kb.run(["case", "due", "--today", "2009-11-04", "--json"])
    json = try r.json()
    #expect(json["today"] as? String == "2009-11-04")
    #expect(json["time_zone"] as? String == "UTC")
    let due = try #require(json["due"] as? [[String: Any]])
    #expect(due.map { $0["id"] as? String } == ["sms-loop"])
    #expect(due.first?["days_overdue"] as? Int == 1)
    #expect(due.first?["assignee"] as? String == "tina")

    r = try kb.run(["case", "promote", "sms-loop", "--title", "Text message repeats endlessly", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    json = try r.json()
    let answer = try #require(json["answer"] as? [String: Any])
    #expect(answer["id"] as? String == "text-message-repeats-endlessly")
    #expect((json["case"] as? [String: Any])?["answer"] as? String == "text-message-repeats-endlessly")

    r = try kb.run(["case", "log", "sms-loop", "--kind", "checked-back", "--not-held", "--at", "2009-11-03T09:00:00Z", "It is looping again"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("resolved → acknowledged"))
    let text = try String(contentsOfFile: kb.root + "/cases/2009/10/sms-loop.md", encoding: .utf8)
    #expect(text.contains("· Jason Reyes · checked-back · Did not hold: It is looping again\n"))
    #expect(text.contains("· Jason Reyes · handoff · Assigned to tina: Jason has left for the day\n"))

    r = try kb.run(["search", "type:case", "looping", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(((try r.json()["hits"]) as? [[String: Any]])?.map { $0["id"] as? String } == ["sms-loop"])

    r = try kb.run(["check"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(kb.allFiles().allSatisfy { !$0.contains(".kb-tmp") })
  }

  @Test func concurrentLogsNeverLoseAnEntry() async throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    try kb.run(["case", "open", "--id", "busy", "--at", "2024-01-01T10:00:00Z", "Everyone is on this one"])
    let count = Int(ProcessInfo.processInfo.environment["KB_CASES_CONCURRENT_N"] ?? "") ?? 8
    let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
      for i in 0..<count {
        group.addTask {
          try kb.run(["case", "log", "busy", "--kind", "note", "--as", "agent\(i)", "--at", "2024-01-01T11:00:0\(i % 10)Z", "Note \(i)"]).status
        }
      }
      var out: [Int32] = []
      for try await status in group { out.append(status) }
      return out
    }
    #expect(statuses.allSatisfy { $0 == 0 })
    let document = try Workspace(root: kb.root).caseDocument(id: "busy")
    #expect(Set(document.journal.entries.map(\.entry.text)) == Set((0..<count).map { "Note \($0)" }))
  }

  @Test func casesListsWithFiltersAndStatsGivesKnownFigures() throws {
    let kb = try KBProcess()
    defer { kb.remove() }
    for (id, at, customer) in [("a", "2024-10-01T10:00:00Z", "@amy"), ("b", "2024-10-02T08:00:00Z", "@bob"), ("c", "2024-10-03T09:00:00Z", "@amy")] {
      let r = try kb.run(["case", "open", "--id", id, "--at", at, "--customer", customer, "--channel", "twitter", "Problem", id])
      #expect(r.status == 0, "\(r.stderr)")
    }
    try kb.run(["case", "log", "a", "--kind", "acknowledged", "--as", "jason", "--at", "2024-10-01T10:10:00Z", "Hi"])
    try kb.run(["case", "resolve", "a", "--answer", "iphone-sms-repeats", "--as", "jason", "--at", "2024-10-01T12:00:00Z"])
    try kb.run(["case", "log", "a", "--kind", "checked-back", "--as", "jason", "--at", "2024-10-04T09:00:00Z", "Held: fine"])
    try kb.run(["case", "log", "b", "--kind", "offline", "--as", "tina", "--at", "2024-10-02T08:30:00Z", "DM"])
    try kb.run(["case", "resolve", "b", "--answer", "iphone-sms-repeats", "--as", "tina", "--at", "2024-10-03T08:00:00Z"])
    try kb.run(["case", "assign", "c", "tina", "--as", "jason"])

    var r = try kb.run(["cases", "--customer", "amy", "--json"])
    let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    #expect(list.map { $0["id"] as? String } == ["a", "c"])
    r = try kb.run(["cases", "--status", "active", "--sort", "status"])
    #expect(r.stdout.split(separator: "\n").count == 1)
    #expect(r.stdout.contains("  c  Problem c  open · tina · @amy · twitter"))
    r = try kb.run(["cases", "--since", "2024-10-02", "--reverse", "--json"])
    #expect((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])?.map { $0["id"] as? String } == ["c", "b"])

    r = try kb.run(["stats", "--today", "2024-10-10", "--json", "--by", "agent"])
    #expect(r.status == 0, "\(r.stderr)")
    let stats = try r.json()
    let figures = try #require(stats["figures"] as? [String: Any])
    #expect(figures["opened"] as? Int == 3)
    #expect(figures["resolved"] as? Int == 2)
    #expect(figures["median_first_response_seconds"] as? Double == 1200)  // 600, 1800
    #expect(figures["median_resolution_seconds"] as? Double == 46800)  // 7200, 86400
    let followUps = try #require(figures["follow_ups"] as? [String: Int])
    #expect(followUps == ["on_time": 1, "late": 0, "pending": 1, "overdue": 1])
    let answers = try #require(figures["answers"] as? [[String: Any]])
    #expect(answers.count == 1)
    #expect(answers[0]["answer"] as? String == "iphone-sms-repeats")
    #expect(answers[0]["used"] as? Int == 2)
    #expect(answers[0]["held"] as? Int == 1)
    #expect(answers[0]["not_held"] as? Int == 0)
    #expect(answers[0]["held_rate"] as? Double == 1)
    #expect((stats["by_agent"] as? [[String: Any]])?.map { $0["agent"] as? String } == ["(unassigned)", "tina"])

    r = try kb.run(["stats", "--today", "2024-10-10", "--since", "2024-10-02"])
    #expect(r.stdout.contains("opened 2, resolved 1"))
    #expect(r.stdout.contains("median first response 30m"))
  }
}
