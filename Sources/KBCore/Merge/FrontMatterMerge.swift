import Foundation
import Yams

/// The field-by-field three-way merge of a front matter.
///
/// Each version's YAML text is cut into one block per top-level key: the key's line, its
/// indented continuation, and the comment or blank lines after it. Blocks are chosen whole from
/// one side whenever the rules allow, so formatting and comments survive; only values the merge
/// computes (a merged list, the `conflicts` record) are written anew.
struct FrontMatterMerge {
  /// What the policies need to know about the rest of the document.
  struct Context {
    var isCase = false
    /// The status implied by the merged journal's last status-bearing entry.
    var journalStatus: CaseStatus?
    var oursHandoff: Date?
    var theirsHandoff: Date?
  }

  /// Fields merged as sets even when written as a single comma-separated text.
  static let listFields: Set<String> = ["tags", "symptoms", "products", "related", "links", "conflicts"]

  /// A front matter's text cut into blocks, one per top-level key.
  struct Layout {
    var preamble: String = ""
    var keys: [String] = []
    var blocks: [String: String] = [:]
    var nodes: [String: Node] = [:]

    /// `nil` when the blocks found in the text do not match the parsed keys (unusual YAML).
    init?(_ frontMatter: FrontMatter?) {
      guard let frontMatter else { return }
      var current: String?
      var text = ""
      for line in LineMerge.lines(frontMatter.raw) {
        var bare = line.hasSuffix("\n") ? line.dropLast() : line
        if bare.hasSuffix("\r") { bare = bare.dropLast() }
        if let key = FrontMatter.topLevelKey(of: String(bare)) {
          if let current { blocks[current] = text } else { preamble = text }
          guard blocks[key] == nil, key != current else { return nil }
          keys.append(key)
          current = key
          text = ""
        }
        text += line
      }
      if let current { blocks[current] = text } else { preamble = text }
      guard keys == frontMatter.keys else { return nil }
      for key in keys { nodes[key] = frontMatter[key] }
    }
  }

  /// A recorded field conflict: ours is kept in the field, both values go in `conflicts:`.
  struct FieldConflict {
    var field: String
    var ours: Node
    var theirs: Node
  }

  private enum Choice {
    case ours, theirs, delete
    case text(String)
  }

  var context: Context
  var conflicts: [String] = []
  var notes: [String] = []

  /// The merged YAML text (without fences), or `nil` when the texts cannot be merged field by
  /// field (the caller then merges the whole file line by line).
  mutating func merge(base: FrontMatter?, ours: FrontMatter?, theirs: FrontMatter?) -> String? {
    guard let b = Layout(base), let o = Layout(ours), let t = Layout(theirs) else { return nil }

    var choices: [String: Choice] = [:]
    var fieldConflicts: [FieldConflict] = []
    var allKeys = o.keys
    for key in b.keys + t.keys where !allKeys.contains(key) { allKeys.append(key) }
    for key in allKeys {
      choices[key] = choose(key, b, o, t, &fieldConflicts)
    }

    // Order: ours' layout; fields only theirs kept go after the base field before them; new
    // fields of theirs go last, in their order.
    func kept(_ key: String) -> Bool {
      if case .delete? = choices[key] { return false }
      return true
    }
    var order = o.keys
    for (index, key) in b.keys.enumerated() where !order.contains(key) && kept(key) {
      let previous = b.keys[..<index].last { order.contains($0) }
      let position = previous.flatMap { order.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
      order.insert(key, at: position)
    }
    for key in t.keys where !order.contains(key) && kept(key) { order.append(key) }

    if !fieldConflicts.isEmpty {
      var items: [Node] = []
      if let existing = block(for: "conflicts", choices["conflicts"], b, o, t).flatMap({ Self.node(of: "conflicts", in: $0) }) {
        items = Self.items(of: existing, key: "conflicts")
      }
      for conflict in fieldConflicts {
        let record = Node.mapping(Node.Mapping([
          (Node("field"), Node(conflict.field)),
          (Node("ours"), conflict.ours),
          (Node("theirs"), conflict.theirs),
        ]))
        if !items.contains(record) { items.append(record) }
      }
      choices["conflicts"] = .text(Self.renderBlockSequence(key: "conflicts", items: items))
      if !order.contains("conflicts") { order.append("conflicts") }
    }

    var raw = mergePreamble(b.preamble, o.preamble, t.preamble)
    for key in order {
      guard var text = block(for: key, choices[key], b, o, t) else { continue }
      if !text.hasSuffix("\n") { text += "\n" }
      raw += text
    }
    guard (try? FrontMatter(parsing: raw)) != nil else { return nil }
    return raw
  }

  private func block(for key: String, _ choice: Choice?, _ b: Layout, _ o: Layout, _ t: Layout) -> String? {
    switch choice {
    case .ours?: o.blocks[key]
    case .theirs?: t.blocks[key]
    case .text(let text)?: text
    case .delete?, nil: nil
    }
  }

  private func mergePreamble(_ b: String, _ o: String, _ t: String) -> String {
    let merged = LineMerge.merge(base: b, ours: o, theirs: t)
    if merged.clean { return merged.text }
    // Comments only: keep ours, then their lines ours lacks.
    var out = o
    let mine = Set(LineMerge.lines(o))
    for line in LineMerge.lines(t) where !mine.contains(line) {
      if !out.isEmpty, !out.hasSuffix("\n") { out += "\n" }
      out += line
    }
    return out
  }

  // MARK: Rules

  private mutating func choose(
    _ key: String, _ b: Layout, _ o: Layout, _ t: Layout, _ fieldConflicts: inout [FieldConflict]
  ) -> Choice {
    let (bText, oText, tText) = (b.blocks[key], o.blocks[key], t.blocks[key])
    let (bNode, oNode, tNode) = (b.nodes[key], o.nodes[key], t.nodes[key])
    // Textual three-way first: whatever one side did not touch takes the other side, verbatim.
    if oText == tText { return oText == nil ? .delete : .ours }
    if oText == bText { return tText == nil ? .delete : .theirs }
    if tText == bText { return oText == nil ? .delete : .ours }

    // Both sides touched the block.
    guard let oNode else {
      // We deleted it, they changed it: keep their change unless it only reformatted.
      if tNode == bNode { return .delete }
      notes.append("\(key): kept their change; we had deleted the field")
      return .theirs
    }
    guard let tNode else {
      if oNode == bNode { return .delete }
      notes.append("\(key): kept our change; they had deleted the field")
      return .ours
    }
    if oNode == tNode {
      return mergedText(key, bText, oText, tText, target: oNode) ?? .ours
    }
    if oNode == bNode {
      return mergedText(key, bText, oText, tText, target: tNode) ?? .theirs
    }
    if tNode == bNode {
      return mergedText(key, bText, oText, tText, target: oNode) ?? .ours
    }
    return policy(key, bNode, oNode, tNode, oText ?? "", tText ?? "", &fieldConflicts)
  }

  /// Both blocks changed but to the same value (or one only reformatted): a line merge of the
  /// two blocks keeps both sides' comments when it is clean and still gives `target`.
  private func mergedText(_ key: String, _ b: String?, _ o: String?, _ t: String?, target: Node) -> Choice? {
    guard let o, let t else { return nil }
    let merged = LineMerge.merge(base: b ?? "", ours: o, theirs: t)
    guard merged.clean, Self.node(of: key, in: merged.text) == target else { return nil }
    return .text(merged.text)
  }

  private mutating func policy(
    _ key: String, _ bNode: Node?, _ oNode: Node, _ tNode: Node, _ oText: String, _ tText: String,
    _ fieldConflicts: inout [FieldConflict]
  ) -> Choice {
    // Lists: a set merge, deletions respected.
    if Self.isList(key, [bNode, oNode, tNode]) {
      let base = bNode.map { Self.items(of: $0, key: key) } ?? []
      let mine = Self.items(of: oNode, key: key)
      let yours = Self.items(of: tNode, key: key)
      var result: [Node] = []
      for item in mine where !(base.contains(item) && !yours.contains(item)) && !result.contains(item) {
        result.append(item)
      }
      for item in yours where !(base.contains(item) && !mine.contains(item)) && !result.contains(item) {
        result.append(item)
      }
      notes.append("\(key): merged both sides' changes as a set")
      if case .sequence = oNode, result == mine { return .ours }
      if case .sequence = tNode, result == yours { return .theirs }
      // Written the way ours writes it (block when ours is a block list).
      let style: Node.Sequence.Style =
        Self.isBlockList(oText) || (Self.items(of: oNode, key: key).isEmpty && Self.isBlockList(tText))
        ? .block : .flow
      return .text(Self.renderSequence(key: key, items: result, style: style))
    }
    if case .scalar(let o) = oNode, case .scalar(let t) = tNode {
      // Timestamps and dates: the later one.
      if let oTime = Timestamp.parse(o.string), let tTime = Timestamp.parse(t.string) {
        let theirsLater = tTime > oTime
        notes.append("\(key): took the later value, \(theirsLater ? t.string : o.string)")
        return theirsLater ? .theirs : .ours
      }
      // A case's status: the later state, unless the journal says which.
      if key == "status", context.isCase, let os = CaseStatus(rawValue: o.string.lowercased()),
        let ts = CaseStatus(rawValue: t.string.lowercased())
      {
        let pick: CaseStatus
        let why: String
        if let journal = context.journalStatus, journal == os || journal == ts {
          pick = journal
          why = "the journal's last status entry"
        } else {
          pick = Self.rank(ts) > Self.rank(os) ? ts : os
          why = "later in the case lifecycle"
        }
        notes.append("status: took '\(pick.rawValue)' (\(why)); the other side had '\((pick == os ? ts : os).rawValue)'")
        return pick == os ? .ours : .theirs
      }
      // The assignee: the side with the later handoff.
      if key == "assignee" {
        switch (context.oursHandoff, context.theirsHandoff) {
        case (let oh?, let th?) where oh != th:
          notes.append("assignee: took '\(oh > th ? o.string : t.string)' (the later handoff)")
          return oh > th ? .ours : .theirs
        case (_?, nil):
          notes.append("assignee: took '\(o.string)' (our handoff)")
          return .ours
        case (nil, _?):
          notes.append("assignee: took '\(t.string)' (their handoff)")
          return .theirs
        default:
          break
        }
      }
    }
    // Anything else: a conflict. Ours stays in the field, both values are recorded.
    fieldConflicts.append(FieldConflict(field: key, ours: oNode, theirs: tNode))
    conflicts.append("\(key) changed on both sides (kept ours; both values are in 'conflicts:')")
    return .ours
  }

  /// Whether a field's block is written as a block list (`key:` then `- item` lines).
  static func isBlockList(_ text: String) -> Bool {
    let lines = LineMerge.lines(text)
    guard let first = lines.first, let colon = first.firstIndex(of: ":") else { return false }
    let rest = first[first.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    guard rest.isEmpty || rest.hasPrefix("#") else { return false }
    return lines.dropFirst().contains {
      $0.trimmingCharacters(in: .whitespaces).hasPrefix("- ")
        || $0.trimmingCharacters(in: .whitespacesAndNewlines) == "-"
    }
  }

  static func rank(_ status: CaseStatus) -> Int {
    switch status {
    case .open: 0
    case .acknowledged, .pending: 1
    case .offline, .escalated: 2
    case .resolved: 3
    case .closed: 4
    }
  }

  static func isList(_ key: String, _ nodes: [Node?]) -> Bool {
    var sawSequence = false
    for node in nodes {
      switch node {
      case .mapping?, .alias?: return false
      case .sequence?: sawSequence = true
      default: break
      }
    }
    return sawSequence || listFields.contains(key)
  }

  /// The items of a list field; a text counts as one item (or, for the known list fields, as
  /// a comma-separated list), a null as none.
  static func items(of node: Node, key: String) -> [Node] {
    switch node {
    case .sequence(let sequence): return Array(sequence)
    case .scalar(let scalar):
      if node.tag.rawValue == Tag.Name.null.rawValue { return [] }
      guard listFields.contains(key) else { return [node] }
      return scalar.string.split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Node($0) }
    case .mapping, .alias: return [node]
    }
  }

  /// The value of `key` in a block of YAML text that holds exactly that key.
  static func node(of key: String, in text: String) -> Node? {
    guard let parsed = try? FrontMatter(parsing: text), parsed.keys == [key] else { return nil }
    return parsed[key]
  }

  // MARK: Writing

  /// A list field, in the given style; texts go through the same serializer as
  /// ``FrontMatter/set(_:to:inline:)``, anything else through ``renderBlockSequence``.
  static func renderSequence(key: String, items: [Node], style: Node.Sequence.Style) -> String {
    if items.allSatisfy({ $0.scalar != nil }) {
      let node = Node.sequence(Node.Sequence(items, Tag(.seq), style == .block ? .block : .flow))
      let text = FrontMatter.serialize(key: key, node: node).joined(separator: "\n") + "\n"
      if Self.node(of: key, in: text) == node { return text }
    }
    return renderBlockSequence(key: key, items: items)
  }

  /// A block sequence written by hand, so that mappings inside it are indented correctly:
  ///
  /// ```yaml
  /// conflicts:
  ///   - field: title
  ///     ours: "Text repeats on iPhone"
  ///     theirs: "iPhone SMS loop"
  /// ```
  static func renderBlockSequence(key: String, items: [Node]) -> String {
    var text = renderKey(key) + ":\n"
    for item in items {
      if case .mapping(let mapping) = item, !mapping.isEmpty {
        for (index, pair) in mapping.enumerated() {
          text += (index == 0 ? "  - " : "    ") + renderFlow(pair.key, isKey: true) + ": "
            + renderFlow(pair.value) + "\n"
        }
      } else {
        text += "  - " + renderFlow(item) + "\n"
      }
    }
    return text
  }

  static func renderKey(_ key: String) -> String { renderFlow(Node(key), isKey: true) }

  /// A value on one line: texts quoted unless they are plain words, lists as `[a, b]`,
  /// mappings as `{a: b}`.
  static func renderFlow(_ node: Node, isKey: Bool = false) -> String {
    switch node {
    case .scalar(let scalar):
      if node.tag.rawValue != Tag.Name.str.rawValue, scalar.style == .plain || scalar.style == .any {
        return scalar.string  // numbers, booleans, null, as written
      }
      if isPlainWord(scalar.string) { return scalar.string }
      return doubleQuoted(scalar.string)
    case .sequence(let sequence):
      return "[" + sequence.map { renderFlow($0) }.joined(separator: ", ") + "]"
    case .mapping(let mapping):
      return "{" + mapping.map { renderFlow($0.key, isKey: true) + ": " + renderFlow($0.value) }
        .joined(separator: ", ") + "}"
    case .alias:
      return "null"
    }
  }

  /// A text that YAML reads back as the same text without quotes.
  static func isPlainWord(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || first == "_"
    else { return false }
    guard text.unicodeScalars.allSatisfy({
      $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains(Character($0)) || "_-./".unicodeScalars.contains($0))
    }) else { return false }
    return Node(text).tag.rawValue == Tag.Name.str.rawValue
  }

  static func doubleQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        let v = scalar.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xFEFF {
          let hex = String(v, radix: 16, uppercase: true)
          out += v > 0xFFFF
            ? "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
            : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
