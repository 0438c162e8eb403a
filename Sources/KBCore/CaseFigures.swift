import Foundation

/// What `kb stats` needs to know of one case: a few front-matter fields and its journal.
public struct CaseFacts: Equatable, Sendable {
  public var id: String
  public var opened: Date?
  public var assignee: String?
  public var answer: String?
  /// `yyyy-mm-dd`.
  public var followUp: String?
  public var status: CaseStatus
  /// The journal in time order.
  public var entries: [JournalEntry]
  public var channel: String?
  public var customer: String?
  public var tags: [String]

  public init(
    id: String, opened: Date?, assignee: String?, answer: String?, followUp: String?, status: CaseStatus,
    entries: [JournalEntry], channel: String? = nil, customer: String? = nil, tags: [String] = []
  ) {
    self.channel = channel
    self.customer = customer
    self.tags = tags
    self.id = id
    self.opened = opened
    self.assignee = assignee
    self.answer = answer
    self.followUp = followUp
    self.status = status
    self.entries = entries
  }
}

/// Team figures over a set of cases (`kb stats`). Pure: computed from ``CaseFacts``.
///
/// Every figure is over the cases opened in the period (`--since`); see docs/CASES.md.
public struct CaseFigures: Equatable, Sendable, Codable {
  /// Follow-ups of resolved cases: checked back on or before the follow-up day, after it, or
  /// not yet (of which `overdue` are past their day).
  public struct FollowUps: Equatable, Sendable, Codable {
    public var onTime = 0
    public var late = 0
    public var pending = 0
    public var overdue = 0
    public init() {}
    enum CodingKeys: String, CodingKey {
      case late, pending, overdue
      case onTime = "on_time"
    }
  }

  /// How one answer fared: cases linking it, and check backs where its fix held or not.
  public struct AnswerFigures: Equatable, Sendable, Codable {
    public var answer: String
    public var used = 0
    public var held = 0
    public var notHeld = 0
    /// `held / (held + notHeld)`, or `nil` before any check back.
    public var heldRate: Double? {
      held + notHeld == 0 ? nil : Double(held) / Double(held + notHeld)
    }
    public init(answer: String) { self.answer = answer }
    enum CodingKeys: String, CodingKey {
      case answer, used, held
      case notHeld = "not_held"
      case heldRate = "held_rate"
    }
    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(answer, forKey: .answer)
      try c.encode(used, forKey: .used)
      try c.encode(held, forKey: .held)
      try c.encode(notHeld, forKey: .notHeld)
      try c.encode(heldRate.map { ($0 * 1000).rounded() / 1000 }, forKey: .heldRate)
    }
    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      answer = try c.decode(String.self, forKey: .answer)
      used = try c.decode(Int.self, forKey: .used)
      held = try c.decode(Int.self, forKey: .held)
      notHeld = try c.decode(Int.self, forKey: .notHeld)
    }
  }

  public var opened = 0
  public var resolved = 0
  /// Cases with a first response (an acknowledged, acted or offline entry).
  public var responded = 0
  /// Median seconds from opening to the first response, or `nil` without any.
  public var medianFirstResponse: Double?
  /// Median seconds from opening to the first `resolved` entry, or `nil` without any.
  public var medianResolution: Double?
  public var followUps = FollowUps()
  /// Answers by id, most used first.
  public var answers: [AnswerFigures] = []

  public init() {}

  enum CodingKeys: String, CodingKey {
    case opened, resolved, responded, answers
    case medianFirstResponse = "median_first_response_seconds"
    case medianResolution = "median_resolution_seconds"
    case followUps = "follow_ups"
  }

  /// Computes the figures of `cases` opened on or after `since` (a day, `yyyy-mm-dd`, in
  /// `timeZone`), with follow-ups judged against `today` (`yyyy-mm-dd` in `timeZone`).
  public init(cases: [CaseFacts], since: String? = nil, today: String, timeZone: TimeZone) {
    var firstResponses: [Double] = []
    var resolutions: [Double] = []
    var byAnswer: [String: AnswerFigures] = [:]
    for c in cases {
      if let since {
        guard let opened = c.opened, FollowUp.day(of: opened, in: timeZone) >= since else { continue }
      }
      opened += 1
      let entries = c.entries
      if let answer = c.answer { byAnswer[answer, default: AnswerFigures(answer: answer)].used += 1 }
      if let start = c.opened {
        if let first = entries.first(where: { CaseLifecycle.responseKinds.contains($0.kind) && $0.time >= start }) {
          firstResponses.append(first.time.timeIntervalSince(start))
        }
        if let fix = entries.first(where: { $0.kind == .resolved && $0.time >= start }) {
          resolutions.append(fix.time.timeIntervalSince(start))
        }
      }
      if entries.contains(where: { $0.kind == .resolved }) || c.status == .resolved || c.status == .closed {
        resolved += 1
      }
      // Check backs: each is credited to the answer its resolution named ([[id]] in the
      // resolved entry's text), else to the case's answer.
      var currentAnswer: String? = nil
      var lastResolved: Int? = nil
      for (i, e) in entries.enumerated() {
        if e.kind == .resolved {
          lastResolved = i
          currentAnswer = Self.linkedAnswer(in: e.text) ?? c.answer
        } else if e.kind == .checkedBack, let held = CheckBack.outcome(of: e.text), let answer = currentAnswer ?? c.answer {
          if held {
            byAnswer[answer, default: AnswerFigures(answer: answer)].held += 1
          } else {
            byAnswer[answer, default: AnswerFigures(answer: answer)].notHeld += 1
          }
        }
      }
      if let due = c.followUp, let last = lastResolved ?? (c.status == .resolved ? -1 : nil) {
        let check = entries[(last + 1)...].first { $0.kind == .checkedBack }
        if let check {
          if FollowUp.day(of: check.time, in: timeZone) <= due { followUps.onTime += 1 } else { followUps.late += 1 }
        } else if c.status == .resolved {
          followUps.pending += 1
          if due < today { followUps.overdue += 1 }
        }
      }
    }
    responded = firstResponses.count
    medianFirstResponse = Self.median(firstResponses)
    medianResolution = Self.median(resolutions)
    answers = byAnswer.values.sorted { ($0.used, $1.answer) > ($1.used, $0.answer) }
  }

  /// The median, the mean of the two middle values for an even count; `nil` when empty.
  public static func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }

  /// The first `[[id]]` link in a journal entry's text.
  public static func linkedAnswer(in text: String) -> String? {
    guard let open = text.range(of: "[["), let close = text[open.upperBound...].range(of: "]]") else { return nil }
    let id = String(text[open.upperBound..<close.lowerBound])
    return Document.isValidID(id) ? id : nil
  }

  /// A duration for people: `45m`, `3h 20m`, `2d 4h`.
  public static func human(_ seconds: Double?) -> String {
    guard let seconds else { return "–" }
    let total = Int(seconds.rounded())
    if total < 60 { return "\(max(total, 0))s" }
    let minutes = total / 60
    if minutes < 60 { return "\(minutes)m" }
    let hours = minutes / 60
    if hours < 48 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h \(minutes % 60)m" }
    return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d \(hours % 24)h"
  }
}
