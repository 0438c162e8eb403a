import Foundation
import HTTPTypes
import Hummingbird
import KBCore
import KBWorkspace
import KBWorkspaceGit

/// The writes a case page offers, each at `/cases/ID/<action>` (form) and `/api/cases/ID/<action>` (JSON).
enum CaseAction: String, CaseIterable, Sendable {
  case reply, log, assign, resolve
  case checkBack = "check-back"

  var done: String {
    switch self {
    case .reply: "Reply logged as sent."
    case .log: "Entry logged."
    case .assign: "Case handed over."
    case .resolve: "Case resolved; the follow-up is on the due list when its day comes."
    case .checkBack: "Check back logged."
    }
  }
}

/// What a case write takes, from a form or a JSON object.
struct CaseInput: Sendable {
  var text: String?
  var kind: String?
  var held: Bool?
  var agent: String?
  var note: String?
  var answer: String?
  var followUp: String?
}

extension WebApp {
  // MARK: Queue

  func queueFilter(_ request: Request) throws -> QueueFilter {
    let q = request.query
    var filter = QueueFilter()
    filter.mine = ["1", "true", "on", "yes"].contains(q.text("mine") ?? "")
    filter.unassigned = ["1", "true", "on", "yes"].contains(q.text("unassigned") ?? "")
    if let c = q.text("channel"), !c.isEmpty { filter.channel = c.lowercased() }
    filter.limit = min(max(Int(q.text("limit") ?? "") ?? 100, 1), 1000)
    filter.offset = max(Int(q.text("offset") ?? "") ?? 0, 0)
    if let s = q.text("status"), !s.isEmpty {
      guard let status = CaseStatus(rawValue: s.lowercased()), CaseLifecycle.active.contains(status) else {
        throw WebError(.badRequest, "status=\(s): the queue shows active cases; use " + Pages.activeStatuses.joined(separator: ", ") + ".")
      }
      filter.status = status
    }
    return filter
  }

  /// The queue: ``Workspace/caseQueue(_:now:)`` (the policy `kb cases` uses), one page of it.
  func queue(_ request: Request, json: Bool) async throws -> Response {
    let filter = try queueFilter(request)
    let agent = library.identity?.name
    let view = try filter.view(agent: agent)
    try await fresh()
    let now = Date()
    let (rows, channels) = try await library.run { ws in (try ws.caseQueue(view, now: now), try ws.caseChannels()) }
    let start = min(filter.offset, rows.count)
    let page = QueuePage(
      filter: filter, agent: agent, total: rows.count, items: Array(rows[start..<min(start + filter.limit, rows.count)]),
      channels: channels, now: Timestamp.format(now))
    if json { return JSONOut.response(page) }
    return Layout.response(frame("Queue", "/", Pages.queue(page, context: context), live: "queue"))
  }

  // MARK: Mentions

  /// The pasted input as mentions: JSON in any shape `kb case open` takes, else plain text.
  static func mentions(from input: String, channel: String?) throws -> [Mention] {
    let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { throw WebError(.badRequest, "Paste the customer's post: its words, or its JSON.") }
    var mentions: [Mention]
    if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
      mentions = try Mention.parse(input: trimmed)
    } else {
      mentions = [Mention(text: trimmed)]
    }
    if let channel {
      for i in mentions.indices where mentions[i].channel == nil { mentions[i].channel = channel }
    }
    return mentions
  }

  func suggest(_ mentions: [Mention], channel: String?) async throws -> [SuggestionResult] {
    let identity = library.identity
    return try await library.run { ws in
      let suggester = try ws.suggester()
      let templates = ws.replyTemplates()
      return try mentions.map {
        try ws.suggest($0, options: SuggestOptions(limit: 3, channel: channel, agent: identity), templates: templates, using: suggester)
      }
    }
  }

  func postMention(_ request: Request) async throws -> Response {
    let form = try await form(request)
    let input = form["mention"] ?? ""
    let channel = form.text("channel")?.lowercased()
    let action = form["action"] ?? "suggest"
    let mentions: [Mention]
    do {
      mentions = try Self.mentions(from: input, channel: channel)
    } catch {
      let (status, message) = Errors.classify(error)
      return Layout.response(
        frame("New mention", "/mentions/new", Pages.mentionForm(input: input, channel: channel, context: context, error: message)),
        status: status)
    }
    try await fresh()
    if action == "suggest" {
      let results = try await suggest(mentions, channel: channel)
      return Layout.response(frame(
        "New mention", "/mentions/new", Pages.mentionResult(input: input, channel: channel, results: results, context: context)))
    }
    guard action == "open" || action == "send" else { throw WebError(.badRequest, "Unknown action '\(action)'.") }
    let reply = form.text("reply")
    let assignee = form.text("assignee")
    do {
      if action == "send" {
        guard mentions.count == 1 else {
          throw WebError(.badRequest, "The input holds \(mentions.count) mentions; a reply goes to one. Open them with 'Open case only', or paste one.")
        }
        guard reply != nil else { throw WebError(.badRequest, "The reply is empty: write what was sent to the customer.") }
        _ = try await library.author()  // refuse before opening anything when nobody signs
      }
      let intake = try await library.write { try $0.openCases(from: mentions, assignee: assignee) }
      guard let first = intake.opened.first else {
        return Layout.redirect("/cases/" + (intake.skipped.first?.id ?? "").urlComponent + "?done=exists")
      }
      let id = first.document.id
      if action == "send", let reply {
        _ = try await sendReply(caseID: id, text: reply, answer: nil)
        return Layout.redirect("/cases/\(id.urlComponent)?done=sent")
      }
      return Layout.redirect("/cases/\(id.urlComponent)?done=opened")
    } catch {
      let (status, message) = Errors.classify(error)
      let results = (try? await suggest(mentions, channel: channel)) ?? []
      return Layout.response(frame(
        "New mention", "/mentions/new",
        Pages.mentionResult(input: input, channel: channel, results: results, context: context, error: message)), status: status)
    }
  }

  func apiSuggest(_ request: Request) async throws -> Response {
    let text = try await body(request)
    let channel = request.query.text("channel")
    let mentions = try Self.mentions(from: text, channel: channel)
    try await fresh()
    let results = try await suggest(mentions, channel: channel)
    return results.count == 1 ? JSONOut.response(results[0]) : JSONOut.response(results)
  }

  struct OpenedJSON: Codable {
    var `case`: DocumentJSON
    var similar: [SimilarCase]
    var suggestions: SuggestionResult
  }
  struct IntakeJSON: Codable {
    var opened: [OpenedJSON]
    var skipped: [CaseIntake.Skipped]
  }

  /// `POST /api/mentions`: the shapes `kb case open -` reads; opens a case per mention.
  func apiMentions(_ request: Request) async throws -> Response {
    let text = try await body(request)
    let q = request.query
    let mentions = try Self.mentions(from: text, channel: q.text("channel")?.lowercased())
    let assignee = q.text("assignee")
    try await fresh()
    let intake = try await library.write { try $0.openCases(from: mentions, assignee: assignee) }
    let suggestions = try await suggest(intake.opened.map { opened in
      var m = mentions.first { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) == opened.document.complaint?.trimmingCharacters(in: .whitespacesAndNewlines) }
        ?? Mention(text: opened.document.complaint ?? opened.document.title)
      m.author = m.author ?? opened.document.customer
      m.channel = m.channel ?? opened.document.channel
      return m
    }, channel: nil)
    let out = IntakeJSON(
      opened: zip(intake.opened, suggestions).map { OpenedJSON(case: DocumentJSON($0.document), similar: $0.similar, suggestions: $1) },
      skipped: intake.skipped)
    return JSONOut.response(out, status: intake.opened.isEmpty ? .ok : .created)
  }

  // MARK: Cases

  func caseView(_ id: String, error: String? = nil, notice: String? = nil) async throws -> Pages.CaseView {
    let identity = library.identity
    return try await library.run { ws in
      let doc = try ws.caseDocument(id: id)
      var answers: [(id: String, title: String, confidence: String?)] = []
      let complaint = doc.complaint ?? doc.title
      if let result = try? ws.suggest(
        Mention(text: complaint, author: doc.customer, channel: doc.channel), options: SuggestOptions(limit: 5, agent: identity))
      {
        answers = result.suggestions.map { ($0.id, $0.title, $0.confidence.rawValue) }
      }
      // The reply box holds what `kb case reply` would send, or says why there is no draft.
      var reply: CaseReply?
      var replyProblem: String?
      if CaseLifecycle.active.contains(doc.status ?? .open) {
        do { reply = try ws.draftCaseReply(caseID: doc.id, agent: identity) } catch { replyProblem = "\(error)" }
      }
      if let current = doc.answer, !answers.contains(where: { $0.id == current }) {
        let title = (try? ws.document(id: current).title) ?? current
        answers.insert((current, title, nil), at: 0)
      }
      return Pages.CaseView(
        document: DocumentJSON(doc), answers: answers, reply: reply, replyProblem: replyProblem, error: error, notice: notice)
    }
  }

  static let notices: [String: String] = [
    "opened": "Case opened.", "sent": "Case opened and the reply logged as sent.", "exists": "This mention was already opened as this case.",
  ]

  func casePage(_ id: String, request: Request) async throws -> Response {
    try await fresh()
    let done = request.query.text("done")
    let notice = done.flatMap { Self.notices[$0] ?? CaseAction(rawValue: $0)?.done }
    let view = try await caseView(id, notice: notice)
    return Layout.response(frame(view.document.title, nil, Pages.casePage(view, context: context), live: "case"))
  }

  func caseForm(_ action: CaseAction, id: String, request: Request) async throws -> Response {
    let form = try await form(request)
    var input = CaseInput(
      text: form.text("text"), kind: form.text("kind"), agent: form.text("agent"), note: form.text("note"),
      answer: form.text("answer"), followUp: form.text("follow_up"))
    if let held = form.text("held") { input.held = held == "yes" || held == "true" }
    do {
      _ = try await apply(action, id: id, input: input)
      return Layout.redirect("/cases/\(id.urlComponent)?done=\(action.rawValue)")
    } catch {
      let (status, message) = Errors.classify(error)
      if status == .notFound { throw error }
      let view = try await caseView(id, error: message)
      return Layout.response(frame(view.document.title, nil, Pages.casePage(view, context: context), live: "case"), status: status)
    }
  }

  func caseJSON(_ action: CaseAction, id: String, request: Request) async throws -> Response {
    let object = try await jsonObject(request)
    func string(_ key: String) throws -> String? {
      guard let value = object[key], !(value is NSNull) else { return nil }
      guard let s = value as? String else { throw WebError(.badRequest, "'\(key)' must be a string.") }
      return s
    }
    var input = CaseInput(
      text: try string("text"), kind: try string("kind"), agent: try string("agent"), note: try string("note"),
      answer: try string("answer"), followUp: try string("follow_up"))
    if let held = object["held"], !(held is NSNull) {
      guard let b = held as? Bool else { throw WebError(.badRequest, "'held' must be true or false.") }
      input.held = b
    }
    let change = try await apply(action, id: id, input: input)
    return JSONOut.response(CaseChangeJSON(change))
  }

  /// One case write, through the same Workspace operations as `kb case …`, signed by the agent.
  func apply(_ action: CaseAction, id: String, input: CaseInput) async throws -> CaseChange {
    try await fresh()
    let author = try await library.author()
    let zone = timeZone
    switch action {
    case .reply:
      return try await sendReply(caseID: id, text: input.text, answer: input.answer)
    case .log:
      let kind = JournalEntry.Kind(rawValue: (input.kind ?? "note").lowercased())
      let text = input.text ?? ""
      let held = input.held
      return try await library.write { try $0.log(caseID: id, kind: kind, text: text, author: author, held: held, timeZone: zone) }
    case .assign:
      guard let agent = input.agent else { throw WorkspaceError.invalidInput("Name the agent to hand the case to.") }
      let note = input.note
      return try await library.write { try $0.assign(caseID: id, to: agent, note: note, author: author) }
    case .resolve:
      let answer = input.answer, text = input.text
      let followUp = try input.followUp.map { text throws -> String in
        guard KBCore.Duration.parseDays(text) != nil else { throw CaseError.invalidDelay(text) }
        return text
      }
      return try await library.write {
        try $0.resolve(caseID: id, answer: answer, text: text, followUp: followUp, author: author, timeZone: zone)
      }
    case .checkBack:
      guard let held = input.held else {
        throw WorkspaceError.invalidInput("Say whether the fix held: choose held or did not hold.")
      }
      let text = input.text ?? (held ? "Fix held." : "Fix did not hold.")
      return try await library.write {
        try $0.log(caseID: id, kind: .checkedBack, text: text, author: author, held: held, timeZone: zone)
      }
    }
  }

  /// A reply to a case's customer, as `kb case reply` logs it: ``Workspace/draftCaseReply(caseID:answer:text:agent:)``
  /// drafts it for the complaint (which fix it gives, the entry's kind), then
  /// ``Workspace/sendCaseReply(_:text:author:at:)`` logs `text` (the draft as the agent edited it,
  /// or the draft itself) signed by the agent. When the guards allow no public draft, the agent's
  /// own words are logged as they are (`kb case reply --text`).
  func sendReply(caseID id: String, text: String?, answer: String?) async throws -> CaseChange {
    let author = try await library.author()
    let identity = library.identity
    return try await library.write { ws in
      let draft: CaseReply
      do {
        draft = try ws.draftCaseReply(caseID: id, answer: answer, agent: identity)
      } catch let error as WorkspaceError {
        guard let text, case .invalidInput = error else { throw error }
        draft = try ws.draftCaseReply(caseID: id, answer: answer, text: text, agent: identity)
      }
      return try ws.sendCaseReply(draft, text: text, author: author)
    }
  }

  // MARK: Search, due, stats, sync

  struct SearchJSON: Codable {
    struct Hit: Codable {
      var id: String; var type: String; var path: String; var title: String; var tags: [String]
      var status: String?; var score: Double; var snippet: String
    }
    var query: String
    var match: String
    var hits: [Hit]
  }

  func search(_ request: Request, json: Bool) async throws -> Response {
    let q = request.query.text("q") ?? ""
    let limit = min(max(Int(request.query.text("limit") ?? "") ?? 20, 1), 100)
    if q.trimmingCharacters(in: .whitespaces).isEmpty {
      if json { throw WebError(.badRequest, "Give a query: /api/search?q=words") }
      return Layout.response(frame("Search", "/search", Pages.searchPage(query: "", result: nil, error: nil)))
    }
    try await fresh()
    do {
      let result = try await library.run { try $0.search(q, limit: limit) }
      if json {
        return JSONOut.response(SearchJSON(query: result.query, match: result.match.rawValue, hits: result.hits.map {
          SearchJSON.Hit(
            id: $0.id, type: $0.type.rawValue, path: $0.path, title: $0.title, tags: $0.tags, status: $0.status, score: $0.score,
            snippet: $0.snippet.replacingOccurrences(of: "\u{2}", with: "**").replacingOccurrences(of: "\u{3}", with: "**"))
        }))
      }
      return Layout.response(frame("Search", "/search", Pages.searchPage(query: q, result: result, error: nil)))
    } catch {
      if json { throw error }
      let (status, message) = Errors.classify(error)
      return Layout.response(frame("Search", "/search", Pages.searchPage(query: q, result: nil, error: message)), status: status)
    }
  }

  func due(json: Bool) async throws -> Response {
    try await fresh()
    let today = self.today
    let due = try await library.run { try $0.dueFollowUps(today: today) }
    if json { return JSONOut.response(due) }
    return Layout.response(frame("Follow-ups", "/due", Pages.duePage(due, today: today), live: "due"))
  }

  func stats() async throws -> StatsPage {
    try await fresh()
    return try await library.stats(today: today, timeZone: timeZone)
  }

  func syncPage(report: SyncReport?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
    var repo: StatusReport?
    var statusError: String?
    do { repo = try await library.status() } catch { statusError = Errors.classify(error).1 }
    return Layout.response(
      frame("Sync", "/sync", Pages.syncPage(status: repo, statusError: statusError, report: report, error: error, context: context)),
      status: status)
  }

  func runSync() async throws -> SyncReport {
    let identity = library.identity
    return try await library.write { try $0.sync(identity: identity) }
  }

  /// `kb conflicts ID --take SIDE`, for a document the conflicts list names (nothing else).
  func settle(target: String?, take: String?) async throws -> SettledConflict {
    guard let side = take.flatMap(ConflictSide.init(rawValue:)) else {
      throw WebError(.badRequest, "Say which side to keep: take ours, theirs or both.")
    }
    guard let target else { throw WebError(.badRequest, "Name the document to settle (its id or path).") }
    try await fresh()
    let items = try await library.conflicts()
    guard items.contains(where: { $0.id == target || $0.path == target }) else {
      throw WebError(.notFound, "'\(target)' has no conflicts to settle. The conflicts page lists the ones that do.")
    }
    let identity = library.identity
    return try await library.write { try $0.settleConflicts(target, take: side, as: identity) }
  }

  // MARK: Live

  /// `GET /events`: server-sent events. `changed` (data: the generation) whenever the knowledge
  /// base changes; a comment every 15 seconds keeps the connection open.
  func events(_ request: Request) async -> Response {
    let changes = await library.changes()
    let generation = await library.generation
    var headers = HTTPFields()
    headers[.contentType] = "text/event-stream"
    headers[.cacheControl] = "no-store"
    let body = ResponseBody { writer in
      try await writer.write(ByteBuffer(string: "retry: 2000\nevent: hello\ndata: \(generation)\n\n"))
      try await withThrowingTaskGroup(of: Void.self) { group in
        let (ticks, tick) = AsyncStream<String>.makeStream()
        group.addTask {
          for await g in changes { tick.yield("event: changed\ndata: \(g)\n\n") }
          tick.finish()
        }
        group.addTask {
          while !Task.isCancelled {
            try await Task.sleep(for: .seconds(15))
            tick.yield(": keep-alive\n\n")
          }
        }
        for await chunk in ticks {
          try await writer.write(ByteBuffer(string: chunk))
        }
        group.cancelAll()
      }
      try await writer.finish(nil)
    }
    return Response(status: .ok, headers: headers, body: body)
  }
}
