import Foundation
import Testing

@testable import KBCore

@Suite struct CaseLifecycleTests {
  typealias Kind = JournalEntry.Kind

  @Test(arguments: [
    (CaseStatus.open, Kind.acknowledged, nil, CaseStatus.acknowledged),
    (.open, .listened, nil, .open),
    (.open, .apologized, nil, .acknowledged),
    (.open, .acted, nil, .acknowledged),
    (.open, .note, nil, .open),
    (.open, .handoff, nil, .open),
    (.open, .offline, nil, .offline),
    (.open, .escalated, nil, .escalated),
    (.open, .resolved, nil, .resolved),
    (.acknowledged, .acted, nil, .acknowledged),
    (.acknowledged, .offline, nil, .offline),
    (.acknowledged, .escalated, nil, .escalated),
    (.acknowledged, .resolved, nil, .resolved),
    (.offline, .escalated, nil, .escalated),
    (.offline, .acknowledged, nil, .offline),
    (.escalated, .offline, nil, .offline),
    (.escalated, .resolved, nil, .resolved),
    (.offline, .resolved, nil, .resolved),
    (.resolved, .note, nil, .resolved),
    (.resolved, .acted, nil, .resolved),
    (.resolved, .handoff, nil, .resolved),
    (.resolved, .checkedBack, true, .closed),
    (.resolved, .checkedBack, false, .acknowledged),
    (.resolved, .closed, nil, .closed),
    (.resolved, .reopened, nil, .open),
    (.closed, .reopened, nil, .open),
    (.open, "future-kind", nil, .open),
  ] as [(CaseStatus, Kind, Bool?, CaseStatus)])
  func legalMoves(from: CaseStatus, kind: Kind, held: Bool?, to: CaseStatus) throws {
    #expect(try CaseLifecycle.next(after: from, kind: kind, held: held) == to)
  }

  @Test(arguments: [
    (CaseStatus.open, Kind.closed, CaseError.closeUnresolved(id: "c1", status: .open)),
    (.acknowledged, .closed, .closeUnresolved(id: "c1", status: .acknowledged)),
    (.offline, .closed, .closeUnresolved(id: "c1", status: .offline)),
    (.escalated, .closed, .closeUnresolved(id: "c1", status: .escalated)),
    (.closed, .note, .closed(id: "c1", kind: "note")),
    (.closed, .acted, .closed(id: "c1", kind: "acted")),
    (.closed, .resolved, .closed(id: "c1", kind: "resolved")),
    (.closed, .checkedBack, .closed(id: "c1", kind: "checked-back")),
    (.closed, .closed, .closed(id: "c1", kind: "closed")),
    (.closed, .handoff, .closed(id: "c1", kind: "handoff")),
    (.open, .reopened, .reopenOpen(id: "c1", status: .open)),
    (.acknowledged, .reopened, .reopenOpen(id: "c1", status: .acknowledged)),
    (.open, .checkedBack, .checkBackUnresolved(id: "c1", status: .open)),
    (.escalated, .checkedBack, .checkBackUnresolved(id: "c1", status: .escalated)),
    (.resolved, .resolved, .alreadyResolved(id: "c1")),
    (.resolved, .offline, .resolvedNeedsReopen(id: "c1", kind: "offline")),
    (.resolved, .escalated, .resolvedNeedsReopen(id: "c1", kind: "escalated")),
  ] as [(CaseStatus, Kind, CaseError)])
  func illegalMoves(from: CaseStatus, kind: Kind, error: CaseError) {
    #expect(throws: error) { try CaseLifecycle.next(after: from, kind: kind, held: true, caseID: "c1") }
  }

  @Test func refusalsSayWhatToDo() {
    #expect(CaseError.closeUnresolved(id: "c1", status: .open).description.contains("kb case resolve c1"))
    #expect(CaseError.closed(id: "c1", kind: "note").description.contains("--kind reopened"))
  }

  @Test func replayFollowsTheJournalAndSkipsImpossibleMoves() {
    let t = Date(timeIntervalSince1970: 0)
    func e(_ kind: Kind, _ text: String = "x") -> JournalEntry { JournalEntry(time: t, author: "a", kind: kind, text: text) }
    #expect(CaseLifecycle.replay([e(.acknowledged), e(.offline), e(.resolved)]) == .resolved)
    #expect(CaseLifecycle.replay([e(.resolved), e(.checkedBack, "Held: yes")]) == .closed)
    #expect(CaseLifecycle.replay([e(.resolved), e(.checkedBack, "Did not hold: again")]) == .acknowledged)
    // A hand-written journal that closes an open case: the close is skipped, not fatal.
    #expect(CaseLifecycle.replay([e(.acknowledged), e(.closed), e(.note)]) == .acknowledged)
    #expect(CaseLifecycle.replay([e(.resolved), e(.closed), e(.reopened), e(.acted)]) == .acknowledged)
  }
}

@Suite struct CheckBackTests {
  @Test(arguments: [
    ("Held: no more loops", true as Bool?),
    ("held: fine", true),
    ("  Held. ", true),
    ("Did not hold: the loop is back", false),
    ("didn't hold: again", false),
    ("Didn’t hold: again", false),
    ("Not held: again", false),
    ("Customer is happy", nil),
    ("Holding up well", nil),
  ])
  func readsTheOutcome(text: String, held: Bool?) {
    #expect(CheckBack.outcome(of: text) == held)
  }

  @Test func flagsAddThePrefixSoTheFileSaysIt() throws {
    #expect(try CheckBack.record("Customer confirmed", held: true) == ("Held: Customer confirmed", true))
    #expect(try CheckBack.record("Loop is back", held: false) == ("Did not hold: Loop is back", false))
    #expect(try CheckBack.record("", held: true) == ("Held.", true))
    #expect(try CheckBack.record("Held: ok", held: nil) == ("Held: ok", true))
    #expect(try CheckBack.record("Held: ok", held: true) == ("Held: ok", true))
  }

  @Test func unknownOrContradictoryOutcomesAreRefused() {
    #expect(throws: CaseError.heldUnknown) { try CheckBack.record("Spoke to them", held: nil) }
    #expect(throws: CaseError.heldContradiction) { try CheckBack.record("Held: fine", held: false) }
    #expect(throws: CaseError.heldContradiction) { try CheckBack.record("Did not hold: no", held: true) }
  }
}

@Suite struct FollowUpTests {
  static func zone(_ name: String) -> TimeZone { try! FollowUp.timeZone(name) }

  @Test(arguments: [
    // Month, year and leap-year ends in UTC.
    ("2024-01-30T12:00:00Z", "3d", "UTC", "2024-02-02"),
    ("2024-02-27T12:00:00Z", "3d", "UTC", "2024-03-01"),
    ("2023-02-27T12:00:00Z", "3d", "UTC", "2023-03-02"),
    ("2024-12-30T12:00:00Z", "3d", "UTC", "2025-01-02"),
    ("2024-12-31T23:59:59Z", "1d", "UTC", "2025-01-01"),
    ("2024-04-28T08:00:00Z", "1w", "UTC", "2024-05-05"),
    ("2024-06-30T08:00:00Z", "0d", "UTC", "2024-06-30"),
    ("2024-06-30T08:00:00Z", "36h", "UTC", "2024-07-02"),
    // The resolution's local day decides: late evening UTC is already tomorrow in Tokyo…
    ("2024-01-31T23:30:00Z", "3d", "Asia/Tokyo", "2024-02-04"),
    ("2024-01-31T23:30:00Z", "3d", "UTC", "2024-02-03"),
    // …and early morning UTC is still yesterday in Los Angeles, across a year end.
    ("2025-01-01T03:00:00Z", "3d", "America/Los_Angeles", "2025-01-03"),
    ("2025-01-01T03:00:00Z", "3d", "UTC", "2025-01-04"),
    // Daylight-saving changes: calendar days, not 24-hour periods.
    ("2024-03-30T23:30:00Z", "1d", "Europe/Berlin", "2024-04-01"),
    ("2024-03-30T22:30:00Z", "1d", "Europe/Berlin", "2024-03-31"),
    ("2024-03-09T12:00:00Z", "1d", "America/New_York", "2024-03-10"),
    ("2024-11-03T03:30:00Z", "1d", "America/New_York", "2024-11-03"),
    ("2024-11-03T04:30:00Z", "1d", "America/New_York", "2024-11-04"),
    ("2024-10-26T23:30:00Z", "3d", "Europe/London", "2024-10-30"),
    // Offsets and the far ends of the clock.
    ("2024-08-31T20:00:00Z", "3d", "+05:30", "2024-09-04"),
    ("2024-08-31T20:00:00Z", "3d", "UTC-05", "2024-09-03"),
    ("2024-12-31T11:00:00Z", "1d", "Pacific/Kiritimati", "2025-01-02"),
    ("2024-12-31T11:00:00Z", "1d", "Pacific/Pago_Pago", "2025-01-01"),
  ])
  func followUpDay(resolved: String, delay: String, zone: String, expected: String) throws {
    let at = try #require(Timestamp.parse(resolved))
    #expect(try FollowUp.date(after: at, delay: delay, in: Self.zone(zone)) == expected)
  }

  @Test func badDelayAndZoneAreRefused() {
    let now = Date(timeIntervalSince1970: 0)
    #expect(throws: CaseError.invalidDelay("soon")) { try FollowUp.date(after: now, delay: "soon", in: .gmt) }
    #expect(throws: CaseError.invalidDelay("3x")) { try FollowUp.date(after: now, delay: "3x", in: .gmt) }
    #expect(throws: CaseError.invalidTimeZone("Mars/Olympus")) { try FollowUp.timeZone("Mars/Olympus") }
    #expect(throws: CaseError.invalidTimeZone("+25:00")) { try FollowUp.timeZone("+25:00") }
  }

  @Test(arguments: ["UTC", "utc", "Z", ":Europe/Berlin", "Europe/Berlin", "+02:00", "-0930", "UTC+3", "GMT", "EST5EDT", "Singapore"])
  func readsTimeZones(name: String) throws {
    _ = try FollowUp.timeZone(name)
  }

  @Test func dayArithmetic() {
    #expect(FollowUp.days(from: "2024-02-27", to: "2024-03-01") == 3)
    #expect(FollowUp.days(from: "2024-03-01", to: "2024-02-27") == -3)
    #expect(FollowUp.add(days: 1, to: "2024-12-31") == "2025-01-01")
  }
}

@Suite struct CaseFiguresTests {
  static func t(_ s: String) -> Date { Timestamp.parse(s)! }
  static func e(_ time: String, _ kind: JournalEntry.Kind, _ text: String = "x", by: String = "jason") -> JournalEntry {
    JournalEntry(time: t(time), author: by, kind: kind, text: text)
  }

  @Test(arguments: [
    ([], nil),
    ([5.0], 5.0),
    ([3, 1, 2], 2),
    ([4, 1, 3, 2], 2.5),
  ] as [([Double], Double?)])
  func median(values: [Double], expected: Double?) {
    #expect(CaseFigures.median(values) == expected)
  }

  @Test func checkBacksAreCreditedToTheAnswerOfTheirResolution() {
    let c = CaseFacts(
      id: "c", opened: Self.t("2024-10-01T10:00:00Z"), assignee: nil, answer: "second", followUp: "2024-10-10",
      status: .resolved,
      entries: [
        Self.e("2024-10-01T10:10:00Z", .resolved, "Fix: [[first]]."),
        Self.e("2024-10-03T10:00:00Z", .checkedBack, "Did not hold: back again"),
        Self.e("2024-10-07T10:00:00Z", .resolved, "Fix: [[second]]."),
      ])
    let f = CaseFigures(cases: [c], today: "2024-10-11", timeZone: .gmt)
    #expect(f.answers.map(\.answer) == ["second", "first"])
    #expect(f.answers.first { $0.answer == "first" }?.notHeld == 1)
    #expect(f.answers.first { $0.answer == "second" }?.used == 1)
    // The check back belongs to the first resolution: the second one's is still to come.
    #expect(f.followUps.pending == 1)
    #expect(f.followUps.overdue == 1)
    #expect(f.medianResolution == 600)
  }

  @Test func humanDurations() {
    #expect(CaseFigures.human(nil) == "–")
    #expect(CaseFigures.human(42) == "42s")
    #expect(CaseFigures.human(1200) == "20m")
    #expect(CaseFigures.human(7200) == "2h")
    #expect(CaseFigures.human(5400) == "1h 30m")
    #expect(CaseFigures.human(86400 * 3 + 3600) == "3d 1h")
  }
}

@Suite struct MentionInputTests {
  @Test func readsOneDocumentPrettyPrinted() throws {
    let text = "{\n  \"text\": \"My phone keeps sending the same text\",\n  \"author\": \"stevebuttry\"\n}\n"
    let mentions = try Mention.parse(input: text)
    #expect(mentions.count == 1)
    #expect(mentions[0].author == "@stevebuttry")
  }

  @Test func readsJSONLines() throws {
    let text = #"""
      {"text": "one", "author": "@a"}
      {"text": "two", "author": "@b", "created_at": "2024-10-20T16:05:00Z"}

      """#
    let mentions = try Mention.parse(input: text)
    #expect(mentions.map(\.text) == ["one", "two"])
  }

  @Test func oneBadLineRejectsTheWholeInput() {
    let text = "{\"text\": \"one\"}\n{\"text\": \n{\"author\": \"@x\"}\n"
    do {
      _ = try Mention.parse(input: text)
      Issue.record("expected an error")
    } catch {
      #expect(error.message.contains("2 of 3 JSON lines"))
      #expect(error.message.contains("line 2: not valid JSON"))
      #expect(error.message.contains("line 3: missing 'text'"))
    }
  }

  @Test func badPrettyJSONReportsTheDocumentError() {
    do {
      _ = try Mention.parse(input: "{\n  \"text\": \"x\"\n  \"author\": \"@y\"\n}\n")
      Issue.record("expected an error")
    } catch {
      #expect(error.message.hasPrefix("not valid JSON"))
    }
  }

  @Test func emptyInputIsRefused() {
    #expect(throws: MentionError.self) { try Mention.parse(input: "  \n") }
  }
}
