import Foundation
import GRDB
import KBCore

/// The suggestion model's inputs, kept by the index on the same write path as the documents.
///
/// - `suggest_input`: one row per document the model learns from (an answer, or a resolved or
///   closed case's complaint; ``SuggestInputs``) with a stable hash of exactly what it reads;
/// - `suggest_state`: the count and two 31-bit sums of those hashes, updated by deltas in the
///   transaction that adds or removes a document: the model's key (``suggestState()``), which a
///   journal line, a check back or an open case's edit leaves alone;
/// - `answer_evidence`: per answer id, the cases that name it and their check backs that held
///   or did not hold, also updated by deltas (trust is read from here at query time, not from
///   the built model).
extension IndexStore {
  static let checkBackKind = "checked-back"

  /// The key of the suggestion model's inputs: changes exactly when an answer's texts, a
  /// teaching case's complaint, or which documents teach change.
  public func suggestState() throws(IndexError) -> String {
    try read { db in try Self.suggestState(db) }
  }

  static func suggestState(_ db: Database) throws -> String {
    guard let row = try Row.fetchOne(db, sql: "SELECT documents, sum1, sum2 FROM suggest_state WHERE id = 0") else {
      return "none"
    }
    let n: Int64 = row[0], a: Int64 = row[1], b: Int64 = row[2]
    return "m\(n)-\(a)-\(b)"
  }

  /// Case and check-back counts per answer id (only answers some case names); all of them, or
  /// those of `ids`.
  public func answerEvidence(ids: [String]? = nil) throws(IndexError) -> [String: (cases: Int, held: Int, failed: Int)] {
    try read { db in
      var out: [String: (cases: Int, held: Int, failed: Int)] = [:]
      if let ids {
        let statement = try db.cachedStatement(sql: "SELECT answer, cases, held, failed FROM answer_evidence WHERE answer = ?")
        for id in Set(ids) {
          if let row = try Row.fetchOne(statement, arguments: [id]) { out[row[0]] = (row[1], row[2], row[3]) }
        }
        return out
      }
      let rows = try Row.fetchCursor(db, sql: "SELECT answer, cases, held, failed FROM answer_evidence")
      while let row = try rows.next() { out[row[0]] = (row[1], row[2], row[3]) }
      return out
    }
  }

  /// The answers some check back was about: held and did-not-hold counts (what the ranker's
  /// trust needs for every answer; usually few, read through a partial index).
  public func answerTrust() throws(IndexError) -> [String: (held: Int, failed: Int)] {
    try read { db in
      var out: [String: (held: Int, failed: Int)] = [:]
      let rows = try Row.fetchCursor(
        db, sql: "SELECT answer, held, failed FROM answer_evidence INDEXED BY answer_evidence_checked WHERE held > 0 OR failed > 0")
      while let row = try rows.next() { out[row[0]] = (row[1], row[2]) }
      return out
    }
  }

  /// The rows a document adds (inside the transaction that inserts it).
  static func addSuggestRows(
    rowid: Int64, type: String, path: String, id: String, title: String, symptoms: String, tags: String,
    body: String, status: String?, answer: String?, checkBacks: [String], log: Bool = true, _ db: Database
  ) throws {
    if let fields = SuggestInputs.fields(
      type: type, path: path, id: id, title: title, symptoms: symptoms, tags: tags, body: body, status: status,
      answer: answer)
    {
      let hash = SuggestInputs.hash(fields)
      try db.cachedStatement(sql: "INSERT INTO suggest_input(doc, hash) VALUES (?, ?)").execute(
        arguments: [rowid, Int64(bitPattern: hash)])
      try moveSuggestState(hash: hash, by: 1, db)
      if log { try logSuggestChange(path: path, leaving: nil, db) }
    }
    if type == "case", let answer, !answer.isEmpty {
      let (held, failed) = counts(checkBacks)
      try db.cachedStatement(sql: """
        INSERT INTO answer_evidence(answer, cases, held, failed) VALUES (?, 1, ?, ?)
        ON CONFLICT(answer) DO UPDATE SET cases = cases + 1, held = held + excluded.held, failed = failed + excluded.failed
        """).execute(arguments: [answer, held, failed])
    }
  }

  /// Takes back what ``addSuggestRows`` added for a document about to be deleted.
  static func removeSuggestRows(rowid: Int64, _ db: Database) throws {
    if let stored = try Int64.fetchOne(
      db.cachedStatement(sql: "SELECT hash FROM suggest_input WHERE doc = ?"), arguments: [rowid])
    {
      try moveSuggestState(hash: UInt64(bitPattern: stored), by: -1, db)
      try db.cachedStatement(sql: "DELETE FROM suggest_input WHERE doc = ?").execute(arguments: [rowid])
      // The change log keeps what the model learnt from the document (``logSuggestChange``).
      if let row = try Row.fetchOne(
        db.cachedStatement(sql: """
          SELECT d.type, d.path, d.id, d.title, f.symptoms, f.tags, f.body, d.status, d.answer
          FROM document d JOIN document_fts f ON f.rowid = d.rowid WHERE d.rowid = ?
          """), arguments: [rowid])
      {
        let path: String = row[1]
        let fields = SuggestInputs.fields(
          type: row[0], path: path, id: row[2], title: row[3], symptoms: row[4] ?? "", tags: row[5] ?? "",
          body: row[6] ?? "", status: row[7], answer: row[8])
        try logSuggestChange(path: path, leaving: fields, db)
      }
    }
    guard let row = try Row.fetchOne(
      db.cachedStatement(sql: "SELECT type, answer FROM document WHERE rowid = ?"), arguments: [rowid]),
      (row[0] as String) == "case", let answer: String = row[1], !answer.isEmpty
    else { return }
    let texts = try String.fetchAll(
      db.cachedStatement(sql: "SELECT text FROM entry WHERE doc = ? AND kind = ?"), arguments: [rowid, checkBackKind])
    let (held, failed) = counts(texts)
    try db.cachedStatement(sql: """
      UPDATE answer_evidence SET cases = cases - 1, held = held - ?, failed = failed - ? WHERE answer = ?
      """).execute(arguments: [held, failed, answer])
    try db.cachedStatement(sql: "DELETE FROM answer_evidence WHERE answer = ? AND cases <= 0").execute(arguments: [answer])
  }

  private static func counts(_ checkBacks: [String]) -> (held: Int, failed: Int) {
    var held = 0
    var failed = 0
    for text in checkBacks {
      switch CheckBack.outcome(of: text) {
      case true?: held += 1
      case false?: failed += 1
      case nil: break
      }
    }
    return (held, failed)
  }

  private static func moveSuggestState(hash: UInt64, by sign: Int64, _ db: Database) throws {
    let a = Int64(hash & 0x7FFF_FFFF)
    let b = Int64(hash >> 33)
    try db.cachedStatement(sql: """
      UPDATE suggest_state SET documents = documents + ?, sum1 = sum1 + ?, sum2 = sum2 + ? WHERE id = 0
      """).execute(arguments: [sign, sign * a, sign * b])
  }

  /// Fills the tables from the rows of an index made before they existed (its migration).
  static func backfillSuggestRows(_ db: Database) throws {
    var checks: [Int64: [String]] = [:]
    let entryRows = try Row.fetchCursor(
      db, sql: "SELECT doc, text FROM entry WHERE kind = ? ORDER BY doc, time, rowid", arguments: [checkBackKind])
    while let row = try entryRows.next() { checks[row[0], default: []].append(row[1]) }
    let rows = try Row.fetchCursor(db, sql: """
      SELECT d.rowid, d.type, d.path, d.id, d.title, f.symptoms, f.tags, f.body, d.status, d.answer
      FROM document d JOIN document_fts f ON f.rowid = d.rowid
      """)
    while let row = try rows.next() {
      let rowid: Int64 = row[0]
      try addSuggestRows(
        rowid: rowid, type: row[1], path: row[2], id: row[3], title: row[4], symptoms: row[5] ?? "", tags: row[6] ?? "",
        body: row[7] ?? "", status: row[8], answer: row[9], checkBacks: checks[rowid] ?? [], log: false, db)
    }
  }
}
