import Foundation
import Testing

/// Issue 15 as a user and a script meet it: our own posts, duplicates by platform id, the
/// customer's handle, and `kb case reply`.
@Suite struct MentionCLITests {
  func kb() throws -> KBProcess {
    let kb = try KBProcess()
    try """
      team: "Northwind Support"
      handles: ["@NorthwindHelp", "@northwind@mastodon.social"]
      signature: "^{initials}"
      """.write(toFile: kb.root + "/kb.yml", atomically: true, encoding: .utf8)
    try """
      ---
      id: iphone-sms-repeats
      type: answer
      title: Text message repeats endlessly on iPhone
      symptoms:
        - the same text message keeps arriving again and again
        - my phone keeps getting the same text over and over
      reply: "Power the phone off completely for a few minutes, then turn it back on: that stops the loop."
      ---
      ## Fix
      1. Ask the customer to power the phone off for a few minutes.
      """.write(toFile: kb.root + "/answers/iphone-sms-repeats.md", atomically: true, encoding: .utf8)
    return kb
  }

  @Test func ourOwnPostsGetNoReplyAndNoCaseAndTheJSONSaysWhy() throws {
    let kb = try kb()
    defer { kb.remove() }
    let lines = """
      {"text": "Maintenance tonight: texts may repeat", "author": "NorthwindHelp", "id": "1"}
      {"text": "my phone keeps getting the same text over and over", "author": "ana", "id": "2"}
      {"content": "<p>Maintenance tonight</p>", "account": {"acct": "northwind", "url": "https://mastodon.social/@northwind"}, "id": "3"}
      """
    var r = try kb.run(["suggest", "--jsonl"], stdin: lines)
    #expect(r.status == 0, "\(r.stderr)")
    let results = try r.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(results.map { $0["verdict"] as? String } == ["own-account", "known-fix", "own-account"])
    #expect(results[0]["reply"] == nil && results[0]["own_handle"] as? String == "@NorthwindHelp")
    #expect(results[0]["message"] as? String == "posted by our own account @NorthwindHelp: no reply, no case")
    r = try kb.run(["case", "open", "--json"], stdin: lines)
    #expect(r.status == 0, "\(r.stderr)")
    let skipped = try #require(try r.json()["skipped"] as? [[String: Any]])
    #expect(skipped.map { $0["reason"] as? String } == ["own-account", "own-account"])
    #expect((try r.json()["opened"] as? [Any])?.count == 1)
    // Twice: nothing new, and it says so.
    r = try kb.run(["case", "open", "--json"], stdin: lines)
    #expect((try r.json()["opened"] as? [Any])?.isEmpty == true)
    #expect((try r.json()["skipped"] as? [[String: Any]])?.map { $0["reason"] as? String } == ["own-account", "already-opened", "own-account"])
    #expect(kb.caseFiles().count == 1)
    r = try kb.run(["case", "open"], stdin: #"{"text": "my phone keeps getting the same text over and over", "author": "ana", "id": "2"}"#)
    #expect(r.status == 1 && r.stderr.contains("already opened"))
  }

  @Test func theDraftStartsWithTheCustomersHandleAndUsesTheAnswersReply() throws {
    let kb = try kb()
    defer { kb.remove() }
    let r = try kb.run(["suggest", "--json", "--customer", "dana_k", "--as", "Jason Reyes", "my phone keeps getting the same text over and over"])
    #expect(r.status == 0, "\(r.stderr)")
    let reply = try #require(try r.json()["reply"] as? [String: Any])
    let text = try #require(reply["text"] as? String)
    #expect(text.hasPrefix("@dana_k ") && text.contains("Power the phone off completely") && !text.contains("Ask the customer"))
  }

  @Test func caseReplyShowsThenLogsWithYes() throws {
    let kb = try kb()
    defer { kb.remove() }
    var r = try kb.run(["case", "open", "--customer", "@ana", "--channel", "twitter", "--id", "c1",
                        "my phone keeps getting the same text over and over"])
    #expect(r.status == 0, "\(r.stderr)")
    // Not a terminal and no --yes: shown, not logged.
    r = try kb.run(["case", "reply", "c1", "--as", "Jason Reyes"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("@ana ") && r.stdout.contains("Not logged"))
    #expect(try kb.run(["show", "c1", "--json"]).json()["status"] as? String == "open")
    r = try kb.run(["case", "reply", "c1", "--as", "Jason Reyes", "--yes", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try r.json()
    let logged = try #require(json["logged"] as? [String: Any])
    #expect(logged["status"] as? String == "acknowledged" && logged["previous_status"] as? String == "open")
    #expect((logged["entry"] as? [String: Any])?["kind"] as? String == "acted")
    #expect((json["reply"] as? [String: Any])?["answer"] as? String == "iphone-sms-repeats")
    // --text: an acknowledgement in the agent's own words.
    r = try kb.run(["case", "reply", "c1", "--as", "Jason Reyes", "--yes", "--text", "On it, back shortly."])
    #expect(r.status == 0 && r.stdout.contains("Logged acknowledged"), "\(r.stdout)\(r.stderr)")
    #expect(try kb.run(["case", "reply", "c1", "--answer", "nope", "--yes"]).status != 0)
  }
}
