import Foundation
import Testing

/// Runs the built `kb` as a person or a script would: a real process, real files.
private struct KB {
  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// The `kb` binary next to the test bundle (`swift build --build-tests` builds both).
  static let binary = BuiltKB.path

  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  @discardableResult
  static func run(
    _ arguments: [String], cwd: String? = nil, env: [String: String] = [:], stdin: String? = nil
  ) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["KB_DIR"] = nil
    for (k, v) in env { environment[k] = v }
    process.environment = environment
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  static func json(_ run: Run) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
  }
}

private final class TempDir {
  let path = NSTemporaryDirectory() + "kb-e2e-\(UUID().uuidString)"
  init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct EndToEndTests {
  @Test func theBinaryIsBuilt() {
    #expect(FileManager.default.isExecutableFile(atPath: KB.binary), "build first: swift build --build-tests (looked for \(KB.binary))")
  }

  @Test func initNewSearchShowListCheck() throws {
    let tmp = try TempDir()
    let kb = tmp.path + "/team-kb"
    var r = try KB.run(["init", kb, "--team", "Northwind"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: kb + "/kb.yml"))
    #expect(try String(contentsOfFile: kb + "/.gitignore", encoding: .utf8).contains("\n/.kb\n"))  // also matches a `.kb` link

    r = try KB.run([
      "new", "answer", "--kb", kb, "--title", "Text message repeats endlessly on iPhone", "--tag", "iphone", "--tag", "sms",
      "--symptom", "the same text keeps arriving over and over", "--body", "## Fix\n1. Power the phone off for a few minutes.\n",
      "--as", "Jason Reyes",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("text-message-repeats-endlessly-on-iphone"))

    r = try KB.run(["search", "--kb", kb, "iphone", "keeps", "repeating", "--json"])
    #expect(r.status == 0)
    let result = try #require(try KB.json(r) as? [String: Any])
    let hits = try #require(result["hits"] as? [[String: Any]])
    #expect(hits.first?["id"] as? String == "text-message-repeats-endlessly-on-iphone")
    #expect(result["match"] as? String == "all")
    #expect((hits.first?["snippet"] as? String)?.contains("**") == true)

    // Found from the current folder (a sub-folder of the knowledge base), and from KB_DIR.
    r = try KB.run(["search", "power", "off"], cwd: kb + "/answers")
    #expect(r.status == 0 && r.stdout.contains("text-message-repeats"))
    r = try KB.run(["search", "power"], cwd: tmp.path, env: ["KB_DIR": kb])
    #expect(r.status == 0 && r.stdout.contains("text-message-repeats"))
    r = try KB.run(["search", "power"], cwd: tmp.path)
    #expect(r.status == 1 && r.stderr.contains("No knowledge base found"))

    r = try KB.run(["show", "--kb", kb, "text-message-repeats-endlessly-on-iphone", "--json"])
    let doc = try #require(try KB.json(r) as? [String: Any])
    #expect(doc["author"] as? String == "Jason Reyes")
    #expect(doc["tags"] as? [String] == ["iphone", "sms"])
    r = try KB.run(["show", "--kb", kb, "no-such-id"])
    #expect(r.status == 1 && r.stderr.contains("No document with id 'no-such-id'"))

    r = try KB.run(["list", "--kb", kb, "--type", "answer", "--json"])
    #expect((try KB.json(r) as? [[String: Any]])?.count == 1)

    r = try KB.run(["check", "--kb", kb])
    #expect(r.status == 0, "\(r.stdout)")

    try Data("---\nid: broken\ntitle: \"unclosed\n---\n".utf8).write(to: URL(fileURLWithPath: kb + "/answers/broken.md"))
    r = try KB.run(["check", "--kb", kb])
    #expect(r.status == 1)
    #expect(r.stdout.contains("answers/broken.md:"))
    r = try KB.run(["index", "--kb", kb, "--json"])
    let index = try #require(try KB.json(r) as? [String: Any])
    #expect(index["answers"] as? Int == 1 && index["skipped"] as? Int == 1)
    r = try KB.run(["index", "--kb", kb, "--rebuild"])
    #expect(r.status == 0 && r.stdout.contains("1 documents"))
  }

  @Test(arguments: [#""unbalanced"#, "NEAR(", "a:b:c", "*", "-", "AND OR", "\"\"", "((", "col:x y"])
  func hostileQueriesNeverRaiseSQLErrors(query: String) throws {
    let tmp = try TempDir()
    try KB.run(["init", tmp.path])
    let r = try KB.run(["search", "--kb", tmp.path, query])
    #expect([0, 1, 64].contains(r.status))
    #expect(!r.stderr.lowercased().contains("sql"), "\(r.stderr)")
    #expect(!r.stderr.contains("fts5"), "\(r.stderr)")
  }

  /// `kb mcp` runs `kb-mcp` from beside `kb`; without it, a clear message and exit 1 (a copy of
  /// `kb` alone in a folder). `kb` itself links no MCP SDK and no libcurl.
  @Test func mcpNeedsKBMCPBesideKB() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-alone-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.copyItem(atPath: BuiltKB.path, toPath: dir + "/kb")  // a copy, without kb-mcp beside it
    // Another test's child, forked while the copy was open for writing, may hold it open until
    // it execs: starting the copy then fails with ETXTBSY ("Text file busy"), so retry briefly.
    var attempt = 0
    var started: (Process, Pipe)?
    while started == nil {
      attempt += 1
      let process = Process()
      process.executableURL = URL(fileURLWithPath: dir + "/kb")
      process.arguments = ["mcp", "--kb", dir]
      let err = Pipe()
      process.standardError = err
      process.standardOutput = FileHandle.nullDevice
      do {
        try process.run()
        started = (process, err)
      } catch let error as NSError
        where attempt < 50 && (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(ETXTBSY)
      {
        usleep(100_000)
      }
    }
    let (process, err) = started!
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 1)
    #expect(message.contains("kb mcp needs the kb-mcp executable beside kb"), "\(message)")
    let ldd = Process()
    ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
    ldd.arguments = [BuiltKB.path]
    let out = Pipe()
    ldd.standardOutput = out
    try ldd.run()
    let libraries = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    ldd.waitUntilExit()
    #expect(!libraries.contains("libcurl"), "\(libraries)")
  }

  @Test func usageErrorsExit64AndOutputHasNoColorWhenPiped() throws {
    let tmp = try TempDir()
    try KB.run(["init", tmp.path])
    var r = try KB.run(["search", "--kb", tmp.path])
    #expect(r.status == 64)
    r = try KB.run(["search", "--kb", tmp.path, "type:bogus"])
    #expect(r.status == 64 && r.stderr.contains("Unknown type 'bogus'"))
    r = try KB.run(["list", "--kb", tmp.path, "--limit", "0"])
    #expect(r.status == 64)
    r = try KB.run(["index", "--kb", tmp.path])
    #expect(!r.stdout.contains("\u{1B}["))
  }

  @Test func newCaseFromFlags() throws {
    let tmp = try TempDir()
    try KB.run(["init", tmp.path])
    let r = try KB.run([
      "new", "case", "--kb", tmp.path, "--text", "my phone keeps getting the same text!!", "--customer", "@stevebuttry",
      "--channel", "twitter", "--at", "2024-10-20T16:05:00Z", "--json",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try #require(try KB.json(r) as? [String: Any])
    #expect(doc["status"] as? String == "open")
    #expect((doc["path"] as? String)?.hasPrefix("cases/2024/10/") == true)
    #expect(doc["customer"] as? String == "@stevebuttry")
    let search = try KB.run(["search", "--kb", tmp.path, "type:case", "same", "text"])
    #expect(search.status == 0 && search.stdout.contains("2024-10-20-"))
  }

  /// The README's main job, on a copy of the sample knowledge base.
  @Test func sampleKnowledgeBaseFindsTheRepeatingSMSFix() throws {
    let sample = KB.packageRoot + "/kb"
    guard FileManager.default.fileExists(atPath: sample + "/kb.yml") else { return }
    let tmp = try TempDir()
    let copy = tmp.path + "/kb"
    try FileManager.default.copyItem(atPath: sample, toPath: copy)
    try? FileManager.default.removeItem(atPath: copy + "/.kb")
    var r = try KB.run(["check", "--kb", copy])
    #expect(r.status == 0, "sample kb has problems:\n\(r.stdout)")
    r = try KB.run(["search", "--kb", copy, "type:answer", "my iphone keeps getting the same text over and over", "--json"])
    let hits = try #require((try KB.json(r) as? [String: Any])?["hits"] as? [[String: Any]])
    #expect(hits.first?["id"] as? String == "iphone-sms-repeats")
    r = try KB.run(["index", "--kb", copy, "--json"])
    let counts = try #require(try KB.json(r) as? [String: Any])
    #expect((counts["answers"] as? Int ?? 0) >= 40)
    #expect((counts["cases"] as? Int ?? 0) >= 20)
  }
}

@Suite struct EditorTests {
  /// `kb new answer` without --title opens $EDITOR; the file is written only when it parses.
  @Test func newAnswerInTheEditor() throws {
    let tmp = try TempDir()
    try KB.run(["init", tmp.path])
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
    var r = try KB.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": editor, "VISUAL": ""])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: tmp.path + "/answers/router-restart.md"))

    // An editor that leaves invalid front matter: nothing is written, the draft is kept.
    let bad = tmp.path + "/bad-editor.sh"
    try Data("#!/bin/sh\nprintf -- '---\\nid: x\\ntitle: [oops\\n---\\n' > \"$1\"\n".utf8).write(to: URL(fileURLWithPath: bad))
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bad)
    r = try KB.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": bad, "VISUAL": ""])
    #expect(r.status == 1)
    #expect(r.stderr.contains("draft is kept"))
    #expect(!FileManager.default.fileExists(atPath: tmp.path + "/answers/x.md"))

    r = try KB.run(["new", "answer", "--kb", tmp.path], env: ["EDITOR": "", "VISUAL": ""])
    #expect(r.status == 64 && r.stderr.contains("No $EDITOR"))
  }
}
