/// A Markdown file split into its YAML front matter and body.
///
/// Parsing is pure: it takes the file's text and never touches the file system.
/// `text` always reproduces the input byte for byte, so an untouched document is
/// written back exactly as it was read.
///
/// ```swift
/// let doc = try MarkdownDocument(parsing: "---\ntitle: VPN\n---\n# VPN\n")
/// doc.frontMatter?.raw // "title: VPN\n"
/// doc.body             // "# VPN\n"
/// ```
public struct MarkdownDocument: Equatable, Sendable {
  /// The front matter between the `---` fences, or `nil` when the file has none.
  public var frontMatter: FrontMatter?
  /// The Markdown after the closing fence (or the whole text when there is no front matter).
  public var body: String
  /// The 1-based line number of the body's first line in the file.
  public var bodyStartLine: Int

  /// The fence lines as they were written (kept so that `\r\n` files round-trip).
  var openingFence: String = "---\n"
  var closingFence: String = "---\n"

  public init(frontMatter: FrontMatter?, body: String) {
    self.frontMatter = frontMatter
    self.body = body
    self.bodyStartLine = frontMatter.map { $0.lineCount + 3 } ?? 1
  }

  /// Splits `text` into front matter and body.
  ///
  /// - Throws: ``FrontMatterError`` when the opening `---` has no closing fence or the YAML
  ///   between the fences is not a mapping.
  public init(parsing text: String) throws(FrontMatterError) {
    let bytes = Array(text.utf8)
    guard let firstEnd = Self.lineEnd(in: bytes, from: 0),
      Self.isFence(bytes[0..<firstEnd])
    else {
      self.init(frontMatter: nil, body: text)
      return
    }
    let yamlStart = Self.afterNewline(bytes, firstEnd)
    var cursor = yamlStart
    var line = 2
    while cursor < bytes.count {
      let end = Self.lineEnd(in: bytes, from: cursor) ?? bytes.count
      if Self.isFence(bytes[cursor..<end]) {
        // Slices of `text` at line boundaries (ASCII): copies, without decoding again.
        let utf8 = text.utf8
        func slice(_ from: Int, _ to: Int) -> String {
          String(Substring(utf8[utf8.index(utf8.startIndex, offsetBy: from)..<utf8.index(utf8.startIndex, offsetBy: to)]))
        }
        let raw = slice(yamlStart, cursor)
        let afterFence = Self.afterNewline(bytes, end)
        let frontMatter = try FrontMatter(parsing: raw, firstLine: 2)
        self.init(
          frontMatter: frontMatter,
          body: slice(afterFence, bytes.count))
        self.bodyStartLine = line + 1
        self.openingFence = slice(0, yamlStart)
        self.closingFence = slice(cursor, afterFence)
        return
      }
      cursor = Self.afterNewline(bytes, end)
      line += 1
    }
    throw .unterminated
  }

  /// The whole file's text.
  public var text: String {
    guard let frontMatter else { return body }
    var closing = closingFence
    if closing.utf8.last != UInt8(ascii: "\n"), !body.isEmpty { closing += "\n" }
    return openingFence + frontMatter.raw + closing + body
  }

  private static func lineEnd(in bytes: [UInt8], from start: Int) -> Int? {
    guard start < bytes.count else { return nil }
    var i = start
    while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
    return i
  }

  private static func afterNewline(_ bytes: [UInt8], _ end: Int) -> Int {
    end < bytes.count ? end + 1 : end
  }

  private static func isFence(_ line: ArraySlice<UInt8>) -> Bool {
    var line = line
    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
    while line.last == UInt8(ascii: " ") { line = line.dropLast() }
    return line.elementsEqual("---".utf8)
  }
}
