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

/// A resolved or closed case that names an answer (its complaint teaches the model). Check
/// backs are counted in the index (``IndexStore/answerEvidence()``); `checkBacks` is empty.
public struct SuggestCaseEvidence: Sendable, Equatable {
  public var answer: String
  public var status: String?
  /// The customer's words: the block quote at the top of the case's body
  /// (``SuggestInputs/complaint(inBody:)``), taken as the case is read (the body itself is not
  /// kept: at 100k documents the cases' bodies were ~50 MB of the model build's memory).
  public var complaint: String?
  /// Check-back entries' texts, in journal order.
  public var checkBacks: [String]
}

/// The data `kb suggest` learns from, read in one transaction.
public struct SuggestCorpus: Sendable {
  public var answers: [SuggestAnswer]
  public var cases: [SuggestCaseEvidence]
  /// Identifies the index state the corpus was read from (changes whenever a document does).
  public var state: String
  /// The change log's position when it was read (``IndexStore/withSuggestSnapshot(_:)``).
  public var position = SuggestLogPosition(log: "", seq: 0)
}

extension IndexStore {
  /// A fingerprint of the indexed documents: any add, change or removal changes it (a counter
  /// every write of documents moves, in `meta`: one row read, where a sum over every document
  /// read the whole table, 10 ms at 100k documents, on every suggestion).
  public func contentState() throws(IndexError) -> String {
    try read { db in try Self.contentState(db) }
  }

  static func contentState(_ db: Database) throws -> String {
    // With the change log's name, which a new or erased index draws anew: a counter that
    // starts over cannot repeat an earlier index's value.
    let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key IN ('generation', 'suggest_log')")
    var values: [String: String] = [:]
    for row in rows { values[row[0]] = row[1] }
    return "g\(values["generation"] ?? "0")-\(values["suggest_log"] ?? "")"
  }

  /// Moves the counter ``contentState()`` reads (inside a transaction that writes documents).
  static func bumpGeneration(_ db: Database) throws {
    try db.execute(sql: """
      INSERT INTO meta(key, value) VALUES ('generation', '1')
      ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
      """)
  }

  /// What the suggestion model learns from, read in one transaction: every answer with its
  /// texts (conflicted ones too: they are suggested, marked; see ``conflictedIDs(among:)``), and
  /// every resolved or closed case that names an answer (its complaint teaches the answer's
  /// phrasing), both in path order, so that the same files give the same model whatever order
  /// the index stored them in. `state` is ``suggestState()``.
  public func suggestCorpus() throws(IndexError) -> SuggestCorpus {
    try read { db in try Self.suggestCorpus(db) }
  }

  static func suggestCorpus(_ db: Database) throws -> SuggestCorpus {
    do {
      let state = try Self.suggestState(db)
      var answers: [SuggestAnswer] = []
      let rows = try Row.fetchCursor(db, sql: """
        SELECT d.rowid, d.id, d.path, d.title, f.symptoms, f.tags, f.body
        FROM document d JOIN document_fts f ON f.rowid = d.rowid
        WHERE d.type = 'answer' ORDER BY d.path
        """)
      while let row = try rows.next() {
        let symptoms: String = row[4] ?? ""
        answers.append(SuggestAnswer(
          rowid: row[0], id: row[1], path: row[2], title: row[3],
          symptoms: symptoms.split(separator: "\n").map(String.init), tags: row[5] ?? "", body: row[6] ?? ""))
      }
      var cases: [SuggestCaseEvidence] = []
      let teaching = SuggestInputs.teachingStatuses.sorted().map { "'\($0)'" }.joined(separator: ",")
      let caseRows = try Row.fetchCursor(db, sql: """
        SELECT d.answer, d.status, f.body
        FROM document d JOIN document_fts f ON f.rowid = d.rowid
        WHERE d.type = 'case' AND d.answer IS NOT NULL AND d.answer != '' AND d.status IN (\(teaching))
        ORDER BY d.path
        """)
      while let row = try caseRows.next() {
        cases.append(SuggestCaseEvidence(
          answer: row[0], status: row[1], complaint: SuggestInputs.complaint(inBody: row[2] ?? ""), checkBacks: []))
      }
      return SuggestCorpus(answers: answers, cases: cases, state: state, position: try Self.suggestLogPosition(db))
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
  ) throws(IndexError) -> [(path: String, score: Double)] {
    let sql = """
      SELECT d.path, -bm25(document_fts, \(weights.0), \(weights.1), \(weights.2), \(weights.3)) AS score
      FROM document_fts f JOIN document d ON d.rowid = f.rowid
      WHERE document_fts MATCH ? AND d.type = 'answer'
      ORDER BY bm25(document_fts, \(weights.0), \(weights.1), \(weights.2), \(weights.3)) LIMIT ?
      """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: [pattern, limit]).map { ($0[0], $0[1]) }
    }
  }

  /// An answer's body as indexed (what ``suggestCorpus()`` reads), by path (stable across
  /// rebuilds of the index, unlike row ids); nil if gone.
  public func answerBody(path: String) throws(IndexError) -> String? {
    try read { db in
      let statement = try db.cachedStatement(sql: """
        SELECT f.body FROM document d JOIN document_fts f ON f.rowid = d.rowid WHERE d.path = ?
        """)
      return try String?.fetchOne(statement, arguments: [path]) ?? nil
    }
  }
}
