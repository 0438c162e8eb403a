import Foundation
import Testing

@testable import KBCore
@testable import KBStore
@testable import KBWorkspace

/// An agent's day (issue 16): the queue, views, response-time targets, short ids, readable ids,
/// and the rough edges found on the way.
@Suite struct AgentDayTests {
  static let t0 = Timestamp.parse("2024-10-21T09:00:00Z")!

  /// Three cases: one waiting on us for 3h (tina), one answered (jason), one unassigned new one.
  func queueKB(settings: String = "") throws -> DayKB {
    let kb = try DayKB(answers: ["router-reset"])
    try kb.write("kb.yml", "team: Northwind Support\nhandles: ['@NorthwindHelp']\nproducts: [Northwind TV, Northwind Hub router]\n"
      + "agents:\n  tina: Tina Ng\n  jason: Jason Reyes\n" + settings)
    try kb.write("cases/2024/10/wait-long.md", """
      ---
      id: 2024-10-21-wait-long
      type: case
      status: acknowledged
      channel: twitter
      customer: '@amy'
      opened: 2024-10-21T06:00:00Z
      assignee: tina
      tags: [vip]
      ---
      > My router is dead
      Second line of a title?

      ## Journal
      - 2024-10-21T06:10:00Z · Tina Ng · acknowledged · Looking into it
      - 2024-10-21T06:30:00Z · Tina Ng · customer · Still dead, any news?

      """)
    try kb.write("cases/2024/10/answered.md", """
      ---
      id: 2024-10-21-answered
      type: case
      status: acknowledged
      channel: email
      customer: '@bob'
      opened: 2024-10-21T08:00:00Z
      assignee: Jason Reyes
      ---
      > TV has no sound

      ## Journal
      - 2024-10-21T08:20:00Z · Jason Reyes · acted · Asked to re-plug HDMI

      """)
    try kb.write("cases/2024/10/fresh.md", """
      ---
      id: 2024-10-21-fresh
      type: case
      status: open
      channel: twitter
      customer: '@cy'
      opened: 2024-10-21T08:45:00Z
      ---
      > Broadband slow tonight

      """)
    let ws = try Workspace(root: kb.root)
    try ws.refresh()
    return try DayKB(reopening: kb.root)
  }

  @Test func myQueueByHandleOrNameAndUnassigned() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    var view = CaseView()
    view.assignee = "TINA NG"
    #expect(try ws.caseQueue(view, now: Self.t0).map(\.id) == ["2024-10-21-wait-long"])
    view.assignee = "jason"  // the file says "Jason Reyes": the handle matches the name
    let jason = try ws.caseQueue(view, now: Self.t0)
    #expect(jason.map(\.id) == ["2024-10-21-answered"])
    #expect(jason.first?.assigneeName == "Jason Reyes")
    view = CaseView()
    view.unassigned = true
    #expect(try ws.caseQueue(view, now: Self.t0).map(\.id) == ["2024-10-21-fresh"])
    // @me is the agent's identity.
    try kb.write(".kb/identity", "name = Tina Ng\n")
    view = try CaseView(parsing: "assignee:@me")
    #expect(try ws.caseQueue(view, now: Self.t0).map(\.id) == ["2024-10-21-wait-long"])
    // Titles are one line.
    #expect(try ws.caseQueue(CaseView(), now: Self.t0).allSatisfy { !$0.title.contains("\n") })
  }

  @Test func waitingIsSinceTheCustomersLastUnansweredMessage() throws {
    let kb = try queueKB()
    var view = CaseView()
    view.waiting = true
    view.sort = .waiting
    let rows = try kb.workspace.caseQueue(view, now: Self.t0)
    // wait-long: customer wrote again at 06:30 (2h30m); fresh: opened 08:45 (15m); answered: replied.
    #expect(rows.map(\.id) == ["2024-10-21-wait-long", "2024-10-21-fresh"])
    #expect(rows.map(\.waitingSeconds) == [9000, 900])
    #expect(rows[0].waitingSince == "2024-10-21T06:30:00Z")
  }

  @Test func savedViewsRunFromKbYml() throws {
    let kb = try queueKB(settings: "views:\n  mine-urgent: \"status:active assignee:@me sort:waiting\"\n  nobody: unassigned\n")
    try kb.write(".kb/identity", "name = Tina Ng\n")
    let ws = try Workspace(root: kb.root)
    #expect(ws.viewNames == ["mine-urgent", "nobody"])
    #expect(try ws.caseQueue(ws.view(named: "mine-urgent"), now: Self.t0).map(\.id) == ["2024-10-21-wait-long"])
    #expect(try ws.caseQueue(ws.view(named: "nobody"), now: Self.t0).map(\.id) == ["2024-10-21-fresh"])
    #expect(throws: WorkspaceError.self) { try ws.view(named: "missing") }
    #expect(throws: SettingsProblem.self) { try CaseView(parsing: "sort:color") }
  }

  @Test func serviceTargetsBreachedAtRiskAndTimeLeft() throws {
    // First response within 1h (30m on twitter, 15m for vip), resolution within 1d, at risk in the last 50%.
    let kb = try queueKB(settings: """
      sla:
        first_response: 1h
        resolution: 1d
        at_risk: 50%
        channels:
          twitter: {first_response: 30m}
        tags:
          vip: {first_response: 15m}

      """)
    let ws = kb.workspace
    let rows = Dictionary(uniqueKeysWithValues: try ws.caseQueue(CaseView(), now: Self.t0).map { ($0.id, $0) })
    // wait-long: replied after 10m against 15m (met); resolution due 06:00 + 1d: 21h left, ok.
    #expect(rows["2024-10-21-wait-long"]?.sla?.firstResponse?.state == .met)
    #expect(rows["2024-10-21-wait-long"]?.slaState == "ok")
    #expect(rows["2024-10-21-wait-long"]?.secondsLeft == 75600.0)
    // answered (email, 1h): replied after 20m: met.
    #expect(rows["2024-10-21-answered"]?.sla?.firstResponse?.state == .met)
    // fresh (twitter, 30m): opened 08:45, no reply at 09:00: 15m left of 30m, within the 50% margin.
    #expect(rows["2024-10-21-fresh"]?.sla?.firstResponse?.state == .atRisk)
    #expect(rows["2024-10-21-fresh"]?.secondsLeft == 900)
    var view = CaseView()
    view.atRisk = true
    #expect(try ws.caseQueue(view, now: Self.t0).map(\.id) == ["2024-10-21-fresh"])
    view = CaseView()
    view.breached = true
    #expect(try ws.caseQueue(view, now: Self.t0).isEmpty)
    #expect(try ws.caseQueue(view, now: Self.t0.addingTimeInterval(3600)).map(\.id) == ["2024-10-21-fresh"])
  }

  @Test func statsShareMeetingTargetsByAgentAndWeekAndCustomersHelped() throws {
    let kb = try queueKB(settings: "sla:\n  first_response: 15m\n")
    let ws = kb.workspace
    try ws.resolve(caseID: "2024-10-21-answered", author: "Jason Reyes", at: Self.t0)
    let stats = try ws.caseStats(today: "2024-10-21", timeZone: .gmt, now: Self.t0)
    let sla = try #require(stats.serviceLevels)
    // wait-long met (10m), answered breached (20m), fresh pending (due right at 09:00).
    #expect(sla.firstResponse.met == 1)
    #expect(sla.firstResponse.breached == 1)
    #expect(sla.firstResponse.pending == 1)
    #expect(sla.byAgent.map(\.key) == ["(unassigned)", "Jason Reyes", "Tina Ng"])
    #expect(sla.byAgent.first { $0.key == "Tina Ng" }?.firstResponse.share == 1)
    #expect(sla.byWeek.map(\.key) == ["2024-W43"])
    #expect(stats.customersHelped == 1)
    #expect(try ws.caseStats(since: "2024-10-22", today: "2024-10-22", timeZone: .gmt).customersHelped == 0)
    let json = String(decoding: try JSONEncoder().encode(stats), as: UTF8.self)
    #expect(json.contains("\"customers_helped\":1") && json.contains("\"service_levels\""))
  }

  @Test func followUpsDueForOneAgent() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    try ws.resolve(caseID: "2024-10-21-wait-long", author: "Tina Ng", at: Self.t0)
    try ws.resolve(caseID: "2024-10-21-answered", author: "Jason Reyes", at: Self.t0)
    #expect(try ws.dueFollowUps(today: "2024-10-30").count == 2)
    #expect(try ws.dueFollowUps(today: "2024-10-30", assignee: "tina").map(\.id) == ["2024-10-21-wait-long"])
  }

  @Test func shortIdsPrefixesAndDidYouMean() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    #expect(try ws.document(id: "router").id == "router-reset")
    #expect(try ws.document(id: "2024-10-21-wa").id == "2024-10-21-wait-long")
    #expect(try ws.document(id: "answ").id == "2024-10-21-answered")  // the words after the date
    #expect(throws: WorkspaceError.ambiguousPrefix("2024-10-21", ids: ["2024-10-21-answered", "2024-10-21-fresh", "2024-10-21-wait-long"])) {
      try ws.document(id: "2024-10-21")
    }
    #expect(throws: WorkspaceError.unknownID("ruoter-reset", didYouMean: ["router-reset"])) { try ws.document(id: "ruoter-reset") }
    #expect(throws: WorkspaceError.documentNotFound("zzzzzz")) { try ws.document(id: "zzzzzz") }
    let change = try ws.log(caseID: "fresh", kind: .acknowledged, text: "On it", author: "Tina Ng", at: Self.t0)
    #expect(change.document.id == "2024-10-21-fresh")
    #expect(try ws.completions(forID: "2024-10-21-") .count == 3)
    #expect(try ws.completions(forID: "r", type: .answer) == ["router-reset"])
  }

  @Test func newCaseIdsAreShortAndCutAtWords() throws {
    let kb = try DayKB()
    let opened = try kb.workspace.openCase(
      from: Mention(text: "@ATT my iPhone keeps repeating the same text message endlessly!!", author: "@dana"),
      now: Self.t0)
    #expect(opened.document.id == "2024-10-21-iphone-repeating-text-message")
    #expect(Document.slug("Changing the wifi name or password on a Northwind Hub router", maxLength: 30) == "changing-the-wifi-name-or")
    #expect(Document.slug("Supercalifragilistic", maxLength: 5) == "super")
  }

  @Test func journalEntryLineAndResolvedSeparator() throws {
    let kb = try queueKB()
    let change = try kb.workspace.resolve(
      caseID: "2024-10-21-fresh", answer: "router-reset", text: "Reset the line manually", author: "Tina Ng",
      at: Date(timeIntervalSince1970: Self.t0.timeIntervalSince1970 + 0.4))
    #expect(change.entry.text == "Reset the line manually. Fix: [[router-reset]].")
    let json = CaseChangeJSON(change)
    let lines = try kb.text("cases/2024/10/fresh.md").split(separator: "\n", omittingEmptySubsequences: false)
    #expect(json.entry.line > 0)
    #expect(lines[json.entry.line - 1].contains("· resolved · Reset the line manually. Fix:"))
  }

  @Test func pendingWaitsOnTheCustomer() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    var change = try ws.log(caseID: "2024-10-21-answered", kind: .asked, text: "What is your order number?", author: "Jason Reyes", at: Self.t0)
    #expect(change.status == .pending)
    var view = CaseView()
    view.waiting = true
    #expect(try !ws.caseQueue(view, now: Self.t0).map(\.id).contains("2024-10-21-answered"))
    change = try ws.log(caseID: "2024-10-21-answered", kind: .customer, text: "It is 12345", author: "Jason Reyes", at: Self.t0.addingTimeInterval(60))
    #expect(change.status == .acknowledged)
    #expect(try ws.caseQueue(view, now: Self.t0.addingTimeInterval(120)).map(\.id).contains("2024-10-21-answered"))
    // A file that says pending is indexed, and pending is active.
    #expect(try Document(path: "cases/a.md", text: "---\ntype: case\nstatus: pending\n---\n").status == .pending)
    #expect(CaseLifecycle.active.contains(.pending))
    #expect(throws: CaseError.self) { try CaseLifecycle.next(after: .resolved, kind: .asked) }
  }

  @Test func similarCasesIgnoreTheBrand() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    try kb.write("cases/2024/10/ps5.md", "---\nid: ps5\ntype: case\nstatus: open\nopened: 2024-10-20T10:00:00Z\n---\n> Northwind online gaming lag on my PS5\n")
    try ws.refresh()
    let similar = try ws.similarOpenCases(to: "Northwind online 4G dongle keeps dropping")
    #expect(!similar.map(\.id).contains("ps5"))
    #expect(try ws.similarOpenCases(to: "PS5 gaming lag again").map(\.id) == ["ps5"])
  }

  @Test func searchPrefersAllWordsAndSaysWhichMatched() throws {
    let kb = try DayKB()
    try kb.write("answers/a.md", "---\nid: unrelated-one\ntitle: Billing for later\n---\nA status line: schedule a call for a refund later.\n")
    try kb.write("answers/b.md", "---\nid: unrelated-two\ntitle: Moving house\n---\nSchedule a status check for later in the week.\n")
    try kb.write("answers/c.md", "---\nid: scheduled-statuses\ntitle: scheduled_statuses\n---\nPosts that go out at a time you choose.\n")
    try kb.write("answers/d.md", "---\nid: other\ntitle: Weather\n---\nNothing here.\n")
    try kb.workspace.refresh()
    let result = try kb.workspace.search("schedule a status for later", limit: 10)
    #expect(result.match == .all)
    #expect(Set(result.hits.prefix(2).map(\.id)) == ["unrelated-one", "unrelated-two"])
    let scheduled = try #require(result.hits.first { $0.id == "scheduled-statuses" })
    #expect(scheduled.matched?.contains("schedule") == true && scheduled.matched?.contains("status") == true)
    #expect(result.hits.map(\.id).firstIndex(of: "scheduled-statuses") == 2)
    #expect(result.hits.first?.matched == ["schedule", "a", "status", "for", "later"])
    #expect(!result.hits.map(\.id).contains("other"))
  }

  @Test func fixStepsInTheImperative() {
    #expect(FixSteps.imperative("Suggested powering off for a few minutes.") == "Power off for a few minutes.")
    #expect(FixSteps.imperative("I restarted the hub remotely") == "Restart the hub remotely")
    #expect(FixSteps.imperative("Asked them to unplug the router for 30 seconds") == "Unplug the router for 30 seconds")
    #expect(FixSteps.imperative("Updated the APN settings") == "Update the APN settings")
    #expect(FixSteps.imperative("Sent a replacement SIM") == "Send a replacement SIM")
    #expect(FixSteps.imperative("Suggested resetting the network settings") == "Reset the network settings")
    #expect(FixSteps.imperative("Check the cable") == "Check the cable")
    #expect(FixSteps.imperative("Enabled wifi calling") == "Enable wifi calling")
  }

  @Test func promoteWritesImperativeStepsUnderTheGivenTitle() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    try ws.log(caseID: "2024-10-21-fresh", kind: .acted, text: "Suggested restarting the hub", author: "Tina Ng", at: Self.t0)
    try ws.resolve(caseID: "2024-10-21-fresh", author: "Tina Ng", at: Self.t0.addingTimeInterval(60))
    let (answer, _) = try ws.promote(caseID: "fresh", title: "Slow broadband in the evening", author: "Tina Ng")
    #expect(answer.id == "slow-broadband-in-the-evening")
    #expect(answer.title == "Slow broadband in the evening")
    #expect(answer.text.contains("1. Restart the hub\n"))
  }

  @Test func editKeepsIdAndTypeAndWritesNothingWhenUnchanged() throws {
    let kb = try queueKB()
    let ws = kb.workspace
    let path = "answers/router-reset.md"
    let original = try kb.text(path)
    guard case .unchanged = try ws.saveEdit(path: path, text: original) else { Issue.record("expected unchanged"); return }
    #expect(throws: WorkspaceError.self) { try ws.saveEdit(path: path, text: original.replacingOccurrences(of: "id: router-reset", with: "id: other")) }
    #expect(throws: WorkspaceError.self) { try ws.saveEdit(path: path, text: "---\nid: router-reset\ntitle: [unclosed\n---\n") }
    #expect(try kb.text(path) == original)
    guard case .saved(let d) = try ws.saveEdit(path: path, text: original.replacingOccurrences(of: "Do it.", with: "Do it now.")) else {
      Issue.record("expected saved"); return
    }
    #expect(d.text.contains("Do it now."))
    #expect(try ws.search("now").hits.map(\.id) == ["router-reset"])
  }

  @Test func settingsRejectBadTargetsAndViews() {
    #expect(throws: FrontMatterError.self) { try Settings(parsing: "sla:\n  first_response: soon\n") }
    #expect(throws: FrontMatterError.self) { try Settings(parsing: "views:\n  x: \"sort:nowhere\"\n") }
    #expect(Duration.parseSeconds("90m") == 5400)
    #expect(throws: Never.self) { try Settings(parsing: "sla:\n  first_response: 2h\n  at_risk: 30m\n") }
  }
}

/// A knowledge base in a temporary folder, reopened after its files are written (kb.yml is read
/// when a workspace opens).
struct DayKB {
  let root: String
  let workspace: Workspace

  init(answers: [String] = []) throws {
    let folder = NSTemporaryDirectory() + "kb-agentday-" + UUID().uuidString
    try Workspace.initialize(at: folder)
    for id in answers {
      try "---\nid: \(id)\ntype: answer\ntitle: Answer \(id)\n---\n## Fix\n1. Do it.\n"
        .write(toFile: folder + "/answers/\(id).md", atomically: true, encoding: .utf8)
    }
    try self.init(reopening: folder)
  }

  init(reopening root: String) throws {
    self.root = root
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
}
