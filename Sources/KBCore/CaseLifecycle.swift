import Foundation

/// A case operation that the lifecycle or the input refuses, with what to do instead.
public enum CaseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Logging on a closed case: it must be reopened first.
  case closed(id: String, kind: String)
  /// Closing a case that is not resolved.
  case closeUnresolved(id: String, status: CaseStatus)
  /// Reopening a case that is still open.
  case reopenOpen(id: String, status: CaseStatus)
  /// Checking back on a case that is not resolved.
  case checkBackUnresolved(id: String, status: CaseStatus)
  /// Resolving a case that is already resolved.
  case alreadyResolved(id: String)
  /// A move out of `resolved` (offline, escalated) without reopening.
  case resolvedNeedsReopen(id: String, kind: String)
  /// A check back that does not say whether the fix held.
  case heldUnknown
  /// `--held` with text starting "Did not hold:", or the other way round.
  case heldContradiction
  /// A kind this version does not know.
  case unknownKind(String)
  /// A follow-up delay that is not `3d`, `1w`, `36h`.
  case invalidDelay(String)
  /// A time zone that is neither an IANA name nor a UTC offset.
  case invalidTimeZone(String)
  /// A date that is not `yyyy-mm-dd` (or an ISO time).
  case invalidDate(String)
  /// Promoting a case that is not resolved.
  case promoteUnresolved(id: String, status: CaseStatus)
  /// Promoting a case whose fix is already an answer.
  case alreadyAnswered(id: String, answer: String)
  /// Promoting a case whose journal records no action to turn into steps.
  case nothingToPromote(id: String)

  public var description: String {
    switch self {
    case .closed(let id, let kind):
      "Case '\(id)' is closed: a '\(kind)' entry needs it reopened first (kb case log \(id) --kind reopened \"why\")."
    case .closeUnresolved(let id, let status):
      "Case '\(id)' is \(status.rawValue), never resolved since it was opened or reopened: resolve it before closing it (kb case resolve \(id))."
    case .reopenOpen(let id, let status):
      "Case '\(id)' is \(status.rawValue), not resolved or closed: there is nothing to reopen."
    case .checkBackUnresolved(let id, let status):
      "Case '\(id)' is \(status.rawValue): a check back follows a resolution. Resolve it first (kb case resolve \(id))."
    case .alreadyResolved(let id):
      "Case '\(id)' is already resolved. Log a note, or reopen it first if the problem came back."
    case .resolvedNeedsReopen(let id, let kind):
      "Case '\(id)' is resolved: a '\(kind)' entry needs it reopened first (kb case log \(id) --kind reopened \"why\")."
    case .heldUnknown:
      "A check back must say whether the fix held: start the text with 'Held:' or 'Did not hold:', or pass --held or --not-held."
    case .heldContradiction:
      "The text and the flag disagree on whether the fix held: use one of them."
    case .unknownKind(let kind):
      "Unknown journal kind '\(kind)'. Use one of: " + JournalEntry.Kind.known.filter { $0 != .merge }.map(\.rawValue).joined(separator: ", ") + "."
    case .invalidDelay(let text):
      "'\(text)' is not a delay: use days or weeks such as 3d, 1w (or hours, 36h)."
    case .invalidTimeZone(let text):
      "'\(text)' is not a time zone: use a name such as Europe/Berlin or UTC, or an offset such as +02:00."
    case .invalidDate(let text):
      "'\(text)' is not a date: use yyyy-mm-dd, such as 2024-10-20."
    case .promoteUnresolved(let id, let status):
      "Case '\(id)' is \(status.rawValue): only a resolved or closed case has a fix to promote."
    case .alreadyAnswered(let id, let answer):
      "Case '\(id)' was fixed by answer '\(answer)', which already exists: there is nothing to promote (kb show \(answer))."
    case .nothingToPromote(let id):
      "Case '\(id)' has no 'acted' or 'resolved' entry to turn into steps: log what was done first (kb case log \(id) --kind acted \"…\")."
    }
  }
}

/// The case lifecycle as a state machine: which entries move a case's status, and which
/// entries a case in a given status refuses.
///
/// ```
/// open ──acknowledged/apologized/acted──▶ acknowledged   (listened: read, not yet replied; no move)
///   │                                                  │
///   └───────────offline / escalated────────────────────┴──▶ offline ⇄ escalated
/// any open status ──resolved──▶ resolved ──checked-back (held) / closed──▶ closed
/// resolved ──checked-back (did not hold)──▶ acknowledged
/// resolved / closed ──reopened──▶ open
/// ```
///
/// Pure: no clock, no files.
public enum CaseLifecycle {
  /// The statuses in which the case is still being worked on.
  public static let active: Set<CaseStatus> = [.open, .acknowledged, .pending, .offline, .escalated]

  /// The order statuses sort in (`kb cases --sort status`).
  public static func rank(_ status: CaseStatus) -> Int {
    CaseStatus.allCases.firstIndex(of: status) ?? 0
  }

  /// The status after appending an entry of `kind` to a case in `status`.
  ///
  /// `held` says whether a `checked-back` entry found the fix holding (see ``CheckBack``).
  ///
  /// - Throws: ``CaseError`` for a move that makes no sense: any entry on a closed case but
  ///   `reopened`, `closed` on a case that is not resolved, `checked-back` on a case that is
  ///   not resolved, `reopened` on an open case, `resolved` twice, `offline`/`escalated` on a
  ///   resolved case.
  public static func next(
    after status: CaseStatus, kind: JournalEntry.Kind, held: Bool? = nil, caseID: String = "case"
  ) throws(CaseError) -> CaseStatus {
    if status == .closed, kind != .reopened {
      throw .closed(id: caseID, kind: kind.rawValue)
    }
    switch kind {
    case .reopened:
      guard status == .resolved || status == .closed else { throw .reopenOpen(id: caseID, status: status) }
      return .open
    case .closed:
      guard status == .resolved else { throw .closeUnresolved(id: caseID, status: status) }
      return .closed
    case .checkedBack:
      guard status == .resolved else { throw .checkBackUnresolved(id: caseID, status: status) }
      return held == false ? .acknowledged : .closed
    case .resolved:
      guard status != .resolved else { throw .alreadyResolved(id: caseID) }
      return .resolved
    case .offline, .escalated:
      guard status != .resolved else { throw .resolvedNeedsReopen(id: caseID, kind: kind.rawValue) }
      return kind == .offline ? .offline : .escalated
    case .acknowledged, .apologized, .acted:
      return status == .open ? .acknowledged : status
    case .asked:
      // We asked the customer something: the case waits on them.
      guard status != .resolved else { throw .resolvedNeedsReopen(id: caseID, kind: kind.rawValue) }
      return .pending
    case .customer:
      // The customer answered: a case that waited on them is back in our hands.
      return status == .pending ? .acknowledged : status
    default:
      // listened (we read it, nobody replied yet: "listen before replying"), note, handoff,
      // merge and kinds from newer versions leave the status as it is.
      return status
    }
  }

  /// The status a journal leads to, read leniently: a move that ``next(after:kind:held:caseID:)``
  /// refuses (a hand-edited journal may have one) is skipped, never fatal.
  public static func replay(_ entries: [JournalEntry], from start: CaseStatus = .open) -> CaseStatus {
    var status = start
    for entry in entries {
      let held = entry.kind == .checkedBack ? CheckBack.outcome(of: entry.text) : nil
      if let next = try? next(after: status, kind: entry.kind, held: held ?? true) { status = next }
    }
    return status
  }

  /// The kinds that count as the first response to the customer (`kb stats`).
  public static let responseKinds: Set<JournalEntry.Kind> = [.acknowledged, .acted, .offline, .asked]
}

/// Whether a fix held at the check back: read from the entry's text (`Held: …`,
/// `Did not hold: …`) or given as a flag.
public enum CheckBack {
  static let heldPrefixes = ["held:", "held -", "held."]
  static let notHeldPrefixes = ["did not hold:", "didn't hold:", "did not hold -", "not held:", "did not hold."]

  /// `true` for "Held: …", `false` for "Did not hold: …", `nil` when the text does not say.
  public static func outcome(of text: String) -> Bool? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
      .replacingOccurrences(of: "\u{2019}", with: "'")
    if notHeldPrefixes.contains(where: t.hasPrefix) { return false }
    if heldPrefixes.contains(where: t.hasPrefix) { return true }
    return nil
  }

  /// The text to record and whether the fix held. With a flag and no prefix, the prefix is
  /// added so that the file itself says it.
  ///
  /// - Throws: ``CaseError/heldUnknown`` when neither the text nor the flag says;
  ///   ``CaseError/heldContradiction`` when they disagree.
  public static func record(_ text: String, held flag: Bool?) throws(CaseError) -> (text: String, held: Bool) {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    switch (outcome(of: trimmed), flag) {
    case (nil, nil): throw .heldUnknown
    case (let said?, nil): return (trimmed, said)
    case (nil, let flag?):
      let prefix = flag ? "Held:" : "Did not hold:"
      return (trimmed.isEmpty ? String(prefix.dropLast()) + "." : prefix + " " + trimmed, flag)
    case (let said?, let flag?):
      guard said == flag else { throw .heldContradiction }
      return (trimmed, said)
    }
  }
}

/// Follow-up dates: the calendar day, in the team's time zone, a delay after a resolution.
public enum FollowUp {
  /// The day (`yyyy-mm-dd`) `delay` after `resolvedAt`, counted in calendar days in `timeZone`.
  ///
  /// Counting calendar days (not 24-hour periods) keeps the date right across month and year
  /// ends and daylight-saving changes.
  ///
  /// ```swift
  /// try FollowUp.date(after: Timestamp.parse("2024-01-30T23:30:00Z")!, delay: "3d", in: .gmt) // "2024-02-02"
  /// ```
  ///
  /// - Throws: ``CaseError/invalidDelay(_:)`` for a delay `Duration.parseDays` cannot read.
  public static func date(after resolvedAt: Date, delay: String, in timeZone: TimeZone) throws(CaseError) -> String {
    guard let days = Duration.parseDays(delay) else { throw .invalidDelay(delay) }
    return add(days: days, to: day(of: resolvedAt, in: timeZone))
  }

  /// The calendar day of `date` in `timeZone`, `yyyy-mm-dd`.
  public static func day(of date: Date, in timeZone: TimeZone) -> String {
    let offset = timeZone.secondsFromGMT(for: date)
    return String(Timestamp.format(date.addingTimeInterval(TimeInterval(offset))).prefix(10))
  }

  /// `day` plus `days` calendar days.
  public static func add(days: Int, to day: String) -> String {
    guard let start = Timestamp.parse(day) else { return day }
    return String(Timestamp.format(start.addingTimeInterval(TimeInterval(days) * 86400)).prefix(10))
  }

  /// Whole days from `from` to `to` (both `yyyy-mm-dd`); negative when `to` is earlier.
  public static func days(from: String, to: String) -> Int? {
    guard let a = Timestamp.parse(from), let b = Timestamp.parse(to) else { return nil }
    return Int((b.timeIntervalSince(a) / 86400).rounded())
  }

  /// Reads a time zone: an IANA name (`Europe/Berlin`, `:Europe/Berlin` as in `TZ`), `UTC`,
  /// `Z`, or an offset (`+02:00`, `UTC-5`).
  ///
  /// - Throws: ``CaseError/invalidTimeZone(_:)``.
  public static func timeZone(_ text: String) throws(CaseError) -> TimeZone {
    var t = text.trimmingCharacters(in: .whitespaces)
    if t.hasPrefix(":") { t.removeFirst() }
    if ["utc", "z", "gmt", ""].contains(t.lowercased()) { return TimeZone(secondsFromGMT: 0)! }
    var offsetText = t
    for prefix in ["UTC", "GMT", "utc", "gmt"] where offsetText.hasPrefix(prefix) {
      offsetText = String(offsetText.dropFirst(prefix.count))
    }
    if let first = offsetText.first, first == "+" || first == "-" {
      let sign = first == "+" ? 1 : -1
      var digits = offsetText.dropFirst().split(separator: ":")
      if digits.count == 1, digits[0].count == 4 { digits = [digits[0].prefix(2), digits[0].suffix(2)] }
      if (1...2).contains(digits.count), let h = Int(digits[0]), (0...14).contains(h),
        digits.count == 1 || (Int(digits[1]).map { (0..<60).contains($0) } ?? false)
      {
        let m = digits.count == 2 ? Int(digits[1])! : 0
        if let zone = TimeZone(secondsFromGMT: sign * (h * 3600 + m * 60)) { return zone }
      }
      throw .invalidTimeZone(text)
    }
    guard let zone = TimeZone(identifier: t) else { throw .invalidTimeZone(text) }
    return zone
  }

  /// Reads a day: `yyyy-mm-dd` or an ISO time (its UTC day).
  ///
  /// - Throws: ``CaseError/invalidDate(_:)``.
  public static func parseDay(_ text: String) throws(CaseError) -> String {
    guard let date = Timestamp.parse(text) else { throw .invalidDate(text) }
    return String(Timestamp.format(date).prefix(10))
  }
}
