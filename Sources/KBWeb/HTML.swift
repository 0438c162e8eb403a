import Foundation

/// A piece of HTML. Interpolated text is escaped; only `HTML` values and literals in the code
/// go in as they are, so customer text can never become markup.
///
/// ```swift
/// let name = "<script>alert(1)</script>"
/// let page: HTML = "<p>\(name)</p>"   // <p>&lt;script&gt;alert(1)&lt;/script&gt;</p>
/// ```
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
  public var raw: String

  public init(raw: String) { self.raw = raw }
  public init(stringLiteral value: String) { raw = value }
  public init(stringInterpolation: StringInterpolation) { raw = stringInterpolation.raw }
  public var description: String { raw }

  public static let empty = HTML(raw: "")

  public struct StringInterpolation: StringInterpolationProtocol {
    var raw = ""
    public init(literalCapacity: Int, interpolationCount: Int) { raw.reserveCapacity(literalCapacity + interpolationCount * 16) }
    public mutating func appendLiteral(_ literal: String) { raw += literal }
    public mutating func appendInterpolation(_ text: String) { HTML.escape(text, into: &raw) }
    public mutating func appendInterpolation(_ text: Substring) { HTML.escape(String(text), into: &raw) }
    public mutating func appendInterpolation(_ text: String?) { if let text { HTML.escape(text, into: &raw) } }
    public mutating func appendInterpolation(_ number: Int) { raw += String(number) }
    public mutating func appendInterpolation(_ html: HTML) { raw += html.raw }
    public mutating func appendInterpolation(_ html: HTML?) { if let html { raw += html.raw } }
    public mutating func appendInterpolation(_ parts: [HTML]) { for p in parts { raw += p.raw } }
  }

  /// Escapes `& < > " '` (safe in text and in quoted attribute values).
  public static func escape(_ text: String) -> String {
    var out = ""
    escape(text, into: &out)
    return out
  }

  static func escape(_ text: String, into out: inout String) {
    out.reserveCapacity(out.utf8.count + text.utf8.count)
    var start = text.utf8.startIndex
    var i = start
    let utf8 = text.utf8
    while i != utf8.endIndex {
      let replacement: String?
      switch utf8[i] {
      case UInt8(ascii: "&"): replacement = "&amp;"
      case UInt8(ascii: "<"): replacement = "&lt;"
      case UInt8(ascii: ">"): replacement = "&gt;"
      case UInt8(ascii: "\""): replacement = "&quot;"
      case UInt8(ascii: "'"): replacement = "&#39;"
      default: replacement = nil
      }
      if let replacement {
        out += text[start..<i]
        out += replacement
        start = utf8.index(after: i)
      }
      i = utf8.index(after: i)
    }
    out += text[start..<utf8.endIndex]
  }

  /// Joins parts with a separator.
  public static func join(_ parts: [HTML], separator: HTML = .empty) -> HTML {
    HTML(raw: parts.map(\.raw).joined(separator: separator.raw))
  }
}

extension String {
  /// Percent-encodes for a path segment or a query value.
  var urlComponent: String {
    addingPercentEncoding(withAllowedCharacters: .urlValueAllowed) ?? self
  }
}

extension CharacterSet {
  static let urlValueAllowed: CharacterSet = {
    var set = CharacterSet.alphanumerics
    set.insert(charactersIn: "-._~")
    return set
  }()
}
