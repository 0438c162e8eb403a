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

  /// Every case's facts for `kb stats`, ordered by opening: two queries (cases, then their
  /// journal entries in order), however many cases there are. With `statuses`, only the cases
  /// in one of them (the queue's active cases, without reading every resolved case's journal).
  ///
  /// Every case's facts are kept in memory (``CaseFactsMemo``) from one call to the next: a later
  /// call reads one row per case (`rowid`, `size`, `mtime`, `id`) and the facts of only the cases
  /// whose row changed (a file rewritten is re-inserted with its new size and modification time),
  /// so a long-lived process (`kb serve`) recomputes the figures after a one-file change without
  /// reading every journal again.
  public func caseFacts(statuses: [CaseStatus] = []) throws(IndexError) -> [CaseFacts] {
    if !statuses.isEmpty {
      return try read { db in
        let marks = statuses.map { _ in "?" }.joined(separator: ",")
        return try Self.loadFacts(db, where: "d.status IN (\(marks))", arguments: StatementArguments(statuses.map(\.rawValue)))
          .map(\.facts)
      }
    }
    return try read { db in try factsMemo.facts(db) }
  }

  /// Reads the facts of the cases matching `condition` (on `document d`), ordered by opening.
  fileprivate static func loadFacts(_ db: Database, where condition: String, arguments: StatementArguments) throws
    -> [(rowid: Int64, key: CaseFactsMemo.Key, order: String, facts: CaseFacts)]
  {
    var out: [(rowid: Int64, key: CaseFactsMemo.Key, order: String, facts: CaseFacts)] = []
    var position: [Int64: Int] = [:]
    let rows = try Row.fetchCursor(db, sql: """
      SELECT rowid, id, opened, assignee, answer, follow_up, status, channel, customer, tags, size, mtime FROM document d
      WHERE type = 'case' AND \(condition) ORDER BY coalesce(opened, ''), id
      """, arguments: arguments)
    while let row = try rows.next() {
      let rowid: Int64 = row[0]
      position[rowid] = out.count
      let opened: String? = row[2]
      let status: String? = row[6]
      let id: String = row[1]
      out.append((rowid, CaseFactsMemo.Key(id: id, size: row[10], mtime: row[11]), (opened ?? "") + "\u{0}" + id, CaseFacts(
        id: id, opened: opened.flatMap(Timestamp.parse), assignee: row[3], answer: row[4],
        followUp: row[5], status: status.flatMap(CaseStatus.init(rawValue:)) ?? .open, entries: [],
        channel: row[7], customer: row[8], tags: Self.splitTags(row[9]))))
    }
    let entries = try Row.fetchCursor(db, sql: """
      SELECT e.doc, e.time, e.author, e.kind, e.text FROM entry e JOIN document d ON d.rowid = e.doc
      WHERE d.type = 'case' AND \(condition) ORDER BY e.doc, e.time, e.rowid
      """, arguments: arguments)
    while let row = try entries.next() {
      guard let index = position[row[0]], let time = Timestamp.parse(row[1]) else { continue }
      out[index].facts.entries.append(JournalEntry(
        time: time, author: row[2], kind: JournalEntry.Kind(rawValue: row[3]), text: row[4]))
    }
    return out
  }
}

/// Every case's facts as last read from one index (``IndexStore/caseFacts(statuses:)``), with
/// what identifies each case's row, so that only the cases whose row changed are read again.
final class CaseFactsMemo: @unchecked Sendable {
  struct Key: Equatable {
    var id: String
    var size: Int64
    var mtime: Int64
  }
  private let lock = NSLock()
  private var keys: [Int64: Key] = [:]
  /// The facts in order (by opening, then id), and where each case's are.
  private var ordered: [CaseFacts] = []
  private var orders: [String] = []
  private var position: [Int64: Int] = [:]
  private var filled = false

  /// Above this many changed cases one full read is cheaper than reading them by rowid.
  static let fullReadAbove = 500

  func facts(_ db: Database) throws -> [CaseFacts] {
    try lock.withLock {
      var current: [Int64: Key] = [:]
      current.reserveCapacity(keys.count)
      var changed: [Int64] = []
      let rows = try Row.fetchCursor(db, sql: "SELECT rowid, id, size, mtime FROM document WHERE type = 'case'")
      while let row = try rows.next() {
        let rowid: Int64 = row[0]
        let key = Key(id: row[1], size: row[2], mtime: row[3])
        if keys[rowid] != key { changed.append(rowid) }
        current[rowid] = key
      }
      let removed = current.count - (changed.count - changed.filter { keys[$0] != nil }.count) != keys.count
      if filled, changed.isEmpty, !removed { return ordered }
      if !filled || removed || changed.count > Self.fullReadAbove {
        let all = try IndexStore.loadFacts(db, where: "1", arguments: [])
        ordered = all.map(\.facts)
        orders = all.map(\.order)
        position = Dictionary(all.enumerated().map { ($0.element.rowid, $0.offset) }, uniquingKeysWith: { a, _ in a })
        keys = Dictionary(all.map { ($0.rowid, $0.key) }, uniquingKeysWith: { a, _ in a })
        filled = true
        return ordered
      }
      var fresh: [(rowid: Int64, key: Key, order: String, facts: CaseFacts)] = []
      for chunk in stride(from: 0, to: changed.count, by: 200).map({ Array(changed[$0..<min($0 + 200, changed.count)]) }) {
        let marks = chunk.map { _ in "?" }.joined(separator: ",")
        fresh += try IndexStore.loadFacts(db, where: "d.rowid IN (\(marks))", arguments: StatementArguments(chunk))
      }
      // A case whose place in the order is unchanged (a journal entry added) is replaced in
      // place; otherwise the order is rebuilt.
      var inPlace = fresh.count == changed.count
      for f in fresh where inPlace {
        guard let i = position[f.rowid], orders[i] == f.order else { inPlace = false; break }
      }
      for f in fresh { keys[f.rowid] = f.key }
      if inPlace {
        for f in fresh { ordered[position[f.rowid]!] = f.facts }
      } else {
        var rowsByOrder = position.map { (rowid: $0.key, order: orders[$0.value], facts: ordered[$0.value]) }
        let replaced = Set(fresh.map(\.rowid))
        rowsByOrder.removeAll { replaced.contains($0.rowid) }
        rowsByOrder += fresh.map { ($0.rowid, $0.order, $0.facts) }
        rowsByOrder.sort { $0.order < $1.order }
        ordered = rowsByOrder.map(\.facts)
        orders = rowsByOrder.map(\.order)
        position = Dictionary(rowsByOrder.enumerated().map { ($0.element.rowid, $0.offset) }, uniquingKeysWith: { a, _ in a })
      }
      // A row that changed between the two reads is read again next time (its key differs).
      for rowid in changed where !fresh.contains(where: { $0.rowid == rowid }) { keys[rowid] = nil }
      return ordered
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
