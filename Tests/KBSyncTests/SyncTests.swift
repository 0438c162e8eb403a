import Foundation
import KBCore
import KBTestSupport
import Testing

@testable import KBSync

/// `kb sync` end to end: real bare remotes, real clones, the built `kb` binary.
@Suite struct SyncTests {
  @Test func twoTeammatesEditDifferentDocuments() throws {
    let box = try Sandbox("two")
    let alice = try box.makeRemote(first: "alice")
    let bob = try box.clone("bob")
    try box.write(box.answer(id: "printer", title: "Printer offline"), to: alice + "/answers/printer.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(box.answer(id: "wifi", title: "Wifi drops"), to: bob + "/answers/wifi.md")
    let b = try box.kb(["sync", "--json"], in: bob)
    #expect(b.ok, "\(b.stderr)")
    let json = Sandbox.json(b)
    #expect(json["incoming"] as? [String] == ["answers/printer.md"])
    #expect(json["outgoing"] as? [String] == ["answers/wifi.md"])
    #expect(json["pushed"] as? Bool == true)
    #expect(json["reindexed"] as? Int == 2)  // the incoming document and the local one
    let a = try box.kb(["sync", "--json"], in: alice)
    #expect(Sandbox.json(a)["incoming"] as? [String] == ["answers/wifi.md"])
    for clone in [alice, bob] {
      #expect(box.read(clone + "/answers/printer.md")?.contains("Printer offline") == true)
      #expect(box.read(clone + "/answers/wifi.md")?.contains("Wifi drops") == true)
      // re-indexed after the sync: the document is found by id without a refresh
      let show = try box.kb(["show", "wifi", "--json"], in: clone)
      #expect(show.ok, "\(show.stderr)")
    }
    // commits are signed by each teammate
    let log = try box.git(["log", "--format=%an <%ae>"], in: alice).stdout
    #expect(log.contains("Alice <alice@example.com>") && log.contains("Bob <bob@example.com>"))
    let history = try box.kb(["log", "wifi", "--json"], in: alice)
    #expect(history.ok && history.stdout.contains("\"author\" : \"Bob\""))
    let status = try box.kb(["status", "--json"], in: alice)
    #expect(status.ok && status.stdout.contains("\"ahead\" : 0") && status.stdout.contains("\"lastSync\""))
  }

  @Test func deletionsAndEditsOfOneDocumentMergeAndEditBeatsDelete() throws {
    let box = try Sandbox("delete")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "vpn", title: "VPN fails"), to: alice + "/answers/vpn.md")
    try box.write(box.answer(id: "old", title: "Old answer"), to: alice + "/answers/old.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    let bob = try box.clone("bob")
    // Alice deletes vpn.md and old.md; Bob edits vpn.md. The edit is kept, old.md goes.
    try FileManager.default.removeItem(atPath: alice + "/answers/vpn.md")
    try FileManager.default.removeItem(atPath: alice + "/answers/old.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(box.answer(id: "vpn", title: "VPN fails", body: "## Fix\n1. Reinstall the profile.\n"), to: bob + "/answers/vpn.md")
    let r = try box.kb(["sync", "--json"], in: bob)
    #expect(r.ok, "\(r.stderr)")
    let merged = Sandbox.json(r)["merged"] as? [[String: Any]] ?? []
    #expect(merged.contains { $0["path"] as? String == "answers/vpn.md" && $0["outcome"] as? String == "kept-edit" })
    #expect(try box.remoteFile("answers/vpn.md")?.contains("Reinstall the profile") == true)
    #expect(try box.remoteFile("answers/old.md") == nil)
    #expect(!FileManager.default.fileExists(atPath: bob + "/answers/old.md"))
  }

  @Test func sameLinesChangedTwoWaysKeepsBothAndIsListed() throws {
    let box = try Sandbox("conflict")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "sms", title: "SMS repeats", body: "## Fix\n1. Power off.\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    let bob = try box.clone("bob")
    try box.write(box.answer(id: "sms", title: "SMS repeats", body: "## Fix\n1. Power off for five minutes.\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(box.answer(id: "sms", title: "SMS repeats", body: "## Fix\n1. Power off, then reset network settings.\n"), to: bob + "/answers/sms.md")
    let r = try box.kb(["sync", "--json"], in: bob)
    #expect(r.ok, "\(r.stderr)")
    let conflicts = Sandbox.json(r)["conflicts"] as? [[String: Any]] ?? []
    #expect(conflicts.map { $0["path"] as? String } == ["answers/sms.md"])
    let text = box.read(bob + "/answers/sms.md") ?? ""
    #expect(text.contains("five minutes") && text.contains("reset network settings") && text.contains("<<<<<<<"))
    let list = try box.kb(["conflicts", "--json"], in: bob)
    #expect(list.status == 1 && list.stdout.contains("answers/sms.md"))
    // Alice gets the same file; resolving it and syncing clears the conflict.
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(box.read(alice + "/answers/sms.md") == text)
    try box.write(box.answer(id: "sms", title: "SMS repeats", body: "## Fix\n1. Power off for five minutes, then reset network settings.\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(try box.kb(["conflicts"], in: alice).ok)
  }

  @Test func clearErrorsLeaveWorkCommitted() throws {
    let box = try Sandbox("errors")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "x", title: "X"), to: alice + "/answers/x.md")
    // Unreachable remote: committed locally, clear message, exit 1.
    try box.git(["remote", "set-url", "origin", box.dir + "/nowhere.git"], in: alice)
    var r = try box.kb(["sync"], in: alice)
    #expect(r.status == 1)
    #expect(r.stderr.contains("Could not reach the remote") && r.stderr.contains("committed locally"), "\(r.stderr)")
    #expect(try box.git(["status", "--porcelain"], in: alice).stdout.isEmpty)
    // git:// with nothing listening
    try box.git(["remote", "set-url", "origin", "git://127.0.0.1:1/remote.git"], in: alice)
    r = try box.kb(["sync"], in: alice)
    #expect(r.status == 1 && r.stderr.contains("Could not reach the remote"), "\(r.stderr)")
    // No remote at all
    try box.git(["remote", "remove", "origin"], in: alice)
    r = try box.kb(["sync"], in: alice)
    #expect(r.status == 1 && r.stderr.contains("No remote 'origin'"), "\(r.stderr)")
    // Back to the real remote: the commit goes out.
    try box.git(["remote", "add", "origin", box.remote], in: alice)
    r = try box.kb(["sync", "--json"], in: alice)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stderr)")
    #expect(try box.remoteFile("answers/x.md") != nil)
    // No identity: refused with a clear message, nothing committed.
    let carol = try box.clone("carol")
    try box.git(["config", "--unset", "user.name"], in: carol)
    try box.git(["config", "--unset", "user.email"], in: carol)
    try box.write(box.answer(id: "y", title: "Y"), to: carol + "/answers/y.md")
    r = try box.kb(["sync"], in: carol)
    #expect(r.status == 1 && r.stderr.contains("No identity configured"), "\(r.stderr)")
    // .kb/identity overrides git config
    try box.write("name = Carol Danvers\nemail = carol@example.com\n", to: carol + "/.kb/identity")
    #expect(try box.kb(["sync"], in: carol).ok)
    #expect(try box.git(["--git-dir", box.remote, "log", "-1", "--format=%an"], in: box.dir).stdout == "Carol Danvers\n")
  }

  @Test func firstPushToEmptyRemoteAndKBInSubfolder() throws {
    let box = try Sandbox("subfolder")
    try box.git(["init", "-q", "--bare", "-b", "main", box.remote], in: box.dir)
    // A repository whose knowledge base lives in docs/kb, with a file outside it.
    let repo = box.dir + "/repo"
    try box.git(["init", "-q", "-b", "main", repo], in: box.dir)
    try box.configure(repo, name: "alice")
    try box.git(["remote", "add", "origin", box.remote], in: repo)
    #expect(try box.kb(["init", "docs/kb"], in: repo).ok)
    try box.write("not ours\n", to: repo + "/outside.txt")
    try box.write("staged by hand\n", to: repo + "/staged.txt")
    try box.git(["add", "staged.txt"], in: repo)
    try box.write(box.answer(id: "a", title: "A"), to: repo + "/docs/kb/answers/a.md")
    let r = try box.kb(["sync", "--json"], in: repo + "/docs/kb")
    #expect(r.ok, "\(r.stderr)")
    #expect(Sandbox.json(r)["outgoing"] as? [String] == [".gitattributes", ".gitignore", "answers/a.md", "kb.yml"])
    #expect(try box.remoteFile("docs/kb/answers/a.md") != nil)
    #expect(try box.remoteFile("outside.txt") == nil)
    #expect(try box.remoteFile("staged.txt") == nil)
    #expect(try box.git(["status", "--porcelain"], in: repo).stdout == "A  staged.txt\n?? outside.txt\n")
    // A second sync (with a commit on top of the first) still leaves the staged file alone.
    try box.write(box.answer(id: "b", title: "B"), to: repo + "/docs/kb/answers/b.md")
    #expect(try box.kb(["sync"], in: repo + "/docs/kb").ok)
    #expect(try box.remoteFile("docs/kb/answers/b.md") != nil && box.remoteFile("staged.txt") == nil)
    #expect(try box.git(["status", "--porcelain"], in: repo).stdout == "A  staged.txt\n?? outside.txt\n")
  }

  @Test func cloneOfAnEmptyRemoteStartsAKnowledgeBaseOnMain() throws {
    let box = try Sandbox("empty")
    try box.git(["init", "-q", "--bare", "-b", "main", box.remote], in: box.dir)
    let alice = try box.clone("alice")
    #expect(FileManager.default.fileExists(atPath: alice + "/kb.yml"))
    #expect(try box.git(["symbolic-ref", "HEAD"], in: alice).stdout == "refs/heads/main\n")
    try box.write(box.answer(id: "a", title: "A"), to: alice + "/answers/a.md")
    let r = try box.kb(["sync", "--json"], in: alice)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stderr)")
    #expect(try box.remoteFile("answers/a.md") != nil)
    #expect(try box.remoteFile(".gitattributes")?.contains("*.md merge=kb") == true)
  }

  @Test func domainMergerKeepsBothTitlesAndMergesTheBody() throws {
    let base = "---\nid: a\ntitle: One\n---\nbody\n"
    let r = DomainDocumentMerger().merge(
      base: base, ours: "---\nid: a\ntitle: Two\n---\nbody\n", theirs: "---\nid: a\ntitle: Three\n---\nbody\nmore\n", path: "a.md")
    #expect(!r.clean)
    #expect(r.text.contains("title: Two\n"))
    #expect(r.text.contains("conflicts:") && r.text.contains("Three"))
    #expect(r.text.hasSuffix("body\nmore\n"))
    #expect(try Document(path: "answers/a.md", text: r.text).hasConflicts)
    let clean = gitTextMerge("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n")
    #expect(clean.clean && clean.text == "A\nb\nC\n")
  }

  /// A sync never fails because of the `git gc` an earlier one started. git's prune removes every
  /// empty object folder (`objects/24`) while libgit2 makes that folder and then renames an
  /// object into it: a sync writing objects beside the gc failed with "failed to rename lockfile
  /// to '.git/objects/24/…': No such file or directory" (once among 20 agents). Here the gc is
  /// git's own, but a `git` first on the PATH makes it sweep the empty folders
  /// (`git prune-packed`) over and over for a second, as it does once on a large clone, so that
  /// nearly every sync written beside it failed without the wait. `KB_GC_RACE_ROUNDS`,
  /// `KB_GC_RACE_DOCS` and `KB_GC_RACE_SWEEP_MS` make it longer.
  @Test func aSyncWaitsForTheGitGcAnEarlierOneStarted() throws {
    let env = ProcessInfo.processInfo.environment
    let rounds = Int(env["KB_GC_RACE_ROUNDS"] ?? "") ?? 3
    let docs = Int(env["KB_GC_RACE_DOCS"] ?? "") ?? 100
    let sweepMs = Int(env["KB_GC_RACE_SWEEP_MS"] ?? "") ?? 1000
    let box = try Sandbox("gcrace")
    let alice = try box.makeRemote(first: "alice")
    let bob = try box.clone("bob")
    // A fetched pack makes two: past the limit, every sync of Bob's starts a gc.
    try box.git(["config", "gc.autoPackLimit", "1"], in: bob)
    let bin = box.dir + "/slow-git"
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    let started = box.dir + "/gc-started"
    try box.write(
      """
      #!/bin/sh
      for a in "$@"; do case "$a" in --git-dir=*) gd="$a";; esac; done
      case " $* " in *" gc "*)
        echo x >> \(started)
        end=$(( $(date +%s%N) + \(sweepMs) * 1000000 ))
        while [ $(date +%s%N) -lt $end ]; do /usr/bin/git "$gd" prune-packed; done;;
      esac
      exec /usr/bin/git "$@"

      """, to: bin + "/git")
    chmod(bin + "/git", 0o755)
    let path = ["PATH": bin + ":" + (box.environment["PATH"] ?? "/usr/bin:/bin")]
    for round in 0..<rounds {
      try box.write(box.answer(id: "a\(round)", title: "Alice \(round)"), to: alice + "/answers/a\(round).md")
      #expect(try box.kb(["sync"], in: alice).ok)
      for d in 0..<docs {
        try box.write(box.answer(id: "b\(round)-\(d)", title: "Bob \(round) \(d)"), to: bob + "/answers/b\(round)-\(d).md")
      }
      let r = try box.kb(["sync"], in: bob, environment: path)
      #expect(r.ok, "round \(round): \(r.stdout)\(r.stderr)")
    }
    // The gc ran beside the syncs (one a sync but the last, which nothing followed).
    let gcs = (box.read(started) ?? "").split(separator: "\n").count
    #expect(gcs >= rounds, "\(gcs) gc started")
    // Waits for the last gc, then nothing is lost.
    #expect(try box.kb(["sync"], in: bob, environment: path).ok)
    for gitDir in [bob + "/.git", box.remote] {
      let fsck = try box.git(["--git-dir", gitDir, "fsck", "--full", "--strict", "--no-dangling"], in: box.dir)
      #expect(fsck.ok && fsck.stderr.isEmpty, "\(gitDir): \(fsck.stdout)\(fsck.stderr)")
    }
    for round in 0..<rounds {
      #expect(box.read(bob + "/answers/a\(round).md")?.contains("Alice \(round)") == true)
      for d in [0, docs - 1] { #expect(try box.remoteFile("answers/b\(round)-\(d).md")?.contains("Bob \(round) \(d)") == true) }
    }
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
  }

  /// Every sync adds a pack (fetched here, pushed into a remote on a path). Past git's
  /// `gc.autoPackLimit` kb starts `git gc --auto`, which packs them into one in the background;
  /// nothing is lost on the way.
  @Test func packsArePackedTogetherPastGitsLimit() throws {
    let box = try Sandbox("gc")
    let alice = try box.makeRemote(first: "alice")
    let bob = try box.clone("bob")
    try box.git(["config", "gc.autoPackLimit", "3"], in: bob)
    try box.git(["--git-dir", box.remote, "config", "gc.autoPackLimit", "3"], in: box.dir)
    func packs(_ objects: String) -> Int {
      ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/pack")) ?? []).filter { $0.hasSuffix(".pack") }.count
    }
    for i in 0..<5 {
      try box.write(box.answer(id: "a\(i)", title: "Alice \(i)"), to: alice + "/answers/a\(i).md")
      #expect(try box.kb(["sync"], in: alice).ok)
      try box.write(box.answer(id: "b\(i)", title: "Bob \(i)"), to: bob + "/answers/b\(i).md")
      #expect(try box.kb(["sync"], in: bob).ok)
    }
    let deadline = Date().addingTimeInterval(30)
    func settled() -> Bool {
      packs(bob + "/.git/objects") <= 3 && packs(box.remote + "/objects") <= 3
        && !FileManager.default.fileExists(atPath: bob + "/.git/gc.pid")
        && !FileManager.default.fileExists(atPath: box.remote + "/gc.pid")
    }
    while !settled(), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    #expect(packs(bob + "/.git/objects") <= 3, "\(packs(bob + "/.git/objects")) packs in the clone")
    #expect(packs(box.remote + "/objects") <= 3, "\(packs(box.remote + "/objects")) packs in the remote")
    for gitDir in [bob + "/.git", box.remote] {
      let fsck = try box.git(["--git-dir", gitDir, "fsck", "--full", "--strict", "--no-dangling"], in: box.dir)
      #expect(fsck.ok && fsck.stderr.isEmpty, "\(gitDir): \(fsck.stdout)\(fsck.stderr)")
    }
    #expect(try box.kb(["sync"], in: bob).ok)
    for i in 0..<5 {
      #expect(box.read(bob + "/answers/a\(i).md")?.contains("Alice \(i)") == true)
      #expect(try box.remoteFile("answers/b\(i).md")?.contains("Bob \(i)") == true)
    }
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
  }
}
