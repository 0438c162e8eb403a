import Foundation
import GRDB
import KBCore
import KBRank

extension IndexStore {
  /// How a search matched (``SearchMatch``, in KBCore).
  public typealias MatchMode = SearchMatch

  /// Searches the index: every term first; when no document has them all, any term, ranked.
  ///
  /// ```swift
  /// let (hits, mode) = try store.search(SearchQuery(parsing: "text repeats tag:iphone"), limit: 10)
  /// ```
  public func search(_ query: SearchQuery, limit: Int) throws(IndexError) -> (hits: [SearchHit], mode: MatchMode) {
    guard query.hasText else {
      return (try list(query.filters, limit: limit).map(Self.hit), .filters)
    }
    if let pattern = query.matchPattern(.all) {
      let hits = try fullText(pattern, filters: query.filters, limit: limit)
      if !hits.isEmpty || query.terms.count == 1 { return (hits, .all) }
    }
    guard let pattern = query.matchPattern(.any) else { return ([], .all) }
    return (try fullText(pattern, filters: query.filters, limit: limit), .any)
  }

  /// Runs one FTS5 pattern (already built from quoted terms) with filters, best first; equal
  /// scores by path, so that the order does not depend on the order rows were written in (an
  /// index updated file by file and one rebuilt give the same list).
  public func fullText(_ pattern: String, filters: [SearchQuery.Filter], limit: Int) throws(IndexError) -> [SearchHit] {
    let w = Self.columnWeights
    let (conditions, arguments) = Self.sql(filters)
    let sql = """
      SELECT d.id, d.type, d.path, d.title, d.status, d.assignee, d.tags,
        bm25(document_fts, \(w.title), \(w.symptoms), \(w.tags), \(w.body)) AS score,
        snippet(document_fts, -1, char(2), char(3), '…', 14) AS snippet
      FROM document_fts JOIN document d ON d.rowid = document_fts.rowid
      WHERE document_fts MATCH ?\(conditions.isEmpty ? "" : " AND " + conditions.joined(separator: " AND "))
      ORDER BY score, d.path LIMIT ?
      """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments([pattern] + arguments + [limit])).map { row in
        SearchHit(
          id: row[0], type: DocumentType(rawValue: row[1]) ?? .answer, path: row[2], title: row[3],
          status: row[4], assignee: row[5], tags: Self.splitTags(row[6]), score: row[7],
          snippet: Self.clean(row[8]))
      }
    }
  }

  /// Documents matching filters, answers first, then by id.
  public func list(_ filters: [SearchQuery.Filter], limit: Int? = nil) throws(IndexError) -> [DocumentSummary] {
    let (conditions, arguments) = Self.sql(filters, table: "document")
    var sql = """
      SELECT id, type, path, title, status, assignee, channel, customer, answer, opened, follow_up,
        updated, tags FROM document
      """
    if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
    sql += " ORDER BY type, coalesce(opened, ''), id"
    var args = arguments
    if let limit {
      sql += " LIMIT ?"
      args.append(limit)
    }
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.summary)
    }
  }

  /// The summary of one document by id, or `nil`.
  public func summary(id: String) throws(IndexError) -> DocumentSummary? {
    try read { db in
      try Row.fetchOne(db, sql: """
        SELECT id, type, path, title, status, assignee, channel, customer, answer, opened, follow_up,
          updated, tags FROM document WHERE id = ? ORDER BY path LIMIT 1
        """, arguments: [id]).map(Self.summary)
    }
  }

  static func summary(_ row: Row) -> DocumentSummary {
    DocumentSummary(
      id: row[0], type: DocumentType(rawValue: row[1]) ?? .answer, path: row[2], title: row[3],
      status: row[4], assignee: row[5], channel: row[6], customer: row[7], answer: row[8],
      opened: row[9], followUp: row[10], updated: row[11], tags: splitTags(row[12]))
  }

  static func hit(_ s: DocumentSummary) -> SearchHit {
    SearchHit(
      id: s.id, type: s.type, path: s.path, title: s.title, status: s.status, assignee: s.assignee,
      tags: s.tags, score: 0, snippet: "")
  }

  static func splitTags(_ text: String) -> [String] {
    text.split(separator: " ").map(String.init)
  }

  /// Collapses white space in a snippet so it prints on one line.
  static func clean(_ snippet: String) -> String {
    var out = ""
    var space = false
    for ch in snippet {
      if ch.isWhitespace {
        space = true
      } else {
        if space, !out.isEmpty { out.append(" ") }
        space = false
        out.append(ch)
      }
    }
    return out
  }

  /// SQL conditions for filters. Values are bound, never spliced.
  static func sql(_ filters: [SearchQuery.Filter], table: String = "d") -> ([String], [any DatabaseValueConvertible]) {
    var conditions: [String] = []
    var arguments: [any DatabaseValueConvertible] = []
    let t = table
    for filter in filters {
      switch filter {
      case .type(let type):
        conditions.append("\(t).type = ?")
        arguments.append(type.rawValue)
      case .status(let status):
        conditions.append("\(t).status = ?")
        arguments.append(status.rawValue)
      case .tag(let tag):
        conditions.append("instr(\(t).tags, ?) > 0")
        arguments.append(" \(tag.lowercased()) ")
      case .assignee(let who):
        conditions.append("\(t).assignee = ? COLLATE NOCASE")
        arguments.append(who)
      case .channel(let channel):
        conditions.append("\(t).channel = ? COLLATE NOCASE")
        arguments.append(channel)
      case .customer(let customer):
        conditions.append("(\(t).customer = ? COLLATE NOCASE OR \(t).customer = ? COLLATE NOCASE)")
        let bare = customer.hasPrefix("@") ? String(customer.dropFirst()) : customer
        arguments.append(bare)
        arguments.append("@" + bare)
      case .answer(let answer):
        conditions.append("\(t).answer = ?")
        arguments.append(answer)
      }
    }
    return (conditions, arguments)
  }
}
