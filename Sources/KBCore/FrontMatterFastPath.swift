import Yams

/// A fast reader for the common, simple shape of front matter, giving exactly the node tree
/// that `Yams.compose` gives (values, tags, styles and marks), or `nil` for anything else, which
/// then goes through Yams.
///
/// Accepted, one per line (`\n` endings, no tabs, no `\r`, no comments, no trailing spaces):
/// - `key: value` where `key` is `[A-Za-z_][A-Za-z0-9_-]*` and `value` is a plain scalar that
///   starts with an ASCII letter or digit and holds no `: `, ` #` or line-breaking character,
///   a `"double-quoted"` text without `\` or `"` inside, or a `'single-quoted'` one without `'`;
/// - `key: [a, "b", 'c']`: a one-line flow sequence of such scalars (plain ones without `,[]{}:#`);
/// - `key:` followed by block items `- value` (all at indent 0, or all at indent 2);
/// - empty lines.
/// Everything else (nested mappings, anchors, multi-line scalars, escapes, empty values,
/// duplicate keys, ...) returns `nil`. Parsing YAML through Yams costs far more than the rest
/// of indexing a document (its tag resolution runs regular expressions), and almost every file
/// has only this shape.
enum FrontMatterFastPath {
  /// `Constructor.default` builds a new constructor on every call; Yams' parser makes one per
  /// document, so one shared instance gives the same tags.
  nonisolated(unsafe) static let constructor = Constructor.default
  static let resolver = Resolver.default

  static func parse(_ raw: String) -> Node.Mapping? {
    guard canMakeMarks else { return nil }
    var pairs: [(Node, Node)] = []
    var keys = Set<String>()
    var firstMark: Mark?
    // The key waiting for block items, and the items read so far.
    var pendingKey: Node?
    var pendingItems: [Node] = []
    var pendingIndent = -1
    var pendingMark: Mark?

    func closePending() -> Bool {
      guard let key = pendingKey else { return true }
      guard !pendingItems.isEmpty, let mark = pendingMark else { return false }
      pairs.append((key, .sequence(Node.Sequence(pendingItems, Tag(.implicit, resolver, constructor), .any, mark))))
      pendingKey = nil
      pendingItems = []
      pendingIndent = -1
      pendingMark = nil
      return true
    }

    var lineNumber = 0
    let all = Array(raw.unicodeScalars)
    var lineStart = 0
    while lineStart <= all.count {
      var lineEnd = lineStart
      while lineEnd < all.count, all[lineEnd] != "\n" { lineEnd += 1 }
      let line = Line(all: all, base: lineStart, count: lineEnd - lineStart)
      lineStart = lineEnd + 1
      lineNumber += 1
      if line.isEmpty { continue }
      if line.last == " " { return nil }
      if line[0] == "-" || line[0] == " " {
        // A block item of the pending key.
        guard pendingKey != nil else { return nil }
        var indent = 0
        while indent < line.count, line[indent] == " " { indent += 1 }
        guard indent == 0 || indent == 2, indent + 2 < line.count, line[indent] == "-",
          line[indent + 1] == " ", line[indent + 2] != " "
        else { return nil }
        if pendingIndent == -1 {
          pendingIndent = indent
          pendingMark = makeMark(line: lineNumber, column: indent + 1)
        } else if pendingIndent != indent {
          return nil
        }
        guard let item = scalar(line, from: indent + 2, to: line.count, line: lineNumber, flow: false) else {
          return nil
        }
        pendingItems.append(item)
        continue
      }
      guard closePending() else { return nil }
      // key: value
      guard isKeyStart(line[0]) else { return nil }
      var colon = 1
      while colon < line.count, isKeyChar(line[colon]) { colon += 1 }
      guard colon < line.count, line[colon] == ":", colon <= 100 else { return nil }
      let keyText = String(String.UnicodeScalarView(all[line.base..<(line.base + colon)]))
      guard keys.insert(keyText).inserted else { return nil }
      let keyMark = makeMark(line: lineNumber, column: 1)
      if firstMark == nil { firstMark = keyMark }
      let key = Node.scalar(Node.Scalar(keyText, Tag(.implicit, resolver, constructor), .plain, keyMark))
      if colon + 1 == line.count {
        pendingKey = key
        continue
      }
      guard line[colon + 1] == " " else { return nil }
      var start = colon + 1
      while start < line.count, line[start] == " " { start += 1 }
      guard start < line.count else { return nil }
      let value: Node
      if line[start] == "[" {
        guard let sequence = flowSequence(line, from: start, line: lineNumber) else { return nil }
        value = sequence
      } else {
        guard let scalar = scalar(line, from: start, to: line.count, line: lineNumber, flow: false) else {
          return nil
        }
        value = scalar
      }
      pairs.append((key, value))
    }
    guard closePending(), let firstMark else { return nil }
    return Node.Mapping(pairs, Tag(.implicit, resolver, constructor), .any, firstMark)
  }

  /// `Mark` has no public initializer; it is two `Int`s (line, column), built here by layout.
  /// Checked once against a mark that Yams made; if the layout ever differs, the fast path is
  /// off and everything goes through Yams.
  static let canMakeMarks: Bool = {
    guard MemoryLayout<Mark>.size == MemoryLayout<(Int, Int)>.size,
      let node = try? Yams.compose(yaml: "a:\n  - b\n"), case .mapping(let mapping) = node,
      let item = mapping.first?.value.sequence?.first, let mark = item.mark
    else { return false }
    let made = unsafeBitCast((2, 5), to: Mark.self)
    return mark.line == 2 && mark.column == 5 && made.line == 2 && made.column == 5
  }()

  private static func makeMark(line: Int, column: Int) -> Mark {
    unsafeBitCast((line, column), to: Mark.self)
  }

  /// One line of the text, indexed from 0, without copying it.
  struct Line {
    let all: [Unicode.Scalar]
    let base: Int
    let count: Int
    var isEmpty: Bool { count == 0 }
    var last: Unicode.Scalar? { count == 0 ? nil : all[base + count - 1] }
    subscript(i: Int) -> Unicode.Scalar { all[base + i] }
  }

  private static func isKeyStart(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
  }

  private static func isKeyChar(_ c: Unicode.Scalar) -> Bool {
    isKeyStart(c) || ("0"..."9").contains(c) || c == "-"
  }

  /// A one-line flow sequence `[a, "b", 'c']` that ends the line.
  private static func flowSequence(_ line: Line, from start: Int, line number: Int) -> Node? {
    guard line.last == "]" else { return nil }
    let end = line.count - 1
    var items: [Node] = []
    var i = start + 1
    while i < end, line[i] == " " { i += 1 }
    while i < end {
      // One item, up to the next comma (outside quotes) or the closing bracket.
      var j = i
      if line[i] == "\"" || line[i] == "'" {
        let quote = line[i]
        j = i + 1
        while j < end, line[j] != quote { j += 1 }
        guard j < end else { return nil }
        j += 1
      } else {
        while j < end, line[j] != "," { j += 1 }
        while j > i, line[j - 1] == " " { j -= 1 }
      }
      guard j > i, let item = scalar(line, from: i, to: j, line: number, flow: true) else { return nil }
      items.append(item)
      var k = j
      while k < end, line[k] == " " { k += 1 }
      if k == end { break }
      guard line[k] == "," else { return nil }
      k += 1
      while k < end, line[k] == " " { k += 1 }
      guard k < end else { return nil }  // a trailing comma
      i = k
    }
    return .sequence(Node.Sequence(items, Tag(.implicit, resolver, constructor), .any, makeMark(line: number, column: start + 1)))
  }

  /// A scalar filling `line[start..<end]`: plain, double-quoted or single-quoted.
  private static func scalar(_ line: Line, from start: Int, to end: Int, line number: Int, flow: Bool)
    -> Node?
  {
    let mark = makeMark(line: number, column: start + 1)
    let first = line[start]
    if first == "\"" || first == "'" {
      guard end - start >= 2, line[end - 1] == first else { return nil }
      var text = String.UnicodeScalarView()
      for i in (start + 1)..<(end - 1) {
        let c = line[i]
        guard c != first, c != "\\", isPrintable(c) else { return nil }
        text.append(c)
      }
      let style: Node.Scalar.Style = first == "\"" ? .doubleQuoted : .singleQuoted
      return .scalar(Node.Scalar(String(text), Tag(.str, resolver, constructor), style, mark))
    }
    guard first.isASCII, ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first)
    else { return nil }
    var text = String.UnicodeScalarView()
    var previous: Unicode.Scalar = " "
    for i in start..<end {
      let c = line[i]
      guard isPrintable(c) else { return nil }
      if c == "#", previous == " " { return nil }
      if c == ":" {
        if flow { return nil }
        if i + 1 == end || line[i + 1] == " " { return nil }
      }
      if flow, c == "," || c == "[" || c == "]" || c == "{" || c == "}" { return nil }
      text.append(c)
      previous = c
    }
    guard previous != " " else { return nil }
    return .scalar(Node.Scalar(String(text), Tag(.implicit, resolver, constructor), .plain, mark))
  }

  /// Printable in YAML's sense and not a line break: ASCII from space to `~`, and non-ASCII
  /// from U+00A0 except the Unicode line and paragraph separators, the byte order mark and
  /// the non-characters U+FFFE and U+FFFF.
  private static func isPrintable(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x80 { return v >= 0x20 && v < 0x7F }
    return v >= 0xA0 && v != 0x2028 && v != 0x2029 && v != 0xFEFF && v != 0xFFFE && v != 0xFFFF
  }
}
