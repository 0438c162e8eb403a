import Foundation
import KBCore
internal import KBStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open knowledge base: its folder, its settings and its index.
///
/// The one place that touches the file system. Both front ends (the CLI and the MCP server)
/// use it, so validation and writing rules are the same for people and agents.
///
/// ```swift
/// let ws = try Workspace(root: try Workspace.locate(explicit: nil))
/// try ws.refresh()
/// let hits = try ws.search("text repeats", limit: 5)
/// ```
public final class Workspace: @unchecked Sendable {
  /// The absolute path of the root folder (the one with `kb.yml`).
  public let root: String
  public private(set) var settings: Settings
  /// The index. Internal: front ends reach it only through the operations of this module.
  /// Replaced (a rebuild, a reopen) under `storeLock`, so a reader on another thread sees the
  /// old store or the new one, never a torn reference.
  var store: IndexStore {
    get { storeLock.withLock { storage } }
    set { storeLock.withLock { storage = newValue } }
  }
  private var storage: IndexStore
  private let storeLock = NSLock()
  /// Warnings gathered while opening (an index rebuilt, a settings problem). Shown once.
  public var warnings: [String] { storeLock.withLock { gathered } }
  private var gathered: [String] = []
  private var handler: ((String) -> Void)?
  /// How many refreshes or rebuilds of the index are running: they answer damage themselves.
  var rebuilding = 0
  /// The file watcher this process holds or asks (Workspace+Watch.swift).
  let watchState = WatchState()
  /// Which unreadable files hold conflict markers, as last read (``conflictedDocuments()``).
  let markerScan: MarkerScan
  /// How many `withIndexLock` calls of this workspace are running (the lock is re-entrant).
  var indexLockDepth = 0

  /// Files larger than this are not indexed.
  public static let maxFileSize: Int64 = 1 << 20
  /// The private folder inside the root (ignored by git).
  public static let privateFolder = ".kb"

  public var indexPath: String { root + "/.kb/index.sqlite" }

  /// Opens the knowledge base at `root` and its index, creating the index when missing and
  /// rebuilding it (with a warning) when it is damaged or from another schema.
  public convenience init(root: String) throws {
    try self.init(root: root, verifyOnOpen: Self.verifyOnOpenBytes)
  }

  /// ``init(root:)``, where indexes up to `verifyOnOpen` bytes are checked page by page on
  /// every open (tests lower it to try what a large index goes through).
  public init(root: String, verifyOnOpen: Int64) throws {
    let absolute = Self.absolute(root)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDir), isDir.boolValue else {
      throw WorkspaceError.notAKnowledgeBase(path: root)
    }
    self.root = absolute
    markerScan = MarkerScan(root: absolute)
    settings = Settings()
    let settingsPath = absolute + "/" + Settings.fileName
    // kb.yml and .kb follow the rule documents follow: a link leading outside is not followed.
    try Self.refuseLinkOutside(settingsPath, root: absolute, display: Settings.fileName)
    try Self.refuseLinkOutside(absolute + "/" + Self.privateFolder, root: absolute, display: Self.privateFolder)
    if let data = FileManager.default.contents(atPath: settingsPath) {
      guard let text = String(validating: data, as: UTF8.self) else {
        throw WorkspaceError.invalidSettings(path: Settings.fileName, line: nil, reason: "not valid UTF-8")
      }
      do {
        settings = try Settings(parsing: text)
      } catch {
        throw WorkspaceError.invalidSettings(path: Settings.fileName, line: error.line, reason: error.description)
      }
    }
    try FileManager.default.createDirectory(
      atPath: absolute + "/" + Self.privateFolder, withIntermediateDirectories: true)
    // The private files are never links: a derived one that is (the index) is replaced.
    for name in ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "index.sqlite-journal", "sync.json"] {
      if Self.isLink(absolute + "/.kb/" + name) {
        unlink(absolute + "/.kb/" + name)
        gathered.append("warning: .kb/\(name) was a symbolic link; kb removed the link (not what it led to) and writes its own file.")
      }
    }
    try Self.refuseLink(absolute + "/.kb/lock", display: ".kb/lock")
    let dbPath = absolute + "/.kb/index.sqlite"
    if FileManager.default.fileExists(atPath: dbPath + IndexStore.damagedSuffix) {
      Self.removeIndexFiles(dbPath)
      gathered.append("warning: the index was found damaged by an earlier command; rebuilding it from the files.")
    }
    var (store, warning) = try Self.openStore(dbPath)
    // A small index (most knowledge bases) is checked page by page on every open, which costs a
    // few milliseconds. A large one is checked when its files are not as kb last left them
    // (changed by something else: IndexStore.soundSuffix), and by 'kb check'. Damage that
    // leaves no such trace is met by a query, which rebuilds the index and runs again (the
    // store's healer, installed below), so every command still succeeds, with a warning.
    if warning == nil {
      let stamp = store.fileStamp()
      if Self.fileSize(dbPath) + Self.fileSize(dbPath + "-wal") <= verifyOnOpen || !store.isAsLastLeft(stamp) {
        if let problem = store.integrityProblem() {
          Self.removeIndexFiles(dbPath)
          (store, _) = try Self.openStore(dbPath)
          store.markSound()
          warning = "warning: the index .kb/index.sqlite is damaged (\(problem)); rebuilding it from the files."
        } else {
          store.markSound(stamp)
        }
      }
    }
    storage = store
    if let warning { gathered.append(warning) }
    installHealer()
  }

  /// Lets the index rebuild itself when a query meets damage (see ``IndexStore/healer``).
  private func installHealer() {
    storage.healer = { [weak self] error in self?.heal(error) ?? false }
  }

  /// Rebuilds a damaged index from the files, with a warning, unless the index is being
  /// refreshed or rebuilt already (that work rebuilds it by itself). Another process that
  /// rebuilt it first is not repeated: the new file is opened.
  func heal(_ error: IndexError) -> Bool {
    guard storeLock.withLock({ rebuilding == 0 }) else { return false }
    let opened = store.openedInode
    do {
      try whileRebuilding {
        try withIndexLock {
          // Rebuilt by another process while this one waited for the lock: open its file.
          let now = IndexStore.inode(indexPath)
          if now != opened, now != 0 { return try store.recreate(keepFile: true) }
          warningsAppend("warning: \(error.description); rebuilding it from the files.")
          try store.recreate()
          try refresh()
        }
      }
      return true
    } catch {
      return false
    }
  }

  /// Runs `body` as a refresh or rebuild of the index, during which damage is not healed by
  /// the store (the work in progress answers it: see ``heal(_:)``).
  func whileRebuilding<T>(_ body: () throws -> T) rethrows -> T {
    storeLock.withLock { rebuilding += 1 }
    defer { storeLock.withLock { rebuilding -= 1 } }
    return try body()
  }

  /// Indexes up to this size (with their write-ahead log) are verified whenever they are opened.
  public static let verifyOnOpenBytes: Int64 = 8 << 20

  static func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
  }

  /// Checks the whole index file (SQLite's quick_check); when it is damaged, deletes it and
  /// builds it again from the files, with a warning. Returns whether it was rebuilt.
  @discardableResult
  public func verifyIndex() throws -> Bool {
    let stamp = store.fileStamp()
    guard let problem = store.integrityProblem() else {
      store.markSound(stamp)
      return false
    }
    warningsAppend("warning: the index .kb/index.sqlite is damaged (\(problem)); rebuilding it from the files.")
    Self.removeIndexFiles(indexPath)
    try reopenStore()
    try refresh()
    return true
  }

  /// Opens the index, or deletes and recreates it when it is damaged or from another schema.
  static func openStore(_ dbPath: String) throws -> (IndexStore, String?) {
    let result = Result { () throws(IndexError) in try IndexStore(path: dbPath) }
    switch result {
    case .success(let store):
      return (store, nil)
    case .failure(let error) where error.needsRebuild:
      removeIndexFiles(dbPath)
      return (try IndexStore(path: dbPath), "warning: \(error.description); rebuilding it from the files.")
    case .failure(let error):
      throw error
    }
  }

  /// Finds the knowledge base: `--kb`, then `KB_DIR`, then the nearest folder (from the current
  /// one upwards) with a `kb.yml`.
  public static func locate(
    explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: String = FileManager.default.currentDirectoryPath
  ) throws -> String {
    if let explicit, !explicit.isEmpty { return try existingFolder(explicit) }
    if let env = environment["KB_DIR"], !env.isEmpty { return try existingFolder(env) }
    var url = URL(fileURLWithPath: currentDirectory).standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent(Settings.fileName).path) {
        return url.path
      }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path { break }
      url = parent
    }
    throw WorkspaceError.noKnowledgeBaseFound(from: currentDirectory)
  }

  private static func existingFolder(_ path: String) throws -> String {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: absolute(path), isDirectory: &isDir), isDir.boolValue else {
      throw WorkspaceError.notAKnowledgeBase(path: path)
    }
    return absolute(path)
  }

  package static func absolute(_ path: String) -> String {
    let url = path.hasPrefix("/")
      ? URL(fileURLWithPath: path) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
    var p = url.standardizedFileURL.path
    while p.count > 1, p.hasSuffix("/") { p.removeLast() }
    return p
  }

  /// Whether `path` is a symbolic link (not followed).
  static func isLink(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
  }

  /// Throws when `path` is a link whose target is outside `root` (or dangling).
  static func refuseLinkOutside(_ path: String, root: String, display: String) throws {
    guard isLink(path) else { return }
    let realRoot = FolderScanner.realPath(root) ?? root
    guard let target = FolderScanner.realPath(path), target == realRoot || target.hasPrefix(realRoot + "/") else {
      throw WorkspaceError.linkNotFollowed(path: display)
    }
  }

  /// Throws when `path` is a link at all (kb's private files: the lock, identity, credentials).
  package static func refuseLink(_ path: String, display: String) throws {
    if isLink(path) { throw WorkspaceError.linkNotFollowed(path: display) }
  }

  static func removeIndexFiles(_ dbPath: String) { IndexStore.removeFiles(dbPath) }

  /// Shown at once, as well as kept in ``warnings``, once a front end has set it (warnings that
  /// arise after opening: an index rebuilt in the middle of a command).
  public var warningHandler: ((String) -> Void)? {
    get { storeLock.withLock { handler } }
    set { storeLock.withLock { handler = newValue } }
  }

  func warningsAppend(_ warning: String) {
    let handler = storeLock.withLock {
      gathered.append(warning)
      return self.handler
    }
    handler?(warning)
  }

  /// Pages of the index this workspace's connection has looked up: a count of the work done
  /// (printed on exit with `KB_INDEX_STATS=1`).
  public var indexPagesTouched: Int64 { store.pagesTouched() }

  /// Deletes the index's files and starts an empty index in the same store.
  func reopenStore() throws { try store.recreate() }

  /// Deletes the index and starts over from the files.
  @discardableResult
  public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> RefreshReport {
    try withIndexLock { try rebuildLocked(progress: progress) }
  }

  private func rebuildLocked(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    try whileRebuilding { try rebuildErased(progress: progress) }
  }

  private func rebuildErased(progress: ((Int, Int) -> Void)?) throws -> RefreshReport {
    do {
      try store.eraseAll()
    } catch {
      try store.recreate()
    }
    // The index is derived data: while it is rebuilt from scratch, skip syncs and keep more
    // pages in memory (a crash midway is answered by the next rebuild).
    try? store.setBulkLoading(true)
    defer { try? store.setBulkLoading(false) }
    // Every file, whatever a watcher says: what changed since its token is not what an empty
    // index lacks (asking it left the index with only the files changed since the last command).
    var report = try walkEverything(progress: progress)
    try? store.optimize()
    report.rebuilt = true
    return report
  }

  // MARK: Paths

  /// Resolves a path relative to the root, refusing any path that leaves it (`..`, absolute
  /// paths elsewhere, links leading out).
  public func resolve(_ relative: String) throws -> String {
    let candidate = relative.hasPrefix("/") ? relative : root + "/" + relative
    let standardized = URL(fileURLWithPath: candidate).standardizedFileURL.path
    guard standardized == root || standardized.hasPrefix(root + "/") else {
      throw WorkspaceError.pathOutsideKnowledgeBase(relative)
    }
    // An existing ancestor that is a link must still resolve inside.
    var probe = standardized
    let realRoot = FolderScanner.realPath(root) ?? root
    while probe.count >= root.count {
      if let real = FolderScanner.realPath(probe) {
        guard real == realRoot || real.hasPrefix(realRoot + "/") else {
          throw WorkspaceError.pathOutsideKnowledgeBase(relative)
        }
        break
      }
      probe = (probe as NSString).deletingLastPathComponent
    }
    return standardized
  }

  // MARK: Reading

  /// Reads and checks a file's text: at most ``maxFileSize``, no NUL bytes, valid UTF-8.
  public func readText(_ relative: String) throws -> String {
    let path = try resolve(relative)
    return try Self.readText(atPath: path, display: relative)
  }

  static func readText(atPath path: String, display: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw WorkspaceError.unreadable(path: display, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw WorkspaceError.unreadable(path: display, reason: String(cString: strerror(errno)))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw WorkspaceError.unreadable(path: display, reason: "not a regular file")
    }
    guard Int64(st.st_size) <= maxFileSize else {
      throw WorkspaceError.unreadable(
        path: display, reason: "file is \(st.st_size / 1024) KiB, larger than the 1 MiB limit; not indexed")
    }
    var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
    let total = bytes.withUnsafeMutableBytes { buffer -> Int in
      var done = 0
      while done < buffer.count {
        let n = read(fd, buffer.baseAddress! + done, buffer.count - done)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { break }
        done += n
      }
      return done
    }
    bytes.removeSubrange(total...)
    if let nul = bytes.firstIndex(of: 0) {
      throw WorkspaceError.unreadable(path: display, reason: "binary file (NUL byte at offset \(nul)); not indexed")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let offset = Self.firstInvalidUTF8(bytes)
      throw WorkspaceError.unreadable(path: display, reason: "not valid UTF-8 (at byte \(offset)); not indexed")
    }
    return text
  }

  /// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
  static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      let length: Int
      switch b {
      case 0x00...0x7F: length = 1
      case 0xC2...0xDF: length = 2
      case 0xE0...0xEF: length = 3
      case 0xF0...0xF4: length = 4
      default: return i
      }
      guard i + length <= bytes.count else { return i }
      for j in 1..<length where bytes[i + j] & 0xC0 != 0x80 { return i }
      guard String(validating: bytes[i..<i + length], as: UTF8.self) != nil else { return i }
      i += length
    }
    return i
  }

  /// Reads and parses the document at a relative path.
  public func readDocument(at relative: String) throws -> Document {
    let text = try readText(relative)
    do {
      return try Document(path: relative, text: text)
    } catch {
      throw WorkspaceError.invalidDocument(path: relative, line: error.line, reason: error.description)
    }
  }

  /// The document with this id (index lookup, then a read of its file).
  public func document(id: String) throws -> Document {
    try readDocument(at: try uniquePath(forID: id))
  }

  // MARK: Writing

  /// Writes a document's text atomically (a temporary file, then a rename) and indexes it.
  /// Refuses paths outside the root.
  public func write(_ document: Document, creating: Bool = false) throws {
    guard let changes = try writeFile(document, creating: creating) else { return }
    try withIndexLock { try store.apply(changes) }
  }

  /// Writes a document's file as ``write(_:creating:)`` does, and returns the index changes
  /// that record it (for a caller that indexes several files at once), `nil` when the file
  /// vanished at once.
  func writeFile(_ document: Document, creating: Bool) throws -> IndexChanges? {
    try Self.checkIndexable(document.text, path: document.path)
    let path = try resolve(document.path)
    guard path.hasSuffix(".md") else {
      throw WorkspaceError.invalidInput("Documents are Markdown files ending in .md, not '\(document.path)'.")
    }
    if creating, FileManager.default.fileExists(atPath: path) {
      throw WorkspaceError.alreadyExists(path: document.path)
    }
    let folder = (path as NSString).deletingLastPathComponent
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      try Self.atomicWrite(Data(document.text.utf8), to: path)
    } catch {
      throw WorkspaceError.io(path: document.path, reason: "\(error.localizedDescription)")
    }
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    var changes = IndexChanges()
    changes.upserts.append(
      IndexRecord(path: document.path, size: Int64(st.st_size), mtime: FolderScanner.mtime(st), document: document))
    // The folder's fingerprint is now stale; the next refresh recomputes it.
    changes.directories[IndexRecord.directory(of: document.path)] = .some(FolderScanner.staleFingerprint)
    return changes
  }

  /// Refuses text the index would later refuse (see ``readText(atPath:display:)``): a NUL byte
  /// or more than ``maxFileSize`` bytes. kb never writes a document it could not read back.
  static func checkIndexable(_ text: String, path: String) throws {
    let size = text.utf8.count
    guard size <= maxFileSize else {
      throw WorkspaceError.invalidInput(
        "'\(path)' would be \(size / 1024) KiB, larger than the 1 MiB a document may have; nothing was written. Shorten the text.")
    }
    if text.utf8.contains(0) {
      throw WorkspaceError.invalidInput(
        "The text for '\(path)' contains a NUL byte (U+0000, also written '&#0;' or '\\u0000'), which a document may not hold; nothing was written. Remove it and try again.")
    }
  }

  /// The most a customer's words (a mention) may weigh: 64 KiB, far above any post or mail
  /// body, far below what would make a document too large to index.
  public static let maxMentionBytes = 64 * 1024

  /// Throws when a mention's text is over ``maxMentionBytes``, before any work is done on it.
  public static func checkMentionSize(_ text: String) throws {
    let size = text.utf8.count
    guard size <= maxMentionBytes else {
      throw WorkspaceError.invalidInput(
        "The mention is \(size / 1024) KiB; kb takes at most \(maxMentionBytes / 1024) KiB of a customer's words. Nothing was written.")
    }
  }

  /// Writes `data` to a temporary file in the same folder, syncs it, and renames it over `path`.
  package static func atomicWrite(_ data: Data, to path: String, durable: Bool = true) throws {
    let temp = path + ".kb-tmp-\(getpid())"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    let ok = data.withUnsafeBytes { buffer -> Bool in
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
      }
      return true
    }
    let code = errno
    if ok, durable { fsync(fd) }
    close(fd)
    guard ok else {
      unlink(temp)
      throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    }
    guard rename(temp, path) == 0 else {
      let code = errno
      unlink(temp)
      throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    }
  }

  /// Runs `body` holding the index's lock (`.kb/index.lock`, an `flock` that dies with the
  /// process): every change to the index (a refresh, a rebuild, a re-index after sync, a
  /// document written) is made by one process at a time, after it has looked at the files.
  /// Two refreshes started together used to both find the same new files and both insert them
  /// ("UNIQUE constraint failed"); now the second waits and then finds nothing left to do.
  /// Readers never wait (SQLite's WAL). Re-entrant within one workspace.
  public func withIndexLock<T>(_ body: () throws -> T) throws -> T {
    if indexLockDepth > 0 {
      indexLockDepth += 1
      defer { indexLockDepth -= 1 }
      return try body()
    }
    let fd = open(root + "/.kb/index.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
      if errno == ELOOP { throw WorkspaceError.linkNotFollowed(path: ".kb/index.lock") }
      return try body()  // a read-only folder: nothing can be written anyway
    }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    defer { flock(fd, LOCK_UN) }
    indexLockDepth += 1
    defer { indexLockDepth -= 1 }
    return try body()
  }

  /// Runs `body` holding the knowledge base's write lock (`.kb/lock`), so that two processes
  /// never interleave a read-modify-write of the same file. Waits for the lock.
  public func withWriteLock<T>(_ body: () throws -> T) throws -> T {
    let fd = open(root + "/.kb/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { return try body() }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    defer { flock(fd, LOCK_UN) }
    return try body()
  }
}
