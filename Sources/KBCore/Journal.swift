import Foundation

/// One signed, timestamped line of a case's journal.
///
/// Written as `- 2024-10-20T16:09:00Z · Jason Reyes · acknowledged · Saw your tweet, can I help?`.
/// Lines indented under an entry continue its text. Entries are append-only: their identity is
/// their content, so merging two journals is a union ordered by time.
public struct JournalEntry: Hashable, Sendable, Codable {
  public var time: Date
  public var author: String
  public var kind: Kind
  public var text: String

  public init(time: Date, author: String, kind: Kind, text: String) {
    self.time = time
    self.author = author
    self.kind = kind
    self.text = text
  }

  /// What an entry records. The known kinds drive a case's status; other kinds are kept as notes.
  public struct Kind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
  {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let note: Kind = "note"
    public static let listened: Kind = "listened"
    public static let acknowledged: Kind = "acknowledged"
    public static let apologized: Kind = "apologized"
    public static let acted: Kind = "acted"
    public static let offline: Kind = "offline"
    public static let escalated: Kind = "escalated"
    public static let handoff: Kind = "handoff"
    public static let resolved: Kind = "resolved"
    public static let checkedBack: Kind = "checked-back"
    public static let reopened: Kind = "reopened"
    public static let closed: Kind = "closed"
    public static let merge: Kind = "merge"
    /// We asked the customer for something and wait on them: the case becomes `pending`.
    public static let asked: Kind = "asked"
    /// The customer wrote again (their words as the text): a `pending` case is back with us.
    public static let customer: Kind = "customer"

    public static let known: [Kind] = [
      .note, .listened, .acknowledged, .apologized, .acted, .offline, .escalated, .handoff,
      .resolved, .checkedBack, .reopened, .closed, .merge, .asked, .customer,
    ]
    public var isKnown: Bool { Self.known.contains(self) }
  }

  /// The separator between an entry's fields.
  public static let separator = " · "

  /// The entry as a Markdown list item (continuation lines indented by two spaces).
  public var line: String {
    let body = text.replacingOccurrences(of: "\r\n", with: "\n")
      .split(separator: "\n", omittingEmptySubsequences: false)
      .joined(separator: "\n  ")
    return "- " + [Timestamp.format(time), author, kind.rawValue, body]
      .joined(separator: Self.separator)
  }

  /// Parses a list item written by ``line``. Returns `nil` when the line is not an entry.
  public init?(line: String) {
    guard line.hasPrefix("- ") else { return nil }
    let fields = line.dropFirst(2).components(separatedBy: Self.separator)
    guard fields.count >= 4, let time = Timestamp.parse(fields[0].trimmingCharacters(in: .whitespaces))
    else { return nil }
    let author = fields[1].trimmingCharacters(in: .whitespaces)
    let kind = fields[2].trimmingCharacters(in: .whitespaces)
    guard !author.isEmpty, !kind.isEmpty, !kind.contains(" ") else { return nil }
    self.init(
      time: time, author: author, kind: Kind(rawValue: kind),
      text: fields[3...].joined(separator: Self.separator))
  }
}

/// A case's journal: the `## Journal` section of its body.
public struct Journal: Equatable, Sendable {
  /// An entry with the file line it starts on.
  public struct Located: Equatable, Sendable {
    public var entry: JournalEntry
    public var line: Int
  }
  /// A line inside the journal section that is not an entry. It is kept, never dropped.
  public struct Malformed: Equatable, Sendable {
    public var text: String
    public var line: Int
  }

  public var entries: [Located] = []
  public var malformed: [Malformed] = []
  /// Whether the body has a `## Journal` heading at all.
  public var hasSection = false

  public static let heading = "## Journal"

  /// Reads the journal section of `body`, whose first line is line `firstLine` of the file.
  public init(body: String, firstLine: Int = 1) {
    // Most bodies have no journal: a section starts only on a line "## Journal" (any case).
    guard Self.mayHaveSection(body) else { return }
    let lines = Lines(body).lines
    var inSection = false
    var current: (entry: JournalEntry, line: Int)?
    func flush() {
      if let c = current { entries.append(Located(entry: c.entry, line: c.line)) }
      current = nil
    }
    for (offset, raw) in lines.enumerated() {
      let line = raw
      let number = firstLine + offset
      if line.hasPrefix("## ") || line.hasPrefix("# ") {
        flush()
        inSection = line.trimmingCharacters(in: .whitespaces).lowercased() == Self.heading.lowercased()
        if inSection { hasSection = true }
        continue
      }
      guard inSection else { continue }
      if line.hasPrefix("  "), current != nil, !line.trimmingCharacters(in: .whitespaces).isEmpty {
        current!.entry.text += "\n" + line.dropFirst(2)
        continue
      }
      if line.trimmingCharacters(in: .whitespaces).isEmpty { flush(); continue }
      flush()
      if let entry = JournalEntry(line: line) {
        current = (entry, number)
      } else {
        malformed.append(Malformed(text: line, line: number))
      }
    }
    flush()
  }

  /// The entries in time order (stable for equal times).
  /// Whether `body` holds "## " followed by "journal" in any ASCII case: without it no line
  /// can be the section heading (its letters have no non-ASCII lowercase forms).
  static func mayHaveSection(_ body: String) -> Bool {
    let target = Array("## journal".utf8)
    let bytes = body.utf8
    var i = bytes.startIndex
    while let hash = bytes[i...].firstIndex(of: UInt8(ascii: "#")) {
      var j = hash
      var k = 0
      while k < target.count, j < bytes.endIndex {
        let b = bytes[j]
        let lower = (b >= 65 && b <= 90) ? b + 32 : b
        guard lower == target[k] else { break }
        k += 1
        j = bytes.index(after: j)
      }
      if k == target.count { return true }
      i = bytes.index(after: hash)
    }
    return false
  }

  public var sorted: [JournalEntry] {
    entries.enumerated().sorted { a, b in
      a.element.entry.time != b.element.entry.time
        ? a.element.entry.time < b.element.entry.time : a.offset < b.offset
    }.map(\.element.entry)
  }

  /// Appends `entry` to the journal section of `body`, creating the section when missing.
  /// Every other byte of the body is kept.
  public static func appending(_ entry: JournalEntry, to body: String) -> String {
    var text = Lines(body)
    var lines = text.lines
    guard let start = lines.firstIndex(where: {
      $0.trimmingCharacters(in: .whitespaces).lowercased() == heading.lowercased()
    }) else {
      while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
      if !lines.isEmpty { lines.append("") }
      lines.append(heading)
      lines.append(entry.line)
      text.lines = lines
      return text.joined(trailingBreak: true)
    }
    var end = start + 1
    while end < lines.count, !(lines[end].hasPrefix("## ") || lines[end].hasPrefix("# ")) {
      end += 1
    }
    var insert = end
    while insert > start + 1, lines[insert - 1].trimmingCharacters(in: .whitespaces).isEmpty {
      insert -= 1
    }
    lines.insert(entry.line, at: insert)
    text.lines = lines
    return text.joined(trailingBreak: true)
  }
}

/// ISO 8601 timestamps as the files write them: UTC, seconds, `Z`.
public enum Timestamp {
  /// `2024-10-20T16:09:00Z`.
  public static func format(_ date: Date) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    return formatUTC(seconds)
  }

  static func formatUTC(_ seconds: Int64) -> String {
    var days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
    let rem = seconds - days * 86400
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60)
    // Civil from days (Howard Hinnant's algorithm).
    days += 719468
    let era = (days >= 0 ? days : days - 146096) / 146097
    let doe = days - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    var y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let mo = mp < 10 ? mp + 3 : mp - 9
    if mo <= 2 { y += 1 }
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(y)-\(two(mo))-\(two(d))T\(two(h)):\(two(m)):\(two(s))Z"
  }

  /// Parses `2024-10-20T16:09:00Z`, `2024-10-20T16:09Z`, fractional seconds, `+02:00` offsets,
  /// a space instead of `T`, and a bare date (midnight UTC).
  public static func parse(_ text: String) -> Date? {
    let s = Array(text.trimmingCharacters(in: .whitespaces).utf8)
    func num(_ range: Range<Int>) -> Int? {
      guard range.upperBound <= s.count else { return nil }
      var v = 0
      for i in range {
        guard s[i] >= 48, s[i] <= 57 else { return nil }
        v = v * 10 + Int(s[i] - 48)
      }
      return v
    }
    guard s.count >= 10, let y = num(0..<4), s[4] == 45, let mo = num(5..<7), s[7] == 45,
      let d = num(8..<10), (1...12).contains(mo), (1...31).contains(d)
    else { return nil }
    var h = 0, mi = 0, sec = 0.0, offset = 0
    var i = 10
    if i < s.count {
      guard s[i] == 84 || s[i] == 32 || s[i] == 116, let hh = num(i + 1..<i + 3), s.count > i + 5,
        s[i + 3] == 58, let mm = num(i + 4..<i + 6)
      else { return nil }
      h = hh
      mi = mm
      i += 6
      if i < s.count, s[i] == 58 {
        guard let ss = num(i + 1..<i + 3) else { return nil }
        sec = Double(ss)
        i += 3
        if i < s.count, s[i] == 46 {
          var j = i + 1
          var frac = 0.0, scale = 0.1
          while j < s.count, s[j] >= 48, s[j] <= 57 {
            frac += Double(s[j] - 48) * scale
            scale /= 10
            j += 1
          }
          sec += frac
          i = j
        }
      }
      if i < s.count {
        if s[i] == 90 || s[i] == 122 {
          i += 1
        } else if s[i] == 43 || s[i] == 45 {
          let sign = s[i] == 43 ? 1 : -1
          guard let oh = num(i + 1..<i + 3) else { return nil }
          var j = i + 3
          if j < s.count, s[j] == 58 { j += 1 }
          let om = num(j..<j + 2) ?? 0
          offset = sign * (oh * 3600 + om * 60)
          i = j + (num(j..<j + 2) == nil ? 0 : 2)
        }
      }
      guard i == s.count, h < 24, mi < 60, sec < 61 else { return nil }
    }
    // Days from civil.
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let mp = (mo + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    let total = Double(days * 86400 + h * 3600 + mi * 60 - offset) + sec
    return Date(timeIntervalSince1970: total)
  }

  /// The calendar date part, `2024-10-20`, of a UTC time.
  public static func day(_ date: Date) -> String { String(format(date).prefix(10)) }
}
