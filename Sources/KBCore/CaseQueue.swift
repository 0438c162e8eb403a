import Foundation
import Yams

// An agent's queue: who is waiting for us, response-time targets (SLAs), saved views and the
// agents' names. Pure: no clock (the caller passes `now`), no files. docs/CASES.md.

extension Duration {
  /// Seconds in a delay written `45m`, `4h`, `2d`, `1w` (or `90s`). `nil` when unreadable.
  public static func parseSeconds(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    guard let unit = t.last, let n = Double(t.dropLast()), n >= 0, n <= 3650 * 86400 else { return nil }
    switch unit {
    case "s": return n
    case "m": return n * 60
    case "h": return n * 3600
    case "d": return n * 86400
    case "w": return n * 7 * 86400
    default: return nil
    }
  }
}

// MARK: Waiting

/// When the customer started waiting for us: their last message (the complaint, or a later
/// `customer` entry) with no reply from us after it.
public enum CaseWaiting {
  /// Entries that answer the customer: a reply of any kind, or a question back to them.
  public static let replyKinds: Set<JournalEntry.Kind> = [.acknowledged, .apologized, .acted, .offline, .asked]

  /// The time the customer has been waiting since, or `nil` when nobody is waiting on us
  /// (we replied after their last message, the case waits on the customer, or it is done).
  public static func since(opened: Date?, status: CaseStatus, entries: [JournalEntry]) -> Date? {
    guard CaseLifecycle.active.contains(status), status != .pending else { return nil }
    var last = opened
    for e in entries where e.kind == .customer {
      if last == nil || e.time > last! { last = e.time }
    }
    guard let last else { return nil }
    let replied = entries.contains { replyKinds.contains($0.kind) && $0.time >= last }
    return replied ? nil : last
  }
}

// MARK: Response-time targets

/// Response-time targets from `kb.yml`'s `sla:` section.
///
/// ```yaml
/// sla:
///   first_response: 1h        # a reply within an hour of the complaint
///   resolution: 3d            # resolved within three days
///   at_risk: 25%              # "at risk" in the last quarter of the time (or 30m, 2h)
///   channels:
///     twitter: {first_response: 30m}
///   tags:
///     vip: {first_response: 15m, resolution: 1d}
/// ```
/// When several apply (the default, the case's channel, its tags), the strictest wins.
public struct ServiceTargets: Equatable, Sendable {
  public struct Pair: Equatable, Sendable {
    public var firstResponse: Double?
    public var resolution: Double?
    public init(firstResponse: Double? = nil, resolution: Double? = nil) {
      self.firstResponse = firstResponse
      self.resolution = resolution
    }
  }
  public var defaults = Pair()
  public var channels: [String: Pair] = [:]
  public var tags: [String: Pair] = [:]
  /// The at-risk margin: a fraction of the target (0.25) …
  public var atRiskFraction: Double? = 0.25
  /// … or a fixed number of seconds.
  public var atRiskSeconds: Double?

  public init() {}

  /// Whether any target is set.
  public var isEmpty: Bool {
    defaults == Pair() && channels.values.allSatisfy { $0 == Pair() } && tags.values.allSatisfy { $0 == Pair() }
  }

  /// The targets for a case on `channel` with `tags`: the strictest that applies.
  public func targets(channel: String?, tags caseTags: [String]) -> Pair {
    var pairs = [defaults]
    if let channel, let p = channels[channel.lowercased()] { pairs.append(p) }
    for t in caseTags { if let p = tags[t.lowercased()] { pairs.append(p) } }
    func strictest(_ values: [Double?]) -> Double? { values.compactMap { $0 }.min() }
    return Pair(firstResponse: strictest(pairs.map(\.firstResponse)), resolution: strictest(pairs.map(\.resolution)))
  }

  /// The margin before a target's deadline in which it is at risk.
  public func margin(for target: Double) -> Double {
    atRiskSeconds ?? target * (atRiskFraction ?? 0)
  }

  /// Reads the `sla:` node of kb.yml. Throws a message naming the bad value.
  public init(node: Node) throws(SettingsProblem) {
    guard case .mapping(let map) = node else { throw SettingsProblem("sla must be a mapping (first_response, resolution, at_risk, channels, tags)") }
    for (key, value) in map {
      guard let k = key.string else { continue }
      switch k {
      case "first_response", "resolution": try Self.read(k, value, into: &defaults)
      case "at_risk":
        let text = value.string ?? ""
        if text.hasSuffix("%"), let p = Double(text.dropLast()), p >= 0, p <= 100 {
          atRiskFraction = p / 100
          atRiskSeconds = nil
        } else if let s = Duration.parseSeconds(text) {
          atRiskSeconds = s
          atRiskFraction = nil
        } else {
          throw SettingsProblem("sla.at_risk '\(text)' is neither a share such as 25% nor a delay such as 30m")
        }
      case "channels", "tags":
        guard case .mapping(let groups) = value else { throw SettingsProblem("sla.\(k) must map names to targets") }
        for (name, targets) in groups {
          guard let n = name.string?.lowercased(), case .mapping(let m) = targets else {
            throw SettingsProblem("sla.\(k) must map names to targets such as {first_response: 30m}")
          }
          var pair = Pair()
          for (tk, tv) in m {
            guard let t = tk.string, t == "first_response" || t == "resolution" else {
              throw SettingsProblem("sla.\(k).\(n): only first_response and resolution can be set")
            }
            try Self.read(t, tv, into: &pair)
          }
          if k == "channels" { channels[n] = pair } else { tags[n.hasPrefix("#") ? String(n.dropFirst()) : n] = pair }
        }
      default:
        throw SettingsProblem("sla.\(k) is not a setting: use first_response, resolution, at_risk, channels, tags")
      }
    }
  }

  private static func read(_ key: String, _ node: Node, into pair: inout Pair) throws(SettingsProblem) {
    guard let text = node.string, let seconds = Duration.parseSeconds(text), seconds > 0 else {
      throw SettingsProblem("sla \(key) '\(node.string ?? "")' is not a delay: use 30m, 4h, 2d or 1w")
    }
    if key == "first_response" { pair.firstResponse = seconds } else { pair.resolution = seconds }
  }
}

/// A problem in kb.yml outside front-matter syntax.
public struct SettingsProblem: Error, Equatable, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Where a case stands against one target.
public struct TargetStatus: Equatable, Sendable, Codable {
  public enum State: String, Sendable, Codable { case met, breached, atRisk = "at-risk", ok }
  public var state: State
  /// When it is (or was) due.
  public var due: Date
  /// When it was met or missed (the reply, the resolution); absent while pending.
  public var done: Date?
  /// Seconds left before the deadline (negative when past); only while pending.
  public var secondsLeft: Double?

  enum CodingKeys: String, CodingKey {
    case state, due, done
    case secondsLeft = "seconds_left"
  }
}

/// Where a case stands against its targets.
public struct ServiceLevel: Equatable, Sendable, Codable {
  public var firstResponse: TargetStatus?
  public var resolution: TargetStatus?

  enum CodingKeys: String, CodingKey {
    case firstResponse = "first_response"
    case resolution
  }

  /// The worst state of the two: breached, at-risk, ok, met.
  public var state: TargetStatus.State? {
    let states = [firstResponse?.state, resolution?.state].compactMap { $0 }
    for s in [TargetStatus.State.breached, .atRisk, .ok, .met] where states.contains(s) { return s }
    return nil
  }

  /// The nearest deadline still pending, in seconds (negative when past).
  public var secondsLeft: Double? {
    [firstResponse?.secondsLeft, resolution?.secondsLeft].compactMap { $0 }.min()
  }

  /// Evaluates a case at `now`. First response: the first reply entry (``CaseWaiting/replyKinds``)
  /// after opening; resolution: the first `resolved` entry.
  public static func evaluate(
    opened: Date?, status: CaseStatus, channel: String?, tags: [String], entries: [JournalEntry],
    targets: ServiceTargets, now: Date
  ) -> ServiceLevel? {
    guard let opened, !targets.isEmpty else { return nil }
    let pair = targets.targets(channel: channel, tags: tags)
    func judge(_ target: Double?, done: Date?, open: Bool) -> TargetStatus? {
      guard let target else { return nil }
      let due = opened.addingTimeInterval(target)
      if let done { return TargetStatus(state: done <= due ? .met : .breached, due: due, done: done) }
      // A case closed without the event (closed by hand) is neither met nor pending.
      guard open else { return nil }
      let left = due.timeIntervalSince(now)
      let state: TargetStatus.State = left < 0 ? .breached : left <= targets.margin(for: target) ? .atRisk : .ok
      return TargetStatus(state: state, due: due, secondsLeft: left.rounded())
    }
    let active = CaseLifecycle.active.contains(status)
    let reply = entries.first { CaseWaiting.replyKinds.contains($0.kind) && $0.time >= opened }?.time
    let fix = entries.first { $0.kind == .resolved && $0.time >= opened }?.time
    let level = ServiceLevel(
      firstResponse: judge(pair.firstResponse, done: reply, open: active),
      resolution: judge(pair.resolution, done: fix, open: active))
    return level.firstResponse == nil && level.resolution == nil ? nil : level
  }
}

// MARK: Agents

/// The team's agents from `kb.yml` (`agents: {tina: Tina Ng}`): an assignee is matched by
/// handle or full name, case-insensitively, and shown by name.
public struct AgentRoster: Equatable, Sendable {
  /// Handle (lowercased, without `@`) → full name.
  public var names: [String: String] = [:]
  public init(names: [String: String] = [:]) {
    for (k, v) in names { self.names[Self.key(k)] = v }
  }

  static func key(_ text: String) -> String {
    // `trimmingCharacters(in: .whitespaces)` without Foundation's bridging (called once per
    // case by the figures).
    var scalars = Substring(text).unicodeScalars
    while let first = scalars.first, CharacterSet.whitespaces.contains(first) { scalars.removeFirst() }
    while let last = scalars.last, CharacterSet.whitespaces.contains(last) { scalars.removeLast() }
    var t = String(scalars).lowercased()
    if t.hasPrefix("@") { t.removeFirst() }
    return t
  }

  /// The name to show for an assignee as written in a case.
  public func displayName(_ assignee: String) -> String {
    names[Self.key(assignee)] ?? assignee
  }

  /// Every way of writing this agent: the handle and the full name (lowercased).
  public func aliases(of who: String) -> Set<String> {
    let k = Self.key(who)
    var out: Set<String> = [k]
    if let name = names[k] { out.insert(name.lowercased()) }
    for (handle, name) in names where name.lowercased() == k { out.insert(handle) }
    return out
  }

  /// Whether a case's `assignee` is this agent (handle or name, any case). Without a roster
  /// entry, a handle also matches the first word of a full name (`tina` is `Tina Ng`).
  public func matches(assignee: String?, agent: String) -> Bool {
    guard let assignee else { return false }
    let mine = aliases(of: agent)
    let theirs = aliases(of: assignee)
    if !mine.isDisjoint(with: theirs) { return true }
    func firstWord(_ s: String) -> String? {
      let words = s.split(separator: " ")
      return words.count > 1 ? String(words[0]) : nil
    }
    let a = Self.key(assignee), b = Self.key(agent)
    return firstWord(b) == a || firstWord(a) == b
  }
}

// MARK: Views

/// A saved view (`views:` in kb.yml) or the `kb cases` flags: one query language,
/// `status:open,acknowledged assignee:@me channel:twitter tag:vip customer:@h answer:ID
/// waiting unassigned breached at-risk sort:waiting|opened|updated|status|follow-up|due
/// reverse limit:20`.
public struct CaseView: Equatable, Sendable {
  public enum Sort: String, Sendable, CaseIterable, Codable {
    case opened, updated, status
    case followUp = "follow-up"
    /// Longest-waiting customer first.
    case waiting
    /// Nearest response-time deadline first.
    case due
  }

  public var statuses: [CaseStatus] = []
  /// An agent's handle or name, or `@me`.
  public var assignee: String?
  public var unassigned = false
  public var channel: String?
  public var customer: String?
  public var tag: String?
  public var answer: String?
  public var since: String?
  public var before: String?
  /// Only cases where the customer is waiting for us.
  public var waiting = false
  public var breached = false
  public var atRisk = false
  public var sort: Sort?
  public var reverse = false
  public var limit: Int?

  public init() {}

  /// Parses a view's text. Throws a message naming the word it cannot read.
  public init(parsing text: String) throws(SettingsProblem) {
    for word in text.split(whereSeparator: \.isWhitespace).map(String.init) {
      let parts = word.split(separator: ":", maxSplits: 1).map(String.init)
      let key = parts[0].lowercased()
      let value = parts.count == 2 ? parts[1] : nil
      switch (key, value) {
      case ("status", let v?):
        statuses += try Self.statuses(v)
      case ("assignee", let v?):
        if ["none", "nobody", "-"].contains(v.lowercased()) { unassigned = true } else { assignee = v }
      case ("channel", let v?): channel = v
      case ("customer", let v?): customer = v
      case ("tag", let v?): tag = v
      case ("answer", let v?): answer = v
      case ("since", let v?): since = v
      case ("before", let v?): before = v
      case ("sort", let v?):
        guard let s = Sort(rawValue: v.lowercased()) else {
          throw SettingsProblem("'\(word)': sort by one of " + Sort.allCases.map(\.rawValue).joined(separator: ", "))
        }
        sort = s
      case ("limit", let v?):
        guard let n = Int(v), n > 0 else { throw SettingsProblem("'\(word)': limit is a number of cases, at least 1") }
        limit = n
      case ("waiting", nil): waiting = true
      case ("unassigned", nil): unassigned = true
      case ("breached", nil), ("sla", "breached"): breached = true
      case ("at-risk", nil), ("sla", "at-risk"): atRisk = true
      case ("reverse", nil): reverse = true
      default:
        throw SettingsProblem(
          "'\(word)' is not a view word: use status: assignee: channel: customer: tag: answer: since: before: sort: limit: waiting unassigned breached at-risk reverse")
      }
    }
  }

  /// Statuses from `open,acknowledged` or `active` (not resolved or closed).
  public static func statuses(_ text: String) throws(SettingsProblem) -> [CaseStatus] {
    var out: [CaseStatus] = []
    for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !word.isEmpty {
      if word == "active" {
        out += CaseStatus.allCases.filter(CaseLifecycle.active.contains)
      } else if let s = CaseStatus(rawValue: word) {
        out.append(s)
      } else {
        throw SettingsProblem(
          "Unknown status '\(word)'. Use active or one of: " + CaseStatus.allCases.map(\.rawValue).joined(separator: ", ") + ".")
      }
    }
    return out
  }

  /// This view with `other`'s settings laid over it (flags over a saved view).
  public func overlaid(with other: CaseView) -> CaseView {
    var v = self
    if !other.statuses.isEmpty { v.statuses = other.statuses }
    if let a = other.assignee { v.assignee = a; v.unassigned = false }
    if other.unassigned { v.unassigned = true; v.assignee = nil }
    v.channel = other.channel ?? v.channel
    v.customer = other.customer ?? v.customer
    v.tag = other.tag ?? v.tag
    v.answer = other.answer ?? v.answer
    v.since = other.since ?? v.since
    v.before = other.before ?? v.before
    v.waiting = v.waiting || other.waiting
    v.breached = v.breached || other.breached
    v.atRisk = v.atRisk || other.atRisk
    v.sort = other.sort ?? v.sort
    v.reverse = v.reverse || other.reverse
    v.limit = other.limit ?? v.limit
    return v
  }
}

// MARK: Figures

/// `kb stats`: the share of cases that met each response-time target, overall, by agent and
/// by week (of opening), and the customers helped.
public struct ServiceLevelFigures: Equatable, Sendable, Codable {
  /// Cases judged against one target: met, breached, still pending; `share` = met / (met + breached).
  public struct Share: Equatable, Sendable, Codable {
    public var met = 0
    public var breached = 0
    public var pending = 0
    public var share: Double? { met + breached == 0 ? nil : Double(met) / Double(met + breached) }
    public init() {}
    enum CodingKeys: String, CodingKey { case met, breached, pending, share }
    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(met, forKey: .met)
      try c.encode(breached, forKey: .breached)
      try c.encode(pending, forKey: .pending)
      try c.encode(share.map { ($0 * 1000).rounded() / 1000 }, forKey: .share)
    }
    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      met = try c.decode(Int.self, forKey: .met)
      breached = try c.decode(Int.self, forKey: .breached)
      pending = try c.decode(Int.self, forKey: .pending)
    }
    mutating func add(_ status: TargetStatus?) {
      switch status?.state {
      case .met?: met += 1
      case .breached?: breached += 1
      case .atRisk?, .ok?: pending += 1
      case nil: break
      }
    }
  }
  public struct Group: Equatable, Sendable, Codable {
    /// The agent, or the week (`2024-W42`).
    public var key: String
    public var firstResponse = Share()
    public var resolution = Share()
    enum CodingKeys: String, CodingKey {
      case key, resolution
      case firstResponse = "first_response"
    }
  }
  public var firstResponse = Share()
  public var resolution = Share()
  public var byAgent: [Group] = []
  public var byWeek: [Group] = []

  enum CodingKeys: String, CodingKey {
    case resolution
    case firstResponse = "first_response"
    case byAgent = "by_agent"
    case byWeek = "by_week"
  }

  /// The figures of the cases opened on or after `since` and before `until` (days in `timeZone`).
  public init(
    cases: [CaseFacts], targets: ServiceTargets, roster: AgentRoster = AgentRoster(), since: String?, until: String?,
    timeZone: TimeZone, now: Date
  ) {
    var agents: [String: Group] = [:]
    var weeks: [String: Group] = [:]
    for c in cases {
      guard let opened = c.opened else { continue }
      let day = FollowUp.day(of: opened, in: timeZone)
      if let since, day < since { continue }
      if let until, day >= until { continue }
      guard let level = ServiceLevel.evaluate(
        opened: opened, status: c.status, channel: c.channel, tags: c.tags, entries: c.entries, targets: targets, now: now)
      else { continue }
      firstResponse.add(level.firstResponse)
      resolution.add(level.resolution)
      let agent = c.assignee.map(roster.displayName) ?? "(unassigned)"
      agents[agent, default: Group(key: agent)].firstResponse.add(level.firstResponse)
      agents[agent, default: Group(key: agent)].resolution.add(level.resolution)
      let week = Self.week(of: opened, in: timeZone)
      weeks[week, default: Group(key: week)].firstResponse.add(level.firstResponse)
      weeks[week, default: Group(key: week)].resolution.add(level.resolution)
    }
    byAgent = agents.values.sorted { $0.key < $1.key }
    byWeek = weeks.values.sorted { $0.key < $1.key }
  }

  /// The ISO week of a time in a zone: `2024-W42`.
  public static func week(of date: Date, in timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .iso8601)
    calendar.timeZone = timeZone
    let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
    return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
  }

  /// Distinct customers with a case resolved between `since` and `until` (days in `timeZone`,
  /// `until` excluded): "7,000 customers helped this year".
  public static func customersHelped(_ cases: [CaseFacts], since: String?, until: String?, timeZone: TimeZone) -> Int {
    var seen = Set<String>()
    for c in cases {
      guard let fix = c.entries.first(where: { $0.kind == .resolved }) else { continue }
      let day = FollowUp.day(of: fix.time, in: timeZone)
      if let since, day < since { continue }
      if let until, day >= until { continue }
      seen.insert(c.customer.map { AgentRoster.key($0) } ?? "case:" + c.id)
    }
    return seen.count
  }
}
