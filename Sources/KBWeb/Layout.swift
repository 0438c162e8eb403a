import Foundation
import HTTPTypes
import Hummingbird

/// The frame every page shares: head, navigation, the live-update hook.
enum Layout {
  static let nav: [(path: String, label: String)] = [
    ("/", "Queue"), ("/mentions/new", "New mention"), ("/search", "Search"), ("/due", "Follow-ups"),
    ("/conflicts", "Conflicts"), ("/stats", "Figures"), ("/sync", "Sync"),
  ]

  /// A whole page. `live` names what the page shows, so the script knows to refresh it when the
  /// knowledge base changes (`queue` refreshes itself; others offer a reload).
  static func page(title: String, active: String?, csrf: String?, live: String? = nil, agent: String? = nil, body: HTML) -> HTML {
    let links = nav.map { item -> HTML in
      item.path == active ? "<a href=\"\(item.path)\" aria-current=\"page\">\(item.label)</a>" : "<a href=\"\(item.path)\">\(item.label)</a>"
    }
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title) · Casebook</title>
      <link rel="stylesheet" href="/static/app.css">
      <script src="/static/live.js" defer></script>
      </head>
      <body\(live.map { HTML(raw: " data-live=\"\(HTML.escape($0))\"") })>
      <header class="top"><a class="brand" href="/">Casebook</a><nav>\(links)</nav>\
      <span class="who">\(agent.map { "signed as \($0)" } ?? "no identity: writes refused")</span></header>
      <div id="changed" class="changed" hidden>The knowledge base changed. <a href="">Reload</a></div>
      <main id="live">
      \(body)
      </main>
      <footer>Casebook · local knowledge base · <a href="/api/">JSON API</a></footer>
      </body></html>
      """
  }

  static func response(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/html; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.raw)))
  }

  static func redirect(_ location: String) -> Response {
    var headers = HTTPFields()
    headers[.location] = location
    return Response(status: .seeOther, headers: headers)
  }

  static func csrfField(_ csrf: String?) -> HTML {
    "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf ?? "")\">"
  }

  /// `2024-10-20T16:05:00Z` as `2024-10-20 16:05`.
  static func time(_ iso: String?) -> String {
    guard let iso else { return "–" }
    if iso.count >= 16, iso.dropFirst(10).first == "T" {
      return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5))
    }
    return iso
  }

  /// Text with `[[id]]` links turned into links to the document (the rest escaped).
  static func linked(_ text: String) -> HTML {
    var out = HTML.empty
    var rest = Substring(text)
    while let open = rest.range(of: "[["), let close = rest[open.upperBound...].range(of: "]]") {
      let id = String(rest[open.upperBound..<close.lowerBound])
      out.raw += HTML.escape(String(rest[..<open.lowerBound]))
      out.raw += "<a href=\"/documents/\(HTML.escape(id.urlComponent))\">\(HTML.escape(id))</a>"
      rest = rest[close.upperBound...]
    }
    out.raw += HTML.escape(String(rest))
    return out
  }

  static func statusBadge(_ status: String) -> HTML {
    "<span class=\"badge status-\(status)\">\(status)</span>"
  }
}
