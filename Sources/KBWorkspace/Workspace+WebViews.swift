import Foundation
import KBCore
internal import KBStore

/// An answer with the cases it fixed and how often its fix held.
public struct AnswerUsage: Sendable, Codable {
  public var answer: DocumentJSON
  /// The cases that link it, newest first (rows as in the queue and `kb cases`).
  public var cases: [CaseRow]
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
  /// Every channel cases use (for the queue's channel filter).
  public func caseChannels() throws -> [String] {
    try store.caseChannels()
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
    var items: [CaseRow] = []
    for c in rows {
      if items.count < limit { items.append(CaseRow(c, roster: settings.agents)) }
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
