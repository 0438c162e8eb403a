import Foundation
import GRDB
import KBCore

extension IndexStore {
  /// Cases matching `query`, in its order (ties by id).
  public func cases(_ query: CaseListQuery) throws(IndexError) -> [CaseSummary] {
    var filters: [SearchQuery.Filter] = [.type(.case)]
    if let a = query.assignee { filters.append(.assignee(a)) }
    if let c = query.channel { filters.append(.channel(c)) }
    if let c = query.customer { filters.append(.customer(c)) }
    if let t = query.tag { filters.append(.tag(t.hasPrefix("#") ? String(t.dropFirst()) : t)) }
    if let a = query.answer { filters.append(.answer(a)) }
    var (conditions, arguments) = Self.sql(filters, table: "d")
    if !query.statuses.isEmpty {
      conditions.append("d.status IN (" + query.statuses.map { _ in "?" }.joined(separator: ",") + ")")
      for status in query.statuses { arguments.append(status.rawValue) }
    }
    if let since = query.since {
      conditions.append("d.opened >= ?")
      arguments.append(since)
    }
    if let before = query.before {
      conditions.append("d.opened < ?")
      arguments.append(before)
    }
    if let day = query.followUpBy {
      conditions.append("d.follow_up IS NOT NULL AND d.follow_up <= ?")
      arguments.append(day)
    }
    let direction = query.descending ? "DESC" : "ASC"
    let order: String
    switch query.sort {
    case .opened: order = "coalesce(d.opened, '') \(direction), d.id"
    case .updated: order = "updated \(direction), d.id"
    case .followUp: order = "d.follow_up IS NULL, d.follow_up \(direction), coalesce(d.opened, ''), d.id"
    case .status:
      let rank = CaseStatus.allCases.enumerated().map { "WHEN '\($0.element.rawValue)' THEN \($0.offset)" }
        .joined(separator: " ")
      order = "CASE d.status \(rank) ELSE 99 END \(direction), coalesce(d.opened, ''), d.id"
    }
    var sql = """
      SELECT d.id, d.path, d.title, d.status, d.assignee, d.channel, d.customer, d.answer, d.opened,
        coalesce((SELECT max(e.time) FROM entry e WHERE e.doc = d.rowid), d.opened, '') AS updated,
        d.follow_up, d.tags
      FROM document d WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)
      """
    if let limit = query.limit {
      sql += " LIMIT ?"
      arguments.append(limit)
    }
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
        let updated: String = row[9]
        return CaseSummary(
          id: row[0], path: row[1], title: row[2], status: row[3] ?? CaseStatus.open.rawValue, assignee: row[4],
          channel: row[5], customer: row[6], answer: row[7], opened: row[8],
          updated: updated.isEmpty ? nil : updated, followUp: row[10], tags: Self.splitTags(row[11]))
      }
    }
  }

  /// Every case's facts for `kb stats`: two queries (cases, then their journal entries in
  /// order), however many cases there are.
  public func caseFacts() throws(IndexError) -> [CaseFacts] {
    try read { db in
      var facts: [CaseFacts] = []
      var position: [Int64: Int] = [:]
      let rows = try Row.fetchCursor(db, sql: """
        SELECT rowid, id, opened, assignee, answer, follow_up, status, channel, customer, tags FROM document
        WHERE type = 'case' ORDER BY coalesce(opened, ''), id
        """)
      while let row = try rows.next() {
        position[row[0]] = facts.count
        let opened: String? = row[2]
        let status: String? = row[6]
        facts.append(CaseFacts(
          id: row[1], opened: opened.flatMap(Timestamp.parse), assignee: row[3], answer: row[4],
          followUp: row[5], status: status.flatMap(CaseStatus.init(rawValue:)) ?? .open, entries: [],
          channel: row[7], customer: row[8], tags: Self.splitTags(row[9])))
      }
      let entries = try Row.fetchCursor(db, sql: """
        SELECT e.doc, e.time, e.author, e.kind, e.text FROM entry e JOIN document d ON d.rowid = e.doc
        WHERE d.type = 'case' ORDER BY e.doc, e.time, e.rowid
        """)
      while let row = try entries.next() {
        guard let index = position[row[0]], let time = Timestamp.parse(row[1]) else { continue }
        facts[index].entries.append(JournalEntry(
          time: time, author: row[2], kind: JournalEntry.Kind(rawValue: row[3]), text: row[4]))
      }
      return facts
    }
  }
}

extension IndexStore {
  /// Distinct ids starting with `prefix` (case-insensitively), sorted, at most `limit`.
  public func ids(withPrefix prefix: String, type: DocumentType? = nil, limit: Int) throws(IndexError) -> [String] {
    let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
      .replacingOccurrences(of: "_", with: "\\_")
    var sql = "SELECT DISTINCT id FROM document WHERE id LIKE ? ESCAPE '\\'"
    var arguments: [any DatabaseValueConvertible] = [escaped + "%"]
    if let type {
      sql += " AND type = ?"
      arguments.append(type.rawValue)
    }
    sql += " ORDER BY id LIMIT ?"
    arguments.append(limit)
    return try read { db in try String.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
  }

  /// Every document id with its type (for "did you mean").
  public func allIDs() throws(IndexError) -> [(id: String, type: DocumentType)] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT id, type FROM document").map { ($0[0], DocumentType(rawValue: $0[1]) ?? .answer) }
    }
  }
}

extension IndexStore {
  /// A case matched by the full-text index: enough to tell whether it is the same problem.
  public struct CaseCandidate: Sendable {
    public var id: String
    public var path: String
    public var title: String
    public var status: String
  }

  /// Cases matching an FTS5 `pattern`, best first, up to `limit` for each status in `statuses`
  /// (in one query: the full-text match is the costly part). Only cases of these statuses
  /// are ranked, so many cases of another (closed ones) never crowd them out. Ranked by bm25
  /// without the snippets a search shows.
  public func caseCandidates(_ pattern: String, statuses: [String], limit: Int) throws(IndexError) -> [CaseCandidate] {
    guard !statuses.isEmpty else { return [] }
    let w = Self.columnWeights
    let sql = """
      SELECT d.id, d.path, d.title, d.status,
        bm25(document_fts, \(w.title), \(w.symptoms), \(w.tags), \(w.body)) AS score
      FROM document_fts JOIN document d ON d.rowid = document_fts.rowid
      WHERE document_fts MATCH ? AND d.type = 'case' AND d.status IN (\(statuses.map { _ in "?" }.joined(separator: ",")))
      ORDER BY score, d.path LIMIT ?
      """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments([pattern] + statuses + [limit * statuses.count])).map {
        CaseCandidate(id: $0[0], path: $0[1], title: $0[2], status: $0[3])
      }
    }
  }
}
