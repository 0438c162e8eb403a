import Foundation
import Testing

@testable import KBCore

@Suite struct MarkdownDocumentTests {
  static let samples: [String] = [
    "---\nid: a\ntitle: VPN\n---\n# VPN\n",
    "# No front matter\n\nJust text.\n",
    "---\nid: a\n---\n",
    "---\nid: a\n---",
    "---\r\nid: crlf\r\ntitle: Windows\r\n---\r\nbody\r\n",
    "---\n# a comment\nid: x   # trailing comment\ntags: [a,   b]\nsymptoms:\n    - one\n    - \"two: quoted\"\nweird_key: { nested: [1, 2] }\n---\n\nBody with --- inside\n---\nnot a fence for us\n",
    "---\n---\nempty front matter\n",
    "",
    "no newline at end",
    "---\nid: ünïcødé\ntitle: \"Emoji 📱 and accents é\"\n---\nCorps du texte — avec des accents.\n",
  ]

  @Test(arguments: samples)
  func untouchedDocumentRoundTripsByteForByte(text: String) throws {
    let doc = try MarkdownDocument(parsing: text)
    #expect(doc.text == text)
  }

  @Test func splitsFrontMatterAndBody() throws {
    let doc = try MarkdownDocument(parsing: "---\ntitle: VPN\n---\n# VPN\n")
    #expect(doc.frontMatter?.raw == "title: VPN\n")
    #expect(doc.body == "# VPN\n")
    #expect(doc.bodyStartLine == 4)
  }

  @Test func unterminatedFrontMatterThrows() {
    #expect(throws: FrontMatterError.unterminated) {
      try MarkdownDocument(parsing: "---\ntitle: VPN\n# VPN\n")
    }
  }

  @Test(arguments: [
    ("---\nid: a\ntitle: [unclosed\n---\n", 4),
    ("---\nid: a\n  bad indent: x\n---\n", 3),
    ("---\nid: a\nid: b\n---\n", 3),
    ("---\n- just\n- a list\n---\n", 2),
    ("---\nid: a\ntags: {a: 1}\n---\n", 3),
  ] as [(String, Int)])
  func malformedFrontMatterReportsTheLine(text: String, line: Int) {
    do {
      _ = try Document(path: "answers/a.md", text: text)
      Issue.record("expected an error for \(text.debugDescription)")
    } catch {
      #expect(error.line == line, "\(error)")
    }
  }

  @Test func unknownFieldsAndCommentsSurviveAnEdit() throws {
    let text = """
      ---
      id: sms
      # a comment the team wrote
      title: Old title
      x-custom: {keep: me}
      tags: [iphone,   sms]
      ---
      Body.

      """
    var doc = try Document(path: "answers/sms.md", text: text)
    doc.edit { $0.set("title", to: "New title") }
    #expect(doc.text == text.replacingOccurrences(of: "title: Old title", with: "title: New title"))
    doc.edit { $0.set("status", to: "open") }
    #expect(doc.text.contains("tags: [iphone,   sms]\nstatus: open\n---\n"))
    doc.edit { $0.set("x-custom", node: nil) }
    #expect(!doc.text.contains("x-custom"))
    #expect(doc.text.contains("# a comment the team wrote"))
  }

  @Test func editingABlockListReplacesAllItsLines() throws {
    var fm = try FrontMatter(parsing: "id: a\nsymptoms:\n  - one\n  - two\ntags: [x]\n")
    fm.set("symptoms", to: ["three"], inline: false)
    #expect(fm.raw == "id: a\nsymptoms:\n  - three\ntags: [x]\n")
    fm.set("tags", to: ["x", "y: z"])
    #expect(fm.strings("tags") == ["x", "y: z"])
  }

  @Test func settingFieldsOnAnEmptyFrontMatterAddsNoBlankLine() {
    var fm = FrontMatter()
    fm.set("id", to: "a")
    fm.set("type", to: "case")
    #expect(fm.raw == "id: a\ntype: case\n")
  }

  @Test func valuesThatNeedQuotingAreQuoted() throws {
    var fm = FrontMatter()
    fm.set("customer", to: "@stevebuttry")
    fm.set("title", to: "Colon: inside")
    fm.set("text", to: "# not a comment")
    let reparsed = try FrontMatter(parsing: fm.raw)
    #expect(reparsed.string("customer") == "@stevebuttry")
    #expect(reparsed.string("title") == "Colon: inside")
    #expect(reparsed.string("text") == "# not a comment")
  }
}

@Suite struct DocumentTests {
  @Test func readsAnAnswer() throws {
    let doc = try Document(path: "answers/iphone-sms-repeats.md", text: """
      ---
      id: iphone-sms-repeats
      type: answer
      title: Text message repeats endlessly on iPhone
      tags: [iphone, sms]
      symptoms:
        - the same text message keeps arriving
      ---
      ## Fix
      1. Power the phone off. See [[power-cycle]].

      """)
    #expect(doc.type == .answer)
    #expect(doc.tags == ["iphone", "sms"])
    #expect(doc.symptoms == ["the same text message keeps arriving"])
    #expect(doc.links == ["power-cycle"])
    #expect(doc.status == nil)
  }

  @Test func infersIdAndTypeFromThePath() throws {
    let doc = try Document(path: "cases/2024/10/loop.md", text: "> help me\n")
    #expect(doc.id == "loop")
    #expect(doc.type == .case)
    #expect(doc.status == .open)
    #expect(doc.complaint == "help me")
  }

  @Test func rejectsAnUnknownStatus() {
    #expect(throws: FrontMatterError.self) {
      try Document(path: "cases/a.md", text: "---\ntype: case\nstatus: snoozed\n---\n")
    }
  }

  @Test(arguments: ["Text repeats on iPhone!", "  Été — déjà vu  ", "", "***"])
  func slugsAreValidIDs(title: String) {
    #expect(Document.isValidID(Document.slug(title)))
  }

  @Test(arguments: ["b77-reverted_card_payment?", "café-wifi", "v1.2_notes", "2024-10-20-sms"])
  func idsPeopleWriteAreValid(id: String) {
    #expect(Document.isValidID(id))
  }

  @Test(arguments: ["", "a:b", "a\nb", "a b", "a/b", "[[x]]", "a|b", "a#b", ".hidden", "-x", "\u{202E}x", "a\u{0}b", String(repeating: "x", count: 201)])
  func unsafeIDsAreRefused(id: String) {
    #expect(!Document.isValidID(id))
  }

  @Test func journalEntriesParseAndMalformedLinesAreKept() throws {
    let text = """
      ---
      id: c1
      type: case
      ---
      > my phone is looping

      ## Journal
      - 2024-10-20T16:09:00Z · Jason Reyes · acknowledged · Saw your tweet · can I help?
      - this line is not an entry
      - 2024-10-20T16:20Z · Tina · acted · Suggested a restart.
        It worked after two tries.

      """
    let doc = try Document(path: "cases/2024/10/c1.md", text: text)
    let journal = doc.journal
    #expect(journal.entries.count == 2)
    #expect(journal.entries[0].entry.text == "Saw your tweet · can I help?")
    #expect(journal.entries[0].line == 8)
    #expect(journal.entries[1].entry.text == "Suggested a restart.\nIt worked after two tries.")
    #expect(journal.malformed == [Journal.Malformed(text: "- this line is not an entry", line: 9)])
    #expect(doc.warnings.count == 1)

    var edited = doc
    let entry = JournalEntry(
      time: Timestamp.parse("2024-10-21T09:00:00Z")!, author: "Priya Raman", kind: .resolved, text: "Fixed.")
    edited.append(entry)
    #expect(edited.text.hasPrefix(text.trimmingCharacters(in: .newlines)))
    #expect(edited.text.hasSuffix("- 2024-10-21T09:00:00Z · Priya Raman · resolved · Fixed.\n"))
    #expect(edited.journal.malformed.count == 1)
  }
}

@Suite struct WindowsLineEndingTests {
  @Test func editsAndJournalAppendsKeepCRLF() throws {
    let text = "---\r\nid: c\r\ntype: case\r\nstatus: open\r\n---\r\n> help\r\n\r\n## Journal\r\n- 2024-10-20T16:09:00Z · Tina · acknowledged · Hi\r\n"
    var doc = try Document(path: "cases/c.md", text: text)
    #expect(doc.text == text)
    #expect(doc.journal.entries.count == 1)
    doc.edit { $0.set("status", to: "acknowledged") }
    doc.append(JournalEntry(time: Timestamp.parse("2024-10-20T17:00:00Z")!, author: "Tina", kind: .acted, text: "Restarted"))
    #expect(doc.text == text.replacingOccurrences(of: "status: open", with: "status: acknowledged")
      + "- 2024-10-20T17:00:00Z · Tina · acted · Restarted\r\n")
    #expect(doc.journal.entries.count == 2)
  }

  @Test func jsonLinesWithCRLF() {
    let parsed = Mention.parse(jsonLines: "{\"text\": \"a\"}\r\n{\"text\": \"b\"}\r\n")
    #expect(parsed.count == 2)
  }
}

@Suite struct TimestampTests {
  @Test(arguments: [
    ("2024-10-20T16:09:00Z", 1_729_440_540.0),
    ("2024-10-20T16:09Z", 1_729_440_540.0),
    ("2024-10-20T18:09:00+02:00", 1_729_440_540.0),
    ("2024-10-20 16:09:00.5Z", 1_729_440_540.5),
    ("2024-02-29", 1_709_164_800.0),
    ("1969-12-31T23:59:59Z", -1.0),
  ] as [(String, Double)])
  func parses(text: String, seconds: Double) throws {
    let date = try #require(Timestamp.parse(text))
    #expect(date.timeIntervalSince1970 == seconds)
  }

  @Test(arguments: ["", "yesterday", "2024-13-01", "2024-10-20T25:00:00Z", "2024-10-20Tjunk"])
  func rejects(text: String) {
    #expect(Timestamp.parse(text) == nil)
  }

  @Test func formatsUTC() {
    #expect(Timestamp.format(Date(timeIntervalSince1970: 1_729_440_540)) == "2024-10-20T16:09:00Z")
    #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    #expect(Timestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
  }
}
