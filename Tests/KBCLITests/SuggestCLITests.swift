import Foundation
import KBTestSupport
import Testing

/// `kb suggest` driven as a script would: the built binary as a subprocess (in KBTestSupport's
/// sandbox, signing as Tina Park), a real KB folder without kb.yml (as the evaluation sets are).
private final class PlainKB {
  let kb: TempKB
  let box: Sandbox
  var root: String { kb.root }

  init() throws {
    kb = try TempKB("suggest-cli", settings: nil)
    box = try Sandbox("suggest-cli")
    let answers: [(String, String, String, String)] = [
      ("iphone-sms-repeats", "iPhone shows the same text message again and again", "the same SMS keeps arriving over and over",
       "1. Turn the iPhone off for two minutes, then on again.\n2. Turn iMessage off and on."),
      ("router-orange-light", "Router light blinking orange", "no internet and the hub blinks orange",
       "1. Check the cable.\n2. Restart the router."),
      ("refund-not-showing", "Refund not showing on my account", "where is my refund",
       "1. Check the refund date in the app."),
    ]
    for (id, title, symptom, steps) in answers {
      try kb.answer(id, title: title, symptoms: [symptom], body: "## Fix\n\n\(steps)")
    }
  }

  static let environment = ["GIT_AUTHOR_NAME": "Tina Park"]

  func run(_ arguments: [String], stdin: String = "") throws -> ProcessResult {
    try box.kb(arguments, environment: Self.environment, stdin: stdin)
  }

  func object(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  /// `kb suggest --jsonl` running on this knowledge base, fed line by line.
  func feed() throws -> JSONLFeed { try JSONLFeed(box.kbProcess(["suggest", "--kb", root, "--jsonl"], environment: Self.environment)) }
}

/// A running `kb suggest --jsonl`: lines written to its stdin, result lines read from its
/// stdout as they come (stderr dropped). Terminated when let go, if still running.
private final class JSONLFeed {
  let process: Process
  private let input = Pipe(), output = Pipe()
  private var received = Data()

  init(_ process: Process) throws {
    self.process = process
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
  }

  deinit { if process.isRunning { process.terminate() } }

  func send(_ line: String) { input.fileHandleForWriting.write(Data(line.utf8 + [10])) }

  /// The next result line, waiting up to 30 s for it; nil when none came.
  func nextLine() -> String? {
    let deadline = Date().addingTimeInterval(30)
    while received.firstIndex(of: 10) == nil, Date() < deadline {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      received.append(chunk)
    }
    guard let end = received.firstIndex(of: 10) else { return nil }
    let line = String(decoding: received[..<end], as: UTF8.self)
    received = Data(received[(end + 1)...])
    return line
  }

  /// Closes its stdin and waits for it: its exit status.
  func finish() throws -> Int32 {
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return process.terminationStatus
  }
}

@Suite struct SuggestCLITests {
  let complaint = "my iphone keeps getting the same text over and over, how do I stop it??"

  @Test func textArgumentAsJSON() throws {
    let kb = try PlainKB()
    let r = try kb.run(["suggest", "--kb", kb.root, "--json", "--as", "Jason Reyes <jason@example.com>", "--channel", "twitter", complaint])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try kb.object(r.stdout)
    #expect(json["verdict"] as? String == "known-fix")
    let suggestions = try #require(json["suggestions"] as? [[String: Any]])
    #expect(suggestions.first?["id"] as? String == "iphone-sms-repeats")
    #expect(suggestions.first?["fix"] as? [String] == ["Turn the iPhone off for two minutes, then on again.", "Turn iMessage off and on."])
    for key in ["score", "similarity", "confidence", "matched", "snippet", "evidence", "title", "path"] {
      #expect(suggestions.first?[key] != nil, "missing \(key)")
    }
    let reply = try #require(json["reply"] as? [String: Any])
    #expect((reply["text"] as? String)?.hasSuffix("^JR") == true)
    #expect(reply["limit"] as? Int == 280)
    #expect(json["guards"] as? [Any] != nil)
    #expect((json["mention"] as? [String: Any])?["text"] as? String == complaint)
    // The folder had no kb.yml: the index went into its .kb/.
    #expect(FileManager.default.fileExists(atPath: kb.root + "/.kb/index.sqlite"))
  }

  @Test func jsonOnStdinInEveryShape() throws {
    let kb = try PlainKB()
    let x = #"{"data": {"id": "1850", "text": "@NorthwindHelp router blinking orange again", "author_id": "42"}, "includes": {"users": [{"id": "42", "username": "bo"}]}}"#
    let r = try kb.run(["suggest", "--kb", kb.root, "--json"], stdin: x)
    #expect(r.status == 0, "\(r.stderr)")
    let json = try kb.object(r.stdout)
    #expect((json["suggestions"] as? [[String: Any]])?.first?["id"] as? String == "router-orange-light")
    #expect((json["reply"] as? [String: Any])?["channel"] as? String == "twitter")
    #expect(((json["reply"] as? [String: Any])?["text"] as? String)?.hasPrefix("@bo ") == true)
    let bad = try kb.run(["suggest", "--kb", kb.root, "--json"], stdin: #"{"txt": 1}"#)
    #expect(bad.status == 64)
    #expect(bad.stderr.contains("missing 'text'"))
  }

  @Test func jsonlStreamKeepsGoingPastABadLine() throws {
    let kb = try PlainKB()
    let input = [
      #"{"id": "m1", "text": "\#(complaint)", "author": "ana", "channel": "twitter"}"#,
      #"{"id": "m2", "text": "#,  // broken JSON
      "",
      #"{"id": "m3", "text": "where is my refund??"}"#,
      #"{"content": "<p>router blinking orange</p>", "account": {"acct": "cy@mastodon.social"}, "id": "m4"}"#,
    ].joined(separator: "\n") + "\n"
    let r = try kb.run(["suggest", "--kb", kb.root, "--jsonl"], stdin: input)
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 4)
    let objects = try lines.map(kb.object)
    #expect(objects.map { $0["line"] as? Int } == [1, 2, 4, 5])
    #expect((objects[1]["error"] as? String)?.contains("not valid JSON") == true)
    #expect(objects[1]["suggestions"] == nil)
    #expect((objects[0]["mention"] as? [String: Any])?["id"] as? String == "m1")
    #expect((objects[0]["suggestions"] as? [[String: Any]])?.first?["id"] as? String == "iphone-sms-repeats")
    #expect((objects[2]["suggestions"] as? [[String: Any]])?.first?["id"] as? String == "refund-not-showing")
    #expect((objects[3]["suggestions"] as? [[String: Any]])?.first?["id"] as? String == "router-orange-light")
    #expect((objects[3]["reply"] as? [String: Any])?["limit"] as? Int == 500)
  }

  @Test func jsonlFlushesEachResultBeforeTheNextLineArrives() throws {
    let kb = try PlainKB()
    _ = try kb.run(["index", "--kb", kb.root])
    let feed = try kb.feed()
    feed.send(#"{"text": "router blinking orange"}"#)
    // The first result arrives while stdin is still open.
    let first = try kb.object(try #require(feed.nextLine()))
    #expect(first["line"] as? Int == 1)
    #expect(try feed.finish() == 0)
  }

  /// A live `--jsonl` feed sees a teammate's new answer within a second, without a restart (the
  /// model it holds plus the documents changed since).
  @Test func jsonlFeedFollowsChangesToTheKnowledgeBase() throws {
    let kb = try PlainKB()
    _ = try kb.run(["index", "--kb", kb.root])
    let feed = try kb.feed()
    func ask() throws -> [String: Any] {
      feed.send(#"{"text": "my voicemail greeting plays in spanish"}"#)
      return try kb.object(try #require(feed.nextLine()))
    }
    let before = try ask()
    let ids = { (r: [String: Any]) in ((r["suggestions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } }
    #expect(!ids(before).contains("voicemail-language"))
    try kb.kb.answer(
      "voicemail-language", title: "Voicemail greeting in the wrong language", symptoms: ["voicemail plays in spanish"],
      body: "## Fix\n\n1. Dial 123 and press 9 for the language menu.")
    Thread.sleep(forTimeInterval: 1.2)
    let after = try ask()
    #expect(ids(after).first == "voicemail-language", "\(after)")
    #expect(try feed.finish() == 0)
  }

  @Test func noMatchSaysSoInTextAndJSON() throws {
    let kb = try PlainKB()
    let text = try kb.run(["suggest", "--kb", kb.root, "what time is the parade on saturday"])
    #expect(text.status == 0)
    #expect(text.stdout.hasPrefix("no known fix; open a case"))
    let json = try kb.object(try kb.run(["suggest", "--kb", kb.root, "--json", "what time is the parade on saturday"]).stdout)
    #expect(json["verdict"] as? String == "no-known-fix")
    #expect(json["message"] as? String == "no known fix; open a case")
  }

  @Test func usageErrors() throws {
    let kb = try PlainKB()
    #expect(try kb.run(["suggest", "--kb", kb.root, "--limit", "0", "x"]).status == 64)
    #expect(try kb.run(["suggest", "--kb", kb.root, "--jsonl", "x"]).status == 64)
    #expect(try kb.run(["suggest", "--kb", kb.root], stdin: "  ").status == 64)
  }
}
