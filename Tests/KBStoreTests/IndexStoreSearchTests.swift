import KBCore
import Testing

@testable import KBStore

@Suite struct IndexStoreSearchTests {
  private func record(_ path: String, _ text: String) throws -> IndexRecord {
    IndexRecord(path: path, size: Int64(text.utf8.count), mtime: 1, document: try Document(path: path, text: text))
  }

  private func store(_ docs: [(String, String)]) throws -> IndexStore {
    let store = try IndexStore()
    var changes = IndexChanges()
    changes.upserts = try docs.map { try record($0.0, $0.1) }
    try store.apply(changes)
    return store
  }

  @Test func titleAndSymptomsOutrankBody() throws {
    let s = try store([
      ("answers/body.md", "---\nid: body\ntitle: Billing questions\n---\nSometimes a router needs a restart.\n"),
      ("answers/title.md", "---\nid: title\ntitle: Router restart sequence\n---\nUnplug it.\n"),
      ("answers/symptom.md", "---\nid: symptom\ntitle: Slow wifi\nsymptoms:\n  - router keeps dropping\n---\nMove it.\n"),
    ])
    let (hits, mode) = try s.search(SearchQuery(parsing: "router"), limit: 10)
    #expect(mode == .all)
    #expect(hits.map(\.id) == ["title", "symptom", "body"])
    #expect(hits[0].snippet.contains(SearchHit.highlightStart))
  }

  @Test func allTermsFirstThenAnyTerm() throws {
    let s = try store([
      ("answers/a.md", "---\nid: a\ntitle: Roaming abroad\n---\nCall the help number.\n"),
      ("answers/b.md", "---\nid: b\ntitle: Data abroad\n---\nTurn on data roaming.\n"),
    ])
    var result = try s.search(SearchQuery(parsing: "roaming data"), limit: 10)
    // Every word preferred, not required: the document with both first, then the one with one.
    #expect(result.mode == .all && result.hits.map(\.id) == ["b", "a"])
    #expect(result.hits.map(\.matched) == [["roaming", "data"], ["roaming"]])
    result = try s.search(SearchQuery(parsing: "roaming help zebra"), limit: 10)
    #expect(result.mode == .any && result.hits.first?.id == "a")
  }

  @Test func filtersAreSQLConditions() throws {
    let s = try store([
      ("cases/2024/10/c1.md", "---\nid: c1\ntype: case\nstatus: open\nassignee: tina\ntags: [sms]\n---\n> texts repeat\n"),
      ("cases/2024/10/c2.md", "---\nid: c2\ntype: case\nstatus: resolved\nassignee: jason\ntags: [sms, iphone]\n---\n> texts repeat\n"),
      ("answers/a.md", "---\nid: a\ntags: [sms]\n---\ntexts repeat\n"),
    ])
    #expect(try s.search(SearchQuery(parsing: "texts type:case status:open"), limit: 10).hits.map(\.id) == ["c1"])
    #expect(try s.search(SearchQuery(parsing: "assignee:JASON"), limit: 10).hits.map(\.id) == ["c2"])
    #expect(try s.search(SearchQuery(parsing: "tag:iphone"), limit: 10).hits.map(\.id) == ["c2"])
    #expect(Set(try s.search(SearchQuery(parsing: "tag:sms"), limit: 10).hits.map(\.id)) == ["a", "c1", "c2"])
    // A tag filter matches whole tags, not parts of them.
    #expect(try s.search(SearchQuery(parsing: "tag:ph"), limit: 10).hits.isEmpty)
  }

  @Test func porterStemmingAndDiacritics() throws {
    let s = try store([("answers/a.md", "---\nid: a\ntitle: Repeating messages\n---\nCafé wifi.\n")])
    #expect(try s.search(SearchQuery(parsing: "repeat message"), limit: 5).hits.count == 1)
    #expect(try s.search(SearchQuery(parsing: "cafe"), limit: 5).hits.count == 1)
    #expect(try s.search(SearchQuery(parsing: "repe*"), limit: 5).hits.count == 1)
  }

  @Test func upsertReplacesAndRemovalDeletes() throws {
    let s = try store([("answers/a.md", "---\nid: a\n---\nold words\n")])
    var changes = IndexChanges()
    changes.upserts = [try record("answers/a.md", "---\nid: a\n---\nnew words\n")]
    try s.apply(changes)
    #expect(try s.search(SearchQuery(parsing: "old"), limit: 5).hits.isEmpty)
    #expect(try s.search(SearchQuery(parsing: "new"), limit: 5).hits.count == 1)
    changes = IndexChanges()
    changes.removals = ["answers/a.md"]
    try s.apply(changes)
    #expect(try s.counts().documents == 0)
  }
}
