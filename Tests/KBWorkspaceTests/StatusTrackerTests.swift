import Foundation
import KBCore
import KBTestSupport
import KBWorkspace
import KBWorkspaceGit
import Testing

/// `kb serve`'s status (``StatusTracker``) says what a full `git status` says after every kind of
/// change, asking git about the changed files only when the watcher can name them.
@Suite struct StatusTrackerTests {
  @Test func trackedStatusIsGitStatusAfterEachChange() throws {
    let box = try Sandbox("status-tracker")
    try box.setGitIdentity(name: "Tina Ng", email: "tina@example.com")
    let root = box.dir + "/kb"
    try FileManager.default.copyItem(atPath: packageRoot + "/kb", toPath: root)
    try TempFolder.write(".kb/\n", to: root + "/.gitignore")
    for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "sample"]] {
      let r = try box.run("git", args, cwd: root)
      try #require(r.ok, "git \(args): \(r.stderr)")
    }
    let ws = try Workspace(root: root)
    try #require(ws.watchDirectly(), "this test needs inotify")
    _ = try ws.refresh()
    let tracker = StatusTracker()

    /// What `git status` says (without touching git's index), as (path, kind).
    func gitStatus() throws -> [String] {
      let r = try box.run("git", ["--no-optional-locks", "status", "--porcelain", "-uall"], cwd: root)
      return r.stdout.split(separator: "\n").map { line in
        let code = line.prefix(2), path = String(line.dropFirst(3))
        let kind = code == "??" || code.contains("A") ? "added" : code.contains("D") ? "deleted" : "modified"
        return path + " " + kind
      }.sorted()
    }
    func check(_ what: String, walks: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
      let before = tracker.walked
      let report = try ws.status(tracking: tracker)
      #expect(report.changes.map { $0.path + " " + $0.kind } == (try gitStatus()), "\(what)", sourceLocation: sourceLocation)
      #expect((tracker.walked != before) == walks, "\(what): walked \(tracker.walked != before)", sourceLocation: sourceLocation)
    }

    try check("first call", walks: true)
    try check("nothing changed", walks: false)
    let casePath = root + "/cases/2026/11/2026-11-22-bill-went-up.md"
    let text = try String(contentsOfFile: casePath, encoding: .utf8)
    try (text + "- 2026-12-04T10:00:00Z · Tina Ng · note · Edited elsewhere.\n").write(toFile: casePath, atomically: false, encoding: .utf8)
    try check("one case edited", walks: false)
    try TempFolder.write("---\nid: new-answer\ntype: answer\ntitle: New\n---\nBody\n", to: root + "/answers/new-answer.md")
    try check("an answer added", walks: false)
    try FileManager.default.removeItem(atPath: root + "/answers/iphone-sms-repeats.md")
    try check("an answer deleted", walks: false)
    try text.write(toFile: casePath, atomically: false, encoding: .utf8)
    try check("the case edited back", walks: false)
    try TempFolder.write("---\nid: 2027-01-02-x\ntype: case\nstatus: open\n---\n> x\n", to: root + "/cases/2027/01/2027-01-02-x.md")
    try check("a new folder", walks: true)
    let settings = try String(contentsOfFile: root + "/kb.yml", encoding: .utf8)
    try (settings + "\n# edited\n").write(toFile: root + "/kb.yml", atomically: false, encoding: .utf8)
    try check("kb.yml edited (no watcher follows it)", walks: true)
    for args in [["add", "-A"], ["commit", "-qm", "changes"]] { try box.run("git", args, cwd: root) }
    try check("committed with git", walks: true)
    #expect(try ws.status(tracking: tracker).changes.isEmpty)
  }
}
