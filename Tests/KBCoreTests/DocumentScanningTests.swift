import Testing

@testable import KBCore

/// The shortcuts that skip work on most bodies (no journal heading, no `[[`, no conflict
/// markers) give the same answers as reading every line.
@Suite struct DocumentScanningTests {
  @Test(arguments: [
    ("## Journal\n- 2024-10-20T16:09:00Z · Jo · acknowledged · Hi\n", true),
    ("## JOURNAL  \n", true),
    ("text\n## journal\n", true),
    ("##  Journal\n", false),
    ("# Journal\n", false),
    ("## Timeline\n- 2020-08-04 03:12 customer: thanks\n", false),
    ("", false),
    ("journal ## jour", false),
  ])
  func journalShortcut(_ body: String, _ may: Bool) {
    #expect(Journal.mayHaveSection(body) == may)
  }

  @Test func journalFoundOnlyUnderItsHeading() {
    let with = Journal(body: "> hi\n\n## journal\n- 2024-10-20T16:09:00Z · Jo · acknowledged · Hi\n  more\n")
    #expect(with.hasSection)
    #expect(with.entries.map(\.entry.text) == ["Hi\nmore"])
    let without = Journal(body: "## Timeline\n- 2024-10-20T16:09:00Z · Jo · acknowledged · Hi\n")
    #expect(!without.hasSection)
    #expect(without.entries.isEmpty && without.malformed.isEmpty)
    let spaced = Journal(body: "##  Journal\n- 2024-10-20T16:09:00Z · Jo · acknowledged · Hi\n")
    #expect(!spaced.hasSection)
  }

  @Test func complaintLinksConflictsTitle() throws {
    let text = """
      ---
      id: c1
      type: case
      answer: a1
      related: [a2]
      ---

      > first line
      >   second
      not quoted
      > later quote is not the complaint

      See [[a3]] and [[a1]] and [[ ]] [[
      """
    let doc = try Document(path: "cases/c1.md", text: text)
    #expect(doc.complaint == "first line\nsecond")
    #expect(doc.links == ["a1", "a2", "a3", " "])
    #expect(!doc.hasConflicts)
    #expect(doc.title == "first line\nsecond")
    let noQuote = try Document(path: "cases/c2.md", text: "---\nid: c2\n---\n# Heading  \n> after heading\n")
    #expect(noQuote.complaint == nil)
    #expect(noQuote.title == "Heading")
    let conflicted = try Document(path: "a.md", text: "x < y\n<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n")
    #expect(conflicted.hasConflicts)
    let lessThan = try Document(path: "b.md", text: "a << b\n <<<<<<< indented\n")
    #expect(!lessThan.hasConflicts)
    let crlf = try Document(path: "c.md", text: "---\r\nid: c\r\n---\r\n# Title\r\n> q\r\n")
    #expect(crlf.id == "c")
  }

  static let texts = [
    "---\nid: a\n---\nbody\n", "---\nid: é\ntitle: \"Zoë — ü\"\n---\n# Ü\n",
    "---\nid: a\n---\n", "no front matter\n", "", "---  \nid: a\n---  \nx", "---\n\n---\nempty\n",
    "---\nid: a\r\n\r\r\nb: c\n---\n\u{1F600}\n",
  ]

  /// Parsing slices the text without decoding it again: the text round-trips byte for byte.
  /// (Not listed: a closing fence at the very end without a newline, and a "---\r\n" closing
  /// fence, which MarkdownDocument.text already wrote back with an extra "\n" before this
  /// change; reported to the lead.)
  @Test(arguments: texts)
  func roundTrip(_ text: String) throws {
    let doc = try MarkdownDocument(parsing: text)
    #expect(Array(doc.text.utf8) == Array(text.utf8))
  }


  /// Lines.forEach passes the lines Lines(text).lines holds (and at most one more, empty).
  @Test(arguments: ["", "a", "a\n", "a\r\nb", "a\r\r\nb\r\n", "\r", "x\ry\n\n", "é\r\nü", "\n\n\n", "# t\r\n> q\r\n"])
  func linesForEach(_ text: String) {
    var seen: [String] = []
    Lines.forEach(in: text) { seen.append(String($0)); return true }
    let expected = Lines(text).lines
    #expect(Array(seen.prefix(expected.count)) == expected)
    #expect(seen.count == expected.count || (seen.count == expected.count + 1 && seen.last == ""))
    #expect(Lines.hasCRLF(text) == text.contains("\r\n"))
  }

  @Test func titleAndComplaintInCRLFFiles() throws {
    let doc = try Document(path: "cases/c.md", text: "---\r\nid: c\r\ntype: case\r\n---\r\n> one\r\n> two\r\n\r\ntext\r\n")
    #expect(doc.complaint == "one\ntwo")
    #expect(doc.title == "one\ntwo")
    let answer = try Document(path: "a.md", text: "---\r\nid: a\r\n---\r\nintro\r\n# Heading \r\n")
    #expect(answer.title == "Heading")
  }

  @Test func duplicateKeysFoundEitherWay() {
    for (raw, line) in [("a: 1\nb: 2\na: 3\n", 4), ("a: 1\nb:\n  - x\na: [y]\n", 5)] {
      #expect(throws: FrontMatterError.duplicateKey("a", line: line)) { try FrontMatter(parsing: raw) }
      #expect(throws: FrontMatterError.duplicateKey("a", line: line)) { try FrontMatter(parsing: raw, fastPath: false) }
    }
  }
}
