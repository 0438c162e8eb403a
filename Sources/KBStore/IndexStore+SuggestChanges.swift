import Foundation
import GRDB
import KBCore

/// What the suggestion model learns from one document (an answer, or a resolved or closed
/// case's complaint and the answer it names): exactly the inputs ``SuggestInputs/fields`` hashes.
public struct SuggestRecord: Sendable, Equatable {
  public var path: String
  /// An answer (nil for a case).
  public var answer: SuggestAnswer?
  /// A case: the answer id it names and its complaint (nil for an answer).
  public var teaching: (answer: String, complaint: String)?

  /// The same inputs (an answer's row id is not one: re-indexing the same text changes it).
  public static func == (a: SuggestRecord, b: SuggestRecord) -> Bool {
    func inputs(_ x: SuggestAnswer?) -> SuggestAnswer? { x.map { var y = $0; y.rowid = 0; return y } }
    return a.path == b.path && inputs(a.answer) == inputs(b.answer) && a.teaching?.answer == b.teaching?.answer
      && a.teaching?.complaint == b.teaching?.complaint
  }
}

/// Where the suggestion model's change log stands: which log (an index made anew starts
/// another) and its last change.
public struct SuggestLogPosition: Sendable, Equatable, Codable {
  public var log: String
  public var seq: Int64
  public init(log: String, seq: Int64) {
    self.log = log
    self.seq = seq
  }
}

/// A document the model learns from that changed since a log position: what it was then and
/// what it is now (nil: it did not teach, or did not exist).
public struct SuggestChange: Sendable, Equatable {
  public var path: String
  public var before: SuggestRecord?
  public var now: SuggestRecord?
}

/// The suggestion model's change log (`suggest_change`), kept on the same write path as the
/// documents: when a document that teaches the model is removed or replaced, its old inputs
/// are recorded; when one is added, its path. So a model saved at one position can be brought
/// to today's index by the documents changed since (``SuggestSnapshot/changes(since:)``),
/// instead of being rebuilt from every document. Rows at or before the position of the saved
/// model are dropped when it is saved (``pruneSuggestChanges(through:)``), and the log keeps at
/// most ``suggestLogLimit`` rows (older ones are dropped and the model then rebuilt whole).
extension IndexStore {
  /// The most rows the change log keeps.
  static let suggestLogLimit: Int64 = 65_536

  static func createSuggestLog(_ db: Database) throws {
    try db.execute(sql: """
      CREATE TABLE suggest_change(
        seq INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, kind TEXT,
        id TEXT, title TEXT, symptoms TEXT, tags TEXT, body TEXT);
      CREATE INDEX suggest_change_path ON suggest_change(path, seq);
      CREATE INDEX document_case_answer ON document(answer) WHERE type = 'case';
      """)
    try newSuggestLog(db)
  }

  /// Names a new log (the index's rows were erased: no saved model's position applies).
  static func newSuggestLog(_ db: Database) throws {
    try db.execute(sql: "DELETE FROM suggest_change")
    try db.execute(
      sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('suggest_log', ?)",
      arguments: [UUID().uuidString.lowercased()])
    try db.execute(sql: "DELETE FROM meta WHERE key = 'suggest_log_pruned'")
  }

  /// Records a teaching document's arrival (`fields` nil) or its old inputs as it leaves.
  static func logSuggestChange(path: String, leaving fields: [String]?, _ db: Database) throws {
    let statement = try db.cachedStatement(sql: """
      INSERT INTO suggest_change(path, kind, id, title, symptoms, tags, body) VALUES (?, ?, ?, ?, ?, ?, ?)
      """)
    switch fields?.first {
    case "answer"?:
      let f = fields!
      try statement.execute(arguments: [path, "answer", f[2], f[3], f[4], f[5], f[6]])
    case "case"?:
      let f = fields!
      try statement.execute(arguments: [path, "case", f[2], nil, nil, nil, f[3]])
    default:
      try statement.execute(arguments: [path, nil, nil, nil, nil, nil, nil])
    }
    let seq = db.lastInsertedRowID
    if seq % 1024 == 0, seq > suggestLogLimit { try pruneSuggestLog(through: seq - suggestLogLimit, db) }
  }

  static func pruneSuggestLog(through seq: Int64, _ db: Database) throws {
    try db.execute(sql: "DELETE FROM suggest_change WHERE seq <= ?", arguments: [seq])
    try db.execute(sql: """
      INSERT INTO meta(key, value) VALUES ('suggest_log_pruned', ?)
      ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))
      """, arguments: ["\(seq)"])
  }

  static func suggestLogPosition(_ db: Database) throws -> SuggestLogPosition {
    let log = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'suggest_log'") ?? ""
    let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'suggest_change'") ?? 0
    return SuggestLogPosition(log: log, seq: seq)
  }

  /// Drops the log's rows up to `position` (a model saved there needs none of them).
  public func pruneSuggestChanges(through position: SuggestLogPosition) throws(IndexError) {
    try healing {
      try writer.write { db in
        guard try Self.suggestLogPosition(db).log == position.log else { return }
        try Self.pruneSuggestLog(through: position.seq, db)
      }
    }
    markSound()
  }

  /// Runs `body` on one consistent view of the index (a read transaction).
  public func withSuggestSnapshot<T>(_ body: (SuggestSnapshot) throws -> T) throws(IndexError) -> T {
    try read { db in try body(SuggestSnapshot(db: db)) }
  }
}

/// One consistent view of the index for bringing a saved model up to date.
public struct SuggestSnapshot {
  let db: Database

  /// ``IndexStore/suggestState()`` in this view.
  public func state() throws -> String { try IndexStore.suggestState(db) }

  /// The log's position in this view.
  public func position() throws -> SuggestLogPosition { try IndexStore.suggestLogPosition(db) }

  /// The teaching documents changed since `position`, in path order, each with what it was
  /// then and what it is now; nil when the log cannot tell (another log, or rows since dropped).
  public func changes(since position: SuggestLogPosition) throws -> [SuggestChange]? {
    let now = try self.position()
    guard now.log == position.log, position.seq <= now.seq else { return nil }
    let pruned = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'suggest_log_pruned'") ?? 0
    guard pruned <= position.seq else { return nil }
    // Each path's first row after the position says what it was then.
    var before: [String: SuggestRecord?] = [:]
    let rows = try Row.fetchCursor(
      db, sql: "SELECT path, kind, id, title, symptoms, tags, body FROM suggest_change WHERE seq > ? ORDER BY seq",
      arguments: [position.seq])
    while let row = try rows.next() {
      let path: String = row[0]
      guard before[path] == nil else { continue }
      let kind: String? = row[1]
      switch kind {
      case "answer"?:
        let symptoms: String = row[4] ?? ""
        before[path] = .some(SuggestRecord(
          path: path,
          answer: SuggestAnswer(
            rowid: 0, id: row[2] ?? "", path: path, title: row[3] ?? "",
            symptoms: symptoms.split(separator: "\n").map(String.init), tags: row[5] ?? "", body: row[6] ?? ""),
          teaching: nil))
      case "case"?:
        before[path] = .some(SuggestRecord(path: path, answer: nil, teaching: (row[2] ?? "", row[6] ?? "")))
      default:
        before[path] = .some(nil)
      }
    }
    var out: [SuggestChange] = []
    for path in before.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
      let then = before[path]!
      let current = try record(path: path)
      if then != current { out.append(SuggestChange(path: path, before: then, now: current)) }
    }
    return out
  }

  /// A document's model inputs now (nil if it does not teach or does not exist).
  public func record(path: String) throws -> SuggestRecord? {
    guard let row = try Row.fetchOne(
      db.cachedStatement(sql: """
        SELECT d.rowid, d.type, d.id, d.title, f.symptoms, f.tags, f.body, d.status, d.answer
        FROM document d JOIN document_fts f ON f.rowid = d.rowid WHERE d.path = ?
        """), arguments: [path])
    else { return nil }
    let type: String = row[1]
    guard let fields = SuggestInputs.fields(
      type: type, path: path, id: row[2], title: row[3], symptoms: row[4] ?? "", tags: row[5] ?? "", body: row[6] ?? "",
      status: row[7], answer: row[8])
    else { return nil }
    if type == "answer" {
      let symptoms: String = row[4] ?? ""
      return SuggestRecord(
        path: path,
        answer: SuggestAnswer(
          rowid: row[0], id: row[2], path: path, title: row[3], symptoms: symptoms.split(separator: "\n").map(String.init),
          tags: row[5] ?? "", body: row[6] ?? ""),
        teaching: nil)
    }
    return SuggestRecord(path: path, answer: nil, teaching: (fields[2], fields[3]))
  }

  /// Answers' bodies by path (those indexed).
  public func answerBodies(_ paths: [String]) throws -> [String: String] {
    let statement = try db.cachedStatement(sql: """
      SELECT f.body FROM document d JOIN document_fts f ON f.rowid = d.rowid WHERE d.path = ? AND d.type = 'answer'
      """)
    var out: [String: String] = [:]
    for path in paths { if let body = try String?.fetchOne(statement, arguments: [path]) ?? nil { out[path] = body } }
    return out
  }

  /// The cases that teach the model (resolved or closed, with a complaint) and name one of
  /// `ids`: path, answer id, complaint, in path order (as ``IndexStore/suggestCorpus()`` reads them).
  public func teachingCases(naming ids: Set<String>) throws -> [(path: String, answer: String, complaint: String)] {
    guard !ids.isEmpty else { return [] }
    let teaching = SuggestInputs.teachingStatuses.sorted().map { "'\($0)'" }.joined(separator: ",")
    let statement = try db.cachedStatement(sql: """
      SELECT d.path, d.answer, f.body FROM document d INDEXED BY document_case_answer
      JOIN document_fts f ON f.rowid = d.rowid
      WHERE d.type = 'case' AND d.answer = ? AND d.status IN (\(teaching))
      """)
    var out: [(path: String, answer: String, complaint: String)] = []
    for id in ids {
      let rows = try Row.fetchCursor(statement, arguments: [id])
      while let row = try rows.next() {
        guard let complaint = SuggestInputs.complaint(inBody: row[2] ?? "") else { continue }
        out.append((row[0], row[1], complaint))
      }
    }
    return out.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
  }
}
