import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 14: a team that cannot split, leak or silently lose. One test (at least) per defect,
/// each run through the built `kb` as a teammate would.
@Suite struct HardeningTests {
  // MARK: 1. One branch for the team

  /// A folder `git init`-ed on `master` before `kb init` syncs into the remote's `main` (the
  /// branch its HEAD names); a clone gets the answers; nobody ends up on a second branch.
  @Test func masterFolderSyncsToTheBranchTheRemoteHEADNames() throws {
    let box = try Sandbox("branch")
    try box.git(["init", "-q", "--bare", "-b", "main", box.remote], in: box.dir)
    let alice = box.dir + "/alice"
    try box.git(["init", "-q", "-b", "master", alice], in: box.dir)
    #expect(try box.kb(["init", alice], in: box.dir).ok)
    try box.configure(alice, name: "alice")
    try box.git(["remote", "add", "origin", box.remote], in: alice)
    try box.write(box.answer(id: "a", title: "From Alice"), to: alice + "/answers/a.md")
    let s = try box.kb(["sync", "--json"], in: alice)
    #expect(s.ok, "\(s.stdout)\(s.stderr)")
    #expect(try box.remoteFile("answers/a.md") != nil)
    #expect(try box.git(["--git-dir", box.remote, "for-each-ref", "--format=%(refname)", "refs/heads"], in: box.dir).stdout == "refs/heads/main\n")
    let bob = try box.clone("bob")
    #expect(FileManager.default.fileExists(atPath: bob + "/answers/a.md"))
    try box.write(box.answer(id: "b", title: "From Bob"), to: bob + "/answers/b.md")
    #expect(try box.kb(["sync"], in: bob).ok)
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(FileManager.default.fileExists(atPath: alice + "/answers/b.md"))
    #expect(try box.git(["--git-dir", box.remote, "for-each-ref", "--format=%(refname)", "refs/heads"], in: box.dir).stdout == "refs/heads/main\n")
    // kb status shows both the local branch and the remote branch it syncs with.
    let status = try box.kb(["status", "--json"], in: alice)
    let json = Sandbox.json(status)
    #expect(json["branch"] as? String == "master" && json["remoteBranch"] as? String == "main", "\(status.stdout)")
    #expect(try box.kb(["status"], in: alice).stdout.contains("origin/main"))
  }

  /// A remote where an older kb pushed `master` while its HEAD names `main`: the clone checks
  /// out the only branch there is (the answers, not a fresh kb.yml); a knowledge base on `main`
  /// that would add a second branch beside two others is refused with what to do.
  @Test func cloneTakesTheOnlyBranchAndSyncRefusesASecondBranch() throws {
    let box = try Sandbox("branch2")
    try box.git(["init", "-q", "--bare", "-b", "main", box.remote], in: box.dir)
    let old = box.dir + "/old"
    try box.git(["init", "-q", "-b", "master", old], in: box.dir)
    #expect(try box.kb(["init", old], in: box.dir).ok)
    try box.configure(old, name: "old")
    try box.write(box.answer(id: "a", title: "Old answer"), to: old + "/answers/a.md")
    try box.git(["add", "-A"], in: old)
    try box.git(["commit", "-qm", "old"], in: old)
    try box.git(["push", "-q", box.remote, "master"], in: old)
    let r = try box.kb(["clone", box.remote, box.dir + "/bob"], in: box.dir)
    #expect(r.ok, "\(r.stderr)")
    #expect(r.stdout.contains("1 answers"), "\(r.stdout)")
    #expect(FileManager.default.fileExists(atPath: box.dir + "/bob/answers/a.md"))
    #expect(!r.stdout.contains("created kb.yml"))
    // A second branch on the remote, and a knowledge base on `main`: refused.
    try box.git(["push", "-q", box.remote, "master:dev"], in: old)
    let carol = box.dir + "/carol"
    #expect(try box.kb(["init", carol], in: box.dir).ok)
    try box.configure(carol, name: "carol")
    try box.git(["remote", "add", "origin", box.remote], in: carol)
    let s = try box.kb(["sync"], in: carol)
    #expect(s.status == 1)
    #expect(s.stderr.contains("second branch") && s.stderr.contains("dev") && s.stderr.contains("master"), "\(s.stderr)")
    #expect(try box.git(["--git-dir", box.remote, "for-each-ref", "--format=%(refname)", "refs/heads"], in: box.dir).stdout
      == "refs/heads/dev\nrefs/heads/master\n")
  }

  // MARK: 2. A stale .git/index.lock left by a killed sync

  @Test func staleGitLockOfAKilledSyncIsRemovedALiveOneIsNot() throws {
    let box = try Sandbox("gitlock")
    let alice = try box.makeRemoteWithAnAnswer(first: "alice")
    try box.write(box.answer(id: "x", title: "X"), to: alice + "/answers/x.md")
    let err = box.dir + "/paused.err"
    let child = try box.start(kbBinary, ["sync"], cwd: alice, environment: ["KB_SYNC_PAUSE_AT": "commit", "KB_SYNC_PAUSE_SECONDS": "30"], stderr: err)
    for _ in 0..<200 where !(box.read(err) ?? "").contains("paused at") { usleep(50_000) }
    child.kill(SIGKILL)
    child.wait()
    // What a sync killed while writing the index leaves.
    try box.write("", to: alice + "/.git/index.lock")
    var r = try box.kb(["sync"], in: alice)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("index.lock"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: alice + "/.git/index.lock"))
    #expect(try box.remoteFile("answers/x.md") != nil)
    // A lock no killed kb sync left (git itself may be running): not touched, and said so.
    try box.write("", to: alice + "/.git/index.lock")
    try box.write(box.answer(id: "y", title: "Y"), to: alice + "/answers/y.md")
    r = try box.kb(["sync"], in: alice)
    #expect(r.status == 1)
    #expect(r.stderr.contains(".git/index.lock") && r.stderr.contains("remove"), "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: alice + "/.git/index.lock"))
  }

  // MARK: 3-5. Conflicts are told, suggested (marked), checked and resolved

  /// Alice and Bob change one paragraph two ways; Bob's sync keeps both. Then every sync that
  /// leaves the conflicted file in a tree says so (Alice's, who only pulls it), `kb check` fails,
  /// the answer is still suggested, marked as conflicted, and `kb conflicts ID --take` resolves it.
  @Test func conflictsAreToldSuggestedMarkedCheckedAndResolved() throws {
    let box = try Sandbox("conflicts")
    let alice = try box.makeRemote(first: "alice")
    let body = "## Symptoms\n- text messages repeat\n\n## Fix\n1. Power off.\n"
    try box.write(box.answer(id: "sms", title: "Text messages repeat on the phone", body: body), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    let bob = try box.clone("bob")
    try box.write(
      box.answer(id: "sms", title: "Text messages repeat on the phone", body: body.replacingOccurrences(of: "Power off.", with: "Power off for five minutes.")),
      to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(
      box.answer(id: "sms", title: "Text messages repeat on the phone", body: body.replacingOccurrences(of: "Power off.", with: "Reset network settings.")),
      to: bob + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: bob).ok)
    // 3. Alice pulls the conflicted file: told so, in text and JSON.
    let pulled = try box.kb(["sync", "--json"], in: alice)
    #expect(pulled.ok)
    #expect(Sandbox.json(pulled)["conflicted"] as? [String] == ["answers/sms.md"], "\(pulled.stdout)")
    try box.write(box.answer(id: "other", title: "Other"), to: alice + "/answers/other.md")
    let again = try box.kb(["sync"], in: alice)
    #expect(again.stdout.contains("answers/sms.md") && again.stdout.contains("conflict"), "\(again.stdout)")
    // 4. Still suggested, marked.
    let suggest = try box.kb(["suggest", "--json", "my text messages repeat"], in: alice)
    #expect(suggest.ok, "\(suggest.stderr)")
    #expect(suggest.stdout.contains("\"sms\""), "\(suggest.stdout)")
    #expect(suggest.stdout.contains("\"conflicted\" : true"), "\(suggest.stdout)")
    let suggestText = try box.kb(["suggest", "my text messages repeat"], in: alice)
    #expect(suggestText.stdout.contains("conflict"), "\(suggestText.stdout)")
    // 5. kb check fails on markers.
    let check = try box.kb(["check"], in: alice)
    #expect(check.status == 1 && check.stdout.contains("answers/sms.md") && check.stdout.contains("marker"), "\(check.stdout)")
    // Take one side (as the markers name them: 'ours' is Bob's, whose sync made the merge):
    // markers gone, that side's line kept, who settled it said.
    let take = try box.kb(["conflicts", "sms", "--take", "ours"], in: alice)
    #expect(take.ok, "\(take.stdout)\(take.stderr)")
    let text = box.read(alice + "/answers/sms.md") ?? ""
    #expect(!text.contains("<<<<<<<") && !text.contains(">>>>>>>") && !text.contains("======="))
    #expect(text.contains("Reset network settings.") && !text.contains("five minutes"), "\(text)")
    #expect(take.stdout.contains("Alice"), "\(take.stdout)")
    #expect(try box.kb(["conflicts"], in: alice).ok)
    #expect(try box.kb(["check"], in: alice).ok)
  }

  /// A `conflicts:` field fails `kb check`; `--take theirs` sets the field to their value and
  /// removes the record; `--take both` keeps the marked text of both sides without markers.
  @Test func conflictsFieldIsCheckedAndTakeSettlesFieldsAndMarkers() throws {
    let box = try Sandbox("take")
    let alice = try box.makeRemote(first: "alice")
    let doc = """
      ---
      id: t
      type: answer
      title: Ours title
      tags: [test]
      conflicts:
        - field: title
          ours: "Ours title"
          theirs: "Their title"
      ---
      ## Fix
      <<<<<<< ours
      1. Ours step.
      ||||||| base
      1. Base step.
      =======
      1. Their step.
      >>>>>>> theirs
      2. Common.

      """
    try box.write(doc, to: alice + "/answers/t.md")
    let check = try box.kb(["check"], in: alice)
    #expect(check.status == 1 && check.stdout.contains("conflicts"), "\(check.stdout)")
    let both = try box.kb(["conflicts", "t", "--take", "both"], in: alice)
    #expect(both.ok, "\(both.stderr)")
    var text = box.read(alice + "/answers/t.md") ?? ""
    #expect(text.contains("1. Ours step.\n1. Their step.\n2. Common.") && !text.contains("Base step") && !text.contains("conflicts:"), "\(text)")
    #expect(text.contains("title: Ours title"))
    try box.write(doc, to: alice + "/answers/t.md")
    #expect(try box.kb(["conflicts", "t", "--take", "theirs"], in: alice).ok)
    text = box.read(alice + "/answers/t.md") ?? ""
    #expect(text.contains("Their title") && !text.contains("Ours title") && text.contains("1. Their step.") && !text.contains("Ours step") && !text.contains("conflicts:"), "\(text)")
    #expect(try box.kb(["check"], in: alice).ok)
    // Only the markers removed by hand: the field still lists it, and the hint says why.
    try box.write(doc.replacingOccurrences(of: "<<<<<<< ours\n1. Ours step.\n||||||| base\n1. Base step.\n=======\n", with: "").replacingOccurrences(of: ">>>>>>> theirs\n", with: ""), to: alice + "/answers/t.md")
    let list = try box.kb(["conflicts"], in: alice)
    #expect(list.status == 1 && list.stdout.contains("conflicts:"), "\(list.stdout)")
  }

  // MARK: 6. Symbolic links that lead outside are not followed

  @Test func linksLeadingOutsideAreReportedAndNotFollowed() throws {
    let box = try Sandbox("links")
    let alice = try box.makeRemote(first: "alice")
    let canary = box.dir + "/canary-credentials"
    try box.write("CANARY-SECRET-TOKEN\n", to: canary)
    try box.write(box.answer(id: "wifi", title: "Wifi drops", body: "## Fix\n1. Restart the router.\n"), to: alice + "/answers/wifi.md")
    try FileManager.default.createDirectory(atPath: alice + "/templates", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: alice + "/templates/fix.md", withDestinationPath: canary)
    let s = try box.kb(["suggest", "my wifi drops"], in: alice)
    #expect(!s.stdout.contains("CANARY"), "\(s.stdout)")
    #expect(s.stderr.contains("templates/fix.md"), "\(s.stderr)")
    let check = try box.kb(["check"], in: alice)
    #expect(check.status == 1 && check.stdout.contains("templates/fix.md") && check.stdout.contains("outside"), "\(check.stdout)")
    try FileManager.default.removeItem(atPath: alice + "/templates/fix.md")
    // kb.yml and .kb/identity leading outside: refused, not read.
    try box.write("name = Outside Person\nemail = o@example.com\n", to: box.dir + "/identity")
    try FileManager.default.createSymbolicLink(atPath: alice + "/.kb/identity", withDestinationPath: box.dir + "/identity")
    try box.write(box.answer(id: "n", title: "N"), to: alice + "/answers/n.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(try box.git(["--git-dir", box.remote, "log", "-1", "--format=%an"], in: box.dir).stdout == "Alice\n")
    // .kb as a link leading outside: nothing written there.
    let bob = try box.clone("bob")
    let outside = box.dir + "/outside-kb"
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try FileManager.default.removeItem(atPath: bob + "/.kb")
    try FileManager.default.createSymbolicLink(atPath: bob + "/.kb", withDestinationPath: outside)
    let search = try box.kb(["search", "wifi"], in: bob)
    #expect(search.status != 0 && search.stderr.contains(".kb"), "\(search.stdout)\(search.stderr)")
    #expect((try FileManager.default.contentsOfDirectory(atPath: outside)).isEmpty)
    // The .gitignore kb init writes also matches a `.kb` link.
    #expect(try box.git(["check-ignore", "-q", ".kb"], in: bob).ok)
    try FileManager.default.removeItem(atPath: bob + "/.kb")
    // kb.yml leading outside.
    try box.write("team: Outside\n", to: box.dir + "/kb.yml")
    try FileManager.default.removeItem(atPath: alice + "/kb.yml")
    try FileManager.default.createSymbolicLink(atPath: alice + "/kb.yml", withDestinationPath: box.dir + "/kb.yml")
    let list = try box.kb(["list"], in: alice)
    #expect(list.status != 0 && list.stderr.contains("kb.yml"), "\(list.stderr)")
  }

  // MARK: 7. Credentials in URLs never shown

  @Test func passwordsInRemoteURLsAreNeverPrinted() throws {
    let box = try Sandbox("secret")
    let alice = try box.makeRemoteWithAnAnswer(first: "alice")
    let daemon = try GitDaemon(sandbox: box, base: box.dir)
    defer { daemon.stop() }
    let url = "git://user:SECRET@127.0.0.1:\(daemon.port)/remote.git"
    let clone = try box.kb(["clone", url, box.dir + "/bob"], in: box.dir)
    #expect(clone.ok, "\(clone.stderr)")
    #expect(!clone.stdout.contains("SECRET") && !clone.stderr.contains("SECRET"), "\(clone.stdout)")
    let bob = box.dir + "/bob"
    try box.configure(bob, name: "bob")
    let logs = try box.run("/usr/bin/grep", ["-r", "SECRET", bob + "/.git/logs"], cwd: bob)
    #expect(logs.stdout.isEmpty, "\(logs.stdout)")
    try box.write(box.answer(id: "b", title: "B"), to: bob + "/answers/b.md")
    let sync = try box.kb(["sync", "--json"], in: bob)
    #expect(sync.ok && !sync.stdout.contains("SECRET"), "\(sync.stdout)\(sync.stderr)")
    let text = try box.kb(["sync"], in: bob)
    #expect(!text.stdout.contains("SECRET"))
    for args in [["status"], ["status", "--json"]] {
      let r = try box.kb(args, in: bob)
      #expect(r.ok && !r.stdout.contains("SECRET") && r.stdout.contains("user@127.0.0.1"), "\(r.stdout)")
    }
    #expect(try box.run("/usr/bin/grep", ["-r", "SECRET", bob + "/.git/logs", bob + "/.kb"], cwd: bob).stdout.isEmpty)
    // Errors: an unreachable host with a password in its URL.
    try box.git(["remote", "set-url", "origin", "https://user:SECRET@127.0.0.1:1/x.git"], in: alice)
    try box.write(box.answer(id: "c", title: "C"), to: alice + "/answers/c.md")
    let failed = try box.kb(["sync"], in: alice)
    #expect(failed.status == 1 && !failed.stderr.contains("SECRET") && failed.stderr.contains("127.0.0.1"), "\(failed.stderr)")
    let failedClone = try box.kb(["clone", "https://user:SECRET@127.0.0.1:1/x.git", box.dir + "/carol"], in: box.dir)
    #expect(failedClone.status != 0 && !failedClone.stderr.contains("SECRET"), "\(failedClone.stderr)")
  }

  // MARK: 8. YAML aliases

  @Test func yamlAliasBombIsRefusedBeforeItExpands() throws {
    let box = try Sandbox("bomb")
    let alice = try box.makeRemote(first: "alice")
    var yaml = "---\nid: bomb\ntype: answer\ntitle: Bomb\na0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in 1..<9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
    yaml += "tags: *a8\n---\nbody\n"
    try box.write(yaml, to: alice + "/answers/bomb.md")
    let started = Date()
    let check = try box.kb(["check"], in: alice)
    #expect(check.status == 1 && check.stdout.contains("answers/bomb.md") && check.stdout.contains("alias"), "\(check.stdout)")
    let show = try box.kb(["show", "--json", "bomb"], in: alice)
    #expect(show.status == 1 && show.stdout.count < 10_000)
    #expect(Date().timeIntervalSince(started) < 20)
    // A few aliases are still fine.
    try box.write("---\nid: ok\ntype: answer\ntitle: Ok\nt: &t [a, b]\ntags: *t\n---\nbody\n", to: alice + "/answers/ok.md")
    #expect(try box.kb(["show", "ok"], in: alice).ok)
  }

  // MARK: 9. Concurrent commands

  @Test func concurrentSearchesAfterManyNewFilesAllSucceed() throws {
    let box = try Sandbox("concurrent")
    let alice = try box.makeRemote(first: "alice")
    let n = Int(ProcessInfo.processInfo.environment["KB_HARDEN_FILES"] ?? "") ?? 1500
    for i in 0..<n {
      try box.write(box.answer(id: "a\(i)", title: "Printer jam \(i)"), to: alice + "/answers/a\(i).md")
    }
    var children: [(Child, String, String)] = []
    for i in 0..<6 {
      let out = box.dir + "/s\(i).out", err = box.dir + "/s\(i).err"
      children.append((try box.start(kbBinary, ["search", "printer"], cwd: alice, stdout: out, stderr: err), out, err))
    }
    children.append((try box.start(kbBinary, ["new", "answer", "--title", "Fresh one", "--body", "text"], cwd: alice,
                                   stdout: box.dir + "/n.out", stderr: box.dir + "/n.err"), box.dir + "/n.out", box.dir + "/n.err"))
    for (child, out, err) in children {
      let status = child.wait()
      let stderr = box.read(err) ?? ""
      #expect(status == 0, "\(box.read(out) ?? "")\(stderr)")
      #expect(!stderr.contains("constraint") && !stderr.contains("SQL") && !stderr.contains("database"), "\(stderr)")
    }
  }

  // MARK: 10. A damaged index is detected by every command

  @Test func damagedIndexIsRebuiltWithAWarningByEveryCommand() throws {
    let box = try Sandbox("damage")
    let alice = try box.makeRemote(first: "alice")
    for i in 0..<60 {
      try box.write(box.answer(id: "a\(i)", title: "Printer jam \(i)", body: "## Fix\n1. Open tray \(i) and pull the paper.\n"), to: alice + "/answers/a\(i).md")
    }
    let db = alice + "/.kb/index.sqlite"
    func damage() throws {
      let data = try Data(contentsOf: URL(fileURLWithPath: db))
      var bytes = [UInt8](data)
      // Keep the header page, scramble the rest with a fixed seed.
      var state: UInt64 = 14
      for i in 4096..<bytes.count where i % 7 == 0 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
      }
      try Data(bytes).write(to: URL(fileURLWithPath: db))
      for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
    }
    for args in [["search", "printer"], ["list"], ["index"], ["check"], ["show", "a7"]] {
      // A rebuild moves everything into the database file (no write-ahead log left), then damage.
      #expect(try box.kb(["index", "--rebuild"], in: alice).ok)
      try damage()
      let r = try box.kb(args, in: alice)
      #expect(r.ok, "\(args): \(r.stdout)\(r.stderr)")
      #expect(r.stderr.contains("rebuil"), "\(args): \(r.stderr)")
      #expect(!r.stderr.contains("malformed") || r.stderr.contains("rebuil"))
    }
    let search = try box.kb(["search", "--json", "tray 7"], in: alice)
    #expect(search.stdout.contains("a7"))
  }

  /// The same on an index over 8 MiB, which is not checked page by page on every open: damage
  /// that leaves the file as kb left it (same inode, size and time) is met by the first
  /// command, which rebuilds the index with a warning and succeeds; `kb index` on an unchanged
  /// knowledge base does not read the whole file. KB_HARDEN_DAMAGE_DOCS sets the size.
  @Test func damagedLargeIndexIsRebuiltByTheFirstCommandThatMeetsIt() throws {
    let box = try Sandbox("damage-large")
    let alice = box.dir + "/alice"
    #expect(try box.kb(["init", alice], in: box.dir).ok)
    let count = Int(ProcessInfo.processInfo.environment["KB_HARDEN_DAMAGE_DOCS"] ?? "") ?? 3000
    var state: UInt64 = 10
    func word() -> String {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return "w" + String(state >> 52, radix: 16)
    }
    for i in 0..<count {
      let filler = (0..<250).map { _ in word() }.joined(separator: " ")
      try box.write(box.answer(id: "a\(i)", title: "Printer jam \(i)", body: "## Fix\n1. Open tray \(i) and pull the paper.\n\n\(filler)\n"),
                    to: alice + "/answers/a\(i).md")
    }
    #expect(try box.kb(["index", "--rebuild"], in: alice).ok)
    let db = alice + "/.kb/index.sqlite"
    let pristine = try Data(contentsOf: URL(fileURLWithPath: db))
    #expect(pristine.count > 8 << 20, "the index is only \(pristine.count) bytes")
    // The pages to damage: all but those a command reads before its query (the schema, the
    // migrations, the folders' fingerprints), so that the query is the first to meet damage.
    try pristine.write(to: URL(fileURLWithPath: box.dir + "/pristine.sqlite"))
    let listed = try box.run("sqlite3", [
      "-readonly", box.dir + "/pristine.sqlite",
      "SELECT pageno FROM dbstat WHERE name NOT IN ('sqlite_schema', 'sqlite_master', 'grdb_migrations', 'sqlite_autoindex_grdb_migrations_1', 'folder', 'sqlite_autoindex_folder_1') ORDER BY pageno",
    ], cwd: box.dir)
    let pages = listed.stdout.split(separator: "\n").compactMap { Int($0) }
    #expect(listed.ok && pages.count > 1000, "\(listed.stderr)")
    /// Writes `bytes` into the index file in place (the same inode), keeping its times when asked.
    func overwrite(_ bytes: [UInt8], keepTimes: Bool) throws {
      var st = stat()
      #expect(stat(db, &st) == 0)
      let fd = open(db, O_WRONLY | O_TRUNC)
      #expect(fd >= 0)
      var done = 0
      while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        guard n > 0 else { break }
        done += n
      }
      close(fd)
      if keepTimes { #expect(utimensat(AT_FDCWD, db, [st.st_atim, st.st_mtim], 0) == 0) }
    }
    for (args, expected) in [
      (["search", "tray 7"], "a7"), (["list"], "a2999"), (["suggest", "printer jam tray 7"], "a7"),
      (["show", "a12"], "Printer jam 12"), (["index"], "documents"),
    ] {
      // The index as the rebuild left it; 'kb check' checks it all and records it as sound.
      try overwrite([UInt8](pristine), keepTimes: false)
      for suffix in ["-wal", "-shm", "-damaged"] { try? FileManager.default.removeItem(atPath: db + suffix) }
      let check = try box.kb(["check"], in: alice)
      #expect(check.ok, "\(check.stdout)\(check.stderr)")
      // Unchanged: 'kb index' says so, without a warning.
      let quiet = try box.kb(["index"], in: alice)
      #expect(quiet.ok && quiet.stderr.isEmpty && quiet.stdout.contains("up to date"), "\(quiet.stdout)\(quiet.stderr)")
      var bytes = [UInt8](pristine)
      for page in pages {
        for i in stride(from: (page - 1) * 4096, to: page * 4096, by: 7) {
          state = state &* 6364136223846793005 &+ 1442695040888963407
          bytes[i] ^= UInt8(truncatingIfNeeded: state >> 33) | 1
        }
      }
      try overwrite(bytes, keepTimes: true)
      let r = try box.kb(args, in: alice)
      #expect(r.ok, "\(args): \(r.stdout.prefix(300))\(r.stderr)")
      #expect(r.stdout.contains(expected), "\(args): \(r.stdout.prefix(300))")
      #expect(r.stderr.contains("damaged") && r.stderr.contains("rebuil"), "\(args): \(r.stderr)")
      let again = try box.kb(["search", "tray 9"], in: alice)
      #expect(again.ok && again.stderr.isEmpty && again.stdout.contains("a9"), "\(args): \(again.stdout.prefix(300))\(again.stderr)")
    }
  }

  // MARK: 11. kb never writes what its index refuses

  @Test func documentsWithNULOrOverTheSizeLimitAreNotWritten() throws {
    let box = try Sandbox("nul")
    let alice = try box.makeRemote(first: "alice")
    let body = try box.run("/bin/sh", ["-c", "printf 'a\\000b' | \(kbBinary) new answer --title Nul --body -"], cwd: alice)
    #expect(body.status == 1 && body.stderr.contains("NUL"), "\(body.stderr)")
    #expect(!FileManager.default.fileExists(atPath: alice + "/answers/nul.md"))
    let json = "{\"text\": \"my phone \\u0000 breaks\", \"author\": \"@ana\"}"
    try box.write(json, to: box.dir + "/m.json")
    let open = try box.run("/bin/sh", ["-c", "\(kbBinary) case open - < \(box.dir)/m.json"], cwd: alice)
    #expect(open.status == 1 && open.stderr.contains("NUL"), "\(open.stdout)\(open.stderr)")
    try box.write("{\"text\": \"my phone &#0; breaks\", \"author\": \"@ana\", \"channel\": \"mastodon\"}", to: box.dir + "/m2.json")
    let m2 = try box.run("/bin/sh", ["-c", "\(kbBinary) case open --json - < \(box.dir)/m2.json"], cwd: alice)
    // Either refused or written without the NUL; never written and then dropped by the index.
    let list0 = try box.kb(["index", "--rebuild"], in: alice)
    #expect(list0.ok)
    if m2.ok {
      #expect(try box.kb(["cases", "--json"], in: alice).stdout.contains("breaks"))
    }
    let big = String(repeating: "my phone breaks again ", count: 60_000)
    try box.write("{\"text\": \"\(big)\", \"author\": \"@ana\"}", to: box.dir + "/big.json")
    let r = try box.run("/bin/sh", ["-c", "\(kbBinary) case open - < \(box.dir)/big.json"], cwd: alice)
    #expect(r.status != 0 && (r.stderr.contains("KiB") || r.stderr.contains("MiB")), "\(r.stderr.prefix(500))")
    let check = try box.kb(["check"], in: alice)
    #expect(check.ok, "\(check.stdout)")
  }

  // MARK: 12. Linear costs

  @Test func repeatedQueryWordsAndBatchIntakeStayLinear() throws {
    let box = try Sandbox("linear")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "p", title: "Phone restarts"), to: alice + "/answers/p.md")
    var started = Date()
    let many = Array(repeating: "phone", count: 4000).joined(separator: " ")
    let s = try box.kb(["search", many], in: alice)
    #expect(s.ok, "\(s.stderr.prefix(300))")
    #expect(Date().timeIntervalSince(started) < 5)
    let words = (0..<4000).map { "w\($0)" }.joined(separator: " ")
    started = Date()
    let s2 = try box.kb(["search", words], in: alice)
    #expect(s2.status != 0 ? s2.stderr.contains("long") : true, "\(s2.stderr.prefix(300))")
    #expect(Date().timeIntervalSince(started) < 5)
    // A batch of mentions with the same words, each one similar to every case before it (the
    // worst case for the similar-case lookup and for ids): ten times the mentions in at most
    // 20 times the work, counted as the index pages kb looks up (KB_INDEX_STATS=1: a count a
    // loaded machine does not change, where CPU time varied by half) less those of one mention
    // (start-up). Linear intake measures 13.9 times at 100 against 1,000 and 11.6 at 600 against
    // 6,000 (the b-trees deepen: n log n); main ranked every earlier matching case for each
    // mention (n squared: 3.0 s of CPU for 400 mentions, 46.3 s for 4,000; now 0.7 s and 9.2 s).
    // KB_HARDEN_BATCH sets the small size (default 100).
    func batch(_ n: Int, _ tag: String) throws -> (pages: Double, cpu: String) {
      let folder = box.dir + "/batch-" + tag
      #expect(try box.kb(["init", folder], in: box.dir).ok)
      let lines = (0..<n).map { "{\"text\": \"my router keeps dropping the connection\", \"author\": \"@u\($0)\", \"url\": \"https://x.example/\(tag)/\($0)\"}" }
      try box.write(lines.joined(separator: "\n") + "\n", to: box.dir + "/\(tag).jsonl")
      let r = try box.run(
        "/bin/bash", ["-c", "TIMEFORMAT='cpu: %3U %3S'; time \(kbBinary) case open --json - < \(box.dir)/\(tag).jsonl > \(box.dir)/\(tag).out"],
        cwd: folder, environment: ["KB_INDEX_STATS": "1"])
      #expect(r.ok, "\(r.stderr.prefix(300))")
      let output = (try? Data(contentsOf: URL(fileURLWithPath: box.dir + "/\(tag).out"))) ?? Data()
      let json = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any]
      let opened = json?["opened"] as? [[String: Any]] ?? []
      #expect(opened.count == n, "\(tag): \(opened.count) cases opened of \(n)")
      // Each is similar to the cases before it (five at most), the batch's own among them.
      if n > 6 { #expect((opened.last?["similar"] as? [Any])?.count == 5) }
      let lines2 = r.stderr.split(separator: "\n")
      let pages = lines2.first { $0.hasPrefix("index pages: ") }.flatMap { Double($0.dropFirst("index pages: ".count)) }
      #expect(pages != nil, "\(r.stderr.suffix(300))")
      return (pages ?? 0, lines2.last { $0.hasPrefix("cpu: ") }.map(String.init) ?? "")
    }
    let n = Int(ProcessInfo.processInfo.environment["KB_HARDEN_BATCH"] ?? "") ?? 100
    let one = try batch(1, "one")
    let small = try batch(n, "small"), large = try batch(10 * n, "large")
    let ratio = (large.pages - one.pages) / max(small.pages - one.pages, 1)
    #expect(ratio < 20, "index pages: \(n) mentions \(small.pages), \(10 * n) mentions \(large.pages), one \(one.pages) (\(ratio) times); \(small.cpu), \(large.cpu)")
  }

  // MARK: 13. Ids, JSON types, equal-score order

  @Test func badIdsAreRefusedByTheIndexAndJSONTypesAreChecked() throws {
    let box = try Sandbox("ids")
    let alice = try box.makeRemote(first: "alice")
    try box.write("---\nid: ''\ntype: answer\ntitle: Empty\n---\nbody\n", to: alice + "/answers/empty.md")
    try box.write("---\nid: a:b\ntype: answer\ntitle: Colon\n---\nbody\n", to: alice + "/answers/colon.md")
    try box.write("---\nid: \"a\\nb\"\ntype: answer\ntitle: Newline\n---\nbody\n", to: alice + "/answers/newline.md")
    let check = try box.kb(["check"], in: alice)
    #expect(check.status == 1)
    for name in ["empty", "colon", "newline"] {
      #expect(check.stdout.contains("answers/\(name).md") && check.stdout.contains("id"), "\(name): \(check.stdout)")
    }
    try box.write("{\"text\": \"my phone breaks\", \"author\": 5}", to: box.dir + "/m.json")
    let wrongType = try box.run("/bin/sh", ["-c", "\(kbBinary) case open - < \(box.dir)/m.json"], cwd: alice)
    #expect(wrongType.status == 1 && wrongType.stderr.contains("author"), "\(wrongType.stderr)")
    try box.write("\"my phone breaks\"", to: box.dir + "/s.json")
    let bare = try box.run("/bin/sh", ["-c", "\(kbBinary) case open - < \(box.dir)/s.json"], cwd: alice)
    #expect(bare.status == 1, "\(bare.stdout)\(bare.stderr)")
  }

  @Test func equalScoresKeepOneOrderIncrementalOrRebuilt() throws {
    let box = try Sandbox("order")
    let alice = try box.makeRemote(first: "alice")
    for name in ["m", "c", "x", "a", "q"] {
      try box.write(box.answer(id: name, title: "Printer jam"), to: alice + "/answers/\(name).md")
      #expect(try box.kb(["search", "printer"], in: alice).ok)  // indexed one by one
    }
    let incremental = try box.kb(["search", "--json", "printer jam"], in: alice).stdout
    #expect(try box.kb(["index", "--rebuild"], in: alice).ok)
    let rebuilt = try box.kb(["search", "--json", "printer jam"], in: alice).stdout
    #expect(incremental == rebuilt)
    #expect(!incremental.isEmpty)
  }
}
