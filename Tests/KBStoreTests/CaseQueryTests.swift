import Foundation
import Testing

@testable import KBCore
@testable import KBStore

@Suite struct CaseQueryTests {
  static func store() throws -> IndexStore {
    let store = try IndexStore()
    var changes = IndexChanges()
    let cases: [(String, String, String)] = [
      ("c1", "resolved", "- 2024-01-01T10:05:00Z · a · acknowledged · Hi\n- 2024-01-01T11:00:00Z · a · resolved · Fix: [[x]].\n"),
      ("c2", "open", ""),
      ("c3", "escalated", "- 2024-01-03T09:00:00Z · b · escalated · Tier 2\n"),
    ]
    for (i, (id, status, journal)) in cases.enumerated() {
      let text = "---\nid: \(id)\ntype: case\nstatus: \(status)\nopened: 2024-01-0\(i + 1)T08:00:00Z\n"
        + (status == "resolved" ? "follow_up: 2024-01-04\n" : "") + "---\n> Words \(id)\n\n## Journal\n" + journal
      let document = try Document(path: "cases/2024/01/\(id).md", text: text)
      changes.upserts.append(IndexRecord(path: document.path, size: Int64(text.utf8.count), mtime: 0, document: document))
    }
    try store.apply(changes)
    return store
  }

  @Test func caseFactsCarryTheJournalInOrder() throws {
    let facts = try Self.store().caseFacts()
    #expect(facts.map(\.id) == ["c1", "c2", "c3"])
    #expect(facts[0].entries.map(\.kind) == [.acknowledged, .resolved])
    #expect(facts[0].followUp == "2024-01-04")
    #expect(facts[1].entries.isEmpty)
    #expect(facts[2].status == .escalated)
  }

  @Test func casesFilterByStatusesAndFollowUp() throws {
    let store = try Self.store()
    var query = CaseListQuery()
    query.statuses = [.open, .escalated]
    #expect(try store.cases(query).map(\.id) == ["c2", "c3"])
    query = CaseListQuery()
    query.followUpBy = "2024-01-04"
    #expect(try store.cases(query).map(\.id) == ["c1"])
    query.followUpBy = "2024-01-03"
    #expect(try store.cases(query).isEmpty)
    query = CaseListQuery()
    query.sort = .updated
    query.descending = true
    #expect(try store.cases(query).map(\.id) == ["c3", "c2", "c1"])
    #expect(try store.cases(query).first?.updated == "2024-01-03T09:00:00Z")
  }
}
