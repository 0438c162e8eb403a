import Foundation
import KBTestSupport
import Testing
import Yams

@testable import KBCore

/// The fast front-matter reader must give exactly what Yams gives (values, tags, styles, marks),
/// or decline.
@Suite struct FrontMatterFastPathTests {
  /// Every field of a node tree, so two trees compare on more than `==` (which ignores styles
  /// and marks).
  static func describe(_ node: Node) -> String {
    func mark(_ m: Mark?) -> String { m.map { "\($0.line):\($0.column)" } ?? "nil" }
    switch node {
    case .scalar(let s):
      // The resolved tag, found by equality (Yams resolves implicit tags lazily, in place).
      let names: [Yams.Tag.Name] = [.str, .int, .float, .bool, .null, .timestamp, .binary, .merge, .value]
      let resolved = names.first { Node.Scalar(s.string, Yams.Tag($0)) == s }?.rawValue ?? "?"
      return "scalar(\(s.string.debugDescription) tag=\(resolved) style=\(s.style) mark=\(mark(s.mark)))"
    case .sequence(let s):
      return "seq(style=\(s.style) mark=\(mark(s.mark)) [" + s.map(describe).joined(separator: ", ") + "])"
    case .mapping(let m):
      return "map(mark=\(mark(m.mark)) {" + m.map { describe($0.key) + ": " + describe($0.value) }.joined(separator: "; ") + "})"
    case .alias:
      return "alias"
    }
  }

  /// Inputs the fast path must accept, each compared field by field with Yams.
  static let accepted: [String] = [
    "id: a\n",
    "id: ans-000001\ntype: answer\ntitle: \"Phone won't turn on overnight\"\n",
    "tags: [\"phones\", \"reboot\", \"ios\"]\nproducts: [\"Nova X2\", \"Pulse 5G\"]\n",
    "symptoms:\n  - \"won't turn on\"\n  - \"battery drains fast\"\ncreated: 2018-03-04T05:06:00Z\n",
    "symptoms:\n- a\n- b c\nnext: 1\n",
    "tags: []\n",
    "tags: [a, b c, 'd e', \"f, g\"]\n",
    "tags: [ a ,b ]\n",
    "customer: \"@milofo\"\nopened: 2020-08-03T21:34:00Z\nassignee: jonas.b\n",
    "status: open\nfollow_up: 2024-10-23\nupdated: 2009-10-21\n",
    "title: 'Single quoted, with \"double\" inside'\n",
    "title: Zoë's café: no\n".replacingOccurrences(of: ": no", with: " no"),
    "title: Unïcödé títle — with dash\ntags: [unï, \"cödé\"]\n",
    "a: yes\nb: no\nc: null\nd: x~\ne: 1.5\nf: 0x1F\ng: true\nh: 2001-12-14\n",
    "yes: 1\nnull: 2\n",
    "key_with-dash: value\n\nafter_blank: v\n",
    "title: C# and F# notes\n",
    "url: https://example.com/a?b=c&d=e\n",
    "answer: ans-000002\ntags: [\"baggage\"]",
    "list:\n\n  - a\n\n  - b\n",
    "q: \"  padded  \"\n",
    "n: 007\n",
    "title:   many spaces before\n",
  ]

  /// Inputs the fast path must leave to Yams.
  static let declined: [String] = [
    "# comment\nid: a\n",
    "id: a # comment\n",
    "nested:\n  a: 1\n",
    "empty:\n",
    "empty:\nnext: 1\n",
    "text: |\n  literal\n",
    "text: >\n  folded\n",
    "multi: first\n  continued\n",
    "esc: \"a\\tb\"\n",
    "q: 'it''s'\n",
    "anchor: &a x\nref: *a\n",
    "dup: 1\ndup: 2\n",
    "tab:\tx\n",
    "crlf: x\r\n",
    "trailing: x \n",
    "colon: a: b\n",
    "flow: [a, [b]]\n",
    "flow: [a, b,]\n",
    "flow: [a: b]\n",
    "flow: [a, b] tail\n",
    "map: {a: 1}\n",
    "at: @handle\n",
    "dash: - x\n",
    "mixed:\n  - a\n- b\n",
    "deep:\n    - a\n",
    "item:\n  -\n",
    "\"quoted key\": 1\n",
    "tagged: !!str 1\n",
    "bad: [unterminated\n",
    "...\n",
    "key:value\n",
    "ends with colon: x:\n",
  ]

  @Test(arguments: accepted)
  func acceptsAndMatchesYams(_ raw: String) throws {
    let fast = try #require(FrontMatterFastPath.parse(raw), "fast path declined \(raw.debugDescription)")
    let yams = try #require(try Yams.compose(yaml: raw))
    #expect(Self.describe(.mapping(fast)) == Self.describe(yams))
    #expect(Node.mapping(fast) == yams)
  }

  @Test(arguments: declined)
  func declines(_ raw: String) {
    #expect(FrontMatterFastPath.parse(raw) == nil, "fast path accepted \(raw.debugDescription)")
  }

  /// Whole documents parse the same with and without the fast path: same fields, key lines,
  /// errors.
  @Test(arguments: accepted + declined)
  func frontMatterIsTheSameEitherWay(_ raw: String) {
    let viaFastPath = Result { () throws(FrontMatterError) in try FrontMatter(parsing: raw) }
    let viaYams = Result { () throws(FrontMatterError) in try FrontMatter(parsing: raw, fastPath: false) }
    switch (viaFastPath, viaYams) {
    case (.success(let a), .success(let b)):
      #expect(Self.describe(.mapping(a.mapping)) == Self.describe(.mapping(b.mapping)))
      #expect(a.keyLines == b.keyLines)
      for key in b.keys + ["id", "title", "tags", "missing", "yes", "null"] {
        #expect(a.string(key) == b.string(key))
        #expect(a.strings(key) == b.strings(key))
        #expect(a[key] == b[key])
      }
    case (.failure(let a), .failure(let b)):
      #expect(a == b)
    default:
      Issue.record("one way failed, the other did not: \(raw.debugDescription)")
    }
  }

  /// Seeded random front matter in the accepted shapes and near them: both ways agree.
  @Test func randomFrontMatterAgrees() throws {
    var rng = SeededGenerator(seed: 42)
    let words = ["a", "phone", "Nova X2", "2020-08-03T21:34:00Z", "yes", "null", "1.5", "won't", "C#", "Zoë",
                 "a: b", "#x", "x #y", "@h", "[x]", "", " ", "'q'", "\"d\"", "a,b", "~", "-", "é—ü"]
    let count = Int(ProcessInfo.processInfo.environment["KB_FASTPATH_CASES"] ?? "") ?? 400
    var accepted = 0
    for _ in 0..<count {
      var raw = ""
      var used = Set<String>()
      for _ in 0..<Int.random(in: 1...6, using: &rng) {
        var key = ["id", "title", "tags", "symptoms", "status", "yes", "x-y", "k_1"].randomElement(using: &rng)!
        if used.contains(key) { key += "2" }
        used.insert(key)
        let w = { words.randomElement(using: &rng)! }
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: raw += "\(key): \(w())\n"
        case 1: raw += "\(key): \"\(w())\"\n"
        case 2: raw += "\(key): '\(w())'\n"
        case 3: raw += "\(key): [\(w()), \"\(w())\", \(w())]\n"
        case 4: raw += "\(key):\n  - \(w())\n  - \"\(w())\"\n"
        default: raw += "\(key):\n- \(w())\n\n"
        }
      }
      if FrontMatterFastPath.parse(raw) != nil { accepted += 1 }
      let a = Result { () throws(FrontMatterError) in try FrontMatter(parsing: raw) }
      let b = Result { () throws(FrontMatterError) in try FrontMatter(parsing: raw, fastPath: false) }
      switch (a, b) {
      case (.success(let a), .success(let b)):
        #expect(Self.describe(.mapping(a.mapping)) == Self.describe(.mapping(b.mapping)), "\(raw.debugDescription)")
        #expect(a.keyLines == b.keyLines)
      case (.failure(let a), .failure(let b)):
        #expect(a == b, "\(raw.debugDescription)")
      default:
        Issue.record("one way failed, the other did not: \(raw.debugDescription)")
      }
    }
    #expect(accepted > count / 10)
  }
}

