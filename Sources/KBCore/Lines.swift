/// Text split into lines, `\n` and `\r\n` alike, remembering which ending the text uses.
///
/// Swift treats `"\r\n"` as one `Character`, so `split(separator: "\n")` does not split a
/// Windows-style file at all; every line-based edit goes through this type instead.
struct Lines {
  var lines: [String]
  /// `"\r\n"` when the text's first line break is one, else `"\n"`.
  var ending: String
  /// Whether the text ended with a line break.
  var trailingBreak: Bool

  init(_ text: String) {
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
      .map(String.init)
    trailingBreak = text.last == "\n" || text.last == "\r\n"
    if trailingBreak || text.isEmpty, lines.last == "" { lines.removeLast() }
    ending = Self.hasCRLF(text) ? "\r\n" : "\n"
    self.lines = lines
  }

  /// Whether `text` holds a "\r\n" (a byte scan: Foundation's `contains` bridges the string).
  static func hasCRLF(_ text: String) -> Bool {
    var previous: UInt8 = 0
    for byte in text.utf8 {
      if byte == 0x0A, previous == 0x0D { return true }
      previous = byte
    }
    return false
  }

  /// Calls `body` with each line of `text` as `Lines(text).lines` holds them (split on "\n"
  /// and "\r\n"), without copying them, until `body` returns false. May pass one final empty
  /// line that `Lines` drops.
  static func forEach(in text: String, _ body: (Substring) -> Bool) {
    let utf8 = text.utf8
    var start = utf8.startIndex
    while true {
      var end = start
      while end < utf8.endIndex, utf8[end] != 0x0A { end = utf8.index(after: end) }
      var lineEnd = end
      if end < utf8.endIndex, end > start, utf8[utf8.index(before: end)] == 0x0D {
        lineEnd = utf8.index(before: end)
      }
      guard body(text[start..<lineEnd]) else { return }
      guard end < utf8.endIndex else { return }
      start = utf8.index(after: end)
    }
  }

  /// The text again: lines joined with the original ending, with a final break when
  /// `trailingBreak` (or when asked).
  func joined(trailingBreak: Bool? = nil) -> String {
    guard !lines.isEmpty else { return "" }
    return lines.joined(separator: ending) + ((trailingBreak ?? self.trailingBreak) ? ending : "")
  }
}
