import Foundation
import KBCore
import KBTestSupport
import KBWorkspace
import Testing

/// The figures a long-lived process recomputes after a change (case facts re-read only for the
/// rows that changed) are the figures a fresh process computes.
@Suite struct IncrementalFiguresTests {
  @Test func figuresAfterChangesEqualAFreshComputation() throws {
    let folder = try TempFolder("incremental-figures")
    let root = folder.path + "/kb"
    try FileManager.default.copyItem(atPath: packageRoot + "/kb", toPath: root)
    let zone = TimeZone(secondsFromGMT: 0)!
    let now = Timestamp.parse("2026-12-04T12:00:00Z")!
    let ws = try Workspace(root: root)
    _ = try ws.refresh()
    func figures(_ w: Workspace) throws -> String {
      let stats = try w.caseStats(byAgent: true, today: "2026-12-04", timeZone: zone, now: now)
      let series = try w.caseSeries(days: 30, today: "2026-12-04", timeZone: zone)
      let encoder = JSONEncoder()
      encoder.outputFormatting = .sortedKeys
      return String(decoding: try encoder.encode(stats), as: UTF8.self) + String(decoding: try encoder.encode(series), as: UTF8.self)
    }
    let before = try figures(ws)
    func check(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
      _ = try ws.refresh()
      #expect(try figures(ws) == (try figures(try Workspace(root: root))), "\(what)", sourceLocation: sourceLocation)
    }
    let bill = root + "/cases/2026/11/2026-11-22-bill-went-up.md"
    let text = try String(contentsOfFile: bill, encoding: .utf8)
    try (text + "- 2026-11-23T09:00:00Z · Tina Ng · acknowledged · Looking into it.\n").write(toFile: bill, atomically: true, encoding: .utf8)
    try check("a journal entry added")
    #expect(try figures(ws) != before, "the entry is a first response: the figures moved")
    try text.replacingOccurrences(of: "opened: 2026-11-22T23:55:00Z", with: "opened: 2026-10-01T08:00:00Z")
      .write(toFile: bill, atomically: true, encoding: .utf8)
    try check("a case's opening moved (its place in the order)")
    try TempFolder.write(
      "---\nid: 2026-12-02-new\ntype: case\nstatus: resolved\nassignee: tina\nopened: 2026-12-02T10:00:00Z\n---\n> new\n\n## Journal\n- 2026-12-02T10:30:00Z · Tina Ng · resolved · Done.\n",
      to: root + "/cases/2026/12/2026-12-02-new.md")
    try check("a case added")
    try FileManager.default.removeItem(atPath: root + "/cases/2026/11/2026-11-21-locked-out-app.md")
    try check("a case removed")
  }
}
