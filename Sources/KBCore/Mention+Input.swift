import Foundation

extension Mention {
  /// Parses what `kb case open` reads on standard input: one JSON document (an object, an
  /// array, an X API v2 response, a Mastodon status; pretty-printed or not), or JSON lines with
  /// one payload a line.
  ///
  /// All or nothing: when any line is bad, the error names every bad line and no mention is
  /// returned, so that a caller never acts on half of its input.
  ///
  /// - Throws: ``MentionError`` saying what is wrong and on which line.
  public static func parse(input text: String) throws(MentionError) -> [Mention] {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { throw MentionError("no input: expected a mention as JSON (or the customer's words as arguments)") }
    let whole = Result { () throws(MentionError) in try parse(json: Data(trimmed.utf8)) }
    if case .success(let mentions) = whole {
      guard !mentions.isEmpty else { throw MentionError("the JSON holds no mention") }
      return mentions
    }
    let lines = parse(jsonLines: text)
    // JSON lines only when the first line is a JSON value by itself; otherwise the input is one
    // (pretty-printed) document and its own error says best what is wrong.
    let firstLine = trimmed.prefix { $0 != "\n" }
    guard lines.count > 1,
      (try? JSONSerialization.jsonObject(with: Data(firstLine.utf8), options: [.fragmentsAllowed])) != nil
    else {
      if case .failure(let error) = whole { throw error }
      return []
    }
    var mentions: [Mention] = []
    var problems: [String] = []
    for (line, result) in lines {
      switch result {
      case .success(let found): mentions += found
      case .failure(let error): problems.append("line \(line): \(error.message)")
      }
    }
    guard problems.isEmpty else {
      throw MentionError(
        "\(problems.count) of \(lines.count) JSON lines could not be read, so no case was opened:\n  "
          + problems.joined(separator: "\n  "))
    }
    return mentions
  }
}
