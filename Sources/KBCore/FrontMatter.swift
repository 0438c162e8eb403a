import Foundation
import Yams

/// A problem in a document's front matter, with the line in the file where it was found.
public enum FrontMatterError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The opening `---` has no closing fence.
  case unterminated
  /// The YAML does not parse.
  case invalidYAML(line: Int, message: String)
  /// The YAML parses but is not a mapping of keys to values.
  case notAMapping(line: Int)
  /// The same key appears twice.
  case duplicateKey(String, line: Int)
  /// A field has the wrong shape (for example a list where a text is expected).
  case invalidField(String, line: Int, expected: String)
  /// A required field is missing.
  case missingField(String)

  /// The 1-based line in the file, when known.
  public var line: Int? {
    switch self {
    case .unterminated, .missingField: 1
    case .invalidYAML(let line, _), .notAMapping(let line), .duplicateKey(_, let line),
      .invalidField(_, let line, _):
      line
    }
  }

  public var description: String {
    switch self {
    case .unterminated: "front matter opened with '---' is never closed"
    case .invalidYAML(_, let message): "front matter is not valid YAML: \(message)"
    case .notAMapping: "front matter must be a list of 'key: value' lines"
    case .duplicateKey(let key, _): "field '\(key)' appears twice"
    case .invalidField(let key, _, let expected): "field '\(key)' must be \(expected)"
    case .missingField(let key): "required field '\(key)' is missing"
    }
  }
}

/// The YAML front matter of a document, kept as the text it was read from.
///
/// Reading goes through Yams' node tree, so every field is available, known or not. Writing
/// edits only the lines of the field that changed: every other line, comment and unknown field
/// stays exactly as it was, which keeps git diffs and merges small.
///
/// ```swift
/// var fm = try FrontMatter(parsing: "id: a\ntags: [x]\n# kept\n")
/// fm.set("status", to: "open")
/// fm.raw // "id: a\ntags: [x]\n# kept\nstatus: open\n"
/// ```
public struct FrontMatter: Equatable, @unchecked Sendable {
  /// The YAML text, without the fences.
  public private(set) var raw: String
  /// The parsed top-level fields, in file order.
  public private(set) var mapping: Node.Mapping
  /// The line in the file of each top-level key.
  public private(set) var keyLines: [String: Int]
  /// The value of each top-level key written plain (not quoted), for lookups without
  /// `Node.Mapping`'s linear search that resolves tags with regular expressions.
  private var plainFields: [String: Node] = [:]
  /// The file line of the YAML's first line (2 when the file starts with the fence).
  public let firstLine: Int

  public init(parsing raw: String, firstLine: Int = 2) throws(FrontMatterError) {
    try self.init(parsing: raw, firstLine: firstLine, fastPath: true)
  }

  /// `fastPath: false` always parses with Yams (for tests that compare both ways).
  init(parsing raw: String, firstLine: Int = 2, fastPath: Bool) throws(FrontMatterError) {
    self.raw = raw
    self.firstLine = firstLine
    (mapping, keyLines) = try Self.parse(raw, firstLine: firstLine, fastPath: fastPath)
    plainFields = Self.plainFields(mapping)
  }

  /// An empty front matter.
  public init() {
    raw = ""
    firstLine = 2
    mapping = Node.Mapping([])
    keyLines = [:]
  }

  public static func == (lhs: FrontMatter, rhs: FrontMatter) -> Bool { lhs.raw == rhs.raw }

  /// Number of lines in `raw`.
  public var lineCount: Int { Lines(raw).lines.count }

  /// The top-level keys in file order.
  public var keys: [String] { mapping.keys.compactMap(\.string) }

  /// The node of a top-level field.
  public subscript(key: String) -> Node? { field(key) }

  /// `mapping[key]`, fast. A plain key matches a lookup of the same text whatever its resolved
  /// tag (both resolve the same text); a quoted key (tag `str`) is looked up through the mapping,
  /// whose rules then apply unchanged.
  private func field(_ key: String) -> Node? {
    if let node = plainFields[key] { return node }
    guard plainFields.count < mapping.count else { return nil }
    return mapping[key]
  }

  static func plainFields(_ mapping: Node.Mapping) -> [String: Node] {
    var out: [String: Node] = [:]
    for (key, value) in mapping {
      // A plain key's tag is implicit, or already resolved from its text (Yams resolves tags in
      // place when it checks for duplicates); an explicit tag that differs is left to `mapping`.
      guard case .scalar(let scalar) = key, scalar.style == .plain,
        scalar.tag.rawValue.isEmpty || key == Node(scalar.string)
      else { continue }
      out[scalar.string] = value
    }
    return out
  }

  /// A text field; numbers and dates are returned as written. `nil` when absent or null.
  public func string(_ key: String) -> String? {
    guard let node = field(key), case .scalar(let scalar) = node else { return nil }
    if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
    return scalar.string
  }

  /// A list of texts. A single text counts as a one-element list; a comma-separated text is
  /// split. Absent gives `[]`.
  public func strings(_ key: String) -> [String] {
    guard let node = field(key) else { return [] }
    switch node {
    case .sequence(let sequence):
      return sequence.compactMap { $0.scalar?.string }.filter { !$0.isEmpty }
    case .scalar(let scalar):
      if scalar.style == .plain, ["", "~", "null"].contains(scalar.string) { return [] }
      return scalar.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
    case .mapping, .alias:
      return []
    }
  }

  /// Checks that `key`, when present, is a text or a list of texts and not a mapping.
  public func validateShape(_ key: String, list: Bool) throws(FrontMatterError) {
    guard let node = field(key) else { return }
    let line = keyLines[key] ?? firstLine
    switch node {
    case .scalar: return
    case .sequence(let sequence) where list:
      if sequence.contains(where: { $0.scalar == nil }) {
        throw .invalidField(key, line: line, expected: "a list of texts")
      }
    case .sequence: throw .invalidField(key, line: line, expected: "a single text")
    case .mapping, .alias:
      throw .invalidField(key, line: line, expected: list ? "a list of texts" : "a single text")
    }
  }

  // MARK: Editing

  /// Sets a text field, quoting as YAML requires. `nil` removes the field.
  public mutating func set(_ key: String, to value: String?) {
    set(key, node: value.map { Node($0) })
  }

  /// Sets a list field. Short lists are written inline (`[a, b]`), long texts one a line.
  public mutating func set(_ key: String, to values: [String], inline: Bool = true) {
    let items = values.map { Node($0) }
    set(key, node: .sequence(Node.Sequence(items, Tag(.seq), inline ? .flow : .block)))
  }

  /// Replaces the lines of one top-level field (or appends it), leaving every other line as is.
  public mutating func set(_ key: String, node: Node?) {
    var text = Lines(raw)
    let replacement = node.map { Self.serialize(key: key, node: $0) } ?? []
    if let range = Self.blockRange(of: key, in: text.lines) {
      text.lines.replaceSubrange(range, with: replacement)
    } else {
      text.lines.append(contentsOf: replacement)
    }
    let joined = text.joined(trailingBreak: true)
    // The edit only touches one block of a document that parsed, so it parses again.
    if let reparsed = try? FrontMatter(parsing: joined, firstLine: firstLine) {
      self = reparsed
    }
  }

  static func serialize(key: String, node: Node) -> [String] {
    let pair = Node.mapping(Node.Mapping([(Node(key), node)]))
    let text = (try? Yams.serialize(node: pair, width: -1, allowUnicode: true)) ?? "\(key): \n"
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    // Indent block sequences under their key, as people write them.
    return lines.map { $0.hasPrefix("- ") ? "  " + $0 : $0 }
  }

  /// The line range of a top-level key's block: its key line and its indented continuation.
  static func blockRange(of key: String, in lines: [String]) -> Range<Int>? {
    guard let start = lines.firstIndex(where: { topLevelKey(of: $0) == key }) else { return nil }
    var end = start + 1
    while end < lines.count {
      let line = lines[end]
      if topLevelKey(of: line) != nil { break }
      if line.hasPrefix("#") { break }
      if line.isEmpty, end + 1 < lines.count, topLevelKey(of: lines[end + 1]) != nil { break }
      end += 1
    }
    // Do not swallow trailing blank lines.
    while end > start + 1, lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
    return start..<end
  }

  static func topLevelKey(of line: String) -> String? {
    guard let first = line.first, !" \t#-".contains(first) else { return nil }
    guard let colon = line.firstIndex(of: ":") else { return nil }
    let after = line.index(after: colon)
    guard after == line.endIndex || line[after] == " " || line[after] == "\t" else { return nil }
    var key = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
    if key.count >= 2, let q = key.first, q == "\"" || q == "'", key.last == q {
      key = String(key.dropFirst().dropLast())
    }
    return key
  }

  // MARK: Parsing

  private static func parse(_ raw: String, firstLine: Int, fastPath: Bool) throws(FrontMatterError) -> (
    Node.Mapping, [String: Int]
  ) {
    // Foundation's whitespacesAndNewlines is exactly Unicode's White_Space property.
    if raw.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
      return (Node.Mapping([]), [:])
    }
    // The fast path declines duplicate keys (and every line it accepts that is not a key line
    // starts with a space or '-'), so only what it declines needs the duplicate scan.
    if fastPath, let fast = FrontMatterFastPath.parse(raw) {
      return try keyLines(of: .mapping(fast), firstLine: firstLine)
    }
    // Yams rejects duplicate keys itself, but points at the mapping; find the second one.
    var seenKeys: Set<String> = []
    for (offset, line) in Lines(raw).lines.enumerated() {
      guard let key = topLevelKey(of: line) else { continue }
      if !seenKeys.insert(key).inserted { throw .duplicateKey(key, line: firstLine + offset) }
    }
    let node: Node?
    do {
      node = try Yams.compose(yaml: raw)
    } catch let error as YamlError {
      throw Self.describe(error, firstLine: firstLine)
    } catch {
      throw .invalidYAML(line: firstLine, message: "\(error)")
    }
    guard let node else { return (Node.Mapping([]), [:]) }
    // Aliases (`*name`) share a node in memory, but everything that walks the result (show, the
    // index, JSON) expands them: nine aliases of nine aliases … make a 479-byte "alias bomb" of
    // billions of values. Count the values as expanded, stopping at the limit.
    if raw.utf8.contains(UInt8(ascii: "*")) {
      var budget = maxExpandedNodes
      if !Self.withinBudget(node, &budget) {
        throw .invalidYAML(
          line: firstLine,
          message: "its aliases (*name) expand to more than \(maxExpandedNodes) values; a front matter does not need that many (YAML alias bomb?)")
      }
    }
    return try keyLines(of: node, firstLine: firstLine)
  }

  /// The most values a front matter may hold with its aliases expanded.
  public static let maxExpandedNodes = 10_000

  /// Walks `node` as expanded, spending one of `budget` per value; false when it runs out.
  private static func withinBudget(_ node: Node, _ budget: inout Int) -> Bool {
    budget -= 1
    if budget < 0 { return false }
    switch node {
    case .scalar, .alias: return true
    case .sequence(let items):
      for item in items where !withinBudget(item, &budget) { return false }
    case .mapping(let pairs):
      for (key, value) in pairs where !withinBudget(key, &budget) || !withinBudget(value, &budget) { return false }
    }
    return true
  }

  /// The mapping of a parsed front matter and the file line of each key.
  private static func keyLines(of node: Node, firstLine: Int) throws(FrontMatterError) -> (
    Node.Mapping, [String: Int]
  ) {
    guard case .mapping(let mapping) = node else {
      throw .notAMapping(line: firstLine + (node.mark?.line ?? 1) - 1)
    }
    var lines: [String: Int] = [:]
    for key in mapping.keys {
      let line = firstLine + (key.mark?.line ?? 1) - 1
      guard let name = key.string else { throw .notAMapping(line: line) }
      if lines[name] != nil { throw .duplicateKey(name, line: line) }
      lines[name] = line
    }
    return (mapping, lines)
  }

  private static func describe(_ error: YamlError, firstLine: Int) -> FrontMatterError {
    switch error {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _):
      let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }
        .joined(separator: ", ")
      return .invalidYAML(line: firstLine + mark.line - 1, message: what)
    case .composer(let context, let problem, let mark, _):
      let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }
        .joined(separator: ", ")
      return .invalidYAML(line: firstLine + mark.line - 1, message: what)
    default:
      return .invalidYAML(line: firstLine, message: "\(error)")
    }
  }
}
