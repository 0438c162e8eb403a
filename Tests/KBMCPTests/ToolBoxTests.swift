import Foundation
import KBCore
import KBWorkspace
import MCP
import Testing

@testable import KBMCP

@Suite struct ToolBoxTests {
  @Test func searchFindsTheRepeatingSMSFix() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox()
    let result = await box.call("search", ["query": "same text message keeps arriving"])
    #expect(result.isError != true)
    let hits = try #require(result.structuredContent?.objectValue?["hits"]?.arrayValue)
    #expect(hits.first?.objectValue?["id"]?.stringValue == "iphone-sms-repeats")
    // The text content is the same JSON.
    let decoded = try JSONDecoder().decode(Value.self, from: Data(result.text.utf8))
    #expect(decoded == result.structuredContent)
  }

  @Test(arguments: [
    ("nope", ["query": "x"], "unknown_tool"),
    ("search", [:], "invalid_arguments"),
    ("search", ["query": 3], "invalid_arguments"),
    ("search", ["query": "sms", "limit": 1.5], "invalid_arguments"),
    ("search", ["query": "sms", "limit": 101], "invalid_arguments"),
    ("search", ["query": "sms", "extra": true], "invalid_arguments"),
    ("show", ["id": "missing"], "not_found"),
    ("show", ["path": "../../etc/passwd"], "outside_knowledge_base"),
    ("show", ["id": "a", "path": "b"], "invalid_arguments"),
    ("list_cases", ["status": "sleeping"], "invalid_arguments"),
    ("case_log", ["id": "missing", "text": "x"], "not_found"),
    ("case_log", ["id": "2009-10-20-sms-loop-barnaul", "text": "x", "kind": "merge"], "invalid_arguments"),
    ("case_open", ["text": "help", "at": "tomorrow"], "invalid_arguments"),
  ] as [(String, [String: Value], String)])
  func badInputIsAnErrorResult(tool: String, arguments: [String: Value], code: String) async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox()
    let result = await box.call(tool, arguments)
    #expect(result.isError == true)
    #expect(result.errorCode == code, "\(result.text)")
    #expect(!result.text.isEmpty)
    // And the box still answers.
    #expect(await box.call("search", ["query": "sms"]).isError != true)
  }

  @Test func everyToolHasADescribedSchema() {
    let names = ToolBox.tools.map(\.name)
    #expect(Set(names).count == names.count)
    #expect(Set(names).isSuperset(of: ["search", "suggest", "show", "list_cases", "case_open", "case_log", "case_reply", "case_resolve", "cases_due", "sync"]))
    for tool in ToolBox.tools {
      let schema = tool.inputSchema.objectValue ?? [:]
      #expect(schema["type"] == "object", "\(tool.name)")
      let properties = schema["properties"]?.objectValue ?? [:]
      for (name, property) in properties {
        #expect(property.objectValue?["type"]?.stringValue != nil, "\(tool.name).\(name) has no type")
        #expect(property.objectValue?["description"]?.stringValue?.isEmpty == false, "\(tool.name).\(name) has no description")
      }
      for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
        #expect(properties[required] != nil, "\(tool.name): required '\(required)' is not a property")
      }
      #expect(tool.description?.isEmpty == false)
    }
  }

  @Test func wholeNumbersAsDoublesAreIntegers() throws {
    let schema = Schema.object(["limit": Schema.integer("n", minimum: 1)])
    let args = try Arguments(["limit": .double(5)], schema: schema, tool: "t")
    #expect(args.int("limit") == 5)
    #expect(throws: ToolError.wrongType(tool: "t", name: "limit", expected: "an integer", got: "the number 5.5")) {
      try Arguments(["limit": .double(5.5)], schema: schema, tool: "t")
    }
  }

  @Test func journalEntriesAreSignedViaMCP() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox()
    let opened = await box.call("case_open", ["text": "texts keep repeating on my phone", "customer": "dana", "at": "2024-10-20T16:05:00Z"])
    #expect(opened.isError != true, "\(opened.text)")
    let id = try #require(opened.structuredContent?.objectValue?["case"]?.objectValue?["id"]?.stringValue)
    #expect(opened.structuredContent?.objectValue?["case"]?.objectValue?["customer"]?.stringValue == "@dana")
    let logged = await box.call("case_log", ["id": .string(id), "text": "Asked them to power off.", "kind": "acted", "at": "2024-10-20T16:10:00Z"])
    #expect(logged.isError != true, "\(logged.text)")
    let text = try String(contentsOfFile: fixture.root + "/cases/2024/10/\(id).md", encoding: .utf8)
    #expect(text.contains("\n- 2024-10-20T16:10:00Z · Support bot (via MCP) · acted · Asked them to power off.\n"))
  }

  @Test func caseReplyDraftsThenLogsWhenSent() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox()
    let opened = await box.call("case_open", ["text": "my iphone keeps getting the same text over and over", "customer": "dana", "channel": "twitter", "at": "2024-10-20T16:05:00Z"])
    let id = try #require(opened.structuredContent?.objectValue?["case"]?.objectValue?["id"]?.stringValue)
    let draft = await box.call("case_reply", ["id": .string(id)])
    #expect(draft.isError != true, "\(draft.text)")
    let text = try #require(draft.structuredContent?.objectValue?["text"]?.stringValue)
    #expect(text.hasPrefix("@dana "))
    #expect(draft.structuredContent?.objectValue?["logged"] == nil)
    let sent = await box.call("case_reply", ["id": .string(id), "text": "Looking into it now.", "send": true, "at": "2024-10-20T16:10:00Z"])
    #expect(sent.isError != true, "\(sent.text)")
    let logged = try #require(sent.structuredContent?.objectValue?["logged"]?.objectValue)
    #expect(logged["status"]?.stringValue == "acknowledged")
    let file = try String(contentsOfFile: fixture.root + "/cases/2024/10/\(id).md", encoding: .utf8)
    #expect(file.contains(" · Support bot (via MCP) · acknowledged · Replied: @dana Looking into it now."))
    // A second case_open of the same post opens nothing and says why.
    let again = await box.call("case_open", ["mention": ["text": "again", "id": "42", "channel": "twitter"]])
    #expect(again.structuredContent?.objectValue?["case"] != nil)
    let twice = await box.call("case_open", ["mention": ["text": "again", "id": "42", "channel": "twitter"]])
    #expect(twice.structuredContent?.objectValue?["skipped"]?.objectValue?["reason"]?.stringValue == "already-opened")
  }

  @Test func writesWithoutAnIdentityAreRefused() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox(identity: nil)
    let result = await box.call("case_log", ["id": "2009-10-20-sms-loop-barnaul", "text": "x"])
    #expect(result.errorCode == "no_identity")
    #expect(try String(contentsOfFile: fixture.root + "/cases/2009/10/2009-10-20-sms-loop-barnaul.md", encoding: .utf8) == Fixture.resolvedCase)
  }

  /// The SDK runs requests concurrently; the actor and the write lock keep every entry.
  @Test func concurrentLogsAreAllKept() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let box = try fixture.toolBox()
    let opened = await box.call("case_open", ["text": "my phone is stuck in a loop", "id": "loop-case"])
    #expect(opened.isError != true, "\(opened.text)")
    let count = 20
    await withTaskGroup(of: Bool.self) { group in
      for i in 0..<count {
        group.addTask { await box.call("case_log", ["id": "loop-case", "text": .string("note \(i)")]).isError != true }
      }
      for await ok in group { #expect(ok) }
    }
    let shown = await box.call("show", ["id": "loop-case"])
    #expect(shown.structuredContent?.objectValue?["journal"]?.arrayValue?.count == count)
  }
}
