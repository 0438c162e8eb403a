import Foundation
import KBTestSupport
import Testing

@testable import KBCore
@testable import KBStore
@testable import KBWorkspace

/// A knowledge base in its own temporary folder (Swift Testing runs tests in parallel).
struct CaseKB {
  let folder: TempFolder
  var root: String { folder.path }
  let workspace: Workspace

  init(answers: [String] = []) throws {
    folder = try TempFolder("cases")
    let root = folder.path
    try Workspace.initialize(at: root)
    for id in answers {
      try "---\nid: \(id)\ntype: answer\ntitle: Answer \(id)\n---\n## Fix\n1. Do it.\n"
        .write(toFile: root + "/answers/\(id).md", atomically: true, encoding: .utf8)
    }
    workspace = try Workspace(root: root)
    try workspace.refresh()
  }

  func text(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }

  func write(_ path: String, _ text: String) throws {
    let full = root + "/" + path
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: full, atomically: true, encoding: .utf8)
  }

  /// Every file under `cases/`, relative to the root.
  func caseFiles() -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: root + "/cases")
    var out: [String] = []
    while let next = enumerator?.nextObject() as? String {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: root + "/cases/" + next, isDirectory: &isDir), !isDir.boolValue {
        out.append("cases/" + next)
      }
    }
    return out.sorted()
  }

  func remove() { try? FileManager.default.removeItem(atPath: root) }
}

func fixture(_ name: String) throws -> Data {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/mentions/\(name)")
  return try Data(contentsOf: url)
}

func at(_ s: String) -> Date { Timestamp.parse(s)! }

@Suite struct CaseOpenTests {
  @Test func opensFromAnXTweetWithoutIncludes() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let mentions = try Mention.parse(input: String(decoding: try fixture("x-v2-single-tweet.json"), as: UTF8.self))
    #expect(mentions.count == 1)
    let opened = try kb.workspace.openCase(from: mentions[0])
    let d = opened.document
    #expect(d.path == "cases/2020/06/\(d.id).md")
    #expect(d.id.hasPrefix("2020-06-24-learn-how-to-create"))
    #expect(d.channel == "twitter")
    #expect(d.customer == "x:2244994945")
    #expect(d.source == "https://x.com/i/web/status/1275828087666679809")
    #expect(d.opened == at("2020-06-24T16:28:14Z"))
    #expect(d.status == .open)
    #expect(d.complaint?.hasPrefix("Learn how to create a sentiment score") == true)
    let reread = try kb.workspace.caseDocument(id: d.id)
    #expect(reread.text == d.text)
  }

  @Test func opensOneCasePerTweetInAnXArray() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let mentions = try Mention.parse(input: String(decoding: try fixture("x-v2-multiple-tweets.json"), as: UTF8.self))
    #expect(mentions.count == 3)
    for m in mentions { _ = try kb.workspace.openCase(from: m) }
    #expect(kb.caseFiles().count == 3)
    #expect(kb.caseFiles().contains { $0.hasPrefix("cases/2006/03/") })
    let first = try kb.workspace.store.cases(CaseListQuery()).first
    #expect(first?.opened == "2006-03-21T20:50:14Z")
    #expect(first?.channel == "twitter")
  }

  @Test func opensFromAMastodonStatus() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let mentions = try Mention.parse(input: String(decoding: try fixture("mastodon-status.json"), as: UTF8.self))
    let d = try kb.workspace.openCase(from: mentions[0]).document
    #expect(d.channel == "mastodon")
    #expect(d.customer == "@Gargron@mastodon.social")
    #expect(d.source == "https://mastodon.social/@Gargron/103270115826048975")
    #expect(d.complaint?.hasPrefix("\"I lost my inheritance with one wrong digit on my sort code\"") == true)
    #expect(!(d.complaint ?? "").contains("<"))
    #expect(!d.text.contains("&quot;"))
  }

  @Test func showsOpenCasesWithTheSameProblemAndLinksWithRelated() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let ws = kb.workspace
    let first = try ws.openCase(from: Mention(
      text: "Does anyone know how to stop a text message from repeating endlessly on the iPhone?",
      author: "@stevebuttry", createdAt: at("2009-10-20T16:05:00Z"), channel: "twitter")).document
    _ = try ws.openCase(from: Mention(
      text: "My wifi router drops the connection every evening", author: "@carol", createdAt: at("2009-10-20T17:00:00Z")))
    let second = try ws.openCase(from: Mention(
      text: "@ATT my iPhone keeps repeating the same text message, endlessly!! http://t.co/x",
      author: "@dana", createdAt: at("2009-10-20T18:00:00Z")))
    #expect(second.similar.map(\.id) == [first.id])
    #expect(second.similar[0].shared.contains("iphone"))
    // Resolved cases are not offered: only open problems can be the same problem.
    _ = try ws.resolve(caseID: first.id, author: "jason", at: at("2009-10-20T19:00:00Z"))
    let third = try ws.openCase(from: Mention(
      text: "text message repeating endlessly on my iPhone", author: "@erin", createdAt: at("2009-10-21T08:00:00Z")),
      related: [second.document.id])
    #expect(third.similar.isEmpty)
    #expect(third.document.related == [second.document.id])
    #expect(throws: WorkspaceError.self) {
      try ws.openCase(from: Mention(text: "same problem", author: "@f"), related: ["no-such-case"])
    }
  }

  @Test func openedCasesAreSearchableAsCases() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    _ = try kb.workspace.openCase(from: Mention(text: "My voicemail greeting vanished", author: "@g", createdAt: at("2024-01-02T10:00:00Z")))
    let result = try kb.workspace.search("type:case voicemail")
    #expect(result.hits.count == 1)
    #expect(result.hits[0].type == .case)
  }
}

@Suite struct CaseJournalTests {
  static let handEdited = """
    ---
    id: hand-edited
    type: case
    # a comment the editor left
    status: acknowledged
    customer: "@stevebuttry"
    opened: 2009-10-20T16:05:00Z
    custom_field: keep me
    ---
    > My phone keeps sending the same text.

    Some notes written by hand, *formatted*   with odd  spacing.

    ## Journal
    - 2009-10-20T16:09:00Z · jason · acknowledged · Saw your tweet, can I help?
    this line was typed by hand and is not an entry
    - 2009-10-20T16:20:00Z · jason · acted · Asked to power off.
      a continuation line

    ## Afterwards
    Trailing section.

    """

  @Test func appendKeepsEveryOtherByteOfAHandEditedCase() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    try kb.write("cases/2009/10/hand-edited.md", Self.handEdited)
    try kb.workspace.refresh()
    let before = try kb.workspace.caseDocument(id: "hand-edited")
    #expect(before.journal.malformed.map(\.text) == ["this line was typed by hand and is not an entry"])

    let change = try kb.workspace.log(
      caseID: "hand-edited", kind: .offline, text: "Moved to DM.", author: "Tina Ng", at: at("2009-10-20T16:30:00Z"))
    #expect(change.previousStatus == .acknowledged)
    #expect(change.status == .offline)
    let expected = Self.handEdited
      .replacingOccurrences(of: "status: acknowledged", with: "status: offline")
      .replacingOccurrences(
        of: "  a continuation line\n",
        with: "  a continuation line\n- 2009-10-20T16:30:00Z · Tina Ng · offline · Moved to DM.\n")
    #expect(try kb.text("cases/2009/10/hand-edited.md") == expected)

    // A second write keeps the malformed line too, and nothing is left behind.
    try kb.workspace.log(caseID: "hand-edited", kind: .note, text: "Waiting.", author: "Tina Ng", at: at("2009-10-20T17:00:00Z"))
    let after = try kb.text("cases/2009/10/hand-edited.md")
    #expect(after.contains("this line was typed by hand and is not an entry\n"))
    #expect(after.contains("# a comment the editor left\n"))
    #expect(kb.caseFiles() == ["cases/2009/10/hand-edited.md"])
    // kb check reports the malformed line with its file and line.
    let diagnostics = try kb.workspace.check()
    #expect(diagnostics.contains { $0.path == "cases/2009/10/hand-edited.md" && $0.line == 16 && $0.severity == .warning })
  }

  @Test func casesSavedWithCRLFKeepTheirLineEnds() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let original = "---\r\nid: crlf\r\ntype: case\r\nstatus: open\r\n---\r\n> Help\r\n\r\n## Journal\r\n- 2024-01-01T10:00:00Z · a · note · first\r\n"
    try kb.write("cases/2024/01/crlf.md", original)
    try kb.workspace.refresh()
    #expect(try kb.workspace.caseDocument(id: "crlf").journal.entries.map(\.entry.text) == ["first"])
    try kb.workspace.log(caseID: "crlf", kind: .acknowledged, text: "hi", author: "j", at: at("2024-01-02T00:00:00Z"))
    #expect(try kb.workspace.store.caseFacts().first?.entries.map(\.kind) == [.note, .acknowledged])
    #expect(try kb.text("cases/2024/01/crlf.md") == original
      .replacingOccurrences(of: "status: open", with: "status: acknowledged")
      + "- 2024-01-02T00:00:00Z · j · acknowledged · hi\r\n")
  }

  @Test func logSignsEntriesAndStatusFollows() throws {
    let kb = try CaseKB(answers: ["iphone-sms-repeats"])
    defer { kb.remove() }
    let ws = kb.workspace
    let id = try ws.openCase(from: Mention(text: "Texts repeat endlessly", author: "@s", createdAt: at("2009-10-20T16:05:00Z"))).document.id
    var change = try ws.log(caseID: id, kind: .listened, text: "Read the thread.", author: "jason", at: at("2009-10-20T16:06:00Z"))
    #expect(change.status == .open)
    change = try ws.log(caseID: id, kind: .escalated, text: "Asked tier 2.", author: "jason", at: at("2009-10-20T16:07:00Z"))
    #expect(change.status == .escalated)
    change = try ws.assign(caseID: id, to: "tina", note: "Jason has left for the day", author: "jason", at: at("2009-10-20T17:00:00Z"))
    #expect(change.entry.kind == .handoff)
    #expect(change.entry.text == "Assigned to tina: Jason has left for the day")
    #expect(change.document.assignee == "tina")
    change = try ws.assign(caseID: id, to: "omar", author: "tina", at: at("2009-10-20T17:05:00Z"))
    #expect(change.entry.text == "Handed from tina to omar")
    #expect(throws: WorkspaceError.self) { try ws.assign(caseID: id, to: "Omar", author: "tina") }

    change = try ws.resolve(
      caseID: id, answer: "iphone-sms-repeats", text: "Power cycle fixed it.", followUp: "1w", author: "omar",
      at: at("2009-10-30T23:30:00Z"), timeZone: try FollowUp.timeZone("Europe/Berlin"))
    #expect(change.status == .resolved)
    #expect(change.document.answer == "iphone-sms-repeats")
    // 23:30 UTC on Oct 30 is already Oct 31 in Berlin; a week later is Nov 7.
    #expect(change.document.followUp == "2009-11-07")
    #expect(change.entry.text == "Power cycle fixed it. Fix: [[iphone-sms-repeats]].")

    let journal = try ws.caseDocument(id: id).journal.sorted
    #expect(journal.map(\.kind) == [.listened, .escalated, .handoff, .handoff, .resolved])
    #expect(journal.map(\.author) == ["jason", "jason", "jason", "tina", "omar"])
    #expect(try ws.check().isEmpty)
  }

  @Test func illegalTransitionsAreRefusedAndWriteNothing() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let ws = kb.workspace
    let d = try ws.openCase(from: Mention(text: "Help", author: "@s", createdAt: at("2024-01-01T10:00:00Z"))).document
    let path = d.path
    let original = try kb.text(path)
    #expect(throws: CaseError.closeUnresolved(id: d.id, status: .open)) {
      try ws.log(caseID: d.id, kind: .closed, text: "Done", author: "a")
    }
    #expect(throws: CaseError.checkBackUnresolved(id: d.id, status: .open)) {
      try ws.log(caseID: d.id, kind: .checkedBack, text: "Held: yes", author: "a")
    }
    #expect(throws: CaseError.reopenOpen(id: d.id, status: .open)) {
      try ws.log(caseID: d.id, kind: .reopened, text: "Again", author: "a")
    }
    #expect(throws: CaseError.unknownKind("shrug")) { try ws.log(caseID: d.id, kind: "shrug", text: "x", author: "a") }
    #expect(throws: WorkspaceError.self) { try ws.log(caseID: d.id, kind: .note, text: "  ", author: "a") }
    #expect(try kb.text(path) == original)

    try ws.resolve(caseID: d.id, author: "a", at: at("2024-01-01T11:00:00Z"))
    #expect(throws: CaseError.alreadyResolved(id: d.id)) { try ws.resolve(caseID: d.id, author: "a") }
    #expect(throws: CaseError.heldUnknown) {
      try ws.log(caseID: d.id, kind: .checkedBack, text: "Talked to them", author: "a")
    }
    try ws.log(caseID: d.id, kind: .closed, text: "Customer went quiet.", author: "a", at: at("2024-01-05T11:00:00Z"))
    let closed = try kb.text(path)
    #expect(throws: CaseError.closed(id: d.id, kind: "note")) {
      try ws.log(caseID: d.id, kind: .note, text: "One more thing", author: "a")
    }
    #expect(try kb.text(path) == closed)
    let reopened = try ws.log(caseID: d.id, kind: .reopened, text: "It came back.", author: "a", at: at("2024-01-06T09:00:00Z"))
    #expect(reopened.status == .open)
    #expect(reopened.document.followUp == nil)
    #expect(try ws.log(caseID: d.id, kind: .note, text: "Looking again.", author: "a").status == .open)
  }

  @Test func resolveNeedsAnExistingAnswer() throws {
    let kb = try CaseKB(answers: ["a1"])
    defer { kb.remove() }
    let ws = kb.workspace
    let d = try ws.openCase(from: Mention(text: "Help", author: "@s", createdAt: at("2024-01-01T10:00:00Z"))).document
    let other = try ws.openCase(from: Mention(text: "Other", author: "@t", createdAt: at("2024-01-01T10:00:00Z"))).document
    let original = try kb.text(d.path)
    #expect(throws: WorkspaceError.self) { try ws.resolve(caseID: d.id, answer: "missing", author: "a") }
    #expect(throws: WorkspaceError.self) { try ws.resolve(caseID: d.id, answer: other.id, author: "a") }
    #expect(throws: CaseError.invalidDelay("soon")) { try ws.resolve(caseID: d.id, answer: "a1", followUp: "soon", author: "a") }
    #expect(try kb.text(d.path) == original)
    // The default delay comes from kb.yml (3d).
    let change = try ws.resolve(caseID: d.id, answer: "a1", author: "a", at: at("2024-02-27T10:00:00Z"))
    #expect(change.document.followUp == "2024-03-01")
  }

  @Test func checkBackRecordsWhetherTheFixHeld() throws {
    let kb = try CaseKB(answers: ["a1"])
    defer { kb.remove() }
    let ws = kb.workspace
    let d = try ws.openCase(from: Mention(text: "Help", author: "@s", createdAt: at("2024-01-01T10:00:00Z"))).document
    try ws.resolve(caseID: d.id, answer: "a1", author: "a", at: at("2024-01-01T11:00:00Z"))
    var change = try ws.log(caseID: d.id, kind: .checkedBack, text: "Loop is back", author: "a", at: at("2024-01-04T09:00:00Z"), held: false)
    #expect(change.held == false)
    #expect(change.status == .acknowledged)
    #expect(change.entry.text == "Did not hold: Loop is back")
    try ws.resolve(caseID: d.id, answer: "a1", author: "a", at: at("2024-01-05T11:00:00Z"))
    change = try ws.log(caseID: d.id, kind: .checkedBack, text: "Held: all quiet", author: "a", at: at("2024-01-08T09:00:00Z"))
    #expect(change.held == true)
    #expect(change.status == .closed)
  }
}

@Suite struct CaseFollowUpAndPromoteTests {
  @Test func dueListsTodayAndOverdueOldestFirst() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let ws = kb.workspace
    func resolvedCase(_ name: String, resolved: String, delay: String) throws -> String {
      let id = try ws.openCase(from: Mention(text: "Problem \(name)", author: "@\(name)", createdAt: at("2024-01-01T08:00:00Z")), id: name).document.id
      try ws.resolve(caseID: id, followUp: delay, author: "a", at: at(resolved))
      return id
    }
    _ = try resolvedCase("late", resolved: "2024-01-25T10:00:00Z", delay: "3d")  // Jan 28
    _ = try resolvedCase("today", resolved: "2024-01-29T10:00:00Z", delay: "2d")  // Jan 31
    _ = try resolvedCase("later", resolved: "2024-01-30T10:00:00Z", delay: "3d")  // Feb 2
    _ = try resolvedCase("oldest", resolved: "2024-01-02T10:00:00Z", delay: "1w")  // Jan 9
    let done = try resolvedCase("done", resolved: "2024-01-02T10:00:00Z", delay: "1d")
    try ws.log(caseID: done, kind: .checkedBack, text: "Held: fine", author: "a", at: at("2024-01-03T10:00:00Z"))
    _ = try ws.openCase(from: Mention(text: "Still open", author: "@o", createdAt: at("2024-01-01T08:00:00Z")))

    let due = try ws.dueFollowUps(today: "2024-01-31")
    #expect(due.map(\.id) == ["oldest", "late", "today"])
    #expect(due.map(\.daysOverdue) == [22, 3, 0])
    #expect(try ws.dueFollowUps(today: "2024-02-02").map(\.id) == ["oldest", "late", "today", "later"])
    #expect(try ws.dueFollowUps(today: "2024-01-08").isEmpty)
  }

  @Test func promoteTurnsAResolvedCaseIntoAnAnswerDraft() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let ws = kb.workspace
    let id = try ws.openCase(from: Mention(
      text: "@ATT how do I stop a text message from repeating endlessly on the iPhone? http://t.co/abc",
      author: "@stevebuttry", createdAt: at("2009-10-20T16:05:00Z")), tags: ["iphone", "sms"]).document.id
    #expect(throws: CaseError.promoteUnresolved(id: id, status: .open)) { try ws.promote(caseID: id, author: "a") }
    try ws.log(caseID: id, kind: .acknowledged, text: "Can I help?", author: "jason", at: at("2009-10-20T16:09:00Z"))
    try ws.log(caseID: id, kind: .acted, text: "Power the phone off completely for a few minutes.", author: "jason", at: at("2009-10-20T16:20:00Z"))
    try ws.log(caseID: id, kind: .acted, text: "Power it on; the loop stops.", author: "jason", at: at("2009-10-20T16:40:00Z"))
    try ws.resolve(caseID: id, text: "Loop stopped.", author: "tina", at: at("2009-10-20T17:02:00Z"))

    let (answer, updated) = try ws.promote(caseID: id, title: "Text message repeats endlessly on iPhone", author: "Tina")
    #expect(answer.id == "text-message-repeats-endlessly-on-iphone")
    #expect(answer.path == "answers/text-message-repeats-endlessly-on-iphone.md")
    #expect(answer.symptoms == ["how do I stop a text message from repeating endlessly on the iPhone?"])
    #expect(answer.tags == ["iphone", "sms"])
    #expect(answer.markdown.body.contains(
      "## Fix\n1. Power the phone off completely for a few minutes.\n2. Power it on; the loop stops.\n"))
    #expect(answer.markdown.body.contains("- Case [[\(id)]], @stevebuttry, 2009-10-20"))
    #expect(answer.frontMatter.string("draft") == "true")
    #expect(updated.answer == answer.id)
    #expect(try ws.caseDocument(id: id).answer == answer.id)
    #expect(try ws.document(id: answer.id).type == .answer)
    #expect(throws: CaseError.alreadyAnswered(id: id, answer: answer.id)) { try ws.promote(caseID: id, author: "a") }
    #expect(try ws.check().isEmpty)
  }

  @Test func promoteNeedsSomethingDone() throws {
    let kb = try CaseKB()
    defer { kb.remove() }
    let ws = kb.workspace
    try kb.write("cases/2024/01/bare.md", "---\nid: bare\ntype: case\nstatus: resolved\n---\n> Help\n\n## Journal\n")
    try ws.refresh()
    #expect(throws: CaseError.nothingToPromote(id: "bare")) { try ws.promote(caseID: "bare", author: nil) }
  }
}

@Suite struct CaseListAndStatsTests {
  /// A hand-built set of cases whose figures are known exactly (see docs/CASES.md, "Figures").
  static func handBuilt() throws -> CaseKB {
    let kb = try CaseKB(answers: ["ans-1", "ans-2"])
    func write(_ id: String, _ front: String, _ journal: [String]) throws {
      let month = id.hasPrefix("e") ? "09" : "10"
      try kb.write(
        "cases/2024/\(month)/\(id).md",
        "---\nid: \(id)\ntype: case\n\(front)\n---\n> The customer's words for \(id).\n\n## Journal\n"
          + journal.map { "- " + $0 + "\n" }.joined())
    }
    try write("a", "status: closed\nassignee: jason\nchannel: twitter\ncustomer: '@amy'\ntags: [iphone]\nopened: 2024-10-01T10:00:00Z\nanswer: ans-1\nfollow_up: 2024-10-04", [
      "2024-10-01T10:10:00Z · jason · acknowledged · Hi",
      "2024-10-01T10:30:00Z · jason · acted · Power off",
      "2024-10-01T12:00:00Z · jason · resolved · Works. Fix: [[ans-1]].",
      "2024-10-04T09:00:00Z · jason · checked-back · Held: ok",
    ])
    try write("b", "status: acknowledged\nassignee: jason\nchannel: mastodon\ncustomer: '@bob'\nopened: 2024-10-02T08:00:00Z\nanswer: ans-1\nfollow_up: 2024-10-06", [
      "2024-10-02T08:30:00Z · jason · offline · DM",
      "2024-10-03T08:00:00Z · jason · resolved · Fix: [[ans-1]].",
      "2024-10-08T10:00:00Z · jason · checked-back · Did not hold: loop is back",
    ])
    try write("c", "status: resolved\nassignee: tina\nchannel: twitter\ncustomer: '@cy'\ntags: [iphone, billing]\nopened: 2024-10-03T09:00:00Z\nanswer: ans-2\nfollow_up: 2024-10-06", [
      "2024-10-03T09:20:00Z · tina · acknowledged · Looking",
      "2024-10-03T10:00:00Z · tina · resolved · Refunded. Fix: [[ans-2]].",
    ])
    try write("d", "status: open\nassignee: tina\nchannel: twitter\ncustomer: '@dee'\nopened: 2024-10-05T09:00:00Z", [])
    try write("e", "status: closed\nassignee: jason\nchannel: twitter\ncustomer: '@amy'\nopened: 2024-09-20T10:00:00Z\nanswer: ans-2\nfollow_up: 2024-09-23", [
      "2024-09-20T10:05:00Z · jason · acknowledged · Hi",
      "2024-09-20T11:00:00Z · jason · resolved · Fix: [[ans-2]].",
      "2024-09-23T08:00:00Z · jason · checked-back · Held: fine",
    ])
    try kb.workspace.refresh()
    return kb
  }

  @Test func figuresSinceADay() throws {
    let kb = try Self.handBuilt()
    defer { kb.remove() }
    let stats = try kb.workspace.caseStats(since: "2024-10-01", today: "2024-10-10", timeZone: .gmt)
    let f = stats.figures
    #expect(f.opened == 4)
    #expect(f.resolved == 3)
    #expect(f.responded == 3)
    #expect(f.medianFirstResponse == 1200)  // 600, 1200, 1800
    #expect(f.medianResolution == 7200)  // 3600, 7200, 86400
    #expect(f.followUps == { var u = CaseFigures.FollowUps(); u.onTime = 1; u.late = 1; u.pending = 1; u.overdue = 1; return u }())
    #expect(f.answers.map(\.answer) == ["ans-1", "ans-2"])
    #expect(f.answers[0].used == 2)
    #expect(f.answers[0].held == 1)
    #expect(f.answers[0].notHeld == 1)
    #expect(f.answers[0].heldRate == 0.5)
    #expect(f.answers[1].used == 1)
    #expect(f.answers[1].heldRate == nil)
  }

  @Test func figuresOverEverythingAndByAgent() throws {
    let kb = try Self.handBuilt()
    defer { kb.remove() }
    let stats = try kb.workspace.caseStats(byAgent: true, today: "2024-10-10", timeZone: .gmt)
    let f = stats.figures
    #expect(f.opened == 5)
    #expect(f.resolved == 4)
    #expect(f.medianFirstResponse == 900)  // 300, 600, 1200, 1800
    #expect(f.medianResolution == 5400)  // 3600, 3600, 7200, 86400
    #expect(f.followUps.onTime == 2)
    #expect(f.answers.map { "\($0.answer):\($0.used):\($0.held):\($0.notHeld)" } == ["ans-1:2:1:1", "ans-2:2:1:0"])
    let agents = try #require(stats.byAgent)
    #expect(agents.map(\.agent) == ["jason", "tina"])
    #expect(agents[0].figures.opened == 3)
    #expect(agents[0].figures.medianFirstResponse == 600)  // 300, 600, 1800
    #expect(agents[1].figures.opened == 2)
    #expect(agents[1].figures.resolved == 1)
  }

  @Test func sinceCountsDaysInTheTimeZone() throws {
    let kb = try Self.handBuilt()
    defer { kb.remove() }
    // Case a opened 2024-10-01T10:00Z, which is 22:00 on Sep 30 at UTC-12.
    let zone = try FollowUp.timeZone("-12:00")
    #expect(try kb.workspace.caseStats(since: "2024-10-01", today: "2024-10-10", timeZone: zone).figures.opened == 3)
  }

  @Test func listFiltersAndSorts() throws {
    let kb = try Self.handBuilt()
    defer { kb.remove() }
    let store = kb.workspace.store
    func ids(_ change: (inout CaseListQuery) -> Void) throws -> [String] {
      var q = CaseListQuery()
      change(&q)
      return try store.cases(q).map(\.id)
    }
    #expect(try ids { _ in } == ["e", "a", "b", "c", "d"])
    #expect(try ids { $0.descending = true } == ["d", "c", "b", "a", "e"])
    #expect(try ids { $0.statuses = [.open, .acknowledged] } == ["b", "d"])
    #expect(try ids { $0.assignee = "Tina" } == ["c", "d"])
    #expect(try ids { $0.channel = "mastodon" } == ["b"])
    #expect(try ids { $0.customer = "amy" } == ["e", "a"])
    #expect(try ids { $0.tag = "iphone" } == ["a", "c"])
    #expect(try ids { $0.since = "2024-10-02"; $0.before = "2024-10-04" } == ["b", "c"])
    #expect(try ids { $0.sort = .status } == ["d", "b", "c", "e", "a"])
    #expect(try ids { $0.sort = .followUp } == ["e", "a", "b", "c", "d"])
    #expect(try ids { $0.sort = .updated } == ["e", "c", "a", "d", "b"])
    #expect(try store.cases(CaseListQuery()).first { $0.id == "b" }?.updated == "2024-10-08T10:00:00Z")
  }

  @Test func statsStayFastOnThousandsOfCases() throws {
    let kb = try CaseKB(answers: ["ans-1"])
    defer { kb.remove() }
    let count = Int(ProcessInfo.processInfo.environment["KB_CASES_STATS_N"] ?? "") ?? 2000
    for i in 0..<count {
      let day = String(format: "%02d", i % 28 + 1)
      try kb.write(
        "cases/2024/02/case-\(i).md",
        """
        ---
        id: case-\(i)
        type: case
        status: closed
        assignee: agent\(i % 7)
        opened: 2024-02-\(day)T08:00:00Z
        answer: ans-1
        follow_up: 2024-03-01
        ---
        > Problem \(i)

        ## Journal
        - 2024-02-\(day)T08:\(String(format: "%02d", i % 60)):00Z · agent · acknowledged · Hi
        - 2024-02-\(day)T10:00:00Z · agent · resolved · Fix: [[ans-1]].
        - 2024-02-28T09:00:00Z · agent · checked-back · \(i % 4 == 0 ? "Did not hold: again" : "Held: ok")

        """)
    }
    try kb.workspace.refresh()
    let started = Date()
    let stats = try kb.workspace.caseStats(byAgent: true, today: "2024-03-10", timeZone: .gmt)
    let seconds = Date().timeIntervalSince(started)
    #expect(stats.figures.opened == count)
    #expect(stats.figures.answers[0].notHeld == (count + 3) / 4)
    #expect(seconds < 2, "kb stats took \(seconds) s on \(count) cases")
  }
}
