import Foundation
import KBCore
internal import KBStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whether commands learn what changed from a file watcher (`.kb/settings`: `watch = ...`,
/// or `KB_WATCH`).
public enum WatchSetting: String, Codable, Sendable, CaseIterable {
  /// Use a watcher; start the helper for knowledge bases of at least `watch_min_files` files.
  case auto
  /// Use a watcher; start the helper whatever the size.
  case on
  /// Never: every command walks the files (one stat each).
  case off
}

/// What `kb status` and `kb watch status` say about freshness.
public struct WatchReport: Codable, Equatable, Sendable {
  public var setting: WatchSetting
  /// Where the setting comes from: `KB_WATCH`, `.kb/settings` or `default`.
  public var settingFrom: String
  /// Whether a watcher serves this knowledge base now (a helper answered, or this process
  /// watches directly).
  public var serving: Bool
  public var helper: WatchHelperStatus?
  /// Why no helper is started (a previous helper could not start, the platform).
  public var note: String?
}

/// The in-process state of watching (one per ``Workspace``).
final class WatchState: @unchecked Sendable {
  let lock = NSLock()
  #if os(Linux)
    /// Set by ``Workspace/watchDirectly()``: long-lived processes hold their own watcher.
    var direct: FileWatcher?
  #endif
  var directToken: String?
}

extension Workspace {
  /// Files under which the `auto` setting does not start a helper (a walk costs ~1 ms per
  /// thousand files; a helper process is not worth it below this).
  public static let defaultWatchMinFiles = 2000

  /// The local settings in `.kb/settings` (`key = value` lines; `#` comments).
  func localSettings() -> [String: String] {
    guard let text = try? String(contentsOfFile: root + "/.kb/settings", encoding: .utf8) else { return [:] }
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.isEmpty || t.hasPrefix("#") { continue }
      let parts = t.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if parts.count == 2 { out[parts[0]] = parts[1] }
    }
    return out
  }

  /// The watch setting and where it comes from: `KB_WATCH` (0/off, 1/on, auto), then
  /// `.kb/settings` (`watch = off|on|auto`), else `auto`.
  public func watchSetting(environment: [String: String] = ProcessInfo.processInfo.environment) -> (WatchSetting, String) {
    if let value = environment["KB_WATCH"], let setting = Self.parseWatch(value) { return (setting, "KB_WATCH") }
    if let value = localSettings()["watch"], let setting = Self.parseWatch(value) { return (setting, ".kb/settings") }
    return (.auto, "default")
  }

  static func parseWatch(_ value: String) -> WatchSetting? {
    switch value.lowercased() {
    case "0", "off", "false", "no": return .off
    case "1", "on", "true", "yes": return .on
    case "auto": return .auto
    default: return nil
    }
  }

  var watchIdle: Double {
    let env = ProcessInfo.processInfo.environment
    if let value = env["KB_WATCH_IDLE"].flatMap(Double.init), value > 0 { return value }
    if let value = localSettings()["watch_idle_minutes"].flatMap(Double.init), value > 0 { return value * 60 }
    return WatchService.defaultIdle
  }

  var watchMinFiles: Int {
    localSettings()["watch_min_files"].flatMap(Int.init) ?? Self.defaultWatchMinFiles
  }

  /// Where a helper that could not start leaves its reason; no helper is started again for
  /// ten minutes after it.
  var watchFailurePath: String { root + "/.kb/watch/failed" }

  /// Watches the folder in this process (for long-lived processes: `kb mcp`, `kb serve`):
  /// every later ``refresh(progress:)`` reads what changed from it, with no walk and no helper.
  /// False (and nothing changes) when the setting is off or the folder cannot be watched.
  @discardableResult
  public func watchDirectly() -> Bool {
    #if os(Linux)
      guard watchSetting().0 != .off else { return false }
      watchState.lock.lock()
      defer { watchState.lock.unlock() }
      if watchState.direct != nil { return true }
      do {
        watchState.direct = try FileWatcher(root: root)
        watchState.directToken = nil
        return true
      } catch {
        warningsAppend("warning: cannot watch the folder (\(error)); every call checks the files instead.")
        return false
      }
    #else
      return false
    #endif
  }

  /// Stops watching in this process.
  public func stopWatchingDirectly() {
    #if os(Linux)
      watchState.lock.lock()
      watchState.direct = nil
      watchState.directToken = nil
      watchState.lock.unlock()
    #endif
  }

  /// Whether this process watches the folder itself.
  public var watchesDirectly: Bool {
    #if os(Linux)
      watchState.lock.lock()
      defer { watchState.lock.unlock() }
      return watchState.direct != nil
    #else
      return false
    #endif
  }

  /// What the watcher this process holds (``watchDirectly()``) saw change since `token`:
  /// Markdown files and folders, relative to the root. For callers that keep their own state
  /// derived from the files (`kb serve`'s git status) next to the index's; their token is their
  /// own. `nil` when this process does not watch the folder itself.
  public func watchedChanges(since token: String?) -> WatchAnswer? {
    #if os(Linux)
      watchState.lock.lock()
      defer { watchState.lock.unlock() }
      guard let direct = watchState.direct else { return nil }
      guard direct.sync() else { return .walk(token: nil) }
      return direct.changes(since: token)
    #else
      return nil
    #endif
  }

  /// What serves freshness now, for `kb status` and `kb watch status`.
  public func watchReport() -> WatchReport {
    let (setting, from) = watchSetting()
    let helper = setting == .off ? nil : WatchService.status(root: root)
    var note: String?
    if setting != .off, helper == nil, let reason = recentWatchFailure() { note = reason }
    return WatchReport(
      setting: setting, settingFrom: from, serving: watchesDirectly || helper != nil, helper: helper, note: note)
  }

  /// Stops this knowledge base's helper, if one runs. True when one was stopped.
  @discardableResult
  public func stopWatchHelper() -> Bool { WatchService.stop(root: root) }

  func recentWatchFailure() -> String? {
    var st = stat()
    guard stat(watchFailurePath, &st) == 0, time(nil) - st.st_mtim.tv_sec < 600 else { return nil }
    return (try? String(contentsOfFile: watchFailurePath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  // MARK: Asking

  /// Asks the watcher (this process's, else the helper's, starting it if the setting asks
  /// for one) what changed since the last token, and that token (`asked`). Nil: no watcher; walk.
  func askWatcher() -> (answer: WatchAnswer, direct: Bool, asked: String?)? {
    #if os(Linux)
      // This process's own watcher first. The token moves only in keepWatchToken, which runs
      // under the same index lock as this call.
      watchState.lock.lock()
      let asked = watchState.directToken
      watchState.lock.unlock()
      if let answer = watchedChanges(since: asked) { return (answer, true, asked) }
      let (setting, _) = watchSetting()
      guard setting != .off else { return nil }
      let token = try? store.meta("watch_token")
      if let answer = WatchService.query(root: root, token: token) { return (answer, false, token) }
      if setting == .auto {
        guard let counts = try? store.counts(), counts.documents + counts.problems >= watchMinFiles else { return nil }
      }
      guard recentWatchFailure() == nil, let helper = WatchService.helperPath(),
        WatchService.spawn(root: root, helper: helper, idle: watchIdle)
      else { return nil }
      // Wait a little for it (it answers once every folder is watched); else walk this time.
      for _ in 0..<100 {
        usleep(10_000)
        if let answer = WatchService.query(root: root, token: token) { return (answer, false, token) }
        if recentWatchFailure() != nil { break }
      }
      return nil
    #else
      return nil
    #endif
  }

  /// Keeps the token of an answer once its changes are applied; `asked` is the token the
  /// question carried (``askWatcher()`` read it).
  func keepWatchToken(_ token: String?, asked: String?, direct: Bool) throws {
    if direct {
      watchState.lock.lock()
      watchState.directToken = token
      watchState.lock.unlock()
    } else if let token, token != asked {
      // Written only when it moved: an unchanged knowledge base costs no write transaction.
      try store.setMeta("watch_token", token)
    }
  }

  // MARK: Applying

  /// Brings the index up to date with exactly these changes: each file is stat'ed, compared
  /// with its row and re-read when it differs; each folder's subtree is listed again.
  func refresh(changes: [WatchChange]) throws -> RefreshReport {
    var report = RefreshReport()
    report.source = .watcher
    guard !changes.isEmpty else { return report }
    let scanner = FolderScanner(root: root)
    // Folders first; a folder inside another one listed is covered by it.
    let folders = changes.filter(\.isFolder).map(\.path).sorted()
    var subtrees: [String] = []
    for folder in folders where !subtrees.contains(where: { folder == $0 || folder.hasPrefix($0 + "/") }) {
      subtrees.append(folder)
    }
    let inSubtree = { (path: String) in subtrees.contains { path.hasPrefix($0 + "/") } }
    var onDisk: [String: ScannedFile] = [:]
    var stored: [String: FileStamp] = [:]
    var changes2 = IndexChanges()
    let storedFolders = subtrees.isEmpty ? [:] : try store.folderFingerprints()
    for subtree in subtrees {
      stored.merge(try store.stamps(under: subtree)) { a, _ in a }
      var seen = Set<String>()
      if scanner.reaches(folder: subtree) {
        for folder in scanner.scan(from: subtree) {
          seen.insert(folder.path)
          changes2.directories[folder.path] = .some(folder.fingerprint)
          for file in folder.files { onDisk[folder.path.isEmpty ? file.name : folder.path + "/" + file.name] = file }
        }
      }
      for folder in storedFolders.keys where (folder == subtree || folder.hasPrefix(subtree + "/")) && !seen.contains(folder) {
        changes2.directories[folder] = .some(nil)
      }
    }
    let files = Set(changes.filter { !$0.isFolder && !inSubtree($0.path) }.map(\.path))
    stored.merge(try store.stamps(ofPaths: files)) { a, _ in a }
    for path in files {
      if let file = scanner.entry(path) { onDisk[path] = file }
      // The folder's fingerprint no longer matches; the next walk (if any) lists it again.
      changes2.directories[IndexRecord.directory(of: path)] = .some(FolderScanner.staleFingerprint)
    }
    var toParse: [(path: String, file: ScannedFile)] = []
    var isNew: [Bool] = []
    for (path, file) in onDisk.sorted(by: { $0.key < $1.key }) {
      if let old = stored[path], old == FileStamp(size: file.size, mtime: file.mtime) { continue }
      if stored[path] == nil { report.added += 1 } else { report.updated += 1 }
      report.changedPaths.append(path)
      toParse.append((path, file))
      isNew.append(stored[path] == nil)
    }
    for path in stored.keys.sorted() where onDisk[path] == nil {
      changes2.removals.append(path)
      report.removed += 1
      report.changedPaths.append(path)
    }
    report.scanned = onDisk.count
    var records = parseRecords(toParse)
    for i in records.indices where isNew[i] { records[i].isNew = true }
    for record in records where record.document == nil {
      report.problems.append(IndexProblem(path: record.path, line: record.problemLine, message: record.problem ?? ""))
    }
    changes2.upserts = records
    try store.apply(changes2)
    report.changedPaths.sort()
    return report
  }
}
