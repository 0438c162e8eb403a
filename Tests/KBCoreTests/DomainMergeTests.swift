import Foundation
import KBTestSupport
import Testing
@testable import KBCore

/// Builds small documents for merge tests.
enum MergeFixture {
  static let answer = """
    ---
    id: sms-loop
    type: answer
    title: Text repeats on iPhone
    tags: [ios, sms]
    symptoms:
      - messages sent twice
      - same text arrives again
    updated: 2024-10-01
    # reviewed by the support lead
    owner: jason
    ---
    ## Fix
    1. Open Settings.
    2. Turn iMessage off and on.
    3. Restart the phone.

    ## Why
    The carrier resends unacknowledged messages.

    """

  static let caseFile = """
    ---
    id: 2024-10-20-sms-loop
    type: case
    title: Customer gets every text twice
    status: open
    channel: x
    customer: "@pat"
    opened: 2024-10-20T16:00:00Z
    assignee: Jason Reyes
    tags: [sms]
    ---
    > my phone keeps sending the same text over and over

    ## Journal
    - 2024-10-20T16:05:00Z · Jason Reyes · listened · Read the thread.
    - 2024-10-20T16:09:00Z · Jason Reyes · acknowledged · Saw your tweet, can I help?

    """

  /// Replaces the first occurrence of `old` (which must exist) with `new`.
  static func edit(_ text: String, _ old: String, _ new: String) -> String {
    guard let range = text.range(of: old) else {
      Issue.record("fixture does not contain \(old)")
      return text
    }
    return text.replacingCharacters(in: range, with: new)
  }

  static func appending(_ line: String, to text: String) -> String {
    guard let entry = JournalEntry(line: line) else {
      Issue.record("not a journal line: \(line)")
      return text
    }
    var document = try! Document(path: "cases/2024/10/x.md", text: text)
    document.append(entry)
    return document.text
  }
}

@Suite struct DomainMergeTests {
  typealias F = MergeFixture

  func merge(_ base: String?, _ ours: String, _ theirs: String, path: String = "answers/sms-loop.md")
    -> MergeOutcome
  {
    DomainMerge.merge(base: base, ours: ours, theirs: theirs, path: path)
  }

  // MARK: Convergence

  @Test func unchangedOrIdenticalSidesAreReturnedByteForByte() {
    let changed = F.edit(F.answer, "3. Restart the phone.", "3. Restart the iPhone.")
    #expect(merge(F.answer, F.answer, changed) == MergeOutcome(text: changed))
    #expect(merge(F.answer, changed, F.answer) == MergeOutcome(text: changed))
    #expect(merge(F.answer, changed, changed) == MergeOutcome(text: changed))
    #expect(merge(nil, changed, changed) == MergeOutcome(text: changed))
  }

  // MARK: Front matter

  @Test func sameAnswerDifferentFieldsMerge() throws {
    let ours = F.edit(F.answer, "title: Text repeats on iPhone", "title: Texts repeat on iPhone")
    let theirs = F.edit(F.answer, "owner: jason", "owner: maria")
    let result = merge(F.answer, ours, theirs)
    #expect(result.isClean)
    #expect(result.text == F.edit(ours, "owner: jason", "owner: maria"))
    let document = try Document(path: "answers/sms-loop.md", text: result.text)
    #expect(document.title == "Texts repeat on iPhone")
    #expect(document.frontMatter.string("owner") == "maria")
    #expect(!document.hasConflicts)
  }

  @Test func adjacentFieldsChangedOnBothSidesDoNotConflict() throws {
    // As text these are adjacent lines, which a line merge would report as a conflict.
    let ours = F.edit(F.caseFile, "channel: x", "channel: mastodon")
    let theirs = F.edit(F.caseFile, "customer: \"@pat\"", "customer: \"@pat@mastodon.social\"")
    let result = merge(F.caseFile, ours, theirs, path: "cases/2024/10/sms.md")
    #expect(result.isClean)
    let document = try Document(path: "cases/2024/10/sms.md", text: result.text)
    #expect(document.channel == "mastodon")
    #expect(document.customer == "@pat@mastodon.social")
  }

  @Test func tagsAreMergedAsSetsWithDeletionsRespected() throws {
    // Ours removes "sms" and adds "messages"; theirs adds "carrier" and "ios-17" and removes "ios".
    let ours = F.edit(F.answer, "tags: [ios, sms]", "tags: [ios, messages]")
    let theirs = F.edit(F.answer, "tags: [ios, sms]", "tags: [sms, carrier, ios-17]")
    let result = merge(F.answer, ours, theirs)
    #expect(result.isClean)
    let document = try Document(path: "answers/sms-loop.md", text: result.text)
    #expect(document.tags == ["messages", "carrier", "ios-17"])
    #expect(result.text.contains("tags: [messages, carrier, ios-17]\n"))
    #expect(result.notes.contains { $0.hasPrefix("tags:") })
    // Commutative as a set.
    let swapped = try Document(path: "answers/sms-loop.md", text: merge(F.answer, theirs, ours).text)
    #expect(Set(swapped.tags) == Set(document.tags))
  }

  @Test func blockListsStayBlockLists() throws {
    let ours = F.edit(F.answer, "  - same text arrives again\n", "  - same text arrives again\n  - phone buzzes twice\n")
    let theirs = F.edit(F.answer, "  - messages sent twice\n", "")
    let result = merge(F.answer, ours, theirs)
    #expect(result.isClean)
    #expect(result.text.contains("symptoms:\n  - same text arrives again\n  - phone buzzes twice\n"))
  }

  @Test func updatedTakesTheLaterDate() throws {
    let ours = F.edit(F.answer, "updated: 2024-10-01", "updated: 2024-11-03")
    let theirs = F.edit(F.answer, "updated: 2024-10-01", "updated: 2024-11-02")
    for (x, y) in [(ours, theirs), (theirs, ours)] {
      let result = merge(F.answer, x, y)
      #expect(result.isClean)
      #expect(try Document(path: "a.md", text: result.text).updated == "2024-11-03")
    }
  }

  @Test func scalarChangedBothWaysIsRecordedInConflictsField() throws {
    let ours = F.edit(F.answer, "title: Text repeats on iPhone", "title: Text repeats on iPhone 15")
    let theirs = F.edit(F.answer, "title: Text repeats on iPhone", "title: iPhone SMS loop")
    let result = merge(F.answer, ours, theirs)
    #expect(!result.isClean)
    #expect(result.conflicts == ["title changed on both sides (kept ours; both values are in 'conflicts:')"])
    #expect(result.text.hasSuffix("""
      owner: jason
      conflicts:
        - field: title
          ours: "Text repeats on iPhone 15"
          theirs: "iPhone SMS loop"
      ---
      ## Fix
      1. Open Settings.
      2. Turn iMessage off and on.
      3. Restart the phone.

      ## Why
      The carrier resends unacknowledged messages.

      """))
    let document = try Document(path: "answers/sms-loop.md", text: result.text)
    #expect(document.title == "Text repeats on iPhone 15")
    #expect(document.hasConflicts)
    // A later merge that brings a second conflict keeps the first record.
    let later = merge(ours, result.text, F.edit(ours, "owner: jason", "owner: maria"))
    #expect(later.isClean)
    #expect(try Document(path: "a.md", text: later.text).frontMatter.string("owner") == "maria")
    #expect(later.text.contains("theirs: \"iPhone SMS loop\""))
  }

  @Test func conflictRecordsQuoteAwkwardValues() throws {
    let ours = F.edit(F.answer, "owner: jason", "owner: \"a: b # c\"")
    let theirs = F.edit(F.answer, "owner: jason", "owner: 'say \"hi\"\\n'")
    let result = merge(F.answer, ours, theirs)
    let document = try Document(path: "a.md", text: result.text)
    guard case .sequence(let records)? = document.frontMatter["conflicts"],
      case .mapping(let record)? = records.first
    else {
      Issue.record("no conflicts record")
      return
    }
    #expect(record["field"]?.string == "owner")
    #expect(record["ours"]?.string == "a: b # c")
    #expect(record["theirs"]?.string == "say \"hi\"\\n")
  }

  @Test func fieldDeletedOnOneSideAndChangedOnTheOtherKeepsTheChange() throws {
    let ours = F.edit(F.answer, "# reviewed by the support lead\nowner: jason\n", "# reviewed by the support lead\n")
    let theirs = F.edit(F.answer, "owner: jason", "owner: maria")
    let result = merge(F.answer, ours, theirs)
    #expect(result.isClean)
    #expect(try Document(path: "a.md", text: result.text).frontMatter.string("owner") == "maria")
    #expect(result.notes.contains { $0.hasPrefix("owner:") })
    // A field deleted on one side and untouched on the other is deleted.
    let untouched = F.edit(F.answer, "title: Text repeats on iPhone", "title: Texts")
    let deleted = merge(F.answer, ours, untouched)
    #expect(try Document(path: "a.md", text: deleted.text).frontMatter["owner"] == nil)
  }

  @Test func unknownFieldsAndCommentsAreKept() throws {
    let ours = F.edit(F.answer, "owner: jason", "owner: jason\nreviewers: [ana]")
    let theirs = F.edit(F.answer, "updated: 2024-10-01", "updated: 2024-10-05\nx-zendesk: 4412")
    let result = merge(F.answer, ours, theirs)
    #expect(result.isClean)
    let fm = try Document(path: "a.md", text: result.text).frontMatter
    #expect(fm.keys == ["id", "type", "title", "tags", "symptoms", "updated", "owner", "reviewers", "x-zendesk"])
    #expect(fm.strings("reviewers") == ["ana"])
    #expect(fm.string("x-zendesk") == "4412")
    #expect(fm.string("updated") == "2024-10-05")
    #expect(result.text.contains("# reviewed by the support lead\n"))
  }

  // MARK: Cases

  @Test func bothAppendJournalEntriesAllKeptInTimeOrderOnce() throws {
    let path = "cases/2024/10/sms.md"
    let ours = F.appending("- 2024-10-20T16:30:00Z · Jason Reyes · offline · Moved to DMs.", to: F.caseFile)
    var theirs = F.appending("- 2024-10-20T16:20:00Z · Maria Lopez · note · Same as last week's case.", to: F.caseFile)
    theirs = F.appending("- 2024-10-20T16:40:00Z · Maria Lopez · acted · Reset the carrier profile.", to: theirs)
    let result = merge(F.caseFile, ours, theirs, path: path)
    #expect(result.isClean)
    let journal = try Document(path: path, text: result.text).journal
    #expect(journal.entries.map(\.entry.text) == [
      "Read the thread.", "Saw your tweet, can I help?", "Same as last week's case.", "Moved to DMs.",
      "Reset the carrier profile.",
    ])
    #expect(journal.malformed.isEmpty)
    // The other order gives the same entries; merging again adds nothing.
    let swapped = merge(F.caseFile, theirs, ours, path: path)
    #expect(swapped.text == result.text)
    #expect(merge(ours, result.text, ours, path: path).text == result.text)
    #expect(merge(theirs, theirs, result.text, path: path).text == result.text)
  }

  @Test func journalEntryRemovedOnOneSideIsKept() throws {
    let path = "cases/2024/10/sms.md"
    let ours = F.edit(F.caseFile, "- 2024-10-20T16:05:00Z · Jason Reyes · listened · Read the thread.\n", "")
    let theirs = F.appending("- 2024-10-20T17:00:00Z · Maria Lopez · note · Follow up tomorrow.", to: F.caseFile)
    let result = merge(F.caseFile, ours, theirs, path: path)
    let journal = try Document(path: path, text: result.text).journal
    #expect(journal.entries.count == 3)
    #expect(result.notes.contains { $0.contains("append-only") })
  }

  @Test func malformedJournalLinesAreKept() throws {
    let path = "cases/2024/10/sms.md"
    let ours = F.appending("- 2024-10-20T16:30:00Z · Jason Reyes · offline · Moved to DMs.", to: F.caseFile)
      .replacingOccurrences(of: "Moved to DMs.\n", with: "Moved to DMs.\nCalled the customer back (no timestamp)\n")
    let theirs = F.appending("- 2024-10-20T16:20:00Z · Maria Lopez · note · Checked.", to: F.caseFile)
    let result = merge(F.caseFile, ours, theirs, path: path)
    let journal = try Document(path: path, text: result.text).journal
    #expect(journal.malformed.map(\.text) == ["Called the customer back (no timestamp)"])
    #expect(journal.entries.count == 4)
    #expect(result.text.contains("Moved to DMs.\nCalled the customer back (no timestamp)\n"))
  }

  @Test func statusTakesTheLaterLifecycleStateOrTheJournals() throws {
    let path = "cases/2024/10/sms.md"
    let ours = F.edit(F.caseFile, "status: open", "status: resolved")
    let theirs = F.edit(F.caseFile, "status: open", "status: escalated")
    let result = merge(F.caseFile, ours, theirs, path: path)
    #expect(result.isClean)
    #expect(try Document(path: path, text: result.text).status == .resolved)
    #expect(try Document(path: path, text: merge(F.caseFile, theirs, ours, path: path).text).status == .resolved)

    // The journal's last status entry wins when it names one of the two.
    let reopened = F.appending(
      "- 2024-10-21T09:00:00Z · Maria Lopez · escalated · Needs engineering.",
      to: F.edit(F.caseFile, "status: open", "status: escalated"))
    let closedEarlier = F.appending(
      "- 2024-10-20T18:00:00Z · Jason Reyes · resolved · Fixed by toggling iMessage.",
      to: F.edit(F.caseFile, "status: open", "status: resolved"))
    let consistent = merge(F.caseFile, closedEarlier, reopened, path: path)
    #expect(consistent.isClean)
    #expect(try Document(path: path, text: consistent.text).status == .escalated)
  }

  @Test func assigneeFollowsTheLaterHandoffElseConflicts() throws {
    let path = "cases/2024/10/sms.md"
    let ours = F.appending(
      "- 2024-10-20T17:00:00Z · Jason Reyes · handoff · To Ana for the evening shift.",
      to: F.edit(F.caseFile, "assignee: Jason Reyes", "assignee: Ana Silva"))
    let theirs = F.appending(
      "- 2024-10-20T17:30:00Z · Jason Reyes · handoff · To Maria, she knows the carrier.",
      to: F.edit(F.caseFile, "assignee: Jason Reyes", "assignee: Maria Lopez"))
    let result = merge(F.caseFile, ours, theirs, path: path)
    #expect(result.isClean)
    let document = try Document(path: path, text: result.text)
    #expect(document.assignee == "Maria Lopez")
    #expect(document.journal.entries.count == 4)

    let noHandoff = merge(
      F.caseFile, F.edit(F.caseFile, "assignee: Jason Reyes", "assignee: Ana Silva"),
      F.edit(F.caseFile, "assignee: Jason Reyes", "assignee: Maria Lopez"), path: path)
    #expect(!noHandoff.isClean)
    #expect(try Document(path: path, text: noHandoff.text).hasConflicts)
  }

  // MARK: Body

  @Test func sameParagraphChangedTwoWaysKeepsBothWithMarkers() throws {
    let ours = F.edit(F.answer, "3. Restart the phone.", "3. Restart the iPhone (hold side + volume).")
    let theirs = F.edit(F.answer, "3. Restart the phone.", "3. Power the phone off for 30 seconds.")
    let result = merge(F.answer, ours, theirs)
    #expect(result.conflicts == ["body: lines 16-22, both versions kept between markers"])
    #expect(result.text.contains("""
      <<<<<<< ours
      3. Restart the iPhone (hold side + volume).
      ||||||| base
      3. Restart the phone.
      =======
      3. Power the phone off for 30 seconds.
      >>>>>>> theirs

      """))
    let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines[15] == "<<<<<<< ours")
    #expect(lines[21] == ">>>>>>> theirs")
    let document = try Document(path: "answers/sms-loop.md", text: result.text)
    #expect(document.hasConflicts)
  }

  @Test func bodyAndFieldsAndJournalMergeTogether() throws {
    let path = "cases/2024/10/sms.md"
    var ours = F.edit(F.caseFile, "> my phone keeps", "> my iPhone keeps")
    ours = F.edit(ours, "tags: [sms]", "tags: [sms, ios]")
    ours = F.appending("- 2024-10-20T16:30:00Z · Jason Reyes · offline · Moved to DMs.", to: ours)
    var theirs = F.edit(F.caseFile, "title: Customer gets every text twice", "title: Customer gets every text twice")
    theirs = F.edit(theirs, "tags: [sms]", "tags: [sms, carrier]")
    theirs = F.appending("- 2024-10-20T16:10:00Z · Maria Lopez · note · Known carrier issue.", to: theirs)
    theirs += "\n## Notes\nCarrier ticket 7781.\n"
    let result = merge(F.caseFile, ours, theirs, path: path)
    #expect(result.isClean)
    let document = try Document(path: path, text: result.text)
    #expect(document.tags == ["sms", "ios", "carrier"])
    #expect(document.complaint == "my iPhone keeps sending the same text over and over")
    #expect(document.journal.entries.map(\.entry.author) == ["Jason Reyes", "Jason Reyes", "Maria Lopez", "Jason Reyes"])
    #expect(result.text.hasSuffix("Moved to DMs.\n\n## Notes\nCarrier ticket 7781.\n"))
  }

  // MARK: Edge cases

  @Test func editAgainstDeleteKeepsTheEdit() {
    let edited = F.edit(F.answer, "3. Restart the phone.", "3. Restart the iPhone.")
    let result = DomainMerge.mergeDeleted(base: F.answer, surviving: edited, path: "answers/sms-loop.md")
    #expect(result.text == edited)
    #expect(result.isClean)
    #expect(result.notes == ["kept the edit of answers/sms-loop.md: they deleted it and we edited it"])
    let ours = DomainMerge.mergeDeleted(base: F.answer, surviving: edited, path: "a.md", deletedByUs: true)
    #expect(ours.notes == ["kept the edit of a.md: we deleted it and they edited it"])
  }

  @Test func malformedFrontMatterOnOneSideLosesNothing() {
    let ours = F.edit(F.answer, "owner: jason", "owner: [jason") + "Added by us.\n"
    let theirs = F.edit(F.answer, "## Why\n", "## Why\nTheir new line.\n")
    let result = merge(F.answer, ours, theirs)
    #expect(result.notes.contains { $0.contains("line by line") })
    // Every line either side added is in the result.
    let baseLines = Set(F.answer.split(separator: "\n"))
    for line in (ours + theirs).split(separator: "\n") where !baseLines.contains(line) {
      #expect(result.text.contains(line), "lost: \(line)")
    }
  }

  @Test func bothSidesAddTheSameDocumentDifferently() throws {
    let ours = F.edit(F.answer, "owner: jason", "owner: ana")
    let theirs = F.edit(F.answer, "tags: [ios, sms]", "tags: [ios, sms, carrier]")
    let result = merge(nil, ours, theirs)
    let document = try Document(path: "a.md", text: result.text)
    #expect(document.tags == ["ios", "sms", "carrier"])
    #expect(document.frontMatter.string("owner") == "ana")
    #expect(result.conflicts == ["owner changed on both sides (kept ours; both values are in 'conflicts:')"])
  }

  @Test func deterministic() {
    let ours = F.edit(F.answer, "title: Text repeats on iPhone", "title: A").replacingOccurrences(of: "1. Open", with: "1. Go to")
    let theirs = F.edit(F.answer, "title: Text repeats on iPhone", "title: B").replacingOccurrences(of: "1. Open", with: "1. Launch")
    let first = merge(F.answer, ours, theirs)
    for _ in 0..<20 {
      #expect(merge(F.answer, ours, theirs) == first)
    }
  }

  @Test func customTextMergeIsUsedForTheBody() {
    let ours = F.edit(F.answer, "3. Restart the phone.", "3. A")
    let theirs = F.edit(F.answer, "3. Restart the phone.", "3. B")
    let union: TextMerge = { _, ours, theirs in (ours == theirs ? ours : ours + theirs, true) }
    let result = DomainMerge.merge(base: F.answer, ours: ours, theirs: theirs, path: "a.md", textMerge: union)
    #expect(result.isClean)
    #expect(result.text.contains("3. A") && result.text.contains("3. B"))
  }

  @Test func documentsWithoutFrontMatterMergeAsText() {
    let base = "# Notes\n\none\ntwo\nthree\nfour\n"
    let result = merge(base, "# Notes\n\nONE\ntwo\nthree\nfour\n", "# Notes\n\none\ntwo\nthree\nFOUR\n")
    #expect(result == MergeOutcome(text: "# Notes\n\nONE\ntwo\nthree\nFOUR\n"))
  }

  @Test func crlfDocumentsKeepTheirLineEndings() throws {
    let crlf = F.answer.replacingOccurrences(of: "\n", with: "\r\n")
    let ours = F.edit(crlf, "owner: jason", "owner: ana")
    let theirs = F.edit(crlf, "2. Turn iMessage", "2. Switch iMessage")
    let result = merge(crlf, ours, theirs)
    #expect(result.isClean)
    #expect(result.text == F.edit(ours, "2. Turn iMessage", "2. Switch iMessage"))
  }

  @Test func journalSectionAddedOnBothSides() throws {
    let path = "cases/2024/10/new.md"
    let base = "---\nid: new\ntype: case\nstatus: open\n---\n> help\n"
    let ours = F.appending("- 2024-10-20T16:30:00Z · Jason Reyes · acknowledged · On it.", to: base)
    let theirs = F.appending("- 2024-10-20T16:20:00Z · Maria Lopez · listened · Saw it.", to: base)
    let result = merge(base, ours, theirs, path: path)
    #expect(result.isClean)
    #expect(result.text == """
      ---
      id: new
      type: case
      status: open
      ---
      > help

      ## Journal
      - 2024-10-20T16:20:00Z · Maria Lopez · listened · Saw it.
      - 2024-10-20T16:30:00Z · Jason Reyes · acknowledged · On it.

      """)
  }

  // MARK: Property: journals

  @Test func randomJournalsMergedInBothOrdersHaveTheSameEntries() throws {
    let seed = UInt64(ProcessInfo.processInfo.environment["KB_MERGE_SEED"] ?? "") ?? 1234
    let rounds = Int(ProcessInfo.processInfo.environment["KB_MERGE_ROUNDS"] ?? "") ?? 150
    var rng = SeededGenerator(seed: seed)
    let path = "cases/2024/10/sms.md"
    let authors = ["Jason Reyes", "Maria Lopez", "Ana Silva"]
    let kinds = ["note", "acted", "listened", "checked-back"]
    // Each side appends in its own time order; the two sides' clocks interleave.
    func randomEntry(_ n: Int, after clock: inout Int) -> String {
      clock += Int.random(in: 0...600, using: &rng)
      let time = Timestamp.format(Date(timeIntervalSince1970: 1_729_440_600 + Double(clock)))
      let author = authors.randomElement(using: &rng)!
      let kind = kinds.randomElement(using: &rng)!
      return "- \(time) · \(author) · \(kind) · entry \(n)"
    }
    var counter = 0
    for _ in 0..<rounds {
      var base = F.caseFile
      var baseClock = 0
      for _ in 0..<Int.random(in: 0...3, using: &rng) {
        counter += 1
        base = F.appending(randomEntry(counter, after: &baseClock), to: base)
      }
      var ours = base, theirs = base
      var oursClock = baseClock, theirsClock = baseClock
      for _ in 0..<Int.random(in: 0...4, using: &rng) {
        counter += 1
        ours = F.appending(randomEntry(counter, after: &oursClock), to: ours)
      }
      for _ in 0..<Int.random(in: 0...4, using: &rng) {
        counter += 1
        if Bool.random(using: &rng) {
          theirs = F.appending(randomEntry(counter, after: &theirsClock), to: theirs)
        } else {
          // Sometimes both sides record the very same entry.
          var shared = max(oursClock, theirsClock)
          let entry = randomEntry(counter, after: &shared)
          oursClock = shared
          theirsClock = shared
          theirs = F.appending(entry, to: theirs)
          ours = F.appending(entry, to: ours)
        }
      }
      let a = try Document(path: path, text: merge(base, ours, theirs, path: path).text).journal
      let b = try Document(path: path, text: merge(base, theirs, ours, path: path).text).journal
      let expected = Set(
        try [ours, theirs].flatMap { try Document(path: path, text: $0).journal.entries.map(\.entry) })
      #expect(Set(a.entries.map(\.entry)) == expected)
      #expect(Set(b.entries.map(\.entry)) == expected)
      #expect(a.entries.count == expected.count, "no duplicates")
      let times = a.entries.map(\.entry.time)
      #expect(times == times.sorted(), "time order")
    }
  }
}

/// Random edits of a case on two sides, merged: the invariants every merge must keep.
@Suite struct DomainMergePropertyTests {
  typealias F = MergeFixture

  @Test func randomEditsKeepTheInvariants() throws {
    let seed = UInt64(ProcessInfo.processInfo.environment["KB_MERGE_SEED"] ?? "") ?? 99
    let rounds = Int(ProcessInfo.processInfo.environment["KB_MERGE_ROUNDS"] ?? "") ?? 200
    var rng = SeededGenerator(seed: seed)
    let path = "cases/2024/10/sms.md"
    var counter = 0

    func randomEdit(_ text: String, side: String, clock: inout Int) -> String {
      counter += 1
      var document = try! Document(path: path, text: text)
      switch Int.random(in: 0..<9, using: &rng) {
      case 0:
        document.edit { $0.set("title", to: "\(side) title \(counter % 3)") }
      case 1:
        var tags = document.tags
        if !tags.isEmpty, Bool.random(using: &rng) { tags.remove(at: Int.random(in: 0..<tags.count, using: &rng)) }
        tags.append("\(side)-\(counter % 4)")
        document.edit { $0.set("tags", to: tags) }
      case 2:
        let status = CaseStatus.allCases.randomElement(using: &rng)!
        document.edit { $0.set("status", to: status.rawValue) }
      case 3:
        document.edit { $0.set("x-\(side)-\(counter % 2)", to: "value \(counter)") }
      case 4:
        document.edit { $0.set("channel", to: nil) }
      case 5:
        document.markdown.body = document.markdown.body.replacingOccurrences(
          of: "> my phone", with: "> my \(side) phone \(counter)")
      case 6:
        document.markdown.body += "\n## Notes \(side) \(counter)\nText.\n"
      default:
        clock += Int.random(in: 1...900, using: &rng)
        let time = Date(timeIntervalSince1970: 1_729_440_600 + Double(clock))
        let kind: JournalEntry.Kind = [.note, .acted, .resolved, .handoff].randomElement(using: &rng)!
        document.append(JournalEntry(time: time, author: side, kind: kind, text: "entry \(counter)"))
      }
      return document.text
    }

    for _ in 0..<rounds {
      var base = F.caseFile
      var clock = 0
      for _ in 0..<Int.random(in: 0...3, using: &rng) { base = randomEdit(base, side: "base", clock: &clock) }
      var ours = base, theirs = base
      var oursClock = clock, theirsClock = clock
      for _ in 0..<Int.random(in: 0...4, using: &rng) { ours = randomEdit(ours, side: "ours", clock: &oursClock) }
      for _ in 0..<Int.random(in: 0...4, using: &rng) { theirs = randomEdit(theirs, side: "theirs", clock: &theirsClock) }

      let result = DomainMerge.merge(base: base, ours: ours, theirs: theirs, path: path)
      // Deterministic.
      #expect(DomainMerge.merge(base: base, ours: ours, theirs: theirs, path: path) == result)
      // Parses as a document, flagged exactly when something is left for a person.
      let merged = try Document(path: path, text: result.text)
      #expect(merged.hasConflicts == !result.isClean, "\(result.conflicts)\n\(result.text)")
      // Every journal entry of either side is there once.
      let expected = Set(
        try [ours, theirs].flatMap { try Document(path: path, text: $0).journal.entries.map(\.entry) })
      #expect(Set(merged.journal.entries.map(\.entry)) == expected)
      #expect(merged.journal.entries.count == expected.count)
      // Every tag added on one side and not removed on the other is there.
      let b = try Document(path: path, text: base), o = try Document(path: path, text: ours)
      let t = try Document(path: path, text: theirs)
      for tag in Set(o.tags).subtracting(b.tags).union(Set(t.tags).subtracting(b.tags)) {
        #expect(merged.tags.contains(tag))
      }
      for tag in Set(b.tags).subtracting(o.tags).union(Set(b.tags).subtracting(t.tags)) {
        #expect(!merged.tags.contains(tag))
      }
      // Merging the result again with either side changes nothing.
      #expect(DomainMerge.merge(base: ours, ours: result.text, theirs: ours, path: path).text == result.text)
    }
  }
}
