import Foundation
import GRDB
import KBCore

/// An answer as `kb suggest` reads it from the index.
public struct SuggestAnswer: Sendable, Equatable {
  public var rowid: Int64
  public var id: String
  public var path: String
  public var title: String
  public var symptoms: [String]
  public var tags: String
  public var body: String

  public init(rowid: Int64, id: String, path: String, title: String, symptoms: [String], tags: String, body: String) {
    self.rowid = rowid
    self.id = id
    self.path = path
    self.title = title
    self.symptoms = symptoms
    self.tags = tags
    self.body = body
  }
}

/// A case that links to an answer, with what its journal says about the fix.
public struct SuggestCaseEvidence: Sendable, Equatable {
  public var answer: String
  public var status: String?
  /// The case body (the complaint is its block quote).
  public var body: String
  /// Check-back entries' texts, in journal order.
  public var checkBacks: [String]
}

/// The data `kb suggest` learns from, read in one transaction.
public struct SuggestCorpus: Sendable {
  public var answers: [SuggestAnswer]
  public var cases: [SuggestCaseEvidence]
  /// Identifies the index state the corpus was read from (changes whenever a document does).
  public var state: String
}

extension IndexStore {
  /// A cheap fingerprint of the indexed documents: any add, change or removal changes it.
  public func contentState() throws(IndexError) -> String {
    try read { db in try Self.contentState(db) }
  }

  static func contentState(_ db: Database) throws -> String {
    let row = try Row.fetchOne(db, sql: """
      SELECT count(*), coalesce(max(rowid), 0), total(mtime % 1000000007), total(size), total(length(path))
      FROM document
      """)
    guard let row else { return "empty" }
    let a: Int64 = row[0], b: Int64 = row[1]
    let c: Double = row[2], d: Double = row[3], e: Double = row[4]
    return "\(a)-\(b)-\(Int64(c))-\(Int64(d))-\(Int64(e))"
  }

  /// Every answer with its texts (conflicted ones too: they are suggested, marked; see
  /// ``conflictedIDs(among:)``), and every case that links to an answer with its journal's
  /// check-back entries.
  public func suggestCorpus() throws(IndexError) -> SuggestCorpus {
    try read { db in
      let state = try Self.contentState(db)
      var answers: [SuggestAnswer] = []
      let rows = try Row.fetchCursor(db, sql: """
        SELECT d.rowid, d.id, d.path, d.title, f.symptoms, f.tags, f.body
        FROM document d JOIN document_fts f ON f.rowid = d.rowid
        WHERE d.type = 'answer' ORDER BY d.rowid
        """)
      while let row = try rows.next() {
        let symptoms: String = row[4] ?? ""
        answers.append(SuggestAnswer(
          rowid: row[0], id: row[1], path: row[2], title: row[3],
          symptoms: symptoms.split(separator: "\n").map(String.init), tags: row[5] ?? "", body: row[6] ?? ""))
      }
      var checks: [Int64: [String]] = [:]
      let entryRows = try Row.fetchCursor(db, sql: """
        SELECT e.doc, e.text FROM entry e JOIN document d ON d.rowid = e.doc
        WHERE e.kind = 'checked-back' AND d.answer IS NOT NULL ORDER BY e.doc, e.time, e.rowid
        """)
      while let row = try entryRows.next() { checks[row[0], default: []].append(row[1]) }
      var cases: [SuggestCaseEvidence] = []
      let caseRows = try Row.fetchCursor(db, sql: """
        SELECT d.rowid, d.answer, d.status, f.body
        FROM document d JOIN document_fts f ON f.rowid = d.rowid
        WHERE d.type = 'case' AND d.answer IS NOT NULL AND d.answer != '' ORDER BY d.rowid
        """)
      while let row = try caseRows.next() {
        let rowid: Int64 = row[0]
        cases.append(SuggestCaseEvidence(
          answer: row[1], status: row[2], body: row[3] ?? "", checkBacks: checks[rowid] ?? []))
      }
      return SuggestCorpus(answers: answers, cases: cases, state: state)
    }
  }

  /// The ids among `ids` of documents with conflicts to settle (markers or a `conflicts:` field).
  public func conflictedIDs(among ids: [String]) throws(IndexError) -> Set<String> {
    guard !ids.isEmpty else { return [] }
    return try read { db in
      let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
      return Set(try String.fetchAll(
        db, sql: "SELECT id FROM document WHERE conflicted AND id IN (\(marks))", arguments: StatementArguments(ids)))
    }
  }

  /// bm25 over answers only, for an FTS5 pattern (already built from quoted terms), best first.
  /// Scores are positive (higher is better). Weights are per column: title, symptoms, tags, body.
  public func answerBM25(
    _ pattern: String, weights: (Double, Double, Double, Double), limit: Int
  ) throws(IndexError) -> [(rowid: Int64, score: Double)] {
    let sql = """
      SELECT f.rowid, -bm25(document_fts, \(weights.0), \(weights.1), \(weights.2), \(weights.3)) AS score
      FROM document_fts f JOIN document d ON d.rowid = f.rowid
      WHERE document_fts MATCH ? AND d.type = 'answer'
      ORDER BY bm25(document_fts, \(weights.0), \(weights.1), \(weights.2), \(weights.3)) LIMIT ?
      """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: [pattern, limit]).map { ($0[0], $0[1]) }
    }
  }

  /// An answer's body as indexed (what ``suggestCorpus()`` reads), by row id; nil if gone.
  public func answerBody(rowid: Int64) throws(IndexError) -> String? {
    try read { db in
      let statement = try db.cachedStatement(sql: "SELECT body FROM document_fts WHERE rowid = ?")
      return try String?.fetchOne(statement, arguments: [rowid]) ?? nil
    }
  }
}
