import Foundation
import GRDB
import Testing

@testable import KBCore
@testable import KBStore

/// The suggestion model's inputs and check-back counts, kept by deltas on the write path.
@Suite struct SuggestInputsTests {
  static func record(_ path: String, _ text: String) throws -> IndexRecord {
    IndexRecord(path: path, size: Int64(text.utf8.count), mtime: 0, document: try Document(path: path, text: text))
  }

  static func answer(_ id: String, title: String, body: String = "Restart it.") throws -> IndexRecord {
    try record("answers/\(id).md", "---\nid: \(id)\ntype: answer\ntitle: \"\(title)\"\n---\n\n\(body)\n")
  }

  static func kase(_ id: String, status: String, answer: String?, complaint: String, checkBacks: [String]) throws -> IndexRecord {
    let journal = checkBacks.enumerated().map { "- 2024-01-0\($0.offset + 2)T10:00:00Z · a · checked-back · \($0.element)" }
    let text = "---\nid: \(id)\ntype: case\nstatus: \(status)\nopened: 2024-01-01T08:00:00Z\n"
      + (answer.map { "answer: \($0)\n" } ?? "") + "---\n> \(complaint)\n\n## Journal\n" + journal.joined(separator: "\n") + "\n"
    return try record("cases/2024/01/\(id).md", text)
  }

  static func apply(_ store: IndexStore, upserts: [IndexRecord] = [], removals: [String] = []) throws {
    var changes = IndexChanges()
    changes.upserts = upserts
    changes.removals = removals
    // Upserts of known paths replace their rows (what the refresh path marks).
    try store.apply(changes)
  }

  /// The change log tells what each teaching document was at a position and is now; it
  /// cannot tell past a prune, or for another index's log.
  @Test func theChangeLogTellsWhatChangedSinceAPosition() throws {
    let store = try IndexStore()
    try Self.apply(store, upserts: [
      try Self.answer("router", title: "Router light blinking"),
      try Self.kase("c1", status: "open", answer: "router", complaint: "amber light", checkBacks: []),
    ])
    let start = try store.withSuggestSnapshot { try $0.position() }
    #expect(try store.withSuggestSnapshot { try $0.changes(since: start) } == [])
    var edited = try Self.answer("router", title: "Router light blinking orange")
    edited.isNew = false
    var resolved = try Self.kase("c1", status: "resolved", answer: "router", complaint: "amber light", checkBacks: [])
    resolved.isNew = false
    try Self.apply(store, upserts: [edited, resolved, try Self.answer("refund", title: "Refund late")])
    let changes = try #require(try store.withSuggestSnapshot { try $0.changes(since: start) })
    #expect(changes.map(\.path) == ["answers/refund.md", "answers/router.md", "cases/2024/01/c1.md"])
    #expect(changes[0].before == nil && changes[0].now?.answer?.title == "Refund late")
    #expect(changes[1].before?.answer?.title == "Router light blinking")
    #expect(changes[1].now?.answer?.title == "Router light blinking orange")
    #expect(changes[2].before == nil, "an open case teaches nothing")
    #expect(changes[2].now?.teaching?.complaint == "amber light")
    // Changed back: nothing to apply.
    var back = try Self.answer("router", title: "Router light blinking")
    back.isNew = false
    try Self.apply(store, upserts: [back])
    #expect(try store.withSuggestSnapshot { try $0.changes(since: start) }?.map(\.path) == ["answers/refund.md", "cases/2024/01/c1.md"])
    // After a prune the log cannot say what happened since `start`, but can since the prune.
    let now = try store.withSuggestSnapshot { try $0.position() }
    try store.pruneSuggestChanges(through: now)
    #expect(try store.withSuggestSnapshot { try $0.changes(since: start) } == nil)
    #expect(try store.withSuggestSnapshot { try $0.changes(since: now) } == [])
    // Another log (the index erased): no position of the old one applies.
    try store.eraseAll()
    #expect(try store.withSuggestSnapshot { try $0.changes(since: now) } == nil)
  }

  @Test func journalLinesAndCheckBacksLeaveTheModelStateAlone() throws {
    let store = try IndexStore()
    try Self.apply(store, upserts: [
      try Self.answer("router", title: "Router light blinking"),
      try Self.kase("c1", status: "resolved", answer: "router", complaint: "amber light", checkBacks: []),
    ])
    let state = try store.suggestState()
    var again = try Self.kase("c1", status: "resolved", answer: "router", complaint: "amber light", checkBacks: ["Held: fine."])
    again.isNew = false
    try Self.apply(store, upserts: [again])
    #expect(try store.suggestState() == state)
    #expect(try store.answerEvidence()["router"].map { [$0.cases, $0.held, $0.failed] } == [1, 1, 0])
    var changed = try Self.kase("c1", status: "resolved", answer: "router", complaint: "orange light", checkBacks: ["Held: fine."])
    changed.isNew = false
    try Self.apply(store, upserts: [changed])
    #expect(try store.suggestState() != state, "the complaint is a model input")
    try Self.apply(store, removals: ["cases/2024/01/c1.md"])
    #expect(try store.answerEvidence()["router"] == nil)
  }

  @Test func anIndexFromBeforeTheTablesIsFilledOnOpening() throws {
    let path = NSTemporaryDirectory() + "kb-suggest-inputs-\(UUID().uuidString).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    var expectedState = ""
    var expectedEvidence: [String: [Int]] = [:]
    do {
      let store = try IndexStore(path: path)
      try Self.apply(store, upserts: [
        try Self.answer("router", title: "Router light blinking"),
        try Self.answer("refund", title: "Refund not showing"),
        try Self.kase("c1", status: "resolved", answer: "router", complaint: "amber light", checkBacks: ["Held: ok", "Did not hold: no"]),
        try Self.kase("c2", status: "open", answer: "refund", complaint: "where is my money", checkBacks: []),
        try Self.kase("c3", status: "closed", answer: nil, complaint: "hello", checkBacks: []),
      ])
      expectedState = try store.suggestState()
      expectedEvidence = try store.answerEvidence().mapValues { [$0.cases, $0.held, $0.failed] }
      #expect(expectedEvidence == ["router": [1, 1, 1], "refund": [1, 0, 0]])
      // As an index written before these tables existed.
      try store.writer.write { db in
        try db.execute(sql: "DROP TABLE suggest_input; DROP TABLE suggest_state; DROP TABLE answer_evidence")
        try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v2:%'")
      }
    }
    let reopened = try IndexStore(path: path)
    #expect(try reopened.suggestState() == expectedState)
    #expect(try reopened.answerEvidence().mapValues { [$0.cases, $0.held, $0.failed] } == expectedEvidence)
  }
}
