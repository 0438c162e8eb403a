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
    ending = text.contains("\r\n") ? "\r\n" : "\n"
    self.lines = lines
  }

  /// The text again: lines joined with the original ending, with a final break when
  /// `trailingBreak` (or when asked).
  func joined(trailingBreak: Bool? = nil) -> String {
    guard !lines.isEmpty else { return "" }
    return lines.joined(separator: ending) + ((trailingBreak ?? self.trailingBreak) ? ending : "")
  }
}
