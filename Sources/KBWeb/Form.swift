import Foundation
import Hummingbird
import Ink

/// A posted form (`application/x-www-form-urlencoded`).
struct Form: Sendable {
  var fields: [(String, String)] = []

  init(_ body: String) {
    for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = Self.decode(parts[0])
      let value = parts.count > 1 ? Self.decode(parts[1]) : ""
      fields.append((name, value))
    }
  }

  static func decode(_ s: Substring) -> String {
    let plus = s.replacingOccurrences(of: "+", with: " ")
    return plus.removingPercentEncoding ?? plus
  }

  subscript(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }

  /// A field with surrounding blanks trimmed; `nil` when absent or empty.
  func text(_ name: String) -> String? {
    guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
    return value
  }
}

extension Request {
  /// The query string, decoded as a form (`+` is a space, as browsers send GET forms).
  var query: Form { Form(uri.query ?? "") }
}

/// Answers' Markdown as HTML. The team writes answers, but their raw HTML is still shown as text:
/// only Markdown makes markup.
enum Markdown {
  static func html(_ markdown: String) -> HTML {
    // Neutralize raw HTML outside code: `<` becomes `&lt;` (Ink keeps entities as they are).
    var escaped = ""
    var inFence = false
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle() }
      if inFence || line.hasPrefix("    ") {
        escaped += line + "\n"
      } else {
        escaped += Self.escapeOutsideCodeSpans(String(line)) + "\n"
      }
    }
    // [[id]] links to the document.
    escaped = escaped.replacing(/\[\[([A-Za-z0-9][A-Za-z0-9._-]*)\]\]/) { m in "[\(m.1)](/documents/\(m.1))" }
    var parser = MarkdownParser()
    parser.addModifier(Modifier(target: .links) { html, _ in
      // Links may only go to http(s) or inside the app.
      let lowered = html.lowercased()
      if lowered.contains("href=\"javascript:") || lowered.contains("href=\"data:") || lowered.contains("href=\"vbscript:") {
        return "<span>" + HTML.escape(html) + "</span>"
      }
      return html
    })
    parser.addModifier(Modifier(target: .images) { _, markdown in HTML.escape(String(markdown)) })
    return HTML(raw: parser.html(from: escaped))
  }

  static func escapeOutsideCodeSpans(_ line: String) -> String {
    var out = ""
    var inCode = false
    for ch in line {
      if ch == "`" { inCode.toggle() }
      if !inCode && ch == "<" { out += "&lt;" } else { out.append(ch) }
    }
    return out
  }
}
