import Foundation
import KBTestSupport
import Testing

@testable import KBCore
@testable import KBStore

/// The index as a file: what survives a reopen, and what a damaged file becomes.
@Suite struct OnDiskStoreTests {
  @Test func reopenedIndexKeepsItsDocuments() throws {
    let folder = try TempFolder("store")
    let path = folder.path + "/index.sqlite"
    let text = "---\nid: a1\ntype: answer\ntitle: Router light blinking orange\n---\n## Fix\n1. Restart it.\n"
    do {
      let store = try IndexStore(path: path)
      var changes = IndexChanges()
      changes.upserts.append(IndexRecord(path: "answers/a1.md", size: 1, mtime: 1, document: try Document(path: "answers/a1.md", text: text)))
      try store.apply(changes)
    }
    let reopened = try IndexStore(path: path)
    #expect(try reopened.counts() == IndexCounts(answers: 1, cases: 0, problems: 0))
    #expect(try reopened.search(SearchQuery(parsing: "orange"), limit: 5).hits.map(\.id) == ["a1"])
  }

  @Test func aDamagedFileAsksForARebuild() throws {
    let folder = try TempFolder("store")
    let path = folder.path + "/index.sqlite"
    try folder.write("index.sqlite", String(repeating: "not a database ", count: 400))
    do {
      _ = try IndexStore(path: path)
      Issue.record("a damaged index opened")
    } catch {
      #expect(error.needsRebuild, "\(error)")
    }
  }
}
