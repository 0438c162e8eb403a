import Foundation
import KBTestSupport
import Testing

/// A temporary folder in KBTestSupport's sandbox, where the built `kb` runs as a person or a
/// script would: a real process, real files.
private final class TempDir {
  let box: Sandbox
  let path: String

  init() throws {
    box = try Sandbox("e2e")
    path = box.dir + "/work"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  @discardableResult
  func run(_ arguments: [String], cwd: String? = nil, env: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
    try box.kb(arguments, in: cwd ?? path, environment: env, stdin: stdin)
  }
}

@Suite struct EndToEndTests {
  init() throws { try #require(BuiltBinary.kbProblem == nil, "\(BuiltBinary.kbProblem ?? "")") }

  @Test func initNewSearchShowListCheck() throws {
    let tmp = try TempDir()
    let kb = tmp.path + "/team-kb"
    var r = try tmp.run(["init", kb, "--team", "Northwind"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: kb + "/kb.yml"))
    #expect(try String(contentsOfFile: kb + "/.gitignore", encoding: .utf8).contains("\n/.kb\n"))  // also matches a `.kb` link

    r = try tmp.run([
      "new", "answer", "--kb", kb, "--title", "Text message repeats endlessly on iPhone", "--tag", "iphone", "--tag", "sms",
      "--symptom", "the same text keeps arriving over and over", "--body", "## Fix\n1. Power the phone off for a few minutes.\n",
      "--as", "Jason Reyes",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("text-message-repeats-endlessly-on-iphone"))

    r = try tmp.run(["search", "--kb", kb, "iphone", "keeps", "repeating", "--json"])
    #expect(r.status == 0)
    let result = try #require(try r.jsonValue() as? [String: Any])
    let hits = try #require(result["hits"] as? [[String: Any]])
    #expect(hits.first?["id"] as? String == "text-message-repeats-endlessly-on-iphone")
    #expect(result["match"] as? String == "all")
    #expect((hits.first?["snippet"] as? String)?.contains("**") == true)

    // Found from the current folder (a sub-folder of the knowledge base), and from KB_DIR.
    r = try tmp.run(["search", "power", "off"], cwd: kb + "/answers")
    #expect(r.status == 0 && r.stdout.contains("text-message-repeats"))
    r = try tmp.run(["search", "power"], cwd: tmp.path, env: ["KB_DIR": kb])
    #expect(r.status == 0 && r.stdout.contains("text-message-repeats"))
    r = try tmp.run(["search", "power"], cwd: tmp.path)
    #expect(r.status == 1 && r.stderr.contains("No knowledge base found"))

    r = try tmp.run(["show", "--kb", kb, "text-message-repeats-endlessly-on-iphone", "--json"])
    let doc = try #require(try r.jsonValue() as? [String: Any])
    #expect(doc["author"] as? String == "Jason Reyes")
    #expect(doc["tags"] as? [String] == ["iphone", "sms"])
    r = try tmp.run(["show", "--kb", kb, "no-such-id"])
    #expect(r.status == 1 && r.stderr.contains("No document with id 'no-such-id'"))

    r = try tmp.run(["list", "--kb", kb, "--type", "answer", "--json"])
    #expect((try r.jsonValue() as? [[String: Any]])?.count == 1)

    r = try tmp.run(["check", "--kb", kb])
    #expect(r.status == 0, "\(r.stdout)")

    try Data("---\nid: broken\ntitle: \"unclosed\n---\n".utf8).write(to: URL(fileURLWithPath: kb + "/answers/broken.md"))
    r = try tmp.run(["check", "--kb", kb])
    #expect(r.status == 1)
    #expect(r.stdout.contains("answers/broken.md:"))
    r = try tmp.run(["index", "--kb", kb, "--json"])
    let index = try #require(try r.jsonValue() as? [String: Any])
    #expect(index["answers"] as? Int == 1 && index["skipped"] as? Int == 1)
    r = try tmp.run(["index", "--kb", kb, "--rebuild"])
    #expect(r.status == 0 && r.stdout.contains("1 documents"))
  }

  /// Words that match nothing: exit 1; nothing to search for: a usage error, exit 64. Never an
  /// FTS5 or SQL error.
  @Test(arguments: [
    (#""unbalanced"#, 1), ("NEAR(", 1), ("a:b:c", 1), ("*", 64), ("-", 64), ("AND OR", 1), ("\"\"", 64), ("((", 64),
    ("col:x y", 1),
  ] as [(String, Int32)])
  func hostileQueriesNeverRaiseSQLErrors(query: String, status: Int32) throws {
    let tmp = try TempDir()
    try tmp.run(["init", tmp.path])
    let r = try tmp.run(["search", "--kb", tmp.path, query])
    #expect(r.status == status, "\(r.stderr)")
    #expect(!r.stderr.lowercased().contains("sql"), "\(r.stderr)")
    #expect(!r.stderr.contains("fts5"), "\(r.stderr)")
  }

  /// `kb mcp` runs `kb-mcp` from beside `kb`; without it, a clear message and exit 1 (a copy of
  /// `kb` alone in a folder). `kb` itself links no MCP SDK and no libcurl.
  @Test func mcpNeedsKBMCPBesideKB() throws {
    let tmp = try TempDir()
    let dir = tmp.path
    try FileManager.default.copyItem(atPath: BuiltBinary.kb, toPath: dir + "/kb")  // a copy, without kb-mcp beside it
    // Another test's child, forked while the copy was open for writing, may hold it open until
    // it execs: starting the copy then fails with ETXTBSY ("Text file busy"; env exits 126), so
    // retry briefly.
    var r = try tmp.box.run(dir + "/kb", ["mcp", "--kb", dir])
    for _ in 0..<50 where r.status == 126 {
      usleep(100_000)
      r = try tmp.box.run(dir + "/kb", ["mcp", "--kb", dir])
    }
    #expect(r.status == 1)
    #expect(r.stderr.contains("kb mcp needs the kb-mcp executable beside kb"), "\(r.stderr)")
    let libraries = try tmp.box.run("/usr/bin/ldd", [BuiltBinary.kb]).stdout
    #expect(!libraries.contains("libcurl"), "\(libraries)")
    // Nor libgit2: the commands that touch git run in kb-git (Sources/KBCLI/GitCommands.swift).
    #expect(!libraries.contains("libgit2"), "\(libraries)")
    // Without kb-git beside it, a git command says so (exit 1); other commands work.
    let sync = Process()
    sync.executableURL = URL(fileURLWithPath: dir + "/kb")
    sync.arguments = ["sync", "--kb", dir]
    let syncErr = Pipe()
    sync.standardError = syncErr
    sync.standardOutput = FileHandle.nullDevice
    try sync.run()
    let syncMessage = String(decoding: syncErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    sync.waitUntilExit()
    #expect(sync.terminationStatus == 1)
    #expect(syncMessage.contains("kb sync needs the kb-git executable beside kb"), "\(syncMessage)")
  }

  @Test func usageErrorsExit64AndOutputHasNoColorWhenPiped() throws {
    let tmp = try TempDir()
    try tmp.run(["init", tmp.path])
    var r = try tmp.run(["search", "--kb", tmp.path])
    #expect(r.status == 64)
    r = try tmp.run(["search", "--kb", tmp.path, "type:bogus"])
    #expect(r.status == 64 && r.stderr.contains("Unknown type 'bogus'"))
    r = try tmp.run(["list", "--kb", tmp.path, "--limit", "0"])
    #expect(r.status == 64)
    r = try tmp.run(["index", "--kb", tmp.path])
    #expect(!r.stdout.contains("\u{1B}["))
  }

  @Test func newCaseFromFlags() throws {
    let tmp = try TempDir()
    try tmp.run(["init", tmp.path])
    let r = try tmp.run([
      "new", "case", "--kb", tmp.path, "--text", "my phone keeps getting the same text!!", "--customer", "@stevebuttry",
      "--channel", "twitter", "--at", "2024-10-20T16:05:00Z", "--json",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try #require(try r.jsonValue() as? [String: Any])
    #expect(doc["status"] as? String == "open")
    #expect((doc["path"] as? String)?.hasPrefix("cases/2024/10/") == true)
    #expect(doc["customer"] as? String == "@stevebuttry")
    let search = try tmp.run(["search", "--kb", tmp.path, "type:case", "same", "text"])
    #expect(search.status == 0 && search.stdout.contains("2024-10-20-"))
  }

  /// The README's main job, on a copy of the sample knowledge base.
  @Test func sampleKnowledgeBaseFindsTheRepeatingSMSFix() throws {
    let sample = packageRoot + "/kb"
    try #require(FileManager.default.fileExists(atPath: sample + "/kb.yml"), "the sample knowledge base kb/ is missing")
    let tmp = try TempDir()
    let copy = tmp.path + "/kb"
    try FileManager.default.copyItem(atPath: sample, toPath: copy)
    try? FileManager.default.removeItem(atPath: copy + "/.kb")
    var r = try tmp.run(["check", "--kb", copy])
    #expect(r.status == 0, "sample kb has problems:\n\(r.stdout)")
    r = try tmp.run(["search", "--kb", copy, "type:answer", "my iphone keeps getting the same text over and over", "--json"])
    let hits = try #require((try r.jsonValue() as? [String: Any])?["hits"] as? [[String: Any]])
    #expect(hits.first?["id"] as? String == "iphone-sms-repeats")
    r = try tmp.run(["index", "--kb", copy, "--json"])
    let counts = try #require(try r.jsonValue() as? [String: Any])
    #expect((counts["answers"] as? Int ?? 0) >= 40)
    #expect((counts["cases"] as? Int ?? 0) >= 20)
  }
}

@Suite struct EditorTests {
  /// `kb new answer` without --title opens $EDITOR; the file is written only when it parses.
  @Test func newAnswerInTheEditor() throws {
    let tmp = try TempDir()
    try tmp.run(["init", tmp.path])
    let editor = tmp.path + "/fake-editor.sh"
    try Data("""
      #!/bin/sh
      cat > "$1" <<'DOC'
      ---
      id: router-restart
      type: answer
      title: Restart the router in the right order
      tags: [router]
      ---
      ## Fix
      1. Unplug the router for 30 seconds.
      DOC

      """.utf8).write(to: URL(fileURLWithPath: editor))
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor)
    // The scripts are run by sh, not executed: a child another test forks while a script is
    // still open for writing would make executing it fail with ETXTBSY ("Text file busy").
    var r = try tmp.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": "/bin/sh " + editor, "VISUAL": ""])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: tmp.path + "/answers/router-restart.md"))

    // An editor that leaves invalid front matter: nothing is written, the draft is kept.
    let bad = tmp.path + "/bad-editor.sh"
    try Data("#!/bin/sh\nprintf -- '---\\nid: x\\ntitle: [oops\\n---\\n' > \"$1\"\n".utf8).write(to: URL(fileURLWithPath: bad))
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bad)
    r = try tmp.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": "/bin/sh " + bad, "VISUAL": ""])
    #expect(r.status == 1)
    #expect(r.stderr.contains("draft is kept"))
    #expect(!FileManager.default.fileExists(atPath: tmp.path + "/answers/x.md"))

    r = try tmp.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": "", "VISUAL": ""])
    #expect(r.status == 64 && r.stderr.contains("No $EDITOR"))
  }
}
