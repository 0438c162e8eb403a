import Foundation
import KBCore
internal import KBStore

/// What bringing the index up to date did.
public struct RefreshReport: Equatable, Sendable, Codable {
  public var scanned = 0
  public var added = 0
  public var updated = 0
  public var removed = 0
  /// Files skipped in this pass, with the reason (not the ones skipped earlier and unchanged).
  public var problems: [IndexProblem] = []
  public var rebuilt = false
  /// What told which files changed: a walk (one stat per file) or a file watcher.
  public var source: RefreshSource = .walk
  /// The document paths added, changed or removed, sorted: what derived data updates from.
  public var changedPaths: [String] = []
  public var changed: Int { added + updated + removed }
  public init() {}
}

/// How a refresh learned what changed.
public enum RefreshSource: String, Codable, Sendable {
  /// Every folder listed, one stat per file.
  case walk
  /// A file watcher's list of changes since the last token: only those re-read.
  case watcher
}

extension Workspace {
  /// Brings the index up to date with the files, cheaply.
  ///
  /// One `stat` per file; folders whose fingerprint (names, sizes, modification times) is
  /// unchanged are skipped without reading a row. Only added, changed and removed files are
  /// read and parsed, on all cores. A file that cannot be read or parsed is recorded as a
  /// problem with its reason, and every other file is still indexed.
  ///
  /// - Parameter progress: called with (done, total) while files are parsed.
  @discardableResult
  public func refresh(progress: ((Int, Int) -> Void)? = nil) throws -> RefreshReport {
    try withIndexLock { try refreshLocked(progress: progress) }
  }

  private func refreshLocked(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    try whileRebuilding { try refreshOrRebuild(progress: progress) }
  }

  /// A refresh that meets a damaged index starts it over from the files, with a warning.
  private func refreshOrRebuild(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    do {
      return try refreshOnce(progress: progress)
    } catch let error as IndexError where error.needsRebuild {
      warningsAppend("warning: \(error.description); rebuilding it from the files.")
      Self.removeIndexFiles(indexPath)
      try reopenStore()
      var report = try refreshOnce(progress: progress)
      report.rebuilt = true
      return report
    }
  }

  private func refreshOnce(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    // A watcher's answer is used only when it is exact (see FileWatcher); anything else
    // (no watcher, an unknown token, an overflow, a watcher not caught up) walks.
    switch askWatcher() {
    case (.changes(let changes, let token), let direct, let asked)?:
      let report = try refresh(changes: changes)
      try keepWatchToken(token, asked: asked, direct: direct)
      return report
    case (.walk(let token), let direct, let asked)?:
      // The token was taken before the walk starts, so the walk covers everything before it.
      let report = try walk(progress: progress)
      try keepWatchToken(token, asked: asked, direct: direct)
      return report
    case nil:
      return try walk(progress: progress)
    }
  }

  /// A walk of every folder however a watcher answers (for a rebuild: the index is empty); a
  /// watcher's token is kept all the same, taken before the walk, so that the next command's
  /// answer covers what changes after it.
  func walkEverything(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    guard let (answer, direct, asked) = askWatcher() else { return try walk(progress: progress) }
    let report = try walk(progress: progress)
    switch answer {
    case .changes(_, let token): try keepWatchToken(token, asked: asked, direct: direct)
    case .walk(let token): try keepWatchToken(token, asked: asked, direct: direct)
    }
    return report
  }

  /// Lists every folder (one stat per file) and re-reads what differs from the index.
  private func walk(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    var report = RefreshReport()
    let stored = try store.folderFingerprints()
    let scanner = FolderScanner(root: root)
    // First only counts and fingerprints (no file names); then changed folders are listed
    // again with their names (and the fingerprint of that listing is the one stored).
    let prints = scanner.fingerprints()
    var seen = Set<String>()
    var changedPaths: [String] = []
    for folder in prints {
      seen.insert(folder.path)
      report.scanned += folder.count
      if stored[folder.path] != folder.fingerprint { changedPaths.append(folder.path) }
    }
    let vanished = stored.keys.filter { !seen.contains($0) }
    guard !changedPaths.isEmpty || !vanished.isEmpty else { return report }
    let changedFolders = FolderScanner.parallelMap(changedPaths) { path in
      let listing = scanner.list(path, names: true)
      return ScannedFolder(path: path, files: listing.files, fingerprint: listing.fingerprint)
    }

    let stamps = try store.stamps(inFolders: changedFolders.map(\.path) + vanished)
    // `isNew`: no row of the index has this path (its folder's rows were all read above).
    var toParse: [(path: String, file: ScannedFile, isNew: Bool)] = []
    var onDisk = Set<String>()
    for folder in changedFolders {
      for file in folder.files {
        let path = folder.path.isEmpty ? file.name : folder.path + "/" + file.name
        onDisk.insert(path)
        if let old = stamps[path], old == FileStamp(size: file.size, mtime: file.mtime) { continue }
        if stamps[path] == nil { report.added += 1 } else { report.updated += 1 }
        report.changedPaths.append(path)
        toParse.append((path, file, stamps[path] == nil))
      }
    }
    var changes = IndexChanges()
    for path in stamps.keys where !onDisk.contains(path) {
      changes.removals.append(path)
      report.removed += 1
      report.changedPaths.append(path)
    }
    report.changedPaths.sort()
    // Parse in batches on all cores, writing each batch in one transaction, so memory stays
    // bounded however large the knowledge base is. A batch is written on another thread while
    // the next one is parsed.
    let batchSize = 2000
    var done = 0
    let writer = BackgroundWriter(store: store)
    for start in stride(from: 0, to: toParse.count, by: batchSize) {
      let slice = toParse[start..<min(start + batchSize, toParse.count)]
      var records = parseRecords(slice.map { ($0.path, $0.file) })
      for (i, item) in slice.enumerated() where item.isNew { records[i].isNew = true }
      for record in records where record.document == nil {
        report.problems.append(IndexProblem(path: record.path, line: record.problemLine, message: record.problem ?? ""))
      }
      try writer.wait()
      changes.upserts = records
      writer.start(changes)
      changes = IndexChanges()
      done += slice.count
      progress?(done, toParse.count)
    }
    try writer.wait()
    for folder in changedFolders { changes.directories[folder.path] = .some(folder.fingerprint) }
    for folder in vanished { changes.directories[folder] = .some(nil) }
    try store.apply(changes)
    return report
  }

  func parseRecords(_ batch: [(path: String, file: ScannedFile)]) -> [IndexRecord] {
    let results = UnsafeMutableBufferPointer<IndexRecord?>.allocate(capacity: batch.count)
    results.initialize(repeating: nil)
    defer {
      // Release the records too, not only the buffer (without this every parsed document of a
      // rebuild stayed in memory: 700 MB at 100k documents).
      _ = results.deinitialize()
      results.deallocate()
    }
    let root = self.root
    nonisolated(unsafe) let output = results
    DispatchQueue.concurrentPerform(iterations: batch.count) { i in
      let (path, file) = batch[i]
      output[i] = Self.record(path: path, file: file, root: root)
    }
    return results.map { $0! }
  }

  static func record(path: String, file: ScannedFile, root: String) -> IndexRecord {
    if let problem = file.problem {
      return IndexRecord(path: path, size: file.size, mtime: file.mtime, problem: problem)
    }
    do {
      let text = try readText(atPath: root + "/" + path, display: path)
      let document = try Document(path: path, text: text)
      return IndexRecord(path: path, size: file.size, mtime: file.mtime, document: document)
    } catch let error as FrontMatterError {
      return IndexRecord(path: path, size: file.size, mtime: file.mtime, problem: error.description, line: error.line)
    } catch let error as WorkspaceError {
      let message: String
      if case .unreadable(_, let reason) = error { message = reason } else { message = error.description }
      return IndexRecord(path: path, size: file.size, mtime: file.mtime, problem: message)
    } catch {
      return IndexRecord(path: path, size: file.size, mtime: file.mtime, problem: "\(error)")
    }
  }

  /// Re-indexes exactly these paths (relative), as after a sync: read the ones that exist,
  /// remove the ones that do not. Folder fingerprints of touched folders are refreshed.
  @discardableResult
  public func reindex(paths: [String]) throws -> RefreshReport {
    try withIndexLock {
      do {
        return try whileRebuilding { try reindexLocked(paths: paths) }
      } catch let error as IndexError where error.needsRebuild {
        // A damaged index: start it over from the files (which hold these paths too).
        warningsAppend("warning: \(error.description); rebuilding it from the files.")
        Self.removeIndexFiles(indexPath)
        try reopenStore()
        var report = try refresh()
        report.rebuilt = true
        return report
      }
    }
  }

  private func reindexLocked(paths: [String]) throws -> RefreshReport {
    var report = RefreshReport()
    var changes = IndexChanges()
    var batch: [(path: String, file: ScannedFile)] = []
    var folders = Set<String>()
    for path in Set(paths) where path.hasSuffix(".md") {
      folders.insert(IndexRecord.directory(of: path))
      let absolute = try resolve(path)
      var st = stat()
      if lstat(absolute, &st) == 0 {
        batch.append((path, ScannedFile(name: path, size: Int64(st.st_size), mtime: FolderScanner.mtime(st))))
        report.updated += 1
      } else {
        changes.removals.append(path)
        report.removed += 1
      }
    }
    let records = parseRecords(batch)
    report.problems = records.filter { $0.document == nil }.map {
      IndexProblem(path: $0.path, line: $0.problemLine, message: $0.problem ?? "")
    }
    changes.upserts = records
    for folder in folders { changes.directories[folder] = .some(FolderScanner.staleFingerprint) }
    try store.apply(changes)
    return report
  }
}

/// Applies one batch of changes at a time on its own thread, so that parsing the next batch
/// overlaps with writing this one.
final class BackgroundWriter: @unchecked Sendable {
  private let store: IndexStore
  private let queue = DispatchQueue(label: "kb.index-writer")
  private let group = DispatchGroup()
  private var error: (any Error)?

  init(store: IndexStore) { self.store = store }

  func start(_ changes: IndexChanges) {
    queue.async(group: group) {
      do {
        try self.store.apply(changes)
      } catch {
        self.error = error
      }
    }
  }

  /// Waits for the batch being written; rethrows its error.
  func wait() throws {
    group.wait()
    if let error {
      self.error = nil
      throw error
    }
  }
}
