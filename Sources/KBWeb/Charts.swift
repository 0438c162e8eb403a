import Foundation

/// Charts drawn on the server as inline SVG (no script, no style attributes: CSP-safe).
enum Charts {
  struct Bar {
    var label: String
    var value: Double
    var color: String = "#2457c5"
    var note: String? = nil
  }

  /// Vertical bars with labels under them and values above them.
  static func bars(_ bars: [Bar], title: String, width: Int = 520, height: Int = 220, labelEvery: Int = 1) -> HTML {
    let top = 24.0, bottom = 38.0, left = 8.0, right = 8.0
    let maxValue = max(bars.map(\.value).max() ?? 0, 1)
    let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
    let slot = bars.isEmpty ? plotW : plotW / Double(bars.count)
    var parts: [HTML] = []
    for (i, b) in bars.enumerated() {
      let h = b.value / maxValue * plotH
      let x = left + Double(i) * slot + slot * 0.12
      let y = top + plotH - h
      let w = slot * 0.76
      parts.append("""
        <rect x="\(f(x))" y="\(f(y))" width="\(f(w))" height="\(f(max(h, b.value > 0 ? 1 : 0)))" fill="\(b.color)" rx="2"><title>\(b.label): \(number(b.value))\(b.note.map { " " + $0 } ?? "")</title></rect>
        """)
      if b.value > 0, bars.count <= 16 {
        parts.append("<text x=\"\(f(x + w / 2))\" y=\"\(f(y - 5))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1d2330\">\(number(b.value))</text>")
      }
      if i % labelEvery == 0 || i == bars.count - 1 {
        parts.append("<text x=\"\(f(x + w / 2))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5f6b7a\">\(b.label)</text>")
      }
    }
    return """
      <figure class="chart"><svg viewBox="0 0 \(width) \(height)" role="img" aria-label="\(title)" xmlns="http://www.w3.org/2000/svg">
      <line x1="\(f(left))" y1="\(f(top + plotH))" x2="\(f(Double(width) - right))" y2="\(f(top + plotH))" stroke="#c5ccd8"/>
      \(parts)
      </svg><figcaption class="small muted">\(title)</figcaption></figure>
      """
  }

  /// Horizontal two-part bars (held / did not hold) for a few answers.
  static func held(_ rows: [(label: String, held: Int, notHeld: Int)], title: String, width: Int = 520) -> HTML {
    let rowH = 26.0, labelW = 210.0, top = 8.0
    let height = Int(top * 2 + rowH * Double(max(rows.count, 1)))
    let maxTotal = Double(max(rows.map { $0.held + $0.notHeld }.max() ?? 0, 1))
    let plotW = Double(width) - labelW - 40
    var parts: [HTML] = []
    for (i, r) in rows.enumerated() {
      let y = top + Double(i) * rowH
      let wh = Double(r.held) / maxTotal * plotW, wn = Double(r.notHeld) / maxTotal * plotW
      let label = r.label.count > 30 ? String(r.label.prefix(29)) + "…" : r.label
      parts.append("""
        <text x="\(f(labelW - 6))" y="\(f(y + 17))" text-anchor="end" font-size="12" fill="#1d2330">\(label)</text>
        <rect x="\(f(labelW))" y="\(f(y + 5))" width="\(f(wh))" height="16" fill="#1e7d3a"><title>\(r.label): held \(r.held)</title></rect>
        <rect x="\(f(labelW + wh))" y="\(f(y + 5))" width="\(f(wn))" height="16" fill="#b3261e"><title>\(r.label): did not hold \(r.notHeld)</title></rect>
        <text x="\(f(labelW + wh + wn + 6))" y="\(f(y + 17))" font-size="12" fill="#5f6b7a">\(r.held)/\(r.held + r.notHeld)</text>
        """)
    }
    if rows.isEmpty {
      parts.append("<text x=\"10\" y=\"24\" font-size=\"13\" fill=\"#5f6b7a\">No check backs yet.</text>")
    }
    return """
      <figure class="chart"><svg viewBox="0 0 \(width) \(height)" role="img" aria-label="\(title)" xmlns="http://www.w3.org/2000/svg">
      \(parts)
      </svg><figcaption class="small muted">\(title) (green: held, red: did not hold)</figcaption></figure>
      """
  }

  /// Durations in buckets: under 15 minutes, 15–60 minutes, 1–4 hours, 4–24 hours, 1–3 days, longer.
  static let buckets: [(label: String, upTo: Double)] = [
    ("<15m", 900), ("15m–1h", 3600), ("1–4h", 4 * 3600), ("4–24h", 86400), ("1–3d", 3 * 86400), (">3d", .infinity),
  ]

  static func distribution(_ seconds: [Double], title: String, color: String) -> HTML {
    var counts = Array(repeating: 0, count: buckets.count)
    for s in seconds {
      let i = buckets.firstIndex { s < $0.upTo } ?? buckets.count - 1
      counts[i] += 1
    }
    return bars(zip(buckets, counts).map { Bar(label: $0.0.label, value: Double($0.1), color: color) }, title: title)
  }

  static func f(_ x: Double) -> String { String(format: "%.1f", x) }
  static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }
}
