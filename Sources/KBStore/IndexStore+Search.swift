import Foundation
import GRDB
import KBCore
import KBRank

extension IndexStore {
  /// How a search matched (``SearchMatch``, in KBCore).
  public typealias MatchMode = SearchMatch

  /// Searches the index, ranked by relevance with every word preferred, not required:
  /// documents holding every word come first (bm25 order), then, while the limit is not
  /// filled, documents missing some words, those with more of the words first. Each hit says
  /// which of the query's words it holds (`matched`). `mode` is `all` when some hit has every
  /// word, `any` when none does.
  ///
  /// ```swift
  /// let (hits, mode) = try store.search(SearchQuery(parsing: "text repeats tag:iphone"), limit: 10)
  /// ```
  public func search(_ query: SearchQuery, limit: Int) throws(IndexError) -> (hits: [SearchHit], mode: MatchMode) {
    guard query.hasText else {
      return (try list(query.filters, limit: limit).map(Self.hit), .filters)
    }
    let positive = query.terms.filter { if case .excluded = $0 { false } else { true } }
    let excluded = query.terms.filter { if case .excluded = $0 { true } else { false } }
    let labels = positive.map(Self.label)
    var hits: [SearchHit] = []
    if let pattern = query.matchPattern(.all) {
      hits = try fullText(pattern, filters: query.filters, limit: limit).map { var h = $0; h.matched = labels; return h }
    }
    let complete = hits.count
    if hits.count < limit, positive.count > 1, let pattern = Self.relaxedPattern(positive, excluded: excluded) {
      let seen = Set(hits.map(\.path))
      var more = try fullText(pattern, filters: query.filters, limit: complete + limit * 3).filter { !seen.contains($0.path) }
      var holds: [String: [String]] = [:]
      for (term, label) in zip(positive, labels) {
        guard let single = Self.relaxedPattern([term], excluded: excluded) else { continue }
        for path in try paths(matching: single, among: more.map(\.path)) { holds[path, default: []].append(label) }
      }
      for i in more.indices { more[i].matched = holds[more[i].path] ?? [] }
      more = more.enumerated().sorted { a, b in
        let (x, y) = (a.element.matched?.count ?? 0, b.element.matched?.count ?? 0)
        return x != y ? x > y : a.offset < b.offset
      }.map(\.element)
      hits += more.prefix(limit - hits.count)
    }
    return (hits, complete > 0 || positive.count <= 1 ? .all : .any)
  }

  /// Any of the terms, each also as a prefix when it is a word of four letters or more, so that
  /// the fallback finds `statuses` for `status` (porter stems them differently).
  static func relaxedPattern(_ positive: [SearchQuery.Term], excluded: [SearchQuery.Term]) -> String? {
    let parts: [String] = positive.compactMap { term in
      switch term {
      case .word(let w): w.count >= 4 ? "(\(SearchQuery.quote(w)) OR \(SearchQuery.quote(w))*)" : SearchQuery.quote(w)
      case .phrase(let ws): SearchQuery.quote(ws.joined(separator: " "))
      case .prefix(let p): SearchQuery.quote(p) + "*"
      case .excluded: nil
      }
    }
    guard !parts.isEmpty else { return nil }
    var pattern = parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " OR ") + ")"
    for term in excluded { if case .excluded(let w) = term { pattern += " NOT " + SearchQuery.quote(w) } }
    return pattern
  }

  /// How a term is named in `matched`: the word, the phrase, `prefix*`.
  static func label(_ term: SearchQuery.Term) -> String {
    switch term {
    case .word(let w): w
    case .phrase(let ws): ws.joined(separator: " ")
    case .prefix(let p): p + "*"
    case .excluded(let w): "-" + w
    }
  }

  /// The paths among `candidates` whose text matches an FTS5 pattern.
  func paths(matching pattern: String, among candidates: [String]) throws(IndexError) -> [String] {
    guard !candidates.isEmpty else { return [] }
    let sql = """
      SELECT d.path FROM document_fts JOIN document d ON d.rowid = document_fts.rowid
      WHERE document_fts MATCH ? AND d.path IN (\(candidates.map { _ in "?" }.joined(separator: ",")))
      """
    return try read { db in try String.fetchAll(db, sql: sql, arguments: StatementArguments([pattern] + candidates)) }
  }

  /// Runs one FTS5 pattern (already built from quoted terms) with filters, best first; equal
  /// scores by path, so that the order does not depend on the order rows were written in (an
  /// index updated file by file and one rebuilt give the same list).
  public func fullText(_ pattern: String, filters: [SearchQuery.Filter], limit: Int) throws(IndexError) -> [SearchHit] {
    let w = Self.columnWeights
    let bm25 = "bm25(document_fts, \(w.title), \(w.symptoms), \(w.tags), \(w.body))"
    let columns = "d.id, d.type, d.path, d.title, d.status, d.assignee, d.tags"
    let snippet = "snippet(document_fts, -1, char(2), char(3), '…', 14)"
    let (conditions, arguments) = Self.sql(filters)
    // Without filters, in two steps: the best `limit + 1` rows by score alone (no join, no
    // snippet for the thousands of rows a common word matches), then the document row and
    // the snippet for those only; about twice as fast at 100k documents. One more row than
    // asked tells whether equal scores straddle the cut: then which of them are in the first
    // `limit` must be decided by path, and the one-step query below does it. CROSS JOIN keeps
    // SQLite from scanning every match again in the outer query (with bound parameters it
    // would: 1,450 page reads instead of 330 for two common words at 100k).
    if conditions.isEmpty {
      let sql = """
        WITH top AS (
          SELECT rowid AS r, \(bm25) AS score FROM document_fts
          WHERE document_fts MATCH ?1 ORDER BY score LIMIT ?2)
        SELECT \(columns), top.score, \(snippet)
        FROM top CROSS JOIN document_fts ON document_fts.rowid = top.r CROSS JOIN document d ON d.rowid = top.r
        WHERE document_fts MATCH ?1
        ORDER BY top.score, d.path
        """
      let rows = try read { db in try Row.fetchAll(db, sql: sql, arguments: [pattern, limit + 1]) }
      let scores = rows.map { $0[7] as Double }
      if limit > 0, rows.count <= limit || scores[limit - 1] != scores[limit] {
        return rows.prefix(limit).map(Self.hit(fullTextRow:))
      }
    }
    let sql = """
      SELECT \(columns), \(bm25) AS score, \(snippet) AS snippet
      FROM document_fts JOIN document d ON d.rowid = document_fts.rowid
      WHERE document_fts MATCH ?\(conditions.isEmpty ? "" : " AND " + conditions.joined(separator: " AND "))
      ORDER BY score, d.path LIMIT ?
      """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments([pattern] + arguments + [limit])).map(Self.hit(fullTextRow:))
    }
  }

  static func hit(fullTextRow row: Row) -> SearchHit {
    SearchHit(
      id: row[0], type: DocumentType(rawValue: row[1]) ?? .answer, path: row[2], title: row[3],
      status: row[4], assignee: row[5], tags: splitTags(row[6]), score: row[7], snippet: clean(row[8]))
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
        arguments += SearchQuery.Filter.customerSpellings(customer).map { $0 as any DatabaseValueConvertible }
      case .answer(let answer):
        conditions.append("\(t).answer = ?")
        arguments.append(answer)
      }
    }
    return (conditions, arguments)
  }
}
