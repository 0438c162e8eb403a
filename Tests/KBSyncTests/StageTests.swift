import Foundation
import KBTestSupport
import Testing

@testable import KBSync

#if canImport(Glibc)
  import Glibc
#endif

/// kb's own staging (one lstat per file against the index) and tree diff (equal sub-trees
/// skipped), checked against what git's command line says about the same repository.
@Suite struct StageTests {
  /// A repository with a first commit made by git's command line.
  func repository(_ box: Sandbox) throws -> String {
    let path = box.dir + "/repo"
    try box.git(["init", "-q", "-b", "main", path], in: box.dir)
    try box.configure(path, name: "alice")
    try box.write("*.log\nbuild/\n", to: path + "/.gitignore")
    for i in 0..<30 { try box.write("answer \(i)\n", to: path + "/answers/a\(i).md") }
    try box.write("case\n", to: path + "/cases/2024/10/c1.md")
    try box.write("old\n", to: path + "/answers/becomes-folder.md")
    try box.write("#!/bin/sh\n", to: path + "/tool.sh")
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "first"], in: path)
    return path
  }

  /// `git status --porcelain` lines, sorted.
  func status(_ box: Sandbox, _ path: String) throws -> [String] {
    try box.git(["status", "--porcelain", "--untracked-files=all"], in: path).stdout
      .split(separator: "\n").map(String.init).sorted()
  }

  /// `splitFrom` 1: the comparison with the index split over the cores, as for a big knowledge base.
  @Test(arguments: [1, 20_000]) func stagesExactlyWhatGitAddAllWould(splitFrom: Int) throws {
    let box = try Sandbox("stage")
    let path = try repository(box)
    let repo = try GitRepository(openingExactly: path)
    #expect(try repo.stageAll(prefix: "", splitFrom: splitFrom) == GitRepository.StageReport(), "a clean tree stages nothing")

    // Same size, new content, in place.
    try "answer X\n".write(toFile: path + "/answers/a3.md", atomically: false, encoding: .utf8)
    try FileManager.default.removeItem(atPath: path + "/answers/a4.md")
    try box.write("new\n", to: path + "/answers/deep/er/new.md")
    try box.write("noise\n", to: path + "/debug.log")  // ignored
    try box.write("out\n", to: path + "/build/out.md")  // ignored folder
    try box.write("{}", to: path + "/.kb/index.sqlite")  // kb's own folder
    try box.write("half\n", to: path + "/answers/a5.md.kb-tmp-42")  // kb's atomic-write temporary
    try FileManager.default.removeItem(atPath: path + "/answers/becomes-folder.md")
    try box.write("inside\n", to: path + "/answers/becomes-folder.md/inside.md")
    #expect(chmod(path + "/tool.sh", 0o755) == 0)
    #expect(symlink("a1.md", path + "/answers/link.md") == 0)
    try box.git(["init", "-q", path + "/vendor/other"], in: box.dir)  // another repository inside
    try box.write("theirs\n", to: path + "/vendor/other/file.md")

    let report = try repo.stageAll(prefix: "", splitFrom: splitFrom)
    #expect(report.added == ["answers/becomes-folder.md/inside.md", "answers/deep/er/new.md", "answers/link.md"])
    #expect(report.removed == ["answers/a4.md", "answers/becomes-folder.md"])
    #expect(report.rehashed.contains("answers/a3.md"))
    #expect(report.rehashed.contains("tool.sh"))

    // git agrees: everything is staged, nothing left unstaged, nothing ignored was taken.
    let lines = try status(box, path)
    #expect(
      lines == [
        "A  answers/becomes-folder.md/inside.md", "A  answers/deep/er/new.md", "A  answers/link.md",
        "D  answers/a4.md", "D  answers/becomes-folder.md", "M  answers/a3.md", "M  tool.sh", "?? .kb/index.sqlite",
        "?? answers/a5.md.kb-tmp-42", "?? vendor/other/",
      ].sorted(), "\(lines)")
    let mode = try box.git(["ls-files", "-s", "tool.sh", "answers/link.md"], in: path).stdout
    #expect(mode.contains("100755") && mode.contains("120000"), "\(mode)")
  }

  @Test func aCleanTreeLeavesTheIndexFileAlone() throws {
    let box = try Sandbox("stage-clean")
    let path = try repository(box)
    try GitRepository(openingExactly: path).stageAll(prefix: "")  // settles racily clean entries
    let before = try FileManager.default.attributesOfItem(atPath: path + "/.git/index")[.modificationDate] as? Date
    let report = try GitRepository(openingExactly: path).stageAll(prefix: "")
    #expect(report == GitRepository.StageReport())
    let after = try FileManager.default.attributesOfItem(atPath: path + "/.git/index")[.modificationDate] as? Date
    #expect(before == after)
  }

  /// After a restore that touches every file's modification time, the first staging hashes them
  /// all and saves their stat data in the index; the next one hashes none.
  @Test func aTouchedTreeIsHashedOnceNotOnEveryCall() throws {
    let box = try Sandbox("stage-touch")
    let path = try repository(box)
    try GitRepository(openingExactly: path).stageAll(prefix: "")
    let restored = Date().addingTimeInterval(-3600)
    for file in try FileManager.default.subpathsOfDirectory(atPath: path) where !file.hasPrefix(".git/") {
      try FileManager.default.setAttributes([.modificationDate: restored], ofItemAtPath: path + "/" + file)
    }
    let first = try GitRepository(openingExactly: path).stageAll(prefix: "")
    #expect(first.rehashed.count == 34 && first.modified.isEmpty, "\(first)")
    Thread.sleep(forTimeInterval: 0.01)
    let second = try GitRepository(openingExactly: path).stageAll(prefix: "")
    #expect(second.isEmpty, "\(second)")
    #expect(try status(box, path).isEmpty)
  }

  @Test func onlyTheKnowledgeBaseFolderIsStaged() throws {
    let box = try Sandbox("stage-prefix")
    let path = try repository(box)
    try box.write("kb edit\n", to: path + "/answers/a1.md")
    try box.write("not ours\n", to: path + "/cases/2024/10/c1.md")
    let report = try GitRepository(openingExactly: path).stageAll(prefix: "answers")
    #expect(report.rehashed == ["answers/a1.md"])
    #expect(try status(box, path) == [" M cases/2024/10/c1.md", "M  answers/a1.md"])
  }

  @Test func treeDiffMatchesGit() throws {
    let box = try Sandbox("diff")
    let path = try repository(box)
    try box.write("changed\n", to: path + "/answers/a7.md")
    try FileManager.default.removeItem(atPath: path + "/cases")
    try box.write("n\n", to: path + "/answers/new/one.md")
    try FileManager.default.removeItem(atPath: path + "/answers/becomes-folder.md")
    try box.write("inside\n", to: path + "/answers/becomes-folder.md/inside.md")
    // git sorts a folder's name as if it ended in "/": after this file, not before it.
    try box.write("bak\n", to: path + "/answers/becomes-folder.md.bak")
    #expect(chmod(path + "/tool.sh", 0o755) == 0)
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "second"], in: path)

    let repo = try GitRepository(openingExactly: path)
    func commit(_ rev: String) throws -> GitOID {
      try #require(GitOID(hex: try box.git(["rev-parse", rev], in: path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    let old = try commit("HEAD~1"), new = try commit("HEAD")
    let ours = try repo.diff(fromCommit: old, toCommit: new).map { "\($0.kind.rawValue.prefix(1).uppercased()) \($0.path)" }
    let git = try box.git(["diff", "--no-renames", "--name-status", "HEAD~1", "HEAD"], in: path).stdout
      .split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ") }
    #expect(ours == git.sorted { $0.dropFirst(2) < $1.dropFirst(2) }, "ours \(ours)\ngit \(git)")
    #expect(try repo.diff(fromCommit: new, toCommit: new).isEmpty)
    let files = try box.git(["ls-tree", "-r", "--name-only", "HEAD"], in: path).stdout.split(separator: "\n").map(String.init)
    #expect(try repo.diff(fromCommit: nil, toCommit: new).map(\.path) == files.sorted())
  }

  /// A second commit on top of `repository`'s: an edit, a deletion, new files in a new folder, a
  /// file that becomes a folder, an exec bit. Returns the two commits; the work tree is left at
  /// the first one.
  func twoCommits(_ box: Sandbox, _ path: String) throws -> (GitOID, GitOID) {
    try box.write("changed\n", to: path + "/answers/a7.md")
    try FileManager.default.removeItem(atPath: path + "/answers/a8.md")
    try box.write("n\n", to: path + "/answers/new/deeper/one.md")
    try FileManager.default.removeItem(atPath: path + "/answers/becomes-folder.md")
    try box.write("inside\n", to: path + "/answers/becomes-folder.md/inside.md")
    #expect(chmod(path + "/tool.sh", 0o755) == 0)
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "second"], in: path)
    func commit(_ rev: String) throws -> GitOID {
      try #require(GitOID(hex: try box.git(["rev-parse", rev], in: path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    let old = try commit("HEAD~1"), new = try commit("HEAD")
    try box.git(["reset", "-q", "--hard", "HEAD~1"], in: path)
    return (old, new)
  }

  /// The file-by-file checkout of a sync leaves the work tree and the index exactly as git's own
  /// checkout would: nothing to commit, nothing modified, the stat cache up to date.
  @Test func checkoutOfChangesMatchesGit() throws {
    let box = try Sandbox("checkout")
    let path = try repository(box)
    let (old, new) = try twoCommits(box, path)
    let repo = try GitRepository(openingExactly: path)
    #expect(try repo.checkoutChanges(repo.diff(fromCommit: old, toCommit: new)))
    try box.git(["reset", "-q", "--soft", new.description], in: path)
    #expect(try status(box, path).isEmpty)
    #expect(box.read(path + "/answers/a7.md") == "changed\n")
    #expect(!FileManager.default.fileExists(atPath: path + "/answers/a8.md"))
    #expect(box.read(path + "/answers/becomes-folder.md/inside.md") == "inside\n")
    #expect(box.read(path + "/answers/new/deeper/one.md") == "n\n")
    var st = stat()
    #expect(stat(path + "/tool.sh", &st) == 0 && st.st_mode & 0o100 != 0)
    // git agrees without re-hashing anything: its stat cache is already right.
    #expect(try box.git(["diff-files", "--quiet"], in: path).ok)
    #expect(try GitRepository(openingExactly: path).stageAll(prefix: "").isEmpty)
  }

  /// A fetch of one commit on top of HEAD lists the files it changes on its walk of the new
  /// objects, exactly as the tree diff does (the fast-forward then reads no tree again).
  @Test func theTransferWalkListsTheChangesOfOneCommit() throws {
    let box = try Sandbox("walk")
    let path = try repository(box)
    let (old, new) = try twoCommits(box, path)
    let repo = try GitRepository(openingExactly: path)
    let walked = try repo.newObjects(tips: [new], hiding: [old], changesFrom: old)
    #expect(walked.changes == (try repo.diff(fromCommit: old, toCommit: new)))
    #expect(walked.objects.count == (try repo.newObjects(tips: [new], hiding: [old])).count)
    // Not a child of the base given: no list.
    #expect(try repo.newObjects(tips: [new], hiding: [], changesFrom: old).changes == nil)
  }

  /// What the file-by-file checkout does not do itself (line-ending filters, symbolic links) it
  /// leaves, untouched, to libgit2's checkout.
  @Test func checkoutOfChangesLeavesFiltersAndLinksToLibgit2() throws {
    let box = try Sandbox("checkout-fallback")
    let path = try repository(box)
    let (old, new) = try twoCommits(box, path)
    try box.git(["config", "core.autocrlf", "true"], in: path)
    let repo = try GitRepository(openingExactly: path)
    #expect(try !repo.checkoutChanges(repo.diff(fromCommit: old, toCommit: new)))
    #expect(box.read(path + "/answers/a7.md") == "answer 7\n")
    try box.git(["config", "--unset", "core.autocrlf"], in: path)

    #expect(symlink("a1.md", path + "/answers/link.md") == 0)
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "a link"], in: path)
    let linked = try #require(GitOID(hex: try box.git(["rev-parse", "HEAD"], in: path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    try box.git(["reset", "-q", "--hard", old.description], in: path)
    let again = try GitRepository(openingExactly: path)
    #expect(try !again.checkoutChanges(again.diff(fromCommit: old, toCommit: linked)))
    #expect(!FileManager.default.fileExists(atPath: path + "/answers/link.md"))
    _ = new
  }

  /// A file changed in the work tree since the index was written is never overwritten: the
  /// file-by-file checkout refuses as a whole and changes nothing (the sync then commits the
  /// edit and merges).
  @Test func checkoutOfChangesRefusesOverALocalEdit() throws {
    let box = try Sandbox("checkout-edit")
    let path = try repository(box)
    let (old, new) = try twoCommits(box, path)
    try box.write("my local edit\n", to: path + "/answers/a7.md")
    let before = try status(box, path)
    let repo = try GitRepository(openingExactly: path)
    #expect(try !repo.checkoutChanges(repo.diff(fromCommit: old, toCommit: new)))
    #expect(box.read(path + "/answers/a7.md") == "my local edit\n")
    #expect(try status(box, path) == before)
    #expect(box.read(path + "/answers/becomes-folder.md") == "old\n")
    // An untracked file where a new one would go: refused too.
    try box.write("mine\n", to: path + "/answers/a7.md")
    try box.git(["checkout", "-q", "--", "answers/a7.md"], in: path)
    try box.write("untracked\n", to: path + "/answers/new/deeper/one.md")
    #expect(try !repo.checkoutChanges(repo.diff(fromCommit: old, toCommit: new)))
    #expect(box.read(path + "/answers/new/deeper/one.md") == "untracked\n")
  }

  /// kb skips writing a tree when the index is as the last sync left it; a change staged with
  /// `git add` in between (work tree = index, so staging finds nothing) must still be committed.
  @Test func aChangeStagedWithGitAddIsStillCommitted() throws {
    let box = try Sandbox("stage-gitadd")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "printer", title: "Printer offline"), to: alice + "/answers/printer.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(try box.kb(["sync"], in: alice).ok)  // a sync with nothing to do: the skip applies
    try box.write(box.answer(id: "printer", title: "Printer offline again"), to: alice + "/answers/printer.md")
    try box.git(["add", "answers/printer.md"], in: alice)
    let r = try box.kb(["sync", "--json"], in: alice)
    #expect(r.ok, "\(r.stderr)")
    #expect(Sandbox.json(r)["outgoing"] as? [String] == ["answers/printer.md"])
    let remote = try box.git(["--git-dir", box.remote, "show", "main:answers/printer.md"], in: box.dir).stdout
    #expect(remote.contains("Printer offline again"))
  }
}

/// The objects kb packs for a local fetch or push are exactly enough: the receiver passes
/// `git fsck` after the transfer.
@Suite struct TransferTests {
  @Test func packedObjectsCompleteTheReceiver() throws {
    let box = try Sandbox("transfer")
    let path = box.dir + "/repo"
    try box.git(["init", "-q", "-b", "main", path], in: box.dir)
    try box.configure(path, name: "alice")
    for i in 0..<20 { try box.write("answer \(i)\n", to: path + "/answers/a\(i).md") }
    try box.write("case\n", to: path + "/cases/2024/10/c1.md")
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "first"], in: path)
    // The receiver has the first commit only.
    try box.git(["clone", "-q", "--bare", path, box.dir + "/receiver.git"], in: box.dir)

    // A side branch and main both change things, then merge: edits, a deletion, a new deep
    // folder, a moved folder, a file that becomes a folder, the same content at two paths.
    try box.git(["checkout", "-q", "-b", "side"], in: path)
    try box.write("side edit\n", to: path + "/answers/a1.md")
    try box.write("deep\n", to: path + "/answers/x/y/z.md")
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "side"], in: path)
    try box.git(["checkout", "-q", "main"], in: path)
    try FileManager.default.removeItem(atPath: path + "/answers/a2.md")
    try FileManager.default.moveItem(atPath: path + "/cases/2024", toPath: path + "/cases/2025")
    try FileManager.default.removeItem(atPath: path + "/answers/a3.md")
    try box.write("now a folder\n", to: path + "/answers/a3.md/inside.md")
    try box.write("answer 4\n", to: path + "/answers/copy-of-a4.md")
    try box.git(["add", "-A"], in: path)
    try box.git(["commit", "-qm", "main"], in: path)
    try box.git(["merge", "-q", "--no-edit", "side"], in: path)

    let repo = try GitRepository(openingExactly: path)
    let head = try #require(try repo.resolve("refs/heads/main"))
    let first = try #require(
      GitOID(hex: try box.git(["rev-parse", "HEAD~1~1"], in: path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    let objects = try repo.newObjects(tips: [head], hiding: [first])
    try repo.writePack(of: objects, into: box.dir + "/receiver.git/objects", durable: true)
    // kb writes the pack's index itself: git reads it and checks every object in it.
    let packs = try FileManager.default.contentsOfDirectory(atPath: box.dir + "/receiver.git/objects/pack")
    let index = try #require(packs.first { $0.hasSuffix(".idx") })
    let verify = try box.git(["verify-pack", "-v", box.dir + "/receiver.git/objects/pack/" + index], in: box.dir)
    #expect(verify.ok && verify.stdout.contains("non delta: \(objects.count) objects"), "\(verify.stdout)\(verify.stderr)")
    #expect(!packs.contains { $0.hasPrefix("tmp_") }, "\(packs)")
    try box.git(["--git-dir", box.dir + "/receiver.git", "update-ref", "refs/heads/main", head.description], in: box.dir)
    let fsck = try box.git(["--git-dir", box.dir + "/receiver.git", "fsck", "--full", "--strict"], in: box.dir)
    #expect(fsck.ok, "\(fsck.stdout)\(fsck.stderr)")
    #expect(fsck.stderr.isEmpty && fsck.stdout.isEmpty, "\(fsck.stdout)\(fsck.stderr)")
    // Not everything: the unchanged answers stay behind. (A moved folder or a copied file is sent
    // again although the receiver has the same content at its old path.)
    let have = try box.git(["--git-dir", box.dir + "/receiver.git", "rev-list", "--objects", first.description], in: box.dir)
      .stdout.split(separator: "\n").compactMap { GitOID(hex: String($0.prefix(40))) }
    let unchanged = try box.git(["rev-parse", "HEAD:answers/a10.md", "HEAD:answers/a11.md"], in: path).stdout
      .split(separator: "\n").compactMap { GitOID(hex: String($0)) }
    #expect(unchanged.count == 2 && Set(objects).isDisjoint(with: unchanged))
    #expect(objects.count < have.count + 8)
  }
}
