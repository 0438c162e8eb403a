import Foundation

// The values the index answers with. They live in the core, not in KBStore, so that the
// application layer (KBWorkspace) can return them to the front ends without the front ends
// seeing the store.

/// How a search matched: every term, or (when nothing had them all) any term; `filters` when
/// the query had no text.
public enum SearchMatch: String, Sendable, Codable { case all, any, filters }

/// A search result.
public struct SearchHit: Equatable, Sendable, Codable {
  public var id: String
  public var type: DocumentType
  public var path: String
  public var title: String
  public var status: String?
  public var assignee: String?
  public var tags: [String]
  /// Lower is better, as FTS5's bm25() returns it; 0 when listing without text.
  public var score: Double
  /// A short excerpt; matched terms are wrapped in ``SearchHit/highlightStart`` and
  /// ``SearchHit/highlightEnd``.
  public var snippet: String
  /// The query's words (phrases, `prefix*`) this document holds; set by full-text searches.
  public var matched: [String]?

  public static let highlightStart = "\u{2}"
  public static let highlightEnd = "\u{3}"

  public init(
    id: String, type: DocumentType, path: String, title: String, status: String?, assignee: String?, tags: [String],
    score: Double, snippet: String
  ) {
    self.id = id
    self.type = type
    self.path = path
    self.title = title
    self.status = status
    self.assignee = assignee
    self.tags = tags
    self.score = score
    self.snippet = snippet
  }

  /// `snippet` with the highlight markers turned into `open` and `close`.
  public static func highlight(_ snippet: String, open: String, close: String) -> String {
    snippet.replacingOccurrences(of: highlightStart, with: open).replacingOccurrences(of: highlightEnd, with: close)
  }

  /// The hit with its snippet's matched terms wrapped in `**`, as Markdown bold: the form every
  /// JSON result (`kb search --json`, MCP `search`) carries.
  public var markdownSnippet: SearchHit {
    var hit = self
    hit.snippet = Self.highlight(snippet, open: "**", close: "**")
    return hit
  }
}

/// A document's row in the index, for listings.
public struct DocumentSummary: Equatable, Sendable, Codable {
  public var id: String
  public var type: DocumentType
  public var path: String
  public var title: String
  public var status: String?
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var answer: String?
  public var opened: String?
  public var followUp: String?
  public var updated: String?
  public var tags: [String]

  public init(
    id: String, type: DocumentType, path: String, title: String, status: String?, assignee: String?, channel: String?,
    customer: String?, answer: String?, opened: String?, followUp: String?, updated: String?, tags: [String]
  ) {
    self.id = id
    self.type = type
    self.path = path
    self.title = title
    self.status = status
    self.assignee = assignee
    self.channel = channel
    self.customer = customer
    self.answer = answer
    self.opened = opened
    self.followUp = followUp
    self.updated = updated
    self.tags = tags
  }
}

/// A file the index skipped, with the reason.
public struct IndexProblem: Equatable, Sendable, Codable {
  public var path: String
  public var line: Int?
  public var message: String
  public init(path: String, line: Int?, message: String) {
    self.path = path
    self.line = line
    self.message = message
  }
}

/// Document counts by kind.
public struct IndexCounts: Equatable, Sendable, Codable {
  public var answers: Int
  public var cases: Int
  public var problems: Int
  public var documents: Int { answers + cases }

  public init(answers: Int, cases: Int, problems: Int) {
    self.answers = answers
    self.cases = cases
    self.problems = problems
  }
}

/// A case's row for `kb cases` and `kb case due`.
public struct CaseSummary: Equatable, Sendable, Codable {
  public var id: String
  public var path: String
  public var title: String
  public var status: String
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var answer: String?
  public var opened: String?
  /// The time of the latest journal entry (or `opened` when the journal is empty).
  public var updated: String?
  public var followUp: String?
  public var tags: [String]

  enum CodingKeys: String, CodingKey {
    case id, path, title, status, assignee, channel, customer, answer, opened, updated, tags
    case followUp = "follow_up"
  }

  public init(
    id: String, path: String, title: String, status: String, assignee: String?, channel: String?, customer: String?,
    answer: String?, opened: String?, updated: String?, followUp: String?, tags: [String]
  ) {
    self.id = id
    self.path = path
    self.title = title
    self.status = status
    self.assignee = assignee
    self.channel = channel
    self.customer = customer
    self.answer = answer
    self.opened = opened
    self.updated = updated
    self.followUp = followUp
    self.tags = tags
  }
}

/// Filters and order for listing cases.
public struct CaseListQuery: Equatable, Sendable {
  public enum Sort: String, Sendable, CaseIterable, Codable {
    case opened, updated, status
    case followUp = "follow-up"
  }

  public var statuses: [CaseStatus] = []
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var tag: String?
  public var answer: String?
  /// Opened on or after this day or time (ISO, UTC).
  public var since: String?
  /// Opened before this day or time (ISO, UTC).
  public var before: String?
  /// Follow-up on or before this day.
  public var followUpBy: String?
  public var sort: Sort = .opened
  public var descending = false
  public var limit: Int?

  public init() {}
}

