import Foundation
import KBTestSupport
import Testing

/// A teammate who uses the git command line with the merge driver configured (`git pull` runs
/// `kb merge-driver`), against a `git://` remote served by `git daemon` on loopback.
@Suite struct InteropTests {
  @Test func gitPullUsesTheMergeDriverAndKbSyncReadsTheResult() throws {
    let box = try Sandbox("interop")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "sms", title: "SMS repeats", body: "## Fix\n1. Power off.\n\n## Notes\nnone\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    let daemon = try GitDaemon(sandbox: box, base: box.dir)
    defer { daemon.stop() }
    let url = "git://127.0.0.1:\(daemon.port)/remote.git"
    try box.git(["remote", "set-url", "origin", url], in: alice)

    // Carol clones with plain git and configures the driver as docs/SYNC.md says.
    let carol = box.dir + "/carol"
    #expect(try box.git(["clone", "-q", url, carol], in: box.dir).ok)
    try box.configure(carol, name: "carol")
    try box.git(["config", "merge.kb.driver", "kb merge-driver %O %A %B %P"], in: carol)

    // Both change the title (a front-matter conflict) and different parts of the body.
    try box.write(box.answer(id: "sms", title: "SMS repeats endlessly", body: "## Fix\n1. Power off for five minutes.\n\n## Notes\nnone\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(box.answer(id: "sms", title: "SMS keeps repeating", body: "## Fix\n1. Power off.\n\n## Notes\nSeen on iOS 17.\n"), to: carol + "/answers/sms.md")
    try box.git(["commit", "-qam", "carol: notes"], in: carol)
    let pull = try box.git(["pull", "--no-rebase", "-q", "origin", "main"], in: carol)
    // The driver ran the domain merge: the title conflict is recorded field by field in a
    // `conflicts:` list (git's own text merge would have put markers inside the YAML), and the
    // two body edits merged.
    let text = box.read(carol + "/answers/sms.md") ?? ""
    #expect(pull.status != 0)  // a conflict is reported to git
    #expect(text.hasPrefix("---\nid: sms\ntype: answer\ntitle: SMS keeps repeating\n"), "\(text)")
    #expect(text.contains("conflicts:") && text.contains("SMS repeats endlessly"))
    #expect(!text.contains("<<<<<<<"))
    #expect(text.contains("five minutes") && text.contains("Seen on iOS 17."))
    // Carol settles it and pushes with git; Alice's kb sync brings it in and re-indexes it.
    try box.write(box.answer(id: "sms", title: "SMS repeats endlessly", body: "## Fix\n1. Power off for five minutes.\n\n## Notes\nSeen on iOS 17.\n"), to: carol + "/answers/sms.md")
    try box.git(["commit", "-qam", "carol: settle"], in: carol)
    #expect(try box.git(["push", "-q", "origin", "main"], in: carol).ok)
    let r = try box.kb(["sync", "--json"], in: alice)
    #expect(r.ok && Sandbox.json(r)["incoming"] as? [String] == ["answers/sms.md"], "\(r.stdout)\(r.stderr)")
    #expect(box.read(alice + "/answers/sms.md")?.contains("Seen on iOS 17.") == true)
    #expect(try box.kb(["conflicts"], in: alice).ok)
    let search = try box.kb(["search", "iOS", "--json"], in: alice)
    #expect(search.ok && search.stdout.contains("\"id\" : \"sms\""))

    // A clean merge through the driver: git pull succeeds.
    try box.write(box.answer(id: "sms", title: "SMS repeats endlessly", body: "## Fix\n1. Power off for five minutes.\n\n## Notes\nSeen on iOS 17 and 18.\n"), to: alice + "/answers/sms.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write(box.answer(id: "sms", title: "SMS repeats endlessly", body: "## Fix\n1. Power off for five minutes.\n2. Reset network settings.\n\n## Notes\nSeen on iOS 17.\n"), to: carol + "/answers/sms.md")
    try box.git(["commit", "-qam", "carol: step 2"], in: carol)
    let clean = try box.git(["pull", "--no-rebase", "-q", "origin", "main"], in: carol)
    #expect(clean.ok, "\(clean.stderr)")
    let merged = box.read(carol + "/answers/sms.md") ?? ""
    #expect(merged.contains("2. Reset network settings.") && merged.contains("iOS 17 and 18"))
  }

  @Test func mergeDriverCommandFollowsGitsProtocol() throws {
    let box = try Sandbox("driver")
    let base = box.dir + "/base", ours = box.dir + "/ours", theirs = box.dir + "/theirs"
    try box.write("a\nb\nc\n", to: base)
    try box.write("A\nb\nc\n", to: ours)
    try box.write("a\nb\nC\n", to: theirs)
    #expect(try box.kb(["merge-driver", base, ours, theirs, "x.md"], in: box.dir).ok)
    #expect(box.read(ours) == "A\nb\nC\n")
    try box.write("a\nB1\nc\n", to: ours)
    try box.write("a\nB2\nc\n", to: theirs)
    let r = try box.kb(["merge-driver", base, ours, theirs, "x.md"], in: box.dir)
    #expect(r.status == 1)
    #expect(box.read(ours)?.contains("B1") == true && box.read(ours)?.contains("B2") == true)
  }
}
