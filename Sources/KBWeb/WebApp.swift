import Foundation
import HTTPTypes
import Hummingbird
import KBCore
import KBWorkspace
import KBWorkspaceGit

/// The web interface's routes: pages at stable paths, their JSON twins under `/api/`, form posts
/// that redirect back (post/redirect/get), and `/events` for live updates.
///
/// ```swift
/// let app = WebApp(library: Library(workspace: ws, identity: me), security: WebSecurity(token: nil))
/// let application = Application(router: app.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await application.runService()
/// ```
public struct WebApp: Sendable {
  public let library: Library
  public let security: WebSecurity
  public let timeZone: TimeZone
  /// How old the index may be before a page refreshes it (the background pass keeps it fresher).
  public let maxIndexAge: TimeInterval

  public static let maxBody = 1 << 20

  public init(library: Library, security: WebSecurity, timeZone: TimeZone = TimeZone(secondsFromGMT: 0)!, maxIndexAge: TimeInterval = 1) {
    self.library = library
    self.security = security
    self.timeZone = timeZone
    self.maxIndexAge = maxIndexAge
  }

  var context: PageContext { PageContext(csrf: security.csrf, agent: library.identity?.name) }

  public func router() -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: SecurityMiddleware(security: security))
    let app = self

    router.get("/static/app.css") { _, _ in Self.asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
    router.get("/static/live.js") { _, _ in Self.asset(Assets.script, type: "text/javascript; charset=utf-8") }
    router.get("/events") { request, _ in await app.events(request) }
    router.get("/api/") { _, _ in JSONOut.response(Self.apiIndex) }

    // Queue
    router.get("/") { request, _ in await app.page(json: false) { try await app.queue(request, json: false) } }
    router.get("/api/queue") { request, _ in await app.page(json: true) { try await app.queue(request, json: true) } }

    // Mentions
    router.get("/mentions/new") { request, _ in
      let text = request.query.text("text") ?? ""
      return Layout.response(app.frame("New mention", "/mentions/new", Pages.mentionForm(input: text, channel: nil, context: app.context)))
    }
    router.post("/mentions/new") { request, _ in await app.page(json: false) { try await app.postMention(request) } }
    router.post("/api/suggest") { request, _ in await app.page(json: true) { try await app.apiSuggest(request) } }
    router.post("/api/mentions") { request, _ in await app.page(json: true) { try await app.apiMentions(request) } }

    // Cases
    router.get("/cases/:id") { request, context in
      await app.page(json: false) { try await app.casePage(try Self.id(context), request: request) }
    }
    router.get("/api/cases/:id") { _, context in
      await app.page(json: true) {
        let id = try Self.id(context)
        try await app.fresh()
        let doc = try await app.library.run { try $0.caseDocument(id: id) }
        return JSONOut.response(DocumentJSON(doc))
      }
    }
    for action in CaseAction.allCases {
      router.post("/cases/:id/\(action.rawValue)") { request, context in
        await app.page(json: false) { try await app.caseForm(action, id: try Self.id(context), request: request) }
      }
      router.post("/api/cases/:id/\(action.rawValue)") { request, context in
        await app.page(json: true) { try await app.caseJSON(action, id: try Self.id(context), request: request) }
      }
    }

    // Answers and documents
    router.get("/answers/:id") { _, context in
      await app.page(json: false) {
        let id = try Self.id(context)
        try await app.fresh()
        let usage = try await app.library.run { try $0.answerUsage(id: id) }
        let body = Markdown.html(usage.answer.body)
        return Layout.response(app.frame(usage.answer.title, nil, Pages.answerPage(usage, body: body, context: app.context), live: "answer"))
      }
    }
    router.get("/api/answers/:id") { _, context in
      await app.page(json: true) {
        let id = try Self.id(context)
        try await app.fresh()
        return JSONOut.response(try await app.library.run { try $0.answerUsage(id: id) })
      }
    }
    router.get("/documents/:id") { _, context in
      await app.page(json: false) {
        let id = try Self.id(context)
        try await app.fresh()
        let type = try await app.library.run { try $0.document(id: id).type }
        return Layout.redirect((type == .answer ? "/answers/" : "/cases/") + id.urlComponent)
      }
    }

    // Search, due, conflicts, stats, sync
    router.get("/search") { request, _ in await app.page(json: false) { try await app.search(request, json: false) } }
    router.get("/api/search") { request, _ in await app.page(json: true) { try await app.search(request, json: true) } }
    router.get("/due") { _, _ in await app.page(json: false) { try await app.due(json: false) } }
    router.get("/api/due") { _, _ in await app.page(json: true) { try await app.due(json: true) } }
    router.get("/conflicts") { request, _ in
      await app.page(json: false) {
        try await app.fresh()
        let items = try await app.library.conflicts()
        let notice = request.query.text("done") == "settled" ? "Settled. Run a sync to share it." : nil
        return Layout.response(
          app.frame("Conflicts", "/conflicts", Pages.conflictsPage(items, context: app.context, notice: notice), live: "conflicts"))
      }
    }
    router.get("/api/conflicts") { _, _ in
      await app.page(json: true) {
        try await app.fresh()
        return JSONOut.response(try await app.library.conflicts())
      }
    }
    router.post("/conflicts/settle") { request, _ in
      await app.page(json: false) {
        let form = try await app.form(request)
        do {
          _ = try await app.settle(target: form.text("target"), take: form.text("take"))
          return Layout.redirect("/conflicts?done=settled")
        } catch {
          let (status, message) = Errors.classify(error)
          let items = try await app.library.conflicts()
          return Layout.response(
            app.frame("Conflicts", "/conflicts", Pages.conflictsPage(items, context: app.context, error: message), live: "conflicts"),
            status: status)
        }
      }
    }
    router.post("/api/conflicts/settle") { request, _ in
      await app.page(json: true) {
        let object = try await app.jsonObject(request)
        return JSONOut.response(try await app.settle(target: object["target"] as? String, take: object["take"] as? String))
      }
    }
    router.get("/stats") { _, _ in
      await app.page(json: false) {
        Layout.response(app.frame("Figures", "/stats", Pages.statsPage(try await app.stats()), live: "stats"))
      }
    }
    router.get("/api/stats") { _, _ in await app.page(json: true) { JSONOut.response(try await app.stats()) } }
    router.get("/sync") { _, _ in await app.page(json: false) { try await app.syncPage(report: nil, error: nil) } }
    router.get("/api/sync") { _, _ in
      await app.page(json: true) { JSONOut.response(try await app.library.status()) }
    }
    router.post("/sync") { request, _ in
      await app.page(json: false) {
        _ = try await app.form(request)
        do {
          let report = try await app.runSync()
          return try await app.syncPage(report: report, error: nil)
        } catch {
          return try await app.syncPage(report: nil, error: Errors.classify(error).1, status: Errors.classify(error).0)
        }
      }
    }
    router.post("/api/sync") { request, _ in
      await app.page(json: true) {
        _ = try await app.body(request)
        return JSONOut.response(try await app.runSync())
      }
    }
    return router
  }

  // MARK: Plumbing

  /// Runs a handler, turning any error into the CLI's message as a page or JSON.
  func page(json: Bool, _ body: () async throws -> Response) async -> Response {
    do {
      return try await body()
    } catch {
      return Errors.response(for: error, json: json)
    }
  }

  func frame(_ title: String, _ active: String?, _ body: HTML, live: String? = nil) -> HTML {
    Layout.page(title: title, active: active, csrf: security.csrf, live: live, agent: library.identity?.name, body: body)
  }

  func fresh() async throws { try await library.refreshIfOlder(than: maxIndexAge) }

  /// The `{id}` path segment, percent-decoded (the router hands it over as sent): links write
  /// ids with `?`, `%` and non-ASCII letters percent-encoded (``Swift/String/urlComponent``).
  static func id(_ context: BasicRequestContext) throws -> String {
    let raw = try context.parameters.require("id")
    let id = raw.removingPercentEncoding ?? raw
    guard Document.isValidID(id) else { throw WorkspaceError.documentNotFound(id) }
    return id
  }

  static func asset(_ text: String, type: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = type
    headers[.cacheControl] = "max-age=300"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  func body(_ request: Request) async throws -> String {
    var request = request
    let buffer: ByteBuffer
    do {
      buffer = try await request.collectBody(upTo: Self.maxBody)
    } catch {
      throw WebError(.contentTooLarge, "The request body is larger than 1 MiB.")
    }
    guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
      throw WebError(.badRequest, "The request body is not valid UTF-8.")
    }
    return text
  }

  /// A posted form, after its CSRF token is checked.
  func form(_ request: Request) async throws -> Form {
    let form = Form(try await body(request))
    guard let token = form["csrf"], WebSecurity.constantTimeEqual(token, security.csrf) else {
      throw WebError(.forbidden, "This form is stale or did not come from this page (CSRF token missing or wrong). Reload the page and try again.")
    }
    return form
  }

  /// A JSON object body.
  func jsonObject(_ request: Request) async throws -> [String: Any] {
    let text = try await body(request)
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
      throw WebError(.badRequest, "The body is not a JSON object.")
    }
    return object
  }

  static let apiIndex: [String: String] = [
    "GET /api/queue": "active cases (?mine=1&unassigned=1&channel=C&status=S)",
    "POST /api/suggest": "known fixes for a mention (plain, X API v2 or Mastodon JSON)",
    "POST /api/mentions": "open cases from mentions (as kb case open -), with suggestions",
    "GET /api/cases/ID": "a case (as kb show --json)",
    "POST /api/cases/ID/log|reply|assign|resolve|check-back": "write to a case's journal",
    "GET /api/answers/ID": "an answer, the cases it fixed, how often it held",
    "GET /api/search?q=": "full-text search",
    "GET /api/due": "follow-ups due",
    "GET /api/conflicts": "documents with merge conflicts",
    "POST /api/conflicts/settle": "keep one side of a document's conflicts: {\"target\": ID or path, \"take\": \"ours|theirs|both\"}",
    "GET /api/stats": "team figures and their series",
    "GET /api/sync": "repository status; POST /api/sync syncs",
    "GET /events": "server-sent events: 'changed' when the knowledge base changes",
  ]

  var today: String { FollowUp.day(of: Date(), in: timeZone) }
}
