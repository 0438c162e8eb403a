import Foundation
import KBCore
import KBWorkspace
import KBWorkspaceGit

/// The knowledge base behind the web interface: one ``Workspace``, used by one request at a time,
/// kept fresh by a background pass that also tells open pages when files change.
///
/// Every read and write goes through the same ``Workspace`` operations as `kb` and `kb mcp`.
public actor Library {
  public let workspace: Workspace
  /// Who signs journal entries and sync commits (`--as`, else `.kb/identity` or git config).
  public nonisolated let identity: Identity?
  /// Bumped whenever the index changes (a write here, or files changed on disk).
  public private(set) var generation = 0
  private var watchers: [UUID: AsyncStream<Int>.Continuation] = [:]
  private var lastRefresh = Date.distantPast
  private var statsCache: (generation: Int, day: String, value: StatsPage)?
  private var conflictsCache: (generation: Int, value: [ConflictItem])?
  /// The repository's status, kept up to date from the watcher's changes (``StatusTracker``).
  private let statusTracker = StatusTracker()

  public init(workspace: Workspace, identity: Identity?) {
    self.workspace = workspace
    self.identity = identity
  }

  /// Runs `body` on the workspace. Reads and writes are serialized here.
  public func run<T: Sendable>(_ body: @Sendable (Workspace) throws -> T) rethrows -> T {
    try body(workspace)
  }

  /// Runs a write, then tells open pages.
  public func write<T: Sendable>(_ body: @Sendable (Workspace) throws -> T) throws -> T {
    let result = try body(workspace)
    changed()
    return result
  }

  /// The journal author: the identity's name, or the CLI's error when there is none.
  public func author() throws -> String {
    try workspace.agentName(override: identity?.description)
  }

  /// Brings the index up to date with the files (one stat a file; only changes are read) and
  /// tells open pages when something changed. Returns whether it did.
  ///
  /// With `warming` (the background pass), the pages computed once per change that were looked
  /// at in the last ten minutes (`/stats`, `/conflicts`, `/sync`) are computed again before open
  /// pages are told, so the page that reloads on the `changed` event finds them ready.
  @discardableResult
  public func refresh(warming: Bool = false) throws -> Bool {
    let report = try workspace.refresh()
    lastRefresh = Date()
    if report.changed > 0 || report.rebuilt {
      changed(warming: warming)
      return true
    }
    return false
  }

  /// When each page computed once per change was last asked for, and the stats page's day.
  private var asked: [String: Date] = [:]
  private var statsDay: (today: String, timeZone: TimeZone)?

  private func wanted(_ page: String) -> Bool {
    asked[page].map { Date().timeIntervalSince($0) < 600 } ?? false
  }

  /// Computes again what the pages looked at lately need (see ``refresh(warming:)``); the
  /// repository status only with `status` (it is asked about the changed files at once).
  public func warm(status: Bool = true) {
    // Warming is not asking: the pages stay warm only while someone looks.
    let asked = self.asked
    defer { self.asked = asked }
    if wanted("conflicts"), conflictsCache == nil { _ = try? conflicts() }
    if status, wanted("sync") { _ = try? workspace.status(tracking: statusTracker) }
    if wanted("stats"), statsCache == nil, let (today, zone) = statsDay { _ = try? stats(today: today, timeZone: zone) }
  }

  /// Refreshes unless that was done less than `maxAge` seconds ago.
  public func refreshIfOlder(than maxAge: TimeInterval) throws {
    if Date().timeIntervalSince(lastRefresh) >= maxAge { try refresh() }
  }

  func changed(warming: Bool = false) {
    generation += 1
    statsCache = nil
    conflictsCache = nil
    if warming { warm() }
    for c in watchers.values { c.yield(generation) }
  }

  /// A stream of generations, one each time the knowledge base changes.
  public func changes() -> AsyncStream<Int> {
    let id = UUID()
    let (stream, continuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))
    watchers[id] = continuation
    continuation.onTermination = { [weak self] _ in
      Task { await self?.forget(id) }
    }
    return stream
  }

  private func forget(_ id: UUID) { watchers[id] = nil }

  public var watcherCount: Int { watchers.count }

  /// Documents with conflicts: they change only with the files, so computed once per change.
  func conflicts() throws -> [ConflictItem] {
    asked["conflicts"] = Date()
    if let cached = conflictsCache, cached.generation == generation { return cached.value }
    let value = try workspace.conflicts()
    conflictsCache = (generation, value)
    return value
  }

  /// The repository status: the work tree walked once, then only the files the watcher saw
  /// change asked about (``StatusTracker``); walked again when git's own state moves.
  func status() throws -> StatusReport {
    asked["sync"] = Date()
    return try workspace.status(tracking: statusTracker)
  }

  /// The background pass's share of the status: the periodic walk of the whole work tree
  /// (``StatusTracker/maxAge``) is done here, ahead of a page, while `/sync` was looked at in the
  /// last ten minutes.
  public func keepStatusFresh() {
    guard wanted("sync"), statusTracker.walkIsDue() else { return }
    _ = try? workspace.status(tracking: statusTracker)
  }

  /// The figures page, computed once per change of the knowledge base (and per day).
  func stats(today: String, timeZone: TimeZone) throws -> StatsPage {
    asked["stats"] = Date()
    statsDay = (today, timeZone)
    if let cached = statsCache, cached.generation == generation, cached.day == today { return cached.value }
    let value = StatsPage(
      stats: try workspace.caseStats(byAgent: true, today: today, timeZone: timeZone),
      series: try workspace.caseSeries(days: 30, today: today, timeZone: timeZone))
    statsCache = (generation, today, value)
    return value
  }
}

/// `/stats` and `/api/stats`.
public struct StatsPage: Sendable, Codable {
  public var stats: CaseStats
  public var series: CaseSeries
}
