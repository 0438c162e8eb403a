import Foundation
import GRDB
import KBCore
import KBStore
import KBTestSupport
import Testing

@testable import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 14, defect 10: damage to a large index (one that is not checked page by page on every
/// open) is found by the first command that meets it, which rebuilds the index and succeeds.
/// `verifyOnOpen: 0` makes this small index go the way a large one goes.
@Suite struct IndexDamageTests {
  final class DamageKB {
    let folder: TempFolder
    var root: String { folder.path }
    var db: String { root + "/.kb/index.sqlite" }

    init(answers: Int = 40) throws {
      folder = try TempFolder("damage")
      try Workspace.initialize(at: folder.path, team: "Test")
      for i in 0..<answers {
        try folder.write("answers/a\(i).md", """
          ---
          id: a\(i)
          type: answer
          title: Printer jam \(i)
          tags: [printer]
          ---
          ## Fix
          1. Open tray \(i) and pull the paper out slowly.
          """)
      }
      try folder.write("cases/2026/01/c1.md", """
        ---
        id: c1
        type: case
        status: open
        opened: 2026-01-02T10:00:00Z
        ---
        > my printer jams on tray 3

        ## Journal
        - 2026-01-02T10:05Z · tina · acknowledged · Looking at it.
        """)
    }

    /// Builds the index from scratch, with everything moved into the database file (no
    /// write-ahead log), as kb left it; returns the pages of `tables`.
    func build(pagesOf tables: [String]) throws -> [Int] {
      let ws = try Workspace(root: root)
      try ws.rebuild()
      let marks = tables.map { _ in "?" }.joined(separator: ",")
      return try ws.store.read { db in
        try Int.fetchAll(db, sql: "SELECT pageno FROM dbstat WHERE name IN (\(marks)) ORDER BY pageno", arguments: StatementArguments(tables))
      }
    }

    /// Scrambles these pages in place, and puts the file's times back: damage that leaves
    /// the file looking as kb left it (same inode, size and modification time).
    func damage(pages: [Int], keepTimes: Bool = true) throws {
      var st = stat()
      #expect(stat(db, &st) == 0)
      let fd = open(db, O_RDWR)
      #expect(fd >= 0)
      var state: UInt64 = 10
      for page in pages where page > 1 {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let offset = off_t((page - 1) * 4096)
        _ = pread(fd, &bytes, 4096, offset)
        for i in stride(from: 0, to: bytes.count, by: 5) {
          state = state &* 6364136223846793005 &+ 1442695040888963407
          bytes[i] ^= UInt8(truncatingIfNeeded: state >> 33) | 1
        }
        _ = pwrite(fd, bytes, 4096, offset)
      }
      close(fd)
      if keepTimes {
        let times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, db, times, 0) == 0)
      }
    }
  }

  static let searched = ["document", "document_fts_data", "document_fts_idx", "document_fts_content", "document_fts_docsize"]

  /// Search, list, show and cases each meet the damage first: each rebuilds the index with a
  /// warning and still returns the right answer, in that same call.
  @Test func theFirstQueryThatMeetsDamageRebuildsAndSucceeds() throws {
    let kb = try DamageKB()
    let operations: [(String, (Workspace) throws -> Bool)] = [
      ("search", { try $0.search("tray 7").hits.first?.id == "a7" }),
      ("list", { try $0.list(DocumentFilter()).map(\.id).filter { $0.hasPrefix("a") }.count == 40 }),
      ("show", { try $0.document(id: "a12").title == "Printer jam 12" }),
      ("cases", { try $0.cases(CaseListQuery()).map(\.id) == ["c1"] }),
    ]
    for (name, operation) in operations {
      let pages = try kb.build(pagesOf: Self.searched)
      #expect(pages.count > 4, "\(name)")
      try kb.damage(pages: pages)
      let ws = try Workspace(root: kb.root, verifyOnOpen: 0)
      var shown: [String] = []
      ws.warningHandler = { shown.append($0) }
      // Opening did not check the whole file (it is as kb left it), and the refresh reads no
      // damaged page: the query is the first to meet the damage.
      #expect(ws.warnings.isEmpty, "\(name): \(ws.warnings)")
      try ws.refresh()
      #expect(try operation(ws), "\(name)")
      #expect(shown.contains { $0.contains("damaged") && $0.contains("rebuilding") }, "\(name): \(shown)")
      // Rebuilt for good: the next command opens a sound index without a word.
      let next = try Workspace(root: kb.root)
      #expect(next.warnings.isEmpty, "\(name): \(next.warnings)")
      #expect(try next.search("tray 7").hits.first?.id == "a7")
    }
  }

  /// A workspace that stays open (the MCP server, the web interface) heals too.
  @Test func aLongLivedWorkspaceHealsInTheMiddleOfItsLife() throws {
    let kb = try DamageKB()
    let pages = try kb.build(pagesOf: Self.searched)
    try kb.damage(pages: pages)
    let ws = try Workspace(root: kb.root, verifyOnOpen: 0)
    #expect(try ws.search("tray 3").hits.first?.id == "a3")
    #expect(ws.warnings.contains { $0.contains("rebuilding") })
    // New documents are still written and found after the rebuild.
    let document = try ws.newAnswer(title: "Scanner glass streaks", body: "## Fix\n1. Wipe the glass.\n", author: "tina")
    try ws.write(document, creating: true)
    #expect(try ws.search("scanner streaks").hits.map(\.id) == [document.id])
  }

  /// An index file changed by something else than kb (its time, size or inode differ from
  /// what kb recorded) is checked page by page when opened, however large.
  @Test func anIndexChangedBehindKbsBackIsCheckedOnOpen() throws {
    let kb = try DamageKB()
    let pages = try kb.build(pagesOf: ["entry", "problem", "folder", "meta"])
    try kb.damage(pages: pages, keepTimes: false)
    // Make sure the time differs even on a coarse clock.
    var st = stat()
    #expect(stat(kb.db, &st) == 0)
    let later = timespec(tv_sec: st.st_mtim.tv_sec + 2, tv_nsec: st.st_mtim.tv_nsec)
    #expect(utimensat(AT_FDCWD, kb.db, [later, later], 0) == 0)
    let ws = try Workspace(root: kb.root, verifyOnOpen: 0)
    #expect(ws.warnings.contains { $0.contains("damaged") && $0.contains("rebuilding") }, "\(ws.warnings)")
    try ws.refresh()
    #expect(try ws.search("tray 7").hits.first?.id == "a7")
  }

  /// Damage no query reads and no trace betrays (the journal table here) is not looked for on
  /// every open of a large index; `kb check` checks the whole file and rebuilds it.
  @Test func unreadDamageIsLeftToTheWholeFileCheckOfKbCheck() throws {
    let kb = try DamageKB()
    let pages = try kb.build(pagesOf: ["entry"])
    #expect(!pages.isEmpty)
    try kb.damage(pages: pages)
    let ws = try Workspace(root: kb.root, verifyOnOpen: 0)
    #expect(ws.warnings.isEmpty, "\(ws.warnings)")
    #expect(try ws.search("tray 7").hits.first?.id == "a7")
    let problems = try ws.check()
    #expect(ws.warnings.contains { $0.contains("damaged") && $0.contains("rebuilding") }, "\(ws.warnings)")
    #expect(problems.isEmpty, "\(problems)")
    #expect(try Workspace(root: kb.root, verifyOnOpen: 0).warnings.isEmpty)
  }
}
