import Foundation
import KBCore
import KBWorkspace
import KBWorkspaceGit

/// What every page needs to know besides its data.
struct PageContext: Sendable {
  var csrf: String
  var agent: String?
}

/// The pages, rendered from KBWorkspace's results. Every value from a file or a request goes
/// through ``HTML``'s escaping interpolation.
enum Pages {
  // MARK: Queue

  /// The statuses the queue shows (active ones), in lifecycle order.
  static let activeStatuses = CaseStatus.allCases.filter(CaseLifecycle.active.contains).map(\.rawValue)

  static func queue(_ q: QueuePage, context: PageContext) -> HTML {
    let f = q.filter
    let statusOptions = ([""] + activeStatuses).map { s -> HTML in
      let label = s.isEmpty ? "any active" : s
      return "<option value=\"\(s)\"\(f.status?.rawValue == s || (s.isEmpty && f.status == nil) ? " selected" : "")>\(label)</option>"
    }
    let channelOptions = ([""] + q.channels).map { c -> HTML in
      "<option value=\"\(c)\"\(f.channel == c || (c.isEmpty && f.channel == nil) ? " selected" : "")>\(c.isEmpty ? "any channel" : c)</option>"
    }
    let rows = q.items.map { item -> HTML in
      let wait: HTML = item.waitingSeconds.map {
        "<span class=\"waiting\" title=\"since \(Layout.time(item.waitingSince))\">waiting \(CaseFigures.human($0))</span>"
      } ?? "<span class=\"muted\">answered</span>"
      return """
        <tr data-case="\(item.id)"><td><a href="/cases/\(item.id.urlComponent)">\(item.title)</a>
        <div class="small muted">\(item.customer ?? "") \(item.channel.map { "· \($0)" } ?? "")</div></td>
        <td>\(Layout.statusBadge(item.status))</td><td>\(wait)</td><td>\(target(item))</td>
        <td>\(item.assigneeName ?? "—")</td><td class="small">\(Layout.time(item.opened))</td><td class="small">\(Layout.time(item.updated))</td></tr>
        """
    }
    let mineLabel: HTML = q.agent.map { "mine (\($0))" } ?? "mine"
    let targets = q.items.contains { $0.slaState != nil }
    return """
      <h1>Queue <span class="muted small">\(q.total) active case\(q.total == 1 ? "" : "s")</span></h1>
      <form class="filters" method="get" action="/">
        <label><input type="checkbox" name="mine" value="1"\(f.mine ? " checked" : "")> \(mineLabel)</label>
        <label><input type="checkbox" name="unassigned" value="1"\(f.unassigned ? " checked" : "")> unassigned</label>
        <label>Channel <select name="channel">\(channelOptions)</select></label>
        <label>Status <select name="status">\(statusOptions)</select></label>
        <button type="submit" class="secondary">Filter</button>
        <a class="small" href="/">clear</a>
        <a class="small" href="/api/queue\(queryString(f))">JSON</a>
      </form>
      \(q.items.isEmpty ? "<p class=\"card muted\">No active case matches. <a href=\"/mentions/new\">Paste a mention</a> to open one.</p>" : """
      <table class="queue"><thead><tr><th>Case</th><th>Status</th><th>Customer wait</th><th>Target</th><th>Assignee</th><th>Opened</th><th>Last entry</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      \(targets ? HTML.empty : "<p class=\"small muted\">No response-time targets are set: add <code>sla:</code> to kb.yml (docs/CASES.md) to see which cases are due.</p>" as HTML)
      """ as HTML)
      \(pager(q))
      """
  }

  /// Where a case stands against its response-time targets, as ``Workspace/caseQueue(_:now:)``
  /// judged it: breached (overdue), at risk (due soon), ok (due later) or met.
  static func target(_ item: CaseRow) -> HTML {
    guard let state = item.slaState else { return "<span class=\"muted\">—</span>" }
    let due = [item.sla?.firstResponse, item.sla?.resolution].compactMap { $0 }.filter { $0.secondsLeft != nil }
      .min { ($0.secondsLeft ?? 0) < ($1.secondsLeft ?? 0) }?.due
    let when: String
    switch (state, item.secondsLeft) {
    case ("breached", let left?): when = "overdue \(CaseFigures.human(-left))"
    case ("breached", nil): when = "missed"
    case (_, let left?): when = "due in \(CaseFigures.human(left))"
    default: when = "met"
    }
    let label = state == "at-risk" ? "at risk" : state
    return """
      <span class="badge sla-\(state)" data-sla="\(state)"\(due.map { HTML(raw: " title=\"due \(Timestamp.format($0))\"") })>\(label)</span> \
      <span class="small">\(when)</span>
      """
  }

  /// "Showing 1–100 of 485", with links to the previous and next pages.
  static func pager(_ q: QueuePage) -> HTML {
    let f = q.filter
    let limit = f.limit
    guard q.total > limit || f.offset > 0 else { return .empty }
    let base = queryString(f)
    func link(_ offset: Int, _ label: String) -> HTML {
      let query = (base.isEmpty ? "?" : base + "&") + "offset=\(offset)&limit=\(limit)"
      return "<a href=\"/\(query)\">\(label)</a>"
    }
    let from = q.items.isEmpty ? 0 : f.offset + 1
    let to = f.offset + q.items.count
    return """
      <p class="row small">Showing \(from)–\(to) of \(q.total)
      \(f.offset > 0 ? link(max(f.offset - limit, 0), "← previous") : HTML.empty)
      \(to < q.total ? link(to, "next →") : HTML.empty)</p>
      """
  }

  static func queryString(_ f: QueueFilter) -> String {
    var parts: [String] = []
    if f.mine { parts.append("mine=1") }
    if f.unassigned { parts.append("unassigned=1") }
    if let c = f.channel { parts.append("channel=" + c.urlComponent) }
    if let s = f.status { parts.append("status=" + s.rawValue) }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
  }

  // MARK: Mentions

  static let channels = ["twitter", "x", "mastodon", "facebook", "instagram", "email", "forum"]

  static func mentionForm(input: String, channel: String?, context: PageContext, error: String? = nil) -> HTML {
    let options = ([""] + channels).map { c -> HTML in
      "<option value=\"\(c)\"\(channel == c || (c.isEmpty && channel == nil) ? " selected" : "")>\(c.isEmpty ? "from the post" : c)</option>"
    }
    return """
      <h1>New mention</h1>
      \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
      <form class="card" method="post" action="/mentions/new">
        \(Layout.csrfField(context.csrf))
        <label for="mention">Paste the customer's post: plain text, or the JSON of an X (API v2) or Mastodon post</label>
        <textarea id="mention" name="mention" rows="6" required>\(input)</textarea>
        <div class="row"><label>Channel <select name="channel">\(options)</select></label>
        <button type="submit" name="action" value="suggest">Find known fixes</button></div>
      </form>
      """
  }

  static func suggestion(_ s: SuggestionResult.Suggestion, rank: Int) -> HTML {
    let steps = s.fix.map { "<li>\($0)</li>" as HTML }
    return """
      <div class="suggestion" data-answer="\(s.id)"><div class="row"><strong>\(rank). <a href="/answers/\(s.id.urlComponent)">\(s.title)</a></strong>
      <span class="badge conf-\(s.confidence.rawValue)">\(s.confidence.rawValue) confidence</span>
      <span class="small muted">score \(String(format: "%.2f", s.score)) · similarity \(String(format: "%.2f", s.similarity))</span></div>
      <div class="small">why: \(s.matched.isEmpty ? "similar wording to past cases" : "matched " + s.matched.joined(separator: ", ")) · \(snippet(s.snippet))</div>
      <div class="small muted">\(s.evidence.cases) case(s); fix held \(s.evidence.held)×, did not hold \(s.evidence.failed)×</div>
      \(steps.isEmpty ? HTML.empty : "<ol class=\"steps\">\(steps)</ol>")
      </div>
      """
  }

  /// A snippet with `**word**` (suggest) or \u{2}word\u{3} (search) marks as `<mark>`.
  static func snippet(_ text: String) -> HTML {
    var out = HTML.escape(text)
    out = out.replacingOccurrences(of: "\u{2}", with: "<mark>").replacingOccurrences(of: "\u{3}", with: "</mark>")
    var marked = ""
    var open = false
    var rest = Substring(out)
    while let r = rest.range(of: "**") {
      marked += rest[..<r.lowerBound]
      marked += open ? "</mark>" : "<mark>"
      open.toggle()
      rest = rest[r.upperBound...]
    }
    marked += rest
    if open { marked += "</mark>" }
    return HTML(raw: marked)
  }

  static func guards(_ guards: [MentionGuard]) -> HTML {
    HTML.join(guards.map { g in
      "<div class=\"guard\" data-guard=\"\(g.kind.rawValue)\"><strong>\(g.kind.rawValue)</strong>: \(g.advice)\(g.evidence.isEmpty ? "" : " (" + g.evidence.joined(separator: ", ") + ")")</div>"
    })
  }

  static func mentionResult(
    input: String, channel: String?, results: [SuggestionResult], context: PageContext, error: String? = nil
  ) -> HTML {
    guard let first = results.first else { return mentionForm(input: input, channel: channel, context: context, error: error) }
    let m = first.mention
    let reply = first.reply
    let limit = reply?.limit
    let list = first.suggestions.enumerated().map { suggestion($0.element, rank: $0.offset + 1) }
    return """
      \(mentionForm(input: input, channel: channel, context: context, error: error))
      <div class="grid">
      <section class="card"><h2>The post</h2>
        <blockquote class="complaint">\(m.text)</blockquote>
        <p class="small muted">\(m.author ?? "unknown author")\(m.channel.map { " · \($0)" } ?? "")\(m.url.map { " · \($0)" } ?? "")\(results.count > 1 ? " · and \(results.count - 1) more mention(s) in the input" : "")</p>
        \(guards(first.guards))
        <h2 class="verdict">\(first.message)</h2>
        \(list)
      </section>
      <section class="card"><h2>Reply</h2>
      <form method="post" action="/mentions/new">
        \(Layout.csrfField(context.csrf))
        <input type="hidden" name="mention" value="\(input)">
        <input type="hidden" name="channel" value="\(channel ?? "")">
        \(reply == nil ? "<p class=\"guard\">No public reply: the guards advise against answering in public.</p>" as HTML : HTML.empty)
        <label for="reply">Reply draft (edit before sending; signed \(reply?.signature ?? ""))</label>
        <textarea id="reply" name="reply" rows="6"\(limit.map { HTML(raw: " data-limit=\"\($0)\"") })>\(reply?.text ?? "")</textarea>
        <div id="reply-count" class="count">\(reply.map { "\($0.length)" + ($0.limit.map { " / \($0)" } ?? "") + " characters" + ($0.channel.map { " (\($0))" } ?? "") } ?? "")</div>
        <label>Assign to <input type="text" name="assignee" value="" placeholder="nobody yet"></label>
        <div class="row">
          <button type="submit" name="action" value="send">Open case and log the reply as sent</button>
          <button type="submit" class="secondary" name="action" value="open">Open case only</button>
        </div>
      </form></section>
      </div>
      """
  }

  // MARK: Case

  struct CaseView {
    var document: DocumentJSON
    /// Answers to offer in the resolve picker (suggested for the complaint first).
    var answers: [(id: String, title: String, confidence: String?)]
    /// The reply `kb case reply` would log (``Workspace/draftCaseReply(caseID:answer:text:agent:)``).
    var reply: CaseReply?
    /// Why there is no draft (the guards advise against a public reply, our own post…).
    var replyProblem: String?
    var error: String?
    var notice: String?
  }

  static func casePage(_ v: CaseView, context: PageContext) -> HTML {
    let d = v.document
    let status = d.status ?? "open"
    let entries = (d.journal ?? []).map { e -> HTML in
      """
      <li data-kind="\(e.kind)"><div class="small muted">\(Layout.time(e.time)) · \(e.author) · <span class="badge">\(e.kind)</span></div>
      <div class="text">\(Layout.linked(e.text))</div></li>
      """
    }
    let kinds = ["note", "listened", "acknowledged", "apologized", "acted", "offline", "escalated", "closed", "reopened"]
    let kindOptions = kinds.map { "<option value=\"\($0)\">\($0)</option>" as HTML }
    // The case's answer, else the first suggestion when the ranker is confident of it.
    let chosen = d.answer ?? v.answers.first { $0.confidence == "high" }?.id
    let answerOptions = v.answers.map { a -> HTML in
      "<option value=\"\(a.id)\"\(chosen == a.id ? " selected" : "")>\(a.title)\(a.confidence.map { " (\($0))" } ?? "")</option>"
    }
    let active = ["open", "acknowledged", "offline", "escalated"].contains(status)
    let limit = v.reply?.draft?.limit
    let replyNotes = (v.reply?.guards.map { "\($0.kind.rawValue): \($0.advice)" } ?? []) + (v.reply?.notes ?? []) + (v.replyProblem.map { [$0] } ?? [])
    let replyAbout: HTML = v.reply.map { r in
      "<p class=\"small muted\">Logged as <b>\(r.kind)</b> (\(r.status) → \(r.nextStatus))\(r.answer.map { ", giving the fix " + $0 } ?? "") — as <code>kb case reply</code>.</p>"
    } ?? .empty
    return """
      <p class="small"><a href="/">← Queue</a></p>
      <h1>\(d.title) \(Layout.statusBadge(status))</h1>
      \(v.error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
      \(v.notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" as HTML })
      <div class="grid">
      <section class="card"><h2>Complaint</h2>
        <blockquote class="complaint">\(d.complaint ?? "")</blockquote>
        <dl class="facts small">
          <dt>Customer</dt><dd>\(d.customer ?? "—")\(d.channel.map { " on \($0)" } ?? "")</dd>
          \(d.source.map { "<dt>Post</dt><dd><a href=\"\($0)\" rel=\"noopener noreferrer\">\($0)</a></dd>" as HTML })
          <dt>Opened</dt><dd>\(Layout.time(d.opened))</dd>
          <dt>Assignee</dt><dd>\(d.assignee ?? "nobody")</dd>
          \(d.answer.map { "<dt>Fix</dt><dd><a href=\"/answers/\($0.urlComponent)\">\($0)</a></dd>" as HTML })
          \(d.followUp.map { "<dt>Check back</dt><dd>\($0)</dd>" as HTML })
          <dt>File</dt><dd>\(d.path)</dd>
        </dl>
        <h2>Journal</h2>
        \(entries.isEmpty ? "<p class=\"muted\">No entries yet.</p>" as HTML : "<ol class=\"timeline\">\(entries)</ol>")
      </section>
      <section>
        \(active ? """
        <form class="card" method="post" action="/cases/\(d.id.urlComponent)/reply">\(Layout.csrfField(context.csrf))
          <h2>Reply</h2>
          \(HTML.join(replyNotes.map { "<p class=\"guard small\">\($0)</p>" as HTML }))
          <textarea id="reply" name="text" rows="5"\(limit.map { HTML(raw: " data-limit=\"\($0)\"") })>\(v.reply?.text ?? "")</textarea>
          \(v.reply?.answer.map { "<input type=\"hidden\" name=\"answer\" value=\"\($0)\">" as HTML })
          <div id="reply-count" class="count">\(v.reply.map { "\($0.text.count)" + (limit.map { " / \($0)" } ?? "") + " characters" } ?? "")</div>
          \(replyAbout)
          <button type="submit">Log reply as sent</button>
        </form>
        <form class="card" method="post" action="/cases/\(d.id.urlComponent)/resolve">\(Layout.csrfField(context.csrf))
          <h2>Resolve</h2>
          <label>Fix <select name="answer"><option value="">(no answer)</option>\(answerOptions)</select></label>
          <textarea name="text" rows="2" placeholder="What fixed it"></textarea>
          <div class="row"><label>Check back after <input type="text" name="follow_up" size="4" placeholder="3d"></label>
          <button type="submit">Resolve</button></div>
        </form>
        """ as HTML : HTML.empty)
        \(status == "resolved" ? """
        <form class="card" method="post" action="/cases/\(d.id.urlComponent)/check-back">\(Layout.csrfField(context.csrf))
          <h2>Check back</h2>
          <div class="row"><label><input type="radio" name="held" value="yes" required> held</label>
          <label><input type="radio" name="held" value="no"> did not hold</label></div>
          <textarea name="text" rows="2" placeholder="What the customer said"></textarea>
          <button type="submit">Log check back</button>
        </form>
        """ as HTML : HTML.empty)
        <form class="card" method="post" action="/cases/\(d.id.urlComponent)/log">\(Layout.csrfField(context.csrf))
          <h2>Log an entry</h2>
          <label>Kind <select name="kind">\(kindOptions)</select></label>
          <textarea name="text" rows="2" placeholder="What happened"></textarea>
          <button type="submit">Log</button>
        </form>
        <form class="card" method="post" action="/cases/\(d.id.urlComponent)/assign">\(Layout.csrfField(context.csrf))
          <h2>Hand over</h2>
          <div class="row"><label>To <input type="text" name="agent" required placeholder="tina"></label>
          <input type="text" name="note" placeholder="note (optional)"><button type="submit">Hand over</button></div>
        </form>
        <p class="small"><a href="/api/cases/\(d.id.urlComponent)">JSON</a></p>
      </section>
      </div>
      """
  }

  // MARK: Answer

  static func answerPage(_ u: AnswerUsage, body: HTML, context: PageContext) -> HTML {
    let a = u.answer
    let f = u.figures
    let rate = f.heldRate.map { "\(Int(($0 * 100).rounded()))%" } ?? "no check back yet"
    let rows = u.cases.map { c -> HTML in
      "<tr><td><a href=\"/cases/\(c.id.urlComponent)\">\(c.title)</a></td><td>\(Layout.statusBadge(c.status))</td><td>\(c.customer ?? "")</td><td class=\"small\">\(Layout.time(c.opened))</td></tr>"
    }
    return """
      <h1>\(a.title)</h1>
      <p class="small muted">\(a.tags.map { "#" + $0 }.joined(separator: " "))\(a.author.map { " · by \($0)" } ?? "")\(a.updated.map { " · updated \($0)" } ?? "") · \(a.path)</p>
      <div class="figures">
        <div class="figure"><b>\(f.used)</b>cases fixed</div>
        <div class="figure"><b>\(f.held)</b>held</div>
        <div class="figure"><b>\(f.notHeld)</b>did not hold</div>
        <div class="figure"><b>\(rate)</b>held rate</div>
      </div>
      <div class="grid">
      <section class="card markdown">
        \((a.symptoms ?? []).isEmpty ? HTML.empty : "<h2>Symptoms</h2><ul>\((a.symptoms ?? []).map { "<li>\($0)</li>" as HTML })</ul>")
        \(body)
      </section>
      <section><h2>Cases it fixed</h2>
        \(rows.isEmpty ? "<p class=\"muted\">No case links this answer yet.</p>" as HTML : "<table><thead><tr><th>Case</th><th>Status</th><th>Customer</th><th>Opened</th></tr></thead><tbody>\(rows)</tbody></table>")
        <p class="small"><a href="/api/answers/\(a.id.urlComponent)">JSON</a></p>
      </section></div>
      """
  }

  // MARK: Search

  static func searchPage(query: String, result: SearchResult?, error: String?) -> HTML {
    let hits = (result?.hits ?? []).map { h -> HTML in
      let link = h.type == .answer ? "/answers/" : "/cases/"
      return """
        <div class="suggestion"><div class="row"><a href="\(link)\(h.id.urlComponent)"><strong>\(h.title)</strong></a>
        <span class="badge">\(h.type.rawValue)</span>\(h.status.map { Layout.statusBadge($0) })</div>
        <div class="small">…\(snippet(h.snippet))…</div></div>
        """
    }
    return """
      <h1>Search</h1>
      <form class="filters" method="get" action="/search">
        <input type="search" name="q" value="\(query)" placeholder="words, &quot;a phrase&quot;, prefix*, -word, type:answer status:open tag:iphone" autofocus>
        <button type="submit">Search</button>
      </form>
      \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
      \(result.map { r in
        r.hits.isEmpty ? "<p class=\"muted\">Nothing matches '\(query)'.</p>" as HTML
          : "<p class=\"small muted\">\(r.hits.count) result(s)\(r.match.rawValue == "any" ? " (no document has every word: best matches on any word)" : "")</p><div class=\"card\">\(hits)</div>"
      })
      """
  }

  // MARK: Due

  static func duePage(_ due: [DueFollowUp], today: String) -> HTML {
    let rows = due.map { d -> HTML in
      """
      <tr><td><a href="/cases/\(d.id.urlComponent)">\(d.title)</a><div class="small muted">\(d.customer ?? "")\(d.channel.map { " · \($0)" } ?? "")</div></td>
      <td>\(d.followUp)</td><td>\(d.daysOverdue == 0 ? "today" : "\(d.daysOverdue) day(s) late")</td><td>\(d.assignee ?? "—")</td>
      <td>\(d.answer.map { "<a href=\"/answers/\($0.urlComponent)\">\($0)</a>" as HTML })</td></tr>
      """
    }
    return """
      <h1>Follow-ups due <span class="muted small">as of \(today)</span></h1>
      \(due.isEmpty ? "<p class=\"card muted\">No follow-up is due.</p>" as HTML : """
      <table><thead><tr><th>Case</th><th>Check back on</th><th>Due</th><th>Assignee</th><th>Fix</th></tr></thead><tbody>\(rows)</tbody></table>
      """)
      <p class="small"><a href="/api/due">JSON</a></p>
      """
  }

  // MARK: Conflicts

  static func conflictsPage(_ items: [ConflictItem], context: PageContext, notice: String? = nil, error: String? = nil) -> HTML {
    let rows = items.map { c -> HTML in
      let target = c.id ?? c.path
      let buttons = ConflictSide.allCases.map { side -> HTML in
        "<button type=\"submit\" class=\"secondary\" name=\"take\" value=\"\(side.rawValue)\">take \(side.rawValue)</button>"
      }
      return """
        <tr><td>\(c.id.map { "<a href=\"/documents/\($0.urlComponent)\">\($0)</a>" as HTML } ?? "")<div class="small muted">\(c.path)\(c.markerLines.first.map { ":\($0)" } ?? "")</div></td>
        <td><ul>\(c.details.map { "<li>\($0)</li>" as HTML })</ul></td>
        <td><form method="post" action="/conflicts/settle" class="row">\(Layout.csrfField(context.csrf))
        <input type="hidden" name="target" value="\(target)">\(buttons)</form></td></tr>
        """
    }
    return """
      <h1>Conflicts</h1>
      \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
      \(notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" as HTML })
      \(items.isEmpty ? "<p class=\"card muted\">No conflicts: every document merged cleanly.</p>" as HTML : """
      <p>Each file keeps both versions between <code>&lt;&lt;&lt;&lt;&lt;&lt;&lt;</code> and <code>&gt;&gt;&gt;&gt;&gt;&gt;&gt;</code> markers (or a <code>conflicts:</code> field). Keep this clone's version (ours), the teammate's (theirs) or both, or edit the file; then sync.</p>
      <table><thead><tr><th>Document</th><th>What conflicts</th><th>Settle</th></tr></thead><tbody>\(rows)</tbody></table>
      """)
      <p class="small"><a href="/api/conflicts">JSON</a></p>
      """
  }

  // MARK: Stats

  static func statsPage(_ s: StatsPage) -> HTML {
    let f = s.stats.figures
    let fu = f.followUps
    let perDay = s.series.openedPerDay
    let dayBars = perDay.map { Charts.Bar(label: String($0.day.suffix(5)), value: Double($0.count)) }
    let followBars = [
      Charts.Bar(label: "on time", value: Double(fu.onTime), color: "#1e7d3a"),
      Charts.Bar(label: "late", value: Double(fu.late), color: "#8a5a00"),
      Charts.Bar(label: "pending", value: Double(fu.pending), color: "#2457c5"),
      Charts.Bar(label: "overdue", value: Double(fu.overdue), color: "#b3261e"),
    ]
    let held = f.answers.filter { $0.held + $0.notHeld > 0 }.prefix(8).map { (label: $0.answer, held: $0.held, notHeld: $0.notHeld) }
    let agents = (s.stats.byAgent ?? []).map { a -> HTML in
      "<tr><td>\(a.agent)</td><td class=\"num\">\(a.figures.opened)</td><td class=\"num\">\(a.figures.resolved)</td><td class=\"num\">\(CaseFigures.human(a.figures.medianFirstResponse))</td><td class=\"num\">\(CaseFigures.human(a.figures.medianResolution))</td></tr>"
    }
    return """
      <h1>Team figures <span class="muted small">today \(s.stats.today) (\(s.stats.timeZone))</span></h1>
      <div class="figures">
        <div class="figure"><b>\(f.opened)</b>cases opened</div>
        <div class="figure"><b>\(f.resolved)</b>resolved</div>
        <div class="figure"><b>\(CaseFigures.human(f.medianFirstResponse))</b>median first response</div>
        <div class="figure"><b>\(CaseFigures.human(f.medianResolution))</b>median resolution</div>
        <div class="figure"><b>\(fu.onTime)/\(fu.onTime + fu.late)</b>follow-ups on time</div>
      </div>
      <div class="grid">
        \(Charts.distribution(s.series.firstResponseSeconds, title: "First response time (cases)", color: "#2457c5"))
        \(Charts.distribution(s.series.resolutionSeconds, title: "Resolution time (cases)", color: "#1e7d3a"))
        \(Charts.bars(dayBars, title: "Cases opened per day, \(perDay.first?.day ?? "") to \(perDay.last?.day ?? "")", labelEvery: 5))
        \(Charts.bars(followBars, title: "Follow-ups of resolved cases"))
        \(Charts.held(Array(held), title: "Fixes that held, by answer"))
      </div>
      <h2>By agent</h2>
      <table><thead><tr><th>Agent</th><th class="num">Opened</th><th class="num">Resolved</th><th class="num">Median first response</th><th class="num">Median resolution</th></tr></thead><tbody>\(agents)</tbody></table>
      <p class="small"><a href="/api/stats">JSON</a></p>
      """
  }

  // MARK: Sync

  static func syncPage(status: StatusReport?, statusError: String?, report: SyncReport?, error: String?, context: PageContext) -> HTML {
    var facts: HTML = .empty
    if let s = status {
      let changes = s.changes.map { "<li>\($0.kind) \($0.path)</li>" as HTML }
      facts = """
        <dl class="facts">
          <dt>Branch</dt><dd>\(s.branch ?? "(detached)")\(s.remote.map { " · remote \($0)" } ?? " · no remote")</dd>
          <dt>Ahead / behind</dt><dd>\(s.ahead) to push · \(s.behind) to merge (as of the last fetch)</dd>
          <dt>Last sync</dt><dd>\(s.lastSync.map { Timestamp.format($0) } ?? "never")\(s.pendingPush ? " (push pending)" : "")</dd>
          <dt>Local changes</dt><dd>\(s.changes.isEmpty ? "none" as HTML : "\(s.changes.count) file(s), committed by the next sync<ul class=\"small\">\(changes)</ul>")</dd>
          <dt>Conflicts</dt><dd>\(s.conflicts.isEmpty ? "none" as HTML : "<a href=\"/conflicts\">\(s.conflicts.count) document(s)</a>")</dd>
        </dl>
        """
    }
    var outcome: HTML = .empty
    if let r = report {
      let s = r
      outcome = """
        <section class="card" id="sync-result"><h2>Synced in \(String(format: "%.2f", r.seconds)) s</h2>
        <dl class="facts">
          <dt>Committed</dt><dd>\(s.committed ?? "nothing new")</dd>
          <dt>Came in</dt><dd>\(s.incoming.count) commit(s)\(r.reindexed > 0 ? ", \(r.reindexed) document(s) re-indexed" : "")</dd>
          <dt>Went out</dt><dd>\(s.outgoing.count) commit(s)\(s.pushed ? ", pushed" : "")\(s.pendingPush ? " (push pending: will retry)" : "")</dd>
          <dt>Merged</dt><dd>\(s.merged.count) document(s)</dd>
          <dt>Conflicts</dt><dd>\(s.conflicts.isEmpty ? "none" as HTML : "<a href=\"/conflicts\">\(s.conflicts.count) document(s)</a>")</dd>
        </dl></section>
        """
    }
    return """
      <h1>Sync</h1>
      \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
      \(outcome)
      <section class="card"><h2>Status</h2>
      \(statusError.map { "<p class=\"error\">\($0)</p>" as HTML })
      \(facts)
      <form method="post" action="/sync">\(Layout.csrfField(context.csrf))<button type="submit">Sync now</button></form>
      <p class="small muted">Commits local changes as \(context.agent ?? "(no identity)"), fetches, merges, pushes. Never loses an edit.</p>
      </section>
      <p class="small"><a href="/api/sync">JSON</a></p>
      """
  }
}
