import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import KBStore
@testable import KBWorkspace

/// The freshness walk (listed on all cores, level by level), the batched parse of a rebuild,
/// and opening an up-to-date index without writing, on real files and a real SQLite index.
@Suite struct RefreshPerformanceTests {
  /// A fresh temporary knowledge base folder.
  static func makeRoot() throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kb-refresh-perf-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try "team: Test\n".write(toFile: root + "/kb.yml", atomically: true, encoding: .utf8)
    return root
  }

  static func write(_ root: String, _ path: String, id: String, words: String = "router firmware") throws {
    let full = root + "/" + path
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let text = "---\nid: \(id)\ntype: answer\ntitle: \"Title \(id)\"\ntags: [a, \"b c\"]\n---\n# \(id)\n\n\(words)\n"
    try text.write(toFile: full, atomically: false, encoding: .utf8)
  }

  static func indexed(_ ws: Workspace) throws -> Set<String> { try ws.store.allPaths() }

  /// The walk's map keeps the order of its items whether it stays on one thread (a small
  /// knowledge base), goes to all cores at once, or starts on one and moves to all midway.
  @Test func parallelMapKeepsOrderOnOneThreadAndOnAll() {
    let items = Array(0..<500)
    let expected = items.map { $0 * 3 }
    #expect(FolderScanner.parallelMap(items, sequentialBudget: .max) { $0 * 3 } == expected)
    #expect(FolderScanner.parallelMap(items, sequentialBudget: 0) { $0 * 3 } == expected)
    // Slow items: the budget runs out after a few, and the rest go to all cores.
    #expect(FolderScanner.parallelMap(items, sequentialBudget: 1_000_000) { i in usleep(100); return i * 3 } == expected)
    #expect(FolderScanner.parallelMap([Int](), sequentialBudget: 0) { $0 }.isEmpty)
    #expect(FolderScanner.parallelMap([7], sequentialBudget: 0) { $0 + 1 } == [8])
  }

  @Test func nestedFoldersAddEditDeleteRename() throws {
    let root = try Self.makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var expected = Set<String>()
    for (i, folder) in ["answers", "answers/phones", "answers/phones/old", "cases/2024/01", "cases/2024/02", "x/y/z/w"]
      .enumerated()
    {
      for j in 0..<4 {
        let path = "\(folder)/doc-\(i)-\(j).md"
        try Self.write(root, path, id: "doc-\(i)-\(j)")
        expected.insert(path)
      }
    }
    try "not a document".write(toFile: root + "/answers/README.md", atomically: false, encoding: .utf8)
    try Self.write(root, ".hidden/skip.md", id: "hidden")
    try Self.write(root, "answers/.swap.md", id: "swap")

    let ws = try Workspace(root: root)
    let first = try ws.refresh()
    #expect(first.added == expected.count)
    #expect(first.scanned == expected.count)
    #expect(try Self.indexed(ws) == expected)
    #expect(try ws.refresh().changed == 0)

    // Edit (size changes), add, delete and rename, in different depths.
    try Self.write(root, "answers/phones/old/doc-2-1.md", id: "doc-2-1", words: "a much longer body than before, edited")
    try Self.write(root, "x/y/z/w/new.md", id: "new")
    try FileManager.default.removeItem(atPath: root + "/cases/2024/01/doc-3-0.md")
    try FileManager.default.moveItem(atPath: root + "/answers/doc-0-0.md", toPath: root + "/cases/2024/02/doc-0-0.md")
    expected.insert("x/y/z/w/new.md")
    expected.remove("cases/2024/01/doc-3-0.md")
    expected.remove("answers/doc-0-0.md")
    expected.insert("cases/2024/02/doc-0-0.md")

    let second = try ws.refresh()
    #expect(second.added == 2)
    #expect(second.updated == 1)
    #expect(second.removed == 2)
    #expect(try Self.indexed(ws) == expected)
    #expect(try ws.store.summary(id: "doc-0-0")?.path == "cases/2024/02/doc-0-0.md")
    #expect(try ws.search("longer edited").hits.map(\.id) == ["doc-2-1"])
    #expect(try ws.refresh().changed == 0)

    // A whole folder removed.
    try FileManager.default.removeItem(atPath: root + "/x")
    expected = expected.filter { !$0.hasPrefix("x/") }
    let third = try ws.refresh()
    #expect(third.removed == 5)
    #expect(try Self.indexed(ws) == expected)
  }

  /// Many folders listed in parallel give the same folders and fingerprints as one by one.
  @Test func parallelScanIsComplete() throws {
    let root = try Self.makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var expected = Set<String>()
    for f in 0..<40 {
      for j in 0..<3 {
        let path = "f\(f % 5)/g\(f)/d\(j).md"
        try Self.write(root, path, id: "d-\(f)-\(j)")
        expected.insert(path)
      }
    }
    let folders = FolderScanner(root: root).scan()
    #expect(folders.map(\.path) == folders.map(\.path).sorted())
    var seen = Set<String>()
    for folder in folders {
      for file in folder.files { seen.insert(folder.path.isEmpty ? file.name : folder.path + "/" + file.name) }
      #expect(folder.fingerprint == FolderScanner.fingerprint(folder.files))
    }
    #expect(seen == expected)
    // Deterministic: a second scan gives the same fingerprints.
    let again = FolderScanner(root: root).scan()
    #expect(again.map(\.fingerprint) == folders.map(\.fingerprint))
  }

  /// A rebuild larger than one parse batch (2,000 files) indexes every file, with bad files
  /// skipped with their reason.
  @Test func rebuildAcrossBatches() throws {
    let root = try Self.makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let count = Int(ProcessInfo.processInfo.environment["KB_REFRESH_FILES"] ?? "") ?? 2_100
    for i in 0..<count {
      try Self.write(root, "answers/p\(i % 7)/a-\(i).md", id: "a-\(i)", words: "word\(i) shared")
    }
    try "---\nid: [unclosed\n---\n".write(toFile: root + "/answers/bad.md", atomically: false, encoding: .utf8)
    let ws = try Workspace(root: root)
    let report = try ws.rebuild()
    #expect(report.added == count + 1)
    let counts = try ws.store.counts()
    #expect(counts.answers == count)
    #expect(counts.problems == 1)
    #expect(try ws.store.problems().first?.path == "answers/bad.md")
    #expect(try ws.search("word\(count - 1)").hits.map(\.id) == ["a-\(count - 1)"])
    #expect(try ws.search("word0").hits.map(\.id) == ["a-0"])
  }

  /// Opening an up-to-date index, refreshing and searching writes nothing to it.
  @Test func readOnlyCommandsDoNotWrite() throws {
    let root = try Self.makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    for i in 0..<20 { try Self.write(root, "answers/a-\(i).md", id: "a-\(i)") }
    do {
      let ws = try Workspace(root: root)
      try ws.refresh()
    }
    let db = root + "/.kb/index.sqlite"
    // The WAL is not checkpointed when a command ends (kb_sqlite_no_checkpoint_on_close), so the
    // earlier writes may still sit in it: neither file may change.
    let wal = { try? Data(contentsOf: URL(fileURLWithPath: db + "-wal")) }
    let before = try Data(contentsOf: URL(fileURLWithPath: db)), walBefore = wal()
    do {
      let ws = try Workspace(root: root)
      #expect(try ws.refresh().changed == 0)
      #expect(try ws.search("router").hits.count == 10)
      #expect(wal() == walBefore)
    }
    let after = try Data(contentsOf: URL(fileURLWithPath: db))
    #expect(before == after)
    #expect(wal() == walBefore)
  }

  /// The name-free fingerprint pass agrees with listing every name: ASCII and non-ASCII names,
  /// README variants, a FIFO, links inside and outside, a name that is not valid UTF-8.
  @Test func fingerprintsWithoutNamesMatchFullListing() throws {
    let root = try Self.makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    for path in ["a/plain.md", "a/Zoë café.md", "a/日本.md", "a/x.MD", "a/README.md", "a/ReadMe.md", "a/readme.md.md",
                 "a/notes.txt", "b/c/d.md", "a/e\u{301}.md"] {
      try Self.write(root, path, id: "x")
    }
    #expect(mkfifo(root + "/a/pipe.md", 0o644) == 0)
    #expect(symlink(root + "/a/plain.md", root + "/a/inside.md") == 0)
    #expect(symlink("/etc/hostname", root + "/a/outside.md") == 0)
    #expect(symlink(root + "/b", root + "/a/folderlink.md") == 0)
    // A file name that is not valid UTF-8.
    let bad: [UInt8] = Array((root + "/b/bad-").utf8) + [0xFF, 0xFE] + Array(".md".utf8) + [0]
    let fd = bad.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
    #expect(fd >= 0)
    close(fd)

    let scanner = FolderScanner(root: root)
    let full = scanner.scan()
    let fast = scanner.fingerprints()
    #expect(full.map(\.path) == fast.map(\.path))
    #expect(full.map(\.fingerprint) == fast.map(\.fingerprint))
    #expect(full.map(\.files.count) == fast.map(\.count))
    let names = Set(full.flatMap { $0.files.map(\.name) })
    #expect(names.contains("plain.md") && names.contains("Zoë café.md") && names.contains("inside.md"))
    #expect(!names.contains("README.md") && !names.contains("x.MD") && !names.contains("notes.txt"))
    #expect(names.contains("ReadMe.md") == false)
    #expect(names.contains("readme.md.md"))
    for folder in full {
      let listed = scanner.list(folder.path, names: true)
      #expect(listed.fingerprint == folder.fingerprint)
      #expect(listed.files.map(\.name).sorted() == folder.files.map(\.name).sorted())
    }
  }
}
