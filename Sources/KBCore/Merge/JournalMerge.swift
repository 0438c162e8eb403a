import Foundation

/// A Markdown body split around its `## Journal` section.
struct BodyParts: Equatable {
  /// The text before the journal heading (the whole body when there is no journal).
  var before: String
  /// The journal section: its heading line through the line before the next `#`/`##` heading.
  var journal: String?
  /// The text from the heading after the journal to the end.
  var after: String

  init(_ body: String) {
    let lines = LineMerge.lines(body)
    func isHeading(_ line: Substring) -> Bool { line.hasPrefix("## ") || line.hasPrefix("# ") }
    func isJournalHeading(_ line: Substring) -> Bool {
      line.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        == Journal.heading.lowercased()
    }
    guard let start = lines.firstIndex(where: isJournalHeading) else {
      before = body
      journal = nil
      after = ""
      return
    }
    var end = start + 1
    while end < lines.count, !isHeading(lines[end]) { end += 1 }
    before = lines[..<start].joined()
    journal = lines[start..<end].joined()
    after = lines[end...].joined()
  }
}

/// The append-only merge of a case journal: a union of the entries of both sides, by content,
/// in time order.
enum JournalMerge {
  /// One entry (with its continuation lines) or one line that is not an entry.
  struct Item {
    var lines: [Substring]
    /// The identity: the lines without trailing white space.
    var key: String
    var entry: JournalEntry?
    /// The entry's time; a line that is not an entry sorts right after the entry before it.
    var time: Date
  }

  /// A parsed journal section.
  struct Section {
    var head: [Substring] = []
    var items: [Item] = []
    var tail: [Substring] = []
    /// Whether entries are separated by blank lines.
    var spaced = false

    init(_ text: String) {
      let lines = LineMerge.lines(text)
      guard let first = lines.first else { return }
      head = [first]
      var i = 1
      while i < lines.count, isBlank(lines[i]) {
        head.append(lines[i])
        i += 1
      }
      var blankRun: [Substring] = []
      var anchor = Date.distantPast
      var lastIsEntry = false
      while i < lines.count {
        let line = lines[i]
        i += 1
        if isBlank(line) {
          blankRun.append(line)
          lastIsEntry = false
          continue
        }
        if !blankRun.isEmpty, !items.isEmpty { spaced = true }
        blankRun = []
        let bare = line.hasSuffix("\n") ? line.dropLast() : line
        let trimmed = bare.hasSuffix("\r") ? bare.dropLast() : bare
        if trimmed.hasPrefix("  "), lastIsEntry, let last = items.indices.last {
          items[last].lines.append(line)
          items[last].key += "\n" + Self.identity(line)
          continue
        }
        if let entry = JournalEntry(line: String(trimmed)) {
          anchor = entry.time
          items.append(Item(lines: [line], key: Self.identity(line), entry: entry, time: entry.time))
          lastIsEntry = true
        } else {
          items.append(Item(lines: [line], key: Self.identity(line), entry: nil, time: anchor))
          lastIsEntry = false
        }
      }
      tail = blankRun
    }

    static func identity(_ line: Substring) -> String {
      var s = line[...]
      while let last = s.last, last == "\n" || last == "\r" || last == " " || last == "\t" {
        s = s.dropLast()
      }
      return String(s)
    }
  }

  struct Result {
    /// The merged section, or `nil` when no side has one.
    var text: String?
    var notes: [String] = []
    /// The merged entries, in time order.
    var entries: [JournalEntry] = []
    /// The latest handoff each side added since the base.
    var oursHandoff: Date?
    var theirsHandoff: Date?
  }

  static func merge(base: String?, ours: String?, theirs: String?) -> Result {
    let b = base.map(Section.init)
    let o = ours.map(Section.init)
    let t = theirs.map(Section.init)
    var result = Result()
    let baseKeys = Set(b?.items.map(\.key) ?? [])
    result.oursHandoff = latestHandoff(in: o, excluding: baseKeys)
    result.theirsHandoff = latestHandoff(in: t, excluding: baseKeys)

    // The union, without duplicates: ours' items, then theirs' new ones.
    var seen = Set<String>()
    var union: [Item] = []
    for item in (o?.items ?? []) + (t?.items ?? []) where seen.insert(item.key).inserted {
      union.append(item)
    }
    let sorted = union.enumerated().sorted { x, y in
      x.element.time != y.element.time ? x.element.time < y.element.time : x.offset < y.offset
    }.map(\.element)
    result.entries = sorted.compactMap(\.entry)

    let oursKeys = Set(o?.items.map(\.key) ?? [])
    let theirsKeys = Set(t?.items.map(\.key) ?? [])
    let kept = baseKeys.filter { oursKeys.contains($0) != theirsKeys.contains($0) }.count
    if kept > 0 {
      result.notes.append(
        "journal: kept \(kept) \(kept == 1 ? "entry" : "entries") that one side had removed (the journal is append-only)")
    }

    if let ours, ours == theirs || seen.count == oursKeys.count && !hasDuplicates(o) {
      // Theirs adds nothing: our section as written.
      result.text = ours
      return result
    }
    if let theirs, ours == nil || seen.count == theirsKeys.count && !hasDuplicates(t) {
      result.text = theirs
      return result
    }
    guard let layout = o ?? t else { return result }
    let added = union.count - oursKeys.count
    if added > 0, o != nil {
      result.notes.append("journal: added \(added) \(added == 1 ? "entry" : "entries") from theirs, in time order")
    }
    var text = layout.head.joined()
    if let last = layout.head.last, !last.hasSuffix("\n") { text += "\n" }
    for (index, item) in sorted.enumerated() {
      if index > 0, layout.spaced, item.entry != nil { text += "\n" }
      for line in item.lines {
        text += line
        if !line.hasSuffix("\n") { text += "\n" }
      }
    }
    // A blank line before the next heading, if either side had one.
    text += (o?.tail.isEmpty ?? true ? t?.tail : o?.tail)?.joined() ?? ""
    result.text = text
    return result
  }

  private static func hasDuplicates(_ section: Section?) -> Bool {
    guard let section else { return false }
    return Set(section.items.map(\.key)).count != section.items.count
  }

  private static func latestHandoff(in section: Section?, excluding base: Set<String>) -> Date? {
    section?.items.filter { !base.contains($0.key) && $0.entry?.kind == .handoff }.map(\.time).max()
  }
}

private func isBlank(_ line: Substring) -> Bool {
  line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
}

extension JournalEntry.Kind {
  /// The case status an entry of this kind puts the case in, if any.
  var impliedStatus: CaseStatus? {
    switch self {
    case .acknowledged: .acknowledged
    case .offline: .offline
    case .escalated: .escalated
    case .asked: .pending
    case .resolved: .resolved
    case .closed: .closed
    case .reopened: .open
    default: nil
    }
  }
}
