/// A problem with a search query that the user must fix.
public struct QueryError: Error, Equatable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A search as the user typed it, parsed into terms and filters.
///
/// User text never reaches FTS5 `MATCH` as typed: every word is rebuilt as a quoted FTS5
/// string, so quotes, `*`, `-`, `:`, `NEAR(`, `AND`, `OR` are searched as words or dropped,
/// never parsed as FTS5 syntax.
///
/// ```swift
/// let q = try SearchQuery(parsing: #"iphone "same text" repeat* tag:sms"#)
/// q.matchPattern(.all) // #""iphone" "same text" "repeat"* "#
/// q.filters            // [.tag("sms")]
/// ```
public struct SearchQuery: Equatable, Sendable {
  public enum Term: Hashable, Sendable {
    case word(String)
    case phrase([String])
    case prefix(String)
    case excluded(String)
  }

  public enum Filter: Hashable, Sendable {
    case type(DocumentType)
    case status(CaseStatus)
    case tag(String)
    case assignee(String)
    case channel(String)
    case customer(String)
    case answer(String)

    /// The two spellings a `customer:` filter matches, with and without the handle's `@`
    /// (`@stevebuttry` and `stevebuttry` are the same customer), compared without case.
    public static func customerSpellings(_ customer: String) -> [String] {
      let bare = customer.hasPrefix("@") ? String(customer.dropFirst()) : customer
      return [bare, "@" + bare]
    }
  }

  public enum Mode: Sendable { case all, any }

  public var terms: [Term] = []
  public var filters: [Filter] = []

  public init(terms: [Term] = [], filters: [Filter] = []) {
    self.terms = terms
    self.filters = filters
  }

  /// The filter keys a query understands (`key:value`).
  public static let filterKeys = ["type", "status", "tag", "assignee", "channel", "customer", "answer"]

  /// Parses a query.
  ///
  /// - Throws: ``QueryError`` for a filter with an impossible value, such as `type:note`.
  public init(parsing text: String) throws(QueryError) {
    for token in Self.tokenize(text) {
      switch token {
      case .quoted(let inner):
        let words = Self.words(in: inner)
        if words.count == 1 { terms.append(.word(words[0])) } else if !words.isEmpty { terms.append(.phrase(words)) }
      case .bare(let raw):
        try parseBare(raw)
      }
    }
    // A term repeated changes nothing in the result but costs FTS5 once per copy (4,000
    // copies of one word took over a minute): keep the first of each. Then a cap on what is
    // left, with a clear error rather than a query that runs for seconds.
    var seen = Set<Term>()
    terms = terms.filter { seen.insert($0).inserted }
    guard terms.count <= Self.maxTerms else {
      throw QueryError(
        "The query is too long: \(terms.count) different words or phrases; kb searches at most \(Self.maxTerms). Keep the words that say what the problem is.")
    }
  }

  /// The most different terms a query may have.
  public static let maxTerms = 64

  private mutating func parseBare(_ raw: String) throws(QueryError) {
    if let colon = raw.firstIndex(of: ":") {
      let key = raw[..<colon].lowercased()
      let value = String(raw[raw.index(after: colon)...])
      if Self.filterKeys.contains(key), !value.isEmpty, !value.contains(":") {
        filters.append(try Self.filter(key: key, value: value))
        return
      }
    }
    if raw.hasPrefix("-"), raw.count > 1 {
      let words = Self.words(in: String(raw.dropFirst()))
      if words.count == 1 { terms.append(.excluded(words[0])); return }
    }
    let words = Self.words(in: raw)
    guard !words.isEmpty else { return }
    if raw.hasSuffix("*"), let last = words.last {
      terms += words.dropLast().map(Term.word)
      terms.append(.prefix(last))
    } else if words.count == 1 {
      terms.append(.word(words[0]))
    } else {
      // "a:b:c" or "wi-fi": the tokenizer would read these as adjacent words.
      terms.append(.phrase(words))
    }
  }

  private static func filter(key: String, value: String) throws(QueryError) -> Filter {
    let v = value.lowercased()
    switch key {
    case "type":
      guard let type = DocumentType(rawValue: v) ?? (v == "answers" ? .answer : v == "cases" ? .case : nil) else {
        throw QueryError("Unknown type '\(value)' in 'type:\(value)'. Use type:answer or type:case.")
      }
      return .type(type)
    case "status":
      guard let status = CaseStatus(rawValue: v) else {
        throw QueryError(
          "Unknown status '\(value)'. Use one of: " + CaseStatus.allCases.map(\.rawValue).joined(separator: ", ") + ".")
      }
      return .status(status)
    case "tag": return .tag(v.hasPrefix("#") ? String(v.dropFirst()) : v)
    case "assignee": return .assignee(value)
    case "channel": return .channel(v)
    case "customer": return .customer(value)
    default: return .answer(value)
    }
  }

  /// Whether the query has any full-text terms (filters alone list documents).
  public var hasText: Bool { terms.contains { if case .excluded = $0 { false } else { true } } }

  /// The FTS5 pattern: every term quoted. `.all` requires each term, `.any` ranks by any term.
  /// `nil` when there is nothing to match.
  public func matchPattern(_ mode: Mode, columns: [String]? = nil) -> String? {
    var positive: [String] = []
    var negative: [String] = []
    for term in terms {
      switch term {
      case .word(let w): positive.append(Self.quote(w))
      case .phrase(let ws): positive.append(Self.quote(ws.joined(separator: " ")))
      case .prefix(let p): positive.append(Self.quote(p) + "*")
      case .excluded(let w): negative.append(Self.quote(w))
      }
    }
    guard !positive.isEmpty else { return nil }
    var pattern = positive.joined(separator: mode == .all ? " " : " OR ")
    if mode == .any, positive.count > 1 { pattern = "(\(pattern))" }
    if let columns, !columns.isEmpty {
      pattern = "{\(columns.joined(separator: " "))} : (\(pattern))"
    }
    for n in negative { pattern += " NOT " + n }
    return pattern
  }

  /// All searched words, for highlighting.
  public var words: [String] {
    terms.flatMap { term -> [String] in
      switch term {
      case .word(let w), .prefix(let w): [w]
      case .phrase(let ws): ws
      case .excluded: []
      }
    }
  }

  public static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  // MARK: Tokenizing

  enum Token: Equatable { case bare(String), quoted(String) }

  /// Splits on white space; `"…"` groups a phrase. An unbalanced quote runs to the end.
  static func tokenize(_ text: String) -> [Token] {
    var tokens: [Token] = []
    var current = ""
    var inQuote = false
    for ch in text {
      if ch == "\"" || ch == "“" || ch == "”" {
        if inQuote {
          tokens.append(.quoted(current))
          current = ""
          inQuote = false
        } else {
          if !current.isEmpty { tokens.append(.bare(current)); current = "" }
          inQuote = true
        }
      } else if !inQuote, ch.isWhitespace {
        if !current.isEmpty { tokens.append(.bare(current)); current = "" }
      } else {
        current.append(ch)
      }
    }
    if !current.isEmpty { tokens.append(inQuote ? .quoted(current) : .bare(current)) }
    return tokens
  }

  /// The words of `text` as FTS5's unicode61 tokenizer sees them: runs of letters and digits,
  /// lowercased. Everything else separates words.
  public static func words(in text: String) -> [String] {
    var out: [String] = []
    var current = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      let p = scalar.properties
      if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark {
        current.append(scalar)
      } else if !current.isEmpty {
        out.append(String(current).lowercased())
        current = String.UnicodeScalarView()
      }
    }
    if !current.isEmpty { out.append(String(current).lowercased()) }
    return out.filter { $0.utf8.count <= 200 }
  }
}
