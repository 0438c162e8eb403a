import Foundation

/// The two kinds of document in a knowledge base.
public enum DocumentType: String, Sendable, Codable, CaseIterable {
  /// A reusable troubleshooting answer (a known fix).
  case answer
  /// A customer case with its journal.
  case `case`
}

/// The lifecycle of a case: open → acknowledged → offline/escalated → resolved → closed.
public enum CaseStatus: String, Sendable, Codable, CaseIterable {
  /// `pending`: we replied and wait on the customer (an `asked` entry); a `customer` entry puts
  /// the case back in our hands (acknowledged). Still active: not resolved.
  case open, acknowledged, pending, offline, escalated, resolved, closed
}

/// A warning about a document that does not stop it from being indexed.
public struct DocumentWarning: Equatable, Sendable, Codable {
  public var line: Int
  public var message: String
  public init(line: Int, message: String) {
    self.line = line
    self.message = message
  }
}

/// An answer or a case, parsed from its Markdown file.
///
/// The file's text is kept in ``markdown``: the typed properties are read from it, and writing
/// goes back through it, so unknown fields and hand formatting survive.
public struct Document: Equatable, Sendable {
  /// The path relative to the knowledge base root, with `/` separators.
  public var path: String
  public var markdown: MarkdownDocument
  public private(set) var id: String
  public private(set) var type: DocumentType
  public private(set) var warnings: [DocumentWarning] = []

  /// Parses a document. `path` is relative to the knowledge base root.
  ///
  /// - Throws: ``FrontMatterError`` when the front matter cannot be read.
  public init(path: String, text: String) throws(FrontMatterError) {
    self.path = path
    markdown = try MarkdownDocument(parsing: text)
    let fm = markdown.frontMatter ?? FrontMatter()
    for key in ["id", "type", "title", "status", "assignee", "channel", "customer", "answer", "opened", "follow_up"] {
      try fm.validateShape(key, list: false)
    }
    for key in ["tags", "symptoms", "products", "related"] {
      try fm.validateShape(key, list: true)
    }
    if let declared = fm.string("id") {
      // The rule `kb new` follows: an id that it would refuse (empty, 'a:b', a line break …) is
      // not indexed either, so that every tool sees the same documents.
      guard Self.isValidID(declared) else {
        throw .invalidField(
          "id", line: fm.keyLines["id"] ?? 2,
          expected: Self.idRule + ", as 'kb new' requires")
      }
      id = declared
    } else {
      id = Self.stem(of: path)
    }
    if let declared = fm.string("type") {
      guard let type = DocumentType(rawValue: declared.lowercased()) else {
        throw .invalidField("type", line: fm.keyLines["type"] ?? 2, expected: "'answer' or 'case'")
      }
      self.type = type
    } else {
      type = path.hasPrefix("cases/") || path.contains("/cases/") ? .case : .answer
    }
    if type == .case, let status = fm.string("status"), CaseStatus(rawValue: status.lowercased()) == nil {
      throw .invalidField(
        "status", line: fm.keyLines["status"] ?? 2,
        expected: "one of " + CaseStatus.allCases.map(\.rawValue).joined(separator: ", "))
    }
    if type == .case {
      let journal = self.journal
      for bad in journal.malformed {
        warnings.append(DocumentWarning(
          line: bad.line,
          message: "journal line is not 'TIME · AUTHOR · KIND · TEXT'; it is kept as written"))
      }
      for located in journal.entries where !located.entry.kind.isKnown {
        warnings.append(DocumentWarning(
          line: located.line, message: "unknown journal kind '\(located.entry.kind)'"))
      }
    }
  }

  /// The file's text, exactly as it would be written.
  public var text: String { markdown.text }

  public var frontMatter: FrontMatter { markdown.frontMatter ?? FrontMatter() }

  // MARK: Common fields

  public var title: String {
    if let title = frontMatter.string("title"), !title.isEmpty { return title }
    var found: Substring?
    Lines.forEach(in: markdown.body) { line in
      if line.hasPrefix("# ") { found = line }
      return found == nil
    }
    if let heading = found {
      return String(heading.dropFirst(2)).trimmingCharacters(in: .whitespaces)
    }
    if type == .case, let quote = complaint, !quote.isEmpty {
      return String(quote.prefix(80))
    }
    return id
  }
  public var tags: [String] { frontMatter.strings("tags") }
  public var symptoms: [String] { frontMatter.strings("symptoms") }
  public var products: [String] { frontMatter.strings("products") }
  public var author: String? { frontMatter.string("author") }
  public var updated: String? { frontMatter.string("updated") }

  // MARK: Case fields

  public var status: CaseStatus? {
    guard type == .case else { return nil }
    return frontMatter.string("status").flatMap { CaseStatus(rawValue: $0.lowercased()) } ?? .open
  }
  public var assignee: String? { frontMatter.string("assignee") }
  public var channel: String? { frontMatter.string("channel") }
  public var customer: String? { frontMatter.string("customer") }
  public var source: String? { frontMatter.string("source") }
  public var opened: Date? { frontMatter.string("opened").flatMap(Timestamp.parse) }
  /// The answer that fixed the case.
  public var answer: String? { frontMatter.string("answer") }
  public var related: [String] { frontMatter.strings("related") }
  /// The follow-up date, `yyyy-mm-dd`.
  public var followUp: String? { frontMatter.string("follow_up") }

  /// Whether a merge left something for a person to settle: a `conflicts` field in the front
  /// matter, or conflict markers in the body. `kb conflicts` lists these documents.
  public var hasConflicts: Bool {
    frontMatter["conflicts"] != nil
      || (markdown.body.utf8.contains(UInt8(ascii: "<"))
        && Lines(markdown.body).lines.contains { $0.hasPrefix("<<<<<<< ") || $0 == "<<<<<<<" })
  }

  /// The customer's words: the block quote at the top of a case's body.
  public var complaint: String? {
    var quoted: [Substring] = []
    Lines.forEach(in: markdown.body) { line in
      if line.hasPrefix(">") {
        quoted.append(line.dropFirst().drop(while: { $0 == " " }))
      } else if !quoted.isEmpty || line.hasPrefix("#") {
        return false
      }
      return true
    }
    return quoted.isEmpty ? nil : quoted.joined(separator: "\n")
  }

  public var journal: Journal {
    Journal(body: markdown.body, firstLine: markdown.bodyStartLine)
  }

  /// The body without the journal section: what the full-text index reads as the body.
  public var bodyText: String { markdown.body }

  /// Answer ids this document links to (`answer`, `related`, and `[[id]]` or `(answers/id.md)`
  /// links in the body).
  public var links: [String] {
    var out: [String] = []
    if let answer { out.append(answer) }
    out += related
    let body = markdown.body
    var rest = body[...]
    while Self.containsDoubleBracket(rest.utf8), let open = rest.range(of: "[[") {
      guard let close = rest[open.upperBound...].range(of: "]]") else { break }
      let target = rest[open.upperBound..<close.lowerBound]
      if !target.isEmpty, target.count < 200, !target.contains("\n") { out.append(String(target)) }
      rest = rest[close.upperBound...]
    }
    var seen = Set<String>()
    return out.filter { seen.insert($0).inserted }
  }

  // MARK: Editing

  /// Changes front-matter fields. Lines of other fields are kept as they were.
  public mutating func edit(_ change: (inout FrontMatter) -> Void) {
    var fm = frontMatter
    change(&fm)
    markdown.frontMatter = fm
    markdown.bodyStartLine = fm.lineCount + 3
    if let newID = fm.string("id") { id = newID }
  }

  /// Appends a journal entry at the end of the journal section.
  public mutating func append(_ entry: JournalEntry) {
    markdown.body = Journal.appending(entry, to: markdown.body)
  }

  static func containsDoubleBracket(_ bytes: Substring.UTF8View) -> Bool {
    var previous: UInt8 = 0
    for b in bytes {
      if b == UInt8(ascii: "["), previous == b { return true }
      previous = b
    }
    return false
  }

  /// The last path component without `.md`.
  public static func stem(of path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    return name.hasSuffix(".md") ? String(name.dropLast(3)) : name
  }

  /// A file-name-safe id from a title: `"Text repeats on iPhone!"` → `text-repeats-on-iphone`.
  /// A long title is cut at a word boundary, never inside a word (unless its first word alone
  /// is longer than `maxLength`).
  public static func slug(_ title: String, maxLength: Int = 60) -> String {
    var words: [String] = []
    var current = ""
    for scalar in title.lowercased().folding(options: .diacriticInsensitive, locale: nil).unicodeScalars {
      if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) {
        current.unicodeScalars.append(scalar)
      } else if !current.isEmpty {
        words.append(current)
        current = ""
      }
    }
    if !current.isEmpty { words.append(current) }
    var out = ""
    for word in words {
      let next = out.isEmpty ? word : out + "-" + word
      if next.count > maxLength {
        if out.isEmpty { out = String(word.prefix(maxLength)) }
        break
      }
      out = next
    }
    return out.isEmpty ? "untitled" : out
  }

  /// Whether `id` is a safe document id (used in file names, `[[links]]`, URLs and filters).
  ///
  /// One rule for `kb new` and the index alike: not empty, at most 200 characters, not starting
  /// with '.' or '-', and no white space, control or format character (line breaks, bidi marks)
  /// nor any of `/ \ : [ ] | # < > "`. Ids people wrote themselves (`reverted_card_payment?`,
  /// `café-wifi`) stay valid; the ids `kb new` makes use only letters, digits and '-'.
  public static func isValidID(_ id: String) -> Bool {
    guard !id.isEmpty, id.count <= 200, id.first != ".", id.first != "-" else { return false }
    return id.unicodeScalars.allSatisfy { scalar in
      switch scalar.properties.generalCategory {
      case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .surrogate,
        .privateUse, .unassigned:
        return false
      default:
        return !forbiddenInID.contains(scalar)
      }
    }
  }

  /// What a valid id may not hold, for messages.
  public static let idRule = "an id without spaces, line breaks or any of / \\ : [ ] | # < > \" (not starting with '.' or '-')"

  private static let forbiddenInID = Set("/\\:[]|#<>\"".unicodeScalars)

}
