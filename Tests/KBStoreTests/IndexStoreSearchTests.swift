import GRDB
import KBCore
import KBTestSupport
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

  /// `fullText` without filters runs in two steps (the best rows by score, then their
  /// snippets). Over seeded corpora full of equal scores (documents written twice under other
  /// paths), its hits are exactly those of the one-step query, order included, at every limit.
  @Test func twoStepFullTextEqualsTheOneStepQuery() throws {
    var rng = SeededGenerator(seed: 20261204)
    let words = ["router", "wifi", "restart", "sms", "repeat", "bill", "late", "roaming", "data", "phone"]
    for round in 0..<4 {
      var docs: [(String, String)] = []
      for i in 0..<120 {
        let body = (0..<Int.random(in: 1...6, using: &rng)).map { _ in words.randomElement(using: &rng)! }
        let text = "---\nid: d\(i)\ntitle: \(body.prefix(2).joined(separator: " "))\n---\n\(body.joined(separator: " "))\n"
        docs.append(("answers/\(round)-\(i).md", text))
        // The same text under another path: equal scores whose order only the path decides.
        if i % 3 == 0 { docs.append(("answers/copy-\(round)-\(i).md", text.replacingOccurrences(of: "id: d\(i)", with: "id: copy\(i)"))) }
      }
      let s = try store(docs.shuffled(using: &rng))
      for word in words {
        let pattern = SearchQuery.quote(word)
        let reference = try s.read { db in
          try String.fetchAll(db, sql: """
            SELECT d.path FROM document_fts JOIN document d ON d.rowid = document_fts.rowid
            WHERE document_fts MATCH ? ORDER BY bm25(document_fts, \(IndexStore.columnWeights.title), \
            \(IndexStore.columnWeights.symptoms), \(IndexStore.columnWeights.tags), \(IndexStore.columnWeights.body)), d.path
            """, arguments: [pattern])
        }
        for limit in [1, 2, 3, 5, 10, 40, 500] {
          let hits = try s.fullText(pattern, filters: [], limit: limit)
          #expect(hits.map(\.path) == Array(reference.prefix(limit)), "\(word) limit \(limit)")
          #expect(hits.allSatisfy { !$0.snippet.isEmpty })
        }
      }
    }
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
