import Foundation
import CSQLiteShim
import GRDB
import KBCore
import KBRank

#if canImport(Glibc)
  import Glibc
#endif

/// A failure of the index. The index is derived data: the workspace answers most of these by
/// rebuilding it from the files.
public enum IndexError: Error, CustomStringConvertible {
  /// The file is not an SQLite database, or is damaged.
  case corrupt(path: String, underlying: String)
  /// The file was written by a newer `kb` whose schema this one does not know.
  case newerSchema(path: String)
  case database(String)

  public var description: String {
    switch self {
    case .corrupt(let path, let underlying):
      "the index \(path) is damaged (\(underlying)); it is derived from the files, and kb rebuilds it"
    case .newerSchema(let path): "the index \(path) was written by a newer kb"
    case .database(let message): Self.userMessage(message)
    }
  }

  /// What SQLite said, for people: never its SQL text (constraint names, table and column names).
  static func userMessage(_ sqlite: String) -> String {
    let m = sqlite.lowercased()
    if m.contains("locked") || m.contains("busy") || m.contains("constraint") {
      return "the index (.kb/index.sqlite) was being changed by another kb command at the same moment; run the command again"
    }
    if m.contains("readonly") || m.contains("read-only") || m.contains("permission") {
      return "the index (.kb/index.sqlite) cannot be written (read-only file or folder)"
    }
    if m.contains("disk") && m.contains("full") { return "the index cannot be written: the disk is full" }
    return "the index (.kb/index.sqlite) could not be used; 'kb index --rebuild' builds it again from the files"
  }

  /// Whether rebuilding the index from the files is the cure.
  public var needsRebuild: Bool {
    switch self {
    case .corrupt, .newerSchema: true
    case .database: false
    }
  }

  static func wrap(_ error: Error, path: String) -> IndexError {
    let wrapped = wrapOnly(error, path: path)
    // Damage found in the middle of a command: leave a mark, so that the next command rebuilds
    // the index before using it (this one cannot: the file is open).
    if case .corrupt = wrapped, path != ":memory:" {
      _ = FileManager.default.createFile(atPath: path + IndexStore.damagedSuffix, contents: nil)
    }
    return wrapped
  }

  private static func wrapOnly(_ error: Error, path: String) -> IndexError {
    if let e = error as? IndexError { return e }
    if let db = error as? DatabaseError {
      switch db.resultCode {
      case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT:
        return .corrupt(path: path, underlying: db.message ?? "\(db.resultCode)")
      case .SQLITE_ERROR where ["no such table", "no such column", "has no column named"].contains(where: { (db.message ?? "").contains($0) }):
        return .corrupt(path: path, underlying: db.message ?? "schema mismatch")
      default:
        return .database(db.message ?? "\(db)")
      }
    }
    return .database("\(error)")
  }
}

/// The SQLite FTS5 index of a knowledge base.
///
/// One row per Markdown file in `document`, its text in the FTS5 table `document_fts`
/// (porter stemming over unicode61, diacritics removed), journal entries in `entry` for
/// figures, skipped files in `problem`, and a fingerprint per folder in `folder` so that
/// checking an unchanged knowledge base is one stat per file and no row reads.
public final class IndexStore: @unchecked Sendable {
  /// The database: a `DatabaseQueue`, in WAL mode on disk. Replaced in place by ``recreate()``
  /// (a damaged file rebuilt), so every holder of this store sees the new file.
  public var writer: any DatabaseWriter { lock.withLock { queue } }
  private var queue: any DatabaseWriter
  private let lock = NSLock()
  public let path: String
  /// The inode of the file this store opened (see ``inode(_:)``).
  public var openedInode: UInt64 { lock.withLock { inodeOpened } }
  private var inodeOpened: UInt64 = 0

  /// Called when a query meets a damaged file (``IndexError/needsRebuild``): it should rebuild
  /// the index from the files (``recreate()``, then a refresh) and return true, or return false
  /// to leave the error to the caller (as a refresh in progress does: it rebuilds by itself).
  /// After a rebuild, a read is run again once, and a change is not (the files it came from
  /// are what the rebuild read).
  public var healer: (@Sendable (IndexError) -> Bool)? {
    get { lock.withLock { healHandler } }
    set { lock.withLock { healHandler = newValue } }
  }
  private var healHandler: (@Sendable (IndexError) -> Bool)?
  /// Every case's facts as last read (``caseFacts(statuses:)``).
  let factsMemo = CaseFactsMemo()

  /// bm25 weights of the FTS5 columns for `kb search` (``RankingParameters/searchFields``).
  public static let columnWeights = RankingParameters.shipped.searchFields

  /// Opens (creating when missing) the index at `path`, migrating its schema.
  ///
  /// - Throws: ``IndexError/corrupt(path:underlying:)`` or ``IndexError/newerSchema(path:)``
  ///   when the file should be rebuilt.
  public init(path: String) throws(IndexError) {
    self.path = path
    do {
      queue = try Self.open(path)
      try Self.migrate(queue, path: path)
      inodeOpened = Self.inode(path)
    } catch {
      throw IndexError.wrap(error, path: path)
    }
  }

  private static func open(_ path: String) throws -> DatabaseQueue {
    var config = Configuration()
    config.prepareDatabase { db in
      // WAL is persistent in the file: on an existing index this only reads the mode.
      try db.execute(sql: "PRAGMA journal_mode = WAL")
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
      if let connection = db.sqliteConnection { _ = kb_sqlite_no_checkpoint_on_close(UnsafeMutableRawPointer(connection)) }
    }
    config.busyMode = .timeout(10)
    // One connection: a command is short and does its reads and writes in turn. (GRDB's
    // DatabasePool writes a transaction on every open to make sure a WAL file exists, which
    // costs each read-only command four fsyncs; SQLite's WAL already lets other processes
    // read while one writes.)
    return try DatabaseQueue(path: path, configuration: config)
  }

  /// Deletes the index's files and starts an empty index at the same path, in this store (a
  /// damaged file's cure; the caller then fills it from the files). With `keepFile`, only opens
  /// the file again (another process has already rebuilt it).
  public func recreate(keepFile: Bool = false) throws(IndexError) {
    guard path != ":memory:" else { return }
    do {
      try lock.withLock {
        try? queue.close()
        if !keepFile { Self.removeFiles(path) }
        let fresh = try Self.open(path)
        try Self.migrate(fresh, path: path)
        queue = fresh
        inodeOpened = Self.inode(path)
      }
      if !keepFile { markSound() }
    } catch {
      throw IndexError.wrap(error, path: path)
    }
  }

  /// The index file and every file kb keeps beside it.
  public static func removeFiles(_ path: String) {
    for suffix in ["", "-wal", "-shm", "-journal", damagedSuffix, soundSuffix] {
      try? FileManager.default.removeItem(atPath: path + suffix)
    }
  }

  /// The inode of the index file as it is on disk now (0 when missing): another than the one
  /// this store opened means another process rebuilt it.
  public static func inode(_ path: String) -> UInt64 {
    var st = stat()
    return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
  }

  /// An index in memory, for tests.
  public init() throws(IndexError) {
    path = ":memory:"
    do {
      queue = try DatabaseQueue()
      try Self.migrate(queue, path: path)
    } catch {
      throw IndexError.wrap(error, path: path)
    }
  }

  /// Stamped in `PRAGMA user_version`. Bump it whenever the meaning of stored rows changes
  /// without a migration: an index with another stamp is rebuilt from the files.
  public static let schemaStamp = 1

  private static func migrate(_ writer: any DatabaseWriter, path: String) throws {
    let migrator = DatabaseMigrator.kb
    // One read decides; an index that is up to date is opened without writing anything (a
    // write would cost a WAL sync in every read-only command).
    let (superseded, stamp, empty, complete) = try writer.read { db in
      (
        try migrator.hasBeenSuperseded(db),
        try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
        try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") == 0,
        try migrator.hasCompletedMigrations(db)
      )
    }
    if superseded { throw IndexError.newerSchema(path: path) }
    if !empty, stamp != schemaStamp {
      throw IndexError.corrupt(path: path, underlying: "schema stamp \(stamp), expected \(schemaStamp)")
    }
    if !complete { try migrator.migrate(writer) }
    if empty { try writer.write { try $0.execute(sql: "PRAGMA user_version = \(schemaStamp)") } }
  }

  // MARK: Freshness

  /// The stored fingerprint of every folder.
  public func folderFingerprints() throws(IndexError) -> [String: Int64] {
    try read { db in
      var out: [String: Int64] = [:]
      let rows = try Row.fetchCursor(db, sql: "SELECT path, fingerprint FROM folder")
      while let row = try rows.next() { out[row[0]] = row[1] }
      return out
    }
  }

  /// The stat data of the files indexed (or skipped) in the given folders.
  public func stamps(inFolders folders: some Collection<String>) throws(IndexError) -> [String: FileStamp] {
    try read { db in
      var out: [String: FileStamp] = [:]
      let statement = try db.cachedStatement(sql: """
        SELECT path, size, mtime FROM document WHERE folder = ?
        UNION ALL SELECT path, size, mtime FROM problem WHERE folder = ?
        """)
      for folder in folders {
        let rows = try Row.fetchCursor(statement, arguments: [folder, folder])
        while let row = try rows.next() {
          out[row[0]] = FileStamp(size: row[1], mtime: row[2])
        }
      }
      return out
    }
  }

  /// The stat data of these paths, where indexed (or skipped).
  public func stamps(ofPaths paths: some Collection<String>) throws(IndexError) -> [String: FileStamp] {
    try read { db in
      var out: [String: FileStamp] = [:]
      let statement = try db.cachedStatement(sql: """
        SELECT path, size, mtime FROM document WHERE path = ?
        UNION ALL SELECT path, size, mtime FROM problem WHERE path = ?
        """)
      for path in paths {
        let rows = try Row.fetchCursor(statement, arguments: [path, path])
        while let row = try rows.next() { out[row[0]] = FileStamp(size: row[1], mtime: row[2]) }
      }
      return out
    }
  }

  /// The stat data of every indexed (or skipped) path inside `folder`, at any depth.
  public func stamps(under folder: String) throws(IndexError) -> [String: FileStamp] {
    // Paths inside `a/b` sort between "a/b/" and "a/b0" ('0' follows '/').
    let low = folder + "/", high = folder + "0"
    return try read { db in
      var out: [String: FileStamp] = [:]
      let rows = try Row.fetchCursor(db, sql: """
        SELECT path, size, mtime FROM document WHERE path >= ? AND path < ?
        UNION ALL SELECT path, size, mtime FROM problem WHERE path >= ? AND path < ?
        """, arguments: [low, high, low, high])
      while let row = try rows.next() { out[row[0]] = FileStamp(size: row[1], mtime: row[2]) }
      return out
    }
  }

  /// Every indexed or skipped path.
  public func allPaths() throws(IndexError) -> Set<String> {
    try read { db in
      Set(try String.fetchAll(db, sql: "SELECT path FROM document UNION ALL SELECT path FROM problem"))
    }
  }

  /// Applies a batch of changes in one transaction.
  public func apply(_ changes: IndexChanges) throws(IndexError) {
    guard !changes.isEmpty else { return }
    // Rebuilt from the files, which already hold these changes: nothing left to apply.
    let applied = try healing(afterRebuild: { false }) {
      try writer.write { db in
        if !changes.removals.isEmpty || !changes.upserts.isEmpty { try Self.bumpGeneration(db) }
        for path in changes.removals { try Self.remove(path, db) }
        for record in changes.upserts {
          if !record.isNew { try Self.remove(record.path, db) }
          if let document = record.document {
            try Self.insert(document, record, db)
          } else {
            try db.execute(
              sql: "INSERT INTO problem(path, folder, size, mtime, line, message) VALUES (?,?,?,?,?,?)",
              arguments: [
                record.path, IndexRecord.directory(of: record.path), record.size, record.mtime,
                record.problemLine, record.problem ?? "unreadable",
              ])
          }
        }
        for (folder, fingerprint) in changes.directories {
          if let fingerprint {
            try db.execute(
              sql: "INSERT OR REPLACE INTO folder(path, fingerprint) VALUES (?, ?)",
              arguments: [folder, fingerprint])
          } else {
            try db.execute(sql: "DELETE FROM folder WHERE path = ?", arguments: [folder])
          }
        }
      }
      return true
    }
    if applied { markSound() }
  }

  private static func remove(_ path: String, _ db: Database) throws {
    let find = try db.cachedStatement(sql: "SELECT rowid FROM document WHERE path = ?")
    if let rowid = try Int64.fetchOne(find, arguments: [path]) {
      try removeSuggestRows(rowid: rowid, db)
      try db.cachedStatement(sql: "DELETE FROM document_fts WHERE rowid = ?").execute(arguments: [rowid])
      try db.cachedStatement(sql: "DELETE FROM entry WHERE doc = ?").execute(arguments: [rowid])
      try db.cachedStatement(sql: "DELETE FROM document WHERE rowid = ?").execute(arguments: [rowid])
    }
    try db.cachedStatement(sql: "DELETE FROM problem WHERE path = ?").execute(arguments: [path])
  }

  private static func insert(_ d: Document, _ r: IndexRecord, _ db: Database) throws {
    let row = r.row ?? IndexRow(d)
    try db.cachedStatement(
      sql: """
        INSERT INTO document(path, folder, id, type, title, status, assignee, channel, customer,
          answer, opened, follow_up, updated, tags, links, conflicted, size, mtime)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """
    ).execute(
      arguments: [
        d.path, IndexRecord.directory(of: d.path), row.id, row.type, row.title,
        row.status, row.assignee, row.channel, row.customer, row.answer,
        row.opened, row.followUp, row.updated, row.tagsColumn,
        row.links, row.conflicted, r.size, r.mtime,
      ])
    let rowid = db.lastInsertedRowID
    try db.cachedStatement(sql: "INSERT INTO document_fts(rowid, title, symptoms, tags, body) VALUES (?,?,?,?,?)").execute(
      arguments: [rowid, row.title, row.symptoms, row.tagsText, row.body])
    for e in row.entries {
      try db.cachedStatement(sql: "INSERT INTO entry(doc, time, author, kind, text) VALUES (?,?,?,?,?)").execute(
        arguments: [rowid, e.time, e.author, e.kind, e.text])
    }
    try addSuggestRows(
      rowid: rowid, type: row.type, path: d.path, id: row.id, title: row.title, symptoms: row.symptoms,
      tags: row.tagsText, body: row.body, status: row.status, answer: row.answer,
      checkBacks: row.entries.filter { $0.kind == Self.checkBackKind }.map(\.text), db)
  }

  /// Removes every row (used by `kb index --rebuild` on an index that opened fine).
  public func eraseAll() throws(IndexError) {
    do {
      try writer.write { db in
        for table in ["document_fts", "entry", "document", "problem", "folder", "suggest_input", "answer_evidence"] {
          try db.execute(sql: "DELETE FROM \(table)")
        }
        try db.execute(sql: "UPDATE suggest_state SET documents = 0, sum1 = 0, sum2 = 0")
        try Self.newSuggestLog(db)
        try Self.bumpGeneration(db)
      }
    } catch {
      throw IndexError.wrap(error, path: path)
    }
    markSound()
  }

  /// For a rebuild from scratch: no syncs (`synchronous = OFF`) and a 16 MiB page cache; off
  /// again restores `synchronous = NORMAL` and the default cache.
  public func setBulkLoading(_ on: Bool) throws(IndexError) {
    do {
      try writer.writeWithoutTransaction { db in
        try db.execute(sql: on ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = NORMAL")
        try db.execute(sql: on ? "PRAGMA cache_size = -16384" : "PRAGMA cache_size = -2000")
      }
    } catch {
      throw IndexError.wrap(error, path: path)
    }
  }

  /// Merges FTS5 segments, for a compact index after a full build, then moves the write-ahead
  /// log into the database file and truncates it: connections do not checkpoint when they close
  /// (see `init`), and the merge rewrites the whole full-text index (90 MB of log at 100k
  /// documents, which every later command would otherwise read through).
  public func optimize() throws(IndexError) {
    do {
      try writer.write { db in
        try db.execute(sql: "INSERT INTO document_fts(document_fts) VALUES('optimize')")
      }
      try writer.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
      }
    } catch {
      throw IndexError.wrap(error, path: path)
    }
    markSound()
  }

  /// Beside the index: written when a command met damage, so that the next one rebuilds it.
  public static let damagedSuffix = "-damaged"

  /// Beside the index: the size, time and inode of the index file and its write-ahead log as
  /// kb last left them (after each change, and after a whole-file check found it sound). A
  /// file that no longer matches was changed by something else (a copy, a restore, a tool, a
  /// disk error that truncated it), and is checked page by page before it is used.
  public static let soundSuffix = "-ok"

  /// What ``soundSuffix`` records of the files as they are now.
  public func fileStamp() -> String {
    func describe(_ file: String, emptyIsMissing: Bool) -> String {
      var st = stat()
      guard stat(file, &st) == 0 else { return "-" }
      // An empty log holds nothing (SQLite creates one on open): the same as none.
      if emptyIsMissing, st.st_size == 0 { return "-" }
      return "\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }
    return describe(path, emptyIsMissing: false) + " " + describe(path + "-wal", emptyIsMissing: true)
  }

  /// Whether the files, as `stamp` (``fileStamp()``) describes them, are as kb last left
  /// them (``soundSuffix``).
  public func isAsLastLeft(_ stamp: String) -> Bool {
    guard path != ":memory:", let data = FileManager.default.contents(atPath: path + Self.soundSuffix) else { return false }
    return String(decoding: data, as: UTF8.self) == stamp
  }

  /// Records the files as they are now as sound (``soundSuffix``); `stamp` is one taken
  /// earlier (before a check), so a change made since then is checked again.
  public func markSound(_ stamp: String? = nil) {
    guard path != ":memory:" else { return }
    let file = path + Self.soundSuffix
    let text = stamp ?? fileStamp()
    // Not a link (the private files never are); a torn write only costs one more check.
    if let data = FileManager.default.contents(atPath: file), String(decoding: data, as: UTF8.self) == text { return }
    unlink(file)
    _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
  }

  /// SQLite's `PRAGMA quick_check` (every page and b-tree of the file, not the index's rows
  /// against the files): `nil` when the file is sound, else what is wrong.
  public func integrityProblem() -> String? {
    do {
      let rows = try writer.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
      return rows == ["ok"] ? nil : rows.joined(separator: "; ")
    } catch {
      return "\((error as? DatabaseError)?.message ?? "\(error)")"
    }
  }

  /// Pages of the index the current connection has looked up (``recreate()`` starts over):
  /// the work done, for tests and benchmarks (`KB_INDEX_STATS`).
  public func pagesTouched() -> Int64 {
    (try? writer.read { db in db.sqliteConnection.map { Int64(kb_sqlite_pages_touched(UnsafeMutableRawPointer($0))) } ?? 0 }) ?? 0
  }

  // MARK: Meta

  /// A value kept beside the index (such as the last indexed git commit).
  public func meta(_ key: String) throws(IndexError) -> String? {
    try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
  }

  public func setMeta(_ key: String, _ value: String?) throws(IndexError) {
    try healing {
      try writer.write { db in
        if let value {
          try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        } else {
          try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
        }
      }
    }
    markSound()
  }

  // MARK: Reading

  /// Runs `body` on a read-only connection, mapping errors to ``IndexError``. A read that
  /// meets a damaged file has the ``healer`` rebuild the index, and runs once more.
  public func read<T>(_ body: (Database) throws -> T) throws(IndexError) -> T {
    try healing { try writer.read(body) }
  }

  /// Runs `body`, mapping errors to ``IndexError``. When it meets a damaged file and the
  /// ``healer`` rebuilds the index, `afterRebuild` gives the result, or (nil) `body` runs once more.
  func healing<T>(afterRebuild: (() -> T)? = nil, _ body: () throws -> T) throws(IndexError) -> T {
    do {
      return try body()
    } catch {
      let wrapped = IndexError.wrap(error, path: path)
      guard wrapped.needsRebuild, let healer, healer(wrapped) else { throw wrapped }
      if let afterRebuild { return afterRebuild() }
      do {
        return try body()
      } catch {
        throw IndexError.wrap(error, path: path)
      }
    }
  }

  public func counts() throws(IndexError) -> IndexCounts {
    try read { db in
      let answers = try Int.fetchOne(db, sql: "SELECT count(*) FROM document WHERE type = 'answer'") ?? 0
      let cases = try Int.fetchOne(db, sql: "SELECT count(*) FROM document WHERE type = 'case'") ?? 0
      let problems = try Int.fetchOne(db, sql: "SELECT count(*) FROM problem") ?? 0
      return IndexCounts(answers: answers, cases: cases, problems: problems)
    }
  }

  public func problems() throws(IndexError) -> [IndexProblem] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT path, line, message FROM problem ORDER BY path").map {
        IndexProblem(path: $0[0], line: $0[1], message: $0[2])
      }
    }
  }

  /// The paths of every document with this id (more than one is a duplicate id).
  public func paths(forID id: String) throws(IndexError) -> [String] {
    try read { db in
      try String.fetchAll(db, sql: "SELECT path FROM document WHERE id = ? ORDER BY path", arguments: [id])
    }
  }

  /// The highest N of the ids `base-N` in the index (1 when there is none).
  public func highestSuffix(ofID base: String) throws(IndexError) -> Int {
    try read { db in
      let escaped = base.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_")
      let ids = try String.fetchAll(db, sql: "SELECT id FROM document WHERE id LIKE ? ESCAPE '\\'", arguments: [escaped + "-%"])
      return ids.compactMap { Int($0.dropFirst(base.count + 1)) }.max() ?? 1
    }
  }

  /// Paths of documents that a merge left with conflicts to settle.
  public func conflictedPaths() throws(IndexError) -> [String] {
    try read { db in try String.fetchAll(db, sql: "SELECT path FROM document WHERE conflicted ORDER BY path") }
  }

  /// Ids used by more than one file, with their paths.
  public func duplicateIDs() throws(IndexError) -> [String: [String]] {
    try read { db in
      var out: [String: [String]] = [:]
      for row in try Row.fetchAll(db, sql: """
        SELECT id, path FROM document WHERE id IN
          (SELECT id FROM document GROUP BY id HAVING count(*) > 1) ORDER BY id, path
        """)
      {
        out[row[0], default: []].append(row[1])
      }
      return out
    }
  }

  /// Links (`answer`, `related`, `[[id]]`) to ids that no document has: (path, missing id).
  public func brokenLinks() throws(IndexError) -> [(path: String, target: String)] {
    try read { db in
      let ids = Set(try String.fetchAll(db, sql: "SELECT id FROM document"))
      var out: [(String, String)] = []
      for row in try Row.fetchAll(db, sql: "SELECT path, links FROM document WHERE links != '' ORDER BY path") {
        let links: String = row[1]
        for target in links.split(separator: " ") where !ids.contains(String(target)) {
          out.append((row[0], String(target)))
        }
      }
      return out
    }
  }
}

extension DatabaseMigrator {
  /// The index schema. Migration names are frozen: never edit a shipped one, add a new one.
  /// The index is derived data, so a file whose schema this build does not know is rebuilt.
  static var kb: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: documents, full-text index, journal entries, folders") { db in
      try db.execute(sql: """
        CREATE TABLE document(
          rowid INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          folder TEXT NOT NULL,
          id TEXT NOT NULL,
          type TEXT NOT NULL,
          title TEXT NOT NULL,
          status TEXT, assignee TEXT, channel TEXT, customer TEXT, answer TEXT,
          opened TEXT, follow_up TEXT, updated TEXT,
          tags TEXT NOT NULL DEFAULT '',
          links TEXT NOT NULL DEFAULT '',
          conflicted INTEGER NOT NULL DEFAULT 0,
          size INTEGER NOT NULL, mtime INTEGER NOT NULL);
        CREATE INDEX document_folder ON document(folder);
        CREATE INDEX document_id ON document(id);
        CREATE INDEX document_type_status ON document(type, status);
        CREATE VIRTUAL TABLE document_fts USING fts5(
          title, symptoms, tags, body,
          tokenize = 'porter unicode61 remove_diacritics 2');
        CREATE TABLE entry(
          doc INTEGER NOT NULL, time TEXT NOT NULL, author TEXT NOT NULL,
          kind TEXT NOT NULL, text TEXT NOT NULL);
        CREATE INDEX entry_doc ON entry(doc);
        CREATE TABLE problem(
          path TEXT PRIMARY KEY, folder TEXT NOT NULL, size INTEGER NOT NULL,
          mtime INTEGER NOT NULL, line INTEGER, message TEXT NOT NULL);
        CREATE INDEX problem_folder ON problem(folder);
        CREATE TABLE folder(path TEXT PRIMARY KEY, fingerprint INTEGER NOT NULL);
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)
    }
    migrator.registerMigration("v2: suggestion model inputs and check-back counts") { db in
      try db.execute(sql: """
        CREATE TABLE suggest_input(doc INTEGER PRIMARY KEY, hash INTEGER NOT NULL);
        CREATE TABLE suggest_state(
          id INTEGER PRIMARY KEY CHECK (id = 0), documents INTEGER NOT NULL,
          sum1 INTEGER NOT NULL, sum2 INTEGER NOT NULL);
        INSERT INTO suggest_state VALUES (0, 0, 0, 0);
        CREATE TABLE answer_evidence(
          answer TEXT PRIMARY KEY, cases INTEGER NOT NULL, held INTEGER NOT NULL, failed INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX answer_evidence_checked ON answer_evidence(answer) WHERE held > 0 OR failed > 0;
        """)
      try IndexStore.backfillSuggestRows(db)
    }
    migrator.registerMigration("v3: the suggestion model's change log") { db in
      try IndexStore.createSuggestLog(db)
    }
    return migrator
  }
}
