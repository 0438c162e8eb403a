import Foundation
import KBCore
internal import KBStore

/// Which open cases the queue shows.
public struct QueueFilter: Equatable, Sendable, Codable {
  /// Only cases assigned to the agent (by name, first name or e-mail user).
  public var mine = false
  /// Only cases nobody is assigned to.
  public var unassigned = false
  public var channel: String?
  /// One status; `nil` means every active one (open, acknowledged, offline, escalated).
  public var status: CaseStatus?
  /// How many rows to return (after `offset`); `nil` for all.
  public var limit: Int?
  public var offset = 0
  public init(
    mine: Bool = false, unassigned: Bool = false, channel: String? = nil, status: CaseStatus? = nil, limit: Int? = nil,
    offset: Int = 0
  ) {
    self.mine = mine
    self.unassigned = unassigned
    self.channel = channel
    self.status = status
    self.limit = limit
    self.offset = offset
  }
}

/// A case's row in the queue: who, where, since when, and how long the customer has waited for us.
public struct QueueItem: Equatable, Sendable, Codable {
  public var id: String
  public var path: String
  public var title: String
  public var status: String
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var opened: String?
  /// The latest journal entry's time (or `opened`).
  public var updated: String?
  public var followUp: String?
  public var tags: [String]
  /// Our first response (acknowledged, acted or offline entry), if any.
  public var firstResponse: String?
  /// Seconds the customer has waited for a first response (now − opened), while there is none.
  public var waitingSeconds: Int?
  /// Seconds from opening to our first response, once there is one.
  public var firstResponseSeconds: Int?

  enum CodingKeys: String, CodingKey {
    case id, path, title, status, assignee, channel, customer, opened, updated, tags
    case followUp = "follow_up"
    case firstResponse = "first_response"
    case waitingSeconds = "waiting_seconds"
    case firstResponseSeconds = "first_response_seconds"
  }
}

/// The queue: active cases, longest-waiting first, and what the filters can choose from.
public struct CaseQueue: Equatable, Sendable, Codable {
  public var filter: QueueFilter
  public var agent: String?
  /// Cases the filter selects (`items` is the page of them from `filter.offset`).
  public var total: Int
  public var items: [QueueItem]
  /// Every channel cases use (for the channel filter).
  public var channels: [String]
  public var now: String
}

/// An answer with the cases it fixed and how often its fix held.
public struct AnswerUsage: Sendable, Codable {
  public var answer: DocumentJSON
  public var cases: [QueueItem]
  public var figures: CaseFigures.AnswerFigures
}

/// What the team figures are made of, for charts: one value per case.
public struct CaseSeries: Equatable, Sendable, Codable {
  /// Seconds from opening to the first response, one per case that had one.
  public var firstResponseSeconds: [Double]
  /// Seconds from opening to the first resolution, one per resolved case.
  public var resolutionSeconds: [Double]
  /// Cases opened per day (`yyyy-mm-dd` in the time zone), the last `days` days, oldest first.
  public var openedPerDay: [DayCount]
  public struct DayCount: Equatable, Sendable, Codable {
    public var day: String
    public var count: Int
  }

  enum CodingKeys: String, CodingKey {
    case firstResponseSeconds = "first_response_seconds"
    case resolutionSeconds = "resolution_seconds"
    case openedPerDay = "opened_per_day"
  }
}

extension Workspace {
  /// Active cases for the queue, longest-waiting first (cases already answered after them, by
  /// their latest entry).
  public func queue(_ filter: QueueFilter, agent: Identity?, now: Date = Date()) throws -> CaseQueue {
    var query = CaseListQuery()
    query.statuses = filter.status.map { [$0] } ?? CaseStatus.allCases.filter { CaseLifecycle.active.contains($0) }
    query.channel = filter.channel
    let rows = try store.cases(query)
    let times = try store.responseTimes(statuses: query.statuses, kinds: CaseLifecycle.responseKinds)
    let names = agent.map(Self.assigneeNames) ?? []
    var items: [QueueItem] = []
    for c in rows {
      if filter.unassigned, let a = c.assignee, !a.isEmpty { continue }
      if filter.mine {
        guard let a = c.assignee?.lowercased(), names.contains(a) else { continue }
      }
      let opened = c.opened.flatMap(Timestamp.parse)
      let first = times[c.id]?.first ?? nil
      var item = QueueItem(
        id: c.id, path: c.path, title: c.title, status: c.status, assignee: c.assignee, channel: c.channel,
        customer: c.customer, opened: c.opened, updated: c.updated, followUp: c.followUp, tags: c.tags,
        firstResponse: first)
      if let opened {
        if let first = first.flatMap(Timestamp.parse) {
          item.firstResponseSeconds = max(0, Int(first.timeIntervalSince(opened)))
        } else {
          item.waitingSeconds = max(0, Int(now.timeIntervalSince(opened)))
        }
      }
      items.append(item)
    }
    items.sort { a, b in
      switch (a.waitingSeconds, b.waitingSeconds) {
      case let (x?, y?): return x != y ? x > y : a.id < b.id
      case (.some, nil): return true
      case (nil, .some): return false
      case (nil, nil): return (a.updated ?? "", a.id) < (b.updated ?? "", b.id)
      }
    }
    let total = items.count
    let start = min(max(filter.offset, 0), total)
    let end = filter.limit.map { min(start + max($0, 0), total) } ?? total
    return CaseQueue(
      filter: filter, agent: agent?.name, total: total, items: Array(items[start..<end]), channels: try store.caseChannels(),
      now: Timestamp.format(now))
  }

  /// The lowercased names an agent is assigned under: the full name, the first name, the e-mail
  /// address and its user part.
  static func assigneeNames(_ identity: Identity) -> Set<String> {
    var names: Set<String> = [identity.name.lowercased()]
    if let first = identity.name.split(separator: " ").first { names.insert(first.lowercased()) }
    if let email = identity.email?.lowercased() {
      names.insert(email)
      if let user = email.split(separator: "@").first { names.insert(String(user)) }
    }
    return names
  }

  /// An answer, the cases that link it (`answer:`), and its check backs.
  public func answerUsage(id: String, limit: Int = 200) throws -> AnswerUsage {
    let document = try self.document(id: id)
    guard document.type == .answer else {
      throw WorkspaceError.invalidInput("'\(id)' is a case, not an answer. Open it as a case.")
    }
    var query = CaseListQuery()
    query.answer = id
    query.sort = .opened
    query.descending = true
    let rows = try store.cases(query)
    var facts: [CaseFacts] = []
    var items: [QueueItem] = []
    for c in rows {
      if items.count < limit {
        items.append(QueueItem(
          id: c.id, path: c.path, title: c.title, status: c.status, assignee: c.assignee, channel: c.channel,
          customer: c.customer, opened: c.opened, updated: c.updated, followUp: c.followUp, tags: c.tags))
      }
      guard let doc = try? readDocument(at: c.path) else { continue }
      facts.append(CaseFacts(
        id: doc.id, opened: doc.opened, assignee: doc.assignee, answer: doc.answer, followUp: doc.followUp,
        status: doc.status ?? .open, entries: doc.journal.sorted))
    }
    let figures = CaseFigures(cases: facts, today: Timestamp.day(Date()), timeZone: TimeZone(secondsFromGMT: 0)!)
    let mine = figures.answers.first { $0.answer == id } ?? CaseFigures.AnswerFigures(answer: id)
    return AnswerUsage(answer: DocumentJSON(document), cases: items, figures: mine)
  }

  /// Per-case durations and cases per day, for the figures' charts.
  public func caseSeries(days: Int = 30, today: String, timeZone: TimeZone) throws -> CaseSeries {
    let facts = try store.caseFacts()
    var first: [Double] = []
    var resolution: [Double] = []
    var perDay: [String: Int] = [:]
    for c in facts {
      guard let start = c.opened else { continue }
      perDay[FollowUp.day(of: start, in: timeZone), default: 0] += 1
      if let e = c.entries.first(where: { CaseLifecycle.responseKinds.contains($0.kind) && $0.time >= start }) {
        first.append(e.time.timeIntervalSince(start))
      }
      if let e = c.entries.first(where: { $0.kind == .resolved && $0.time >= start }) {
        resolution.append(e.time.timeIntervalSince(start))
      }
    }
    // The last `days` days up to today, or up to the latest day with a case when none is that
    // recent (a sample knowledge base may be years old).
    let start = FollowUp.add(days: -(days - 1), to: today)
    let end = perDay.keys.contains { $0 >= start && $0 <= today } ? today : (perDay.keys.filter { $0 <= today }.max() ?? today)
    var out: [CaseSeries.DayCount] = []
    for back in stride(from: days - 1, through: 0, by: -1) {
      let day = FollowUp.add(days: -back, to: end)
      out.append(CaseSeries.DayCount(day: day, count: perDay[day] ?? 0))
    }
    return CaseSeries(firstResponseSeconds: first, resolutionSeconds: resolution, openedPerDay: out)
  }
}
