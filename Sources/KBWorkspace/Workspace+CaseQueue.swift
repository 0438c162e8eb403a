import Foundation
import KBCore
internal import KBStore

/// One case in an agent's queue (`kb cases`, the web queue): the index's row plus who it is
/// assigned to by name, how long the customer has waited, and where it stands against its
/// response-time targets.
public struct CaseRow: Equatable, Sendable, Codable {
  public var id: String
  public var path: String
  /// On one line (line breaks of a hand-written title become spaces).
  public var title: String
  public var status: String
  public var assignee: String?
  /// The assignee's full name from `agents:` in kb.yml, else as written.
  public var assigneeName: String?
  public var channel: String?
  public var customer: String?
  public var answer: String?
  public var opened: String?
  public var updated: String?
  public var followUp: String?
  public var tags: [String]
  /// Since when the customer waits for us (their last message, not yet answered).
  public var waitingSince: String?
  public var waitingSeconds: Double?
  /// Where the case stands against its targets (only when kb.yml sets `sla:`).
  public var sla: ServiceLevel?
  /// The worst of the targets' states: `breached`, `at-risk`, `ok`, `met`.
  public var slaState: String?
  /// Seconds to the nearest pending deadline (negative when past).
  public var secondsLeft: Double?

  enum CodingKeys: String, CodingKey {
    case id, path, title, status, assignee, channel, customer, answer, opened, updated, tags, sla
    case assigneeName = "assignee_name"
    case followUp = "follow_up"
    case waitingSince = "waiting_since"
    case waitingSeconds = "waiting_seconds"
    case slaState = "sla_state"
    case secondsLeft = "seconds_left"
  }

  init(_ c: CaseSummary, roster: AgentRoster) {
    id = c.id
    path = c.path
    title = Self.oneLine(c.title)
    status = c.status
    assignee = c.assignee
    assigneeName = c.assignee.map(roster.displayName)
    channel = c.channel
    customer = c.customer
    answer = c.answer
    opened = c.opened
    updated = c.updated
    followUp = c.followUp
    tags = c.tags
  }

  /// Text on one line: runs of white space (line breaks included) become one space.
  public static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
  }
}

extension Workspace {
  /// The saved views of kb.yml, by name.
  public var viewNames: [String] { settings.views.keys.sorted() }

  /// A saved view by name.
  public func view(named name: String) throws -> CaseView {
    guard let text = settings.views[name] ?? settings.views.first(where: { $0.key.lowercased() == name.lowercased() })?.value else {
      let known = viewNames
      throw WorkspaceError.invalidInput(
        "No view named '\(name)' in kb.yml." + (known.isEmpty
          ? " Add one under 'views:', such as  mine: \"status:active assignee:@me sort:waiting\"."
          : " Views: " + known.joined(separator: ", ") + "."))
    }
    do { return try CaseView(parsing: text) } catch {
      throw WorkspaceError.invalidSettings(path: Settings.fileName, line: nil, reason: "view '\(name)': \(error.description)")
    }
  }

  /// `@me` (or `me`) as the agent's own name; any other assignee as given.
  public func agent(_ who: String) throws -> String {
    guard ["@me", "me"].contains(who.lowercased()) else { return who }
    guard let identity = Identity.current(in: root) else {
      throw WorkspaceError.invalidInput(
        "'@me' needs your identity: set 'git config user.name' or write 'name = …' in .kb/identity.")
    }
    return identity.name
  }

  /// Whether a case's `assignee` is `agent` (a handle or a full name, any case; see ``AgentRoster``).
  public func isAssigned(_ assignee: String?, to agent: String) -> Bool {
    settings.agents.matches(assignee: assignee, agent: agent)
  }

  /// The cases a view selects, with waiting times and response-time targets judged at `now`.
  public func caseQueue(_ view: CaseView, now: Date = Date()) throws -> [CaseRow] {
    var query = CaseListQuery()
    query.statuses = view.statuses
    query.channel = view.channel
    query.customer = view.customer
    query.tag = view.tag
    query.answer = view.answer
    query.since = try view.since.map { try Self.queryTime($0, option: "since") }
    query.before = try view.before.map { try Self.queryTime($0, option: "before") }
    switch view.sort ?? .opened {
    case .opened, .waiting, .due: query.sort = .opened
    case .updated: query.sort = .updated
    case .status: query.sort = .status
    case .followUp: query.sort = .followUp
    }
    query.descending = view.reverse && ![.waiting, .due].contains(view.sort ?? .opened)
    let agent = try view.assignee.map(agent)
    let needsFacts = view.waiting || view.breached || view.atRisk || view.sort == .waiting || view.sort == .due
      || !settings.serviceTargets.isEmpty
    let simple = agent == nil && !view.unassigned && !needsFacts
    if simple { query.limit = view.limit }
    var rows = try store.cases(query).compactMap { c -> CaseRow? in
      if view.unassigned, c.assignee.map({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) == true { return nil }
      if let agent, !isAssigned(c.assignee, to: agent) { return nil }
      return CaseRow(c, roster: settings.agents)
    }
    if needsFacts {
      let facts = Dictionary(try store.caseFacts(statuses: query.statuses).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
      for i in rows.indices {
        guard let f = facts[rows[i].id] else { continue }
        let status = CaseStatus(rawValue: rows[i].status) ?? .open
        if let since = CaseWaiting.since(opened: f.opened, status: status, entries: f.entries) {
          rows[i].waitingSince = Timestamp.format(since)
          rows[i].waitingSeconds = now.timeIntervalSince(since).rounded()
        }
        let level = ServiceLevel.evaluate(
          opened: f.opened, status: status, channel: f.channel, tags: f.tags, entries: f.entries,
          targets: settings.serviceTargets, now: now)
        rows[i].sla = level
        rows[i].slaState = level?.state?.rawValue
        rows[i].secondsLeft = level?.secondsLeft
      }
      if view.waiting { rows.removeAll { $0.waitingSince == nil } }
      if view.breached || view.atRisk {
        rows.removeAll { row in
          let states = [row.sla?.firstResponse, row.sla?.resolution].compactMap { $0?.state }
          return !((view.breached && states.contains(.breached) && CaseLifecycle.active.contains(CaseStatus(rawValue: row.status) ?? .open))
            || (view.atRisk && states.contains(.atRisk)))
        }
      }
      switch view.sort {
      case .waiting?:
        // Longest wait first; cases nobody waits on after them, by opening.
        rows = Self.stableSorted(rows) { a, b in
          switch (a.waitingSince, b.waitingSince) {
          case let (x?, y?): return view.reverse ? x > y : x < y
          case (_?, nil): return true
          default: return false
          }
        }
      case .due?:
        rows = Self.stableSorted(rows) { a, b in
          switch (a.secondsLeft, b.secondsLeft) {
          case let (x?, y?): return view.reverse ? x > y : x < y
          case (_?, nil): return true
          default: return false
          }
        }
      default: break
      }
    }
    if !simple, let limit = view.limit { rows = Array(rows.prefix(limit)) }
    return rows
  }

  static func stableSorted<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
    items.enumerated().sorted { a, b in
      if less(a.element, b.element) { return true }
      if less(b.element, a.element) { return false }
      return a.offset < b.offset
    }.map(\.element)
  }

  static func queryTime(_ text: String, option: String) throws -> String {
    guard let date = Timestamp.parse(text) else {
      throw WorkspaceError.invalidInput("'\(option):\(text)': \(CaseError.invalidDate(text).description)")
    }
    return Timestamp.format(date)
  }
}

extension Workspace {
  /// Ids starting with `prefix` (for shell completion), at most `limit`, sorted.
  public func completions(forID prefix: String, type: DocumentType? = nil, limit: Int = 200) throws -> [String] {
    try store.ids(withPrefix: prefix, type: type, limit: limit)
  }
}

extension Workspace {
  /// The full id for what a person typed, like git's short hashes: the id itself; else the one
  /// id starting with it; else the one case id whose words (after its `yyyy-mm-dd-` date) start
  /// with it (`sms-loop` for `2009-10-20-sms-loop-barnaul`). Every command that takes an id
  /// goes through here.
  ///
  /// - Throws: ``WorkspaceError/ambiguousPrefix(_:ids:)`` when several ids fit;
  ///   ``WorkspaceError/unknownID(_:didYouMean:)`` for a near miss;
  ///   ``WorkspaceError/documentNotFound(_:)`` otherwise.
  public func resolveID(_ text: String, type: DocumentType? = nil) throws -> String {
    let typed = text.trimmingCharacters(in: .whitespaces)
    if try !store.paths(forID: typed).isEmpty { return typed }
    guard !typed.isEmpty else { throw WorkspaceError.documentNotFound(text) }
    let starting = try store.ids(withPrefix: typed, type: type, limit: 50)
    if starting.count == 1 { return starting[0] }
    if starting.count > 1 { throw WorkspaceError.ambiguousPrefix(typed, ids: starting) }
    let all = try store.allIDs().filter { type == nil || $0.type == type }.map(\.id)
    let lower = typed.lowercased()
    let words = all.filter { Self.dateless($0).lowercased().hasPrefix(lower) }
    if words.count == 1 { return words[0] }
    if words.count > 1 { throw WorkspaceError.ambiguousPrefix(typed, ids: words.sorted()) }
    let near = Self.nearest(lower, in: all)
    if !near.isEmpty { throw WorkspaceError.unknownID(typed, didYouMean: near) }
    throw WorkspaceError.documentNotFound(typed)
  }

  /// An id without its leading `yyyy-mm-dd-` date, if it has one.
  static func dateless(_ id: String) -> Substring {
    let s = Substring(id)
    guard s.count > 11 else { return s }
    let head = s.prefix(11)
    let ok = head.enumerated().allSatisfy { i, c in [4, 7, 10].contains(i) ? c == "-" : c.isASCII && c.isNumber }
    return ok ? s.dropFirst(11) : s
  }

  /// Up to three ids within a small edit distance of `typed` (or of their dateless part).
  static func nearest(_ typed: String, in ids: [String]) -> [String] {
    let budget = max(1, min(3, typed.count / 4))
    var scored: [(Int, String)] = []
    for id in ids {
      let lower = id.lowercased()
      let d = min(
        editDistance(typed, lower, limit: budget), editDistance(typed, String(dateless(lower)), limit: budget),
        editDistance(typed, String(lower.prefix(typed.count)), limit: budget) + (lower.count > typed.count ? 1 : 0))
      if d <= budget { scored.append((d, id)) }
    }
    return scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(3).map(\.1)
  }

  /// Levenshtein distance, or `limit + 1` as soon as it must exceed `limit`.
  static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if abs(x.count - y.count) > limit { return limit + 1 }
    var previous = Array(0...y.count)
    for i in 1...max(x.count, 1) where !x.isEmpty {
      var current = [i] + Array(repeating: 0, count: y.count)
      var best = current[0]
      for j in 1...max(y.count, 1) where !y.isEmpty {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        best = min(best, current[j])
      }
      if best > limit { return limit + 1 }
      previous = current
    }
    return x.isEmpty ? y.count : previous[y.count]
  }
}
