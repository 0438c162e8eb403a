import Foundation
import KBCore
import KBTestSupport
import Testing

@testable import KBWorkspace

/// Issue 14, defect 12: a batch of mentions is opened with per-batch look-ups (ids, similar
/// cases, cases by author and time read once), and decides exactly as one mention at a time.
@Suite struct BatchIntakeTests {
  func workspace() throws -> (TempFolder, Workspace) {
    let folder = try TempFolder("batch")
    try Workspace.initialize(at: folder.path, team: "Test")
    return (folder, try Workspace(root: folder.path))
  }

  /// Mentions by author (in either case, with or without `@`), by time, by both and by
  /// neither: a second run of the same batch opens nothing, and every skip names the case the
  /// first run opened; the ids continue `-2`, `-3` across runs and inside a batch.
  @Test func aBatchRunTwiceOpensNothingNewAndFindsEveryEarlierCase() throws {
    let (_, ws) = try workspace()
    let time = Date(timeIntervalSince1970: 1_796_000_000)
    func mentions(_ round: Int) -> [Mention] {
      (0..<12).map { i in
        let author: String? = i % 4 == 3 ? nil : (i % 2 == 0 ? "@Ana\(i)" : "ana\(i)")
        let created: Date? = i % 3 == 0 ? time.addingTimeInterval(Double(i)) : nil
        return Mention(text: "my router keeps dropping the connection", author: author, url: "https://x.example/p/\(i)", createdAt: created)
      }
    }
    let first = try ws.openCases(from: mentions(1))
    #expect(first.opened.count == 12 && first.skipped.isEmpty)
    #expect(Set(first.opened.map(\.document.id)).count == 12)
    // Each is similar to the ones before it (five at most), latest first.
    #expect(first.opened[5].similar.map(\.id) == first.opened[0..<5].reversed().map(\.document.id))
    // The same authors written another way (the index compares without case, with or without @).
    var again = mentions(2)
    for i in again.indices where again[i].author != nil {
      again[i].author = again[i].author!.hasPrefix("@") ? String(again[i].author!.dropFirst()).lowercased() : "@" + again[i].author!.uppercased()
    }
    let second = try ws.openCases(from: again)
    #expect(second.opened.isEmpty, "\(second.opened.map(\.document.id))")
    #expect(second.skipped.map(\.id) == first.opened.map { $0.document.id })
    #expect(second.skipped.allSatisfy { $0.reason == "already-opened" })
    // One at a time (no batch look-ups) decides the same.
    for (i, mention) in again.enumerated() {
      #expect(try ws.skipReason(for: mention)?.id == first.opened[i].document.id)
    }
    // Every case was indexed, in one go at the end of the batch.
    #expect(try ws.cases(CaseListQuery()).count == 12)
    let third = try ws.openCases(from: [Mention(text: "my router keeps dropping the connection", author: "@new", url: "https://x.example/q")])
    // Its id continues after the batch's cases of the same day (base, -2, … -8 today).
    let id = try #require(third.opened.first?.document.id)
    let sameDay = first.opened.map(\.document.id).filter { $0.hasPrefix(String(id.prefix(10))) }
    #expect(sameDay.count == 8 && id.hasSuffix("-\(sameDay.count + 1)"), "\(id) after \(sameDay)")
    #expect(third.opened.first?.similar.count == 5)
  }
}
