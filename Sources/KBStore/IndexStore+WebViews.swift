import Foundation
import GRDB
import KBCore

extension IndexStore {
  /// For each case with one of `statuses`, the time of its first response entry (one of
  /// `kinds`) and of its latest entry: one query, however many cases there are.
  public func responseTimes(
    statuses: [CaseStatus], kinds: Set<JournalEntry.Kind>
  ) throws(IndexError) -> [String: (first: String?, latest: String?)] {
    guard !statuses.isEmpty else { return [:] }
    let kindList = kinds.map(\.rawValue).sorted()
    let sql = """
      SELECT d.id,
        (SELECT min(e.time) FROM entry e WHERE e.doc = d.rowid AND e.kind IN (\(kindList.map { _ in "?" }.joined(separator: ",")))),
        (SELECT max(e.time) FROM entry e WHERE e.doc = d.rowid)
      FROM document d WHERE d.type = 'case' AND d.status IN (\(statuses.map { _ in "?" }.joined(separator: ",")))
      """
    let arguments = kindList + statuses.map(\.rawValue)
    return try read { db in
      var out: [String: (first: String?, latest: String?)] = [:]
      let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
      while let row = try rows.next() { out[row[0]] = (row[1], row[2]) }
      return out
    }
  }

  /// Channels that cases use, with how many active cases each has.
  public func caseChannels() throws(IndexError) -> [String] {
    try read { db in
      try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM document WHERE type = 'case' AND channel IS NOT NULL ORDER BY channel")
    }
  }
}
