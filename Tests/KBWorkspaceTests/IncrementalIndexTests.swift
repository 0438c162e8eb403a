import Foundation
import KBCore
import KBStore
import KBTestSupport
import Testing

@testable import KBWorkspace

/// A knowledge base in its own temporary folder, removed at the end of the test.
private final class IndexTestKB {
  let folder: TempFolder
  var root: String { folder.path }

  init() throws {
    folder = try TempFolder("index")
    try Workspace.initialize(at: folder.path, team: "Test")
  }

  func write(_ relative: String, _ text: String) throws { try folder.write(relative, text) }

  func writeBytes(_ relative: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + relative))
  }

  func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: root + "/" + relative) }

  func move(_ from: String, _ to: String) throws {
    try FileManager.default.moveItem(atPath: root + "/" + from, toPath: root + "/" + to)
  }

  /// Sets a file's modification time forward, so an edit within the same clock tick is seen.
  func touch(_ relative: String, offset: TimeInterval) throws {
    try FileManager.default.setAttributes(
      [.modificationDate: Date().addingTimeInterval(offset)], ofItemAtPath: root + "/" + relative)
  }
}

private func answer(_ id: String, title: String, body: String = "## Fix\n1. Restart.\n") -> String {
  "---\nid: \(id)\ntype: answer\ntitle: \(title)\ntags: [test]\n---\n\(body)"
}

@Suite struct IncrementalIndexTests {
  @Test func addEditDeleteRename() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/a.md", answer("a", title: "Router lights blinking"))
    try kb.write("answers/b.md", answer("b", title: "Voicemail not working"))
    let ws = try Workspace(root: kb.root)

    var report = try ws.refresh()
    #expect(report.added == 2 && report.updated == 0 && report.removed == 0)
    #expect(try ws.search("router").hits.map(\.id) == ["a"])

    // Unchanged: nothing parsed.
    report = try ws.refresh()
    #expect(report.changed == 0)

    // Edit.
    try kb.write("answers/a.md", answer("a", title: "Router lights blinking red"))
    try kb.touch("answers/a.md", offset: 5)
    report = try ws.refresh()
    #expect(report.updated == 1 && report.added == 0)
    #expect(try ws.search("red").hits.map(\.id) == ["a"])

    // Add in a new folder.
    try kb.write("answers/network/c.md", answer("c", title: "Fibre install date"))
    report = try ws.refresh()
    #expect(report.added == 1)

    // Rename: the old path disappears, the new one appears, the id is still found once.
    try kb.move("answers/b.md", "answers/network/b-renamed.md")
    report = try ws.refresh()
    #expect(report.added == 1 && report.removed == 1)
    #expect(try ws.store.paths(forID: "b") == ["answers/network/b-renamed.md"])

    // Delete a file, then a whole folder.
    try kb.remove("answers/a.md")
    report = try ws.refresh()
    #expect(report.removed == 1)
    #expect(try ws.search("router").hits.isEmpty)
    try kb.remove("answers/network")
    report = try ws.refresh()
    #expect(report.removed == 2)
    #expect(try ws.store.counts().documents == 0)
  }

  @Test func aNewProcessSeesTheSameIndex() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/a.md", answer("a", title: "Roaming help number"))
    do {
      let ws = try Workspace(root: kb.root)
      try ws.refresh()
    }
    let again = try Workspace(root: kb.root)
    #expect(try again.refresh().changed == 0)
    #expect(try again.search("roaming").hits.count == 1)
  }

  @Test func badFilesAreReportedAndTheRestIsIndexed() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/good.md", answer("good", title: "Good answer"))
    try kb.write("answers/yaml.md", "---\nid: yaml\ntitle: [unclosed\n---\nbody\n")
    try kb.write("answers/unterminated.md", "---\nid: x\nbody without a closing fence\n")
    try kb.writeBytes("answers/latin1.md", Array("caf".utf8) + [0xE9, 0x0A])
    try kb.writeBytes("answers/binary.md", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01])
    try kb.write("answers/huge.md", answer("huge", title: "Huge", body: String(repeating: "x", count: 1_100_000)))
    try FileManager.default.createSymbolicLink(atPath: kb.root + "/answers/escape.md", withDestinationPath: "/etc/hostname")
    try FileManager.default.createSymbolicLink(atPath: kb.root + "/answers/inside.md", withDestinationPath: kb.root + "/answers/good.md")

    let ws = try Workspace(root: kb.root)
    let report = try ws.refresh()
    let problems = Dictionary(uniqueKeysWithValues: report.problems.map { ($0.path, $0) })
    #expect(problems["answers/yaml.md"]?.line == 4)
    #expect(problems["answers/unterminated.md"]?.message.contains("never closed") == true)
    #expect(problems["answers/latin1.md"]?.message.contains("UTF-8") == true)
    #expect(problems["answers/latin1.md"]?.message.contains("byte 3") == true)
    #expect(problems["answers/binary.md"]?.message.contains("binary") == true)
    #expect(problems["answers/huge.md"]?.message.contains("1 MiB") == true)
    #expect(problems["answers/escape.md"]?.message.contains("outside the knowledge base") == true)
    #expect(problems.count == 6)
    #expect(try ws.store.counts().answers == 2)  // good.md and the link inside

    // Fixing a bad file indexes it on the next refresh.
    try kb.write("answers/yaml.md", answer("yaml", title: "Fixed now"))
    try kb.touch("answers/yaml.md", offset: 5)
    #expect(try ws.refresh().updated == 1)
    #expect(try ws.store.problems().count == 5)
  }

  @Test func aCorruptIndexIsRebuiltWithAWarning() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/a.md", answer("a", title: "Autopay failed"))
    do { try Workspace(root: kb.root).refresh() }
    for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: kb.root + "/.kb/index.sqlite" + suffix) }
    try Data("this is not a database, just garbage bytes that are long enough".utf8)
      .write(to: URL(fileURLWithPath: kb.root + "/.kb/index.sqlite"))
    let ws = try Workspace(root: kb.root)
    try ws.refresh()
    #expect(ws.warnings.contains { $0.contains("rebuilding") })
    #expect(try ws.search("autopay").hits.map(\.id) == ["a"])
  }

  @Test func pathsOutsideTheKnowledgeBaseAreRefused() throws {
    let kb = try IndexTestKB()
    let ws = try Workspace(root: kb.root)
    for path in ["../outside.md", "/etc/passwd", "answers/../../x.md"] {
      #expect(throws: WorkspaceError.self) { try ws.resolve(path) }
    }
    try FileManager.default.createSymbolicLink(atPath: kb.root + "/out", withDestinationPath: NSTemporaryDirectory())
    #expect(throws: WorkspaceError.self) { try ws.resolve("out/x.md") }
    #expect(try ws.resolve("answers/ok.md") == kb.root + "/answers/ok.md")
  }

  @Test func reindexExactPaths() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/a.md", answer("a", title: "Old"))
    let ws = try Workspace(root: kb.root)
    try ws.refresh()
    try kb.write("answers/a.md", answer("a", title: "Brand new words"))
    try kb.write("answers/b.md", answer("b", title: "Second"))
    let report = try ws.reindex(paths: ["answers/a.md", "answers/b.md"])
    #expect(report.updated == 2)
    #expect(try ws.search("brand").hits.map(\.id) == ["a"])
    // A later refresh agrees with what reindex did.
    #expect(try ws.refresh().changed == 0)
  }

  @Test func writesAreAtomicAndIndexed() throws {
    let kb = try IndexTestKB()
    let ws = try Workspace(root: kb.root)
    let doc = try ws.newAnswer(title: "Refund not showing up", tags: ["refunds"], symptoms: ["where is my refund"], author: "Tina")
    try ws.write(doc, creating: true)
    #expect(throws: WorkspaceError.self) { try ws.write(doc, creating: true) }
    #expect(try ws.search("refund").hits.map(\.id) == ["refund-not-showing-up"])
    #expect(try ws.refresh().changed == 0)
    let files = try FileManager.default.contentsOfDirectory(atPath: kb.root + "/answers")
    #expect(files == ["refund-not-showing-up.md"])
  }

  @Test func checkFindsDuplicateIDsAndBrokenLinks() throws {
    let kb = try IndexTestKB()
    try kb.write("answers/a.md", answer("same", title: "One"))
    try kb.write("answers/b.md", answer("same", title: "Two"))
    try kb.write("cases/2024/10/c.md", "---\nid: c\ntype: case\nanswer: missing-answer\n---\n> help\n\n## Journal\n- nonsense line\n")
    let ws = try Workspace(root: kb.root)
    let diagnostics = try ws.check()
    #expect(diagnostics.filter { $0.message.contains("duplicate id 'same'") }.count == 2)
    #expect(diagnostics.contains { $0.path == "cases/2024/10/c.md" && $0.message.contains("missing-answer") && $0.line == 4 })
    #expect(diagnostics.contains { $0.severity == .warning && $0.line == 9 })
  }
}
