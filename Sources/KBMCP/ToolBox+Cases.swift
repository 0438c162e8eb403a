import Foundation
import KBCore
import KBWorkspace
import MCP

/// The case tools. Each calls the same `Workspace` operation as `kb case …` (same validation,
/// lifecycle, journal format and write lock); entries are signed by ``ToolBox/author()``.
extension ToolBox {
  static let entryKinds = JournalEntry.Kind.known.filter { $0 != .merge }.map(\.rawValue)

  static let timeZoneArgument = Schema.string(
    "Time zone for follow-up days and today, such as Europe/Berlin (default: the server's $TZ, else UTC).", nonEmpty: true)
  static let atArgument = Schema.string("When it happened, ISO 8601 such as 2024-10-20T16:09:00Z (default: now).", nonEmpty: true)

  static let caseSpecs: [ToolSpec] = [
    ToolSpec(
      tool: Tool(
        name: "case_open",
        title: "Open a case",
        description: """
          Opens a customer case from a mention (the customer's words) as cases/yyyy/mm/<id>.md, status open. \
          Returns {case: <document as show returns it>, similar: [open cases that look like the same problem], uri}. \
          Link a duplicate with `related` instead of opening a second case for the same customer.
          """,
        inputSchema: Schema.object(
          [
            "text": Schema.string("The customer's words, as posted (give text or mention).", nonEmpty: true),
            "mention": [
              "type": "object",
              "description": "Instead of text: the mention as JSON (plain object with text, author, url, created_at, channel; an X API v2 response; or a Mastodon status). The other arguments fill in what it lacks.",
            ],
            "customer": Schema.string("The customer's handle, such as @stevebuttry.", nonEmpty: true),
            "channel": Schema.string("Where it came from: twitter, mastodon, email, ….", nonEmpty: true),
            "url": Schema.string("A link to the original post.", nonEmpty: true),
            "at": Schema.string("When it was posted, ISO 8601 (default: now).", nonEmpty: true),
            "assignee": Schema.string("The agent who owns the case.", nonEmpty: true),
            "tags": Schema.strings("Tags, such as iphone."),
            "related": Schema.strings("Ids of cases with the same problem to link to (each must exist)."),
            "id": Schema.string("The case id (default: the day and the words of the complaint).", nonEmpty: true),
            "title": Schema.string("A title (default: the start of the complaint).", nonEmpty: true),
          ]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "case_log",
        title: "Log a journal entry on a case",
        description: """
          Appends a signed entry to a case's journal; the case's status follows the entry (acknowledged, offline, \
          escalated, resolved, reopened, closed move it). A checked-back entry says whether the fix held (`held`, \
          or text starting "Held:" / "Did not hold:"). The author is the server's identity, marked "(via MCP)". \
          Returns {id, path, entry: {time, author, kind, text, line}, previous_status, status, held, assignee, answer, follow_up, uri}.
          """,
        inputSchema: Schema.object(
          [
            "id": Schema.string("The case's id.", nonEmpty: true),
            "text": Schema.string("What happened, in a sentence.", nonEmpty: true),
            "kind": Schema.string("What the entry records (default: note).", enum: entryKinds),
            "held": Schema.boolean("For kind checked-back: whether the fix held."),
            "at": atArgument,
            "time_zone": timeZoneArgument,
          ], required: ["id", "text"]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "case_resolve",
        title: "Resolve a case",
        description: """
          Resolves a case: a signed `resolved` entry, status resolved, the fixing `answer` linked (it must be an \
          existing answer) and the follow-up day set (the delay from kb.yml unless `follow_up` is given). \
          Returns the same shape as case_log.
          """,
        inputSchema: Schema.object(
          [
            "id": Schema.string("The case's id.", nonEmpty: true),
            "text": Schema.string("What fixed it, for the journal (default: \"Resolved.\").", nonEmpty: true),
            "answer": Schema.string("The id of the answer that fixed it.", nonEmpty: true),
            "follow_up": Schema.string("Check back after this delay, such as 3d or 1w.", nonEmpty: true),
            "at": atArgument,
            "time_zone": timeZoneArgument,
          ], required: ["id"]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "case_assign",
        title: "Hand a case to another agent",
        description: "Sets the case's assignee and logs a signed handoff entry. Returns the same shape as case_log.",
        inputSchema: Schema.object(
          [
            "id": Schema.string("The case's id.", nonEmpty: true),
            "agent": Schema.string("The agent who takes the case over.", nonEmpty: true),
            "note": Schema.string("Why, for the journal.", nonEmpty: true),
            "at": atArgument,
          ], required: ["id", "agent"]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "cases_due",
        title: "Follow-ups due",
        description: """
          Resolved cases whose follow-up day is today or earlier, oldest first: check back with these customers. \
          Returns {today, time_zone, due: [{id, path, title, customer, channel, assignee, answer, follow_up, days_overdue}]}.
          """,
        inputSchema: Schema.object([
          "today": Schema.string("The day to judge from, yyyy-mm-dd (default: today in time_zone).", nonEmpty: true),
          "time_zone": timeZoneArgument,
        ]),
        annotations: .init(readOnlyHint: true, openWorldHint: false))),
  ]

  /// Runs a case tool, or returns `nil` when `name` is not one.
  func runCase(_ name: String, _ args: Arguments) throws -> Value? {
    switch name {
    case "case_open": return try caseOpen(args)
    case "case_log": return try caseLog(args)
    case "case_resolve": return try caseResolve(args)
    case "case_assign": return try caseAssign(args)
    case "cases_due": return try casesDue(args)
    default: return nil
    }
  }

  func caseOpen(_ args: Arguments) throws -> Value {
    // Reject before writing anything: the author check happens first so that a server without
    // an identity never writes.
    _ = try author()
    let opened = try time(args, "at")
    let customer = args.string("customer")
    if let c = customer, c.contains("\n") {
      throw ToolError.invalidArgument(tool: "case_open", name: "customer", reason: "must be one line.")
    }
    var mention: Mention
    switch (args.string("text"), args.values["mention"]) {
    case (let text?, nil): mention = Mention(text: text)
    case (nil, let json?): mention = try Self.mention(from: json, tool: "case_open")
    case (_?, _?): throw ToolError.invalidArgument(tool: "case_open", name: "text", reason: "and 'mention' cannot both be given; pass one.")
    case (nil, nil): throw ToolError.missingArgument(tool: "case_open", name: "text")
    }
    // As `kb case open`: the arguments fill in what the mention does not say.
    mention = mention.filling(customer: customer, channel: args.string("channel"), url: args.string("url"), createdAt: opened)
    let result = try workspace.openCase(
      from: mention, related: args.strings("related"), assignee: args.string("assignee"), tags: args.strings("tags"),
      id: args.string("id"), title: args.string("title"))
    struct Result: Encodable { var `case`: DocumentJSON; var similar: [SimilarCase]; var uri: String }
    return try Self.encode(Result(
      case: DocumentJSON(result.document), similar: result.similar, uri: Self.uri(type: .case, id: result.document.id)))
  }

  func caseLog(_ args: Arguments) throws -> Value {
    let kind = JournalEntry.Kind(rawValue: args.string("kind") ?? "note")
    if args.bool("held") != nil, kind != .checkedBack {
      throw ToolError.invalidArgument(tool: "case_log", name: "held", reason: "goes with kind checked-back only.")
    }
    let change = try workspace.log(
      caseID: try args.required("id"), kind: kind, text: try args.required("text"), author: try author(),
      at: try time(args, "at") ?? Date(), held: args.bool("held"), timeZone: try timeZone(args).zone)
    return try Self.encode(Self.changeJSON(change))
  }

  func caseResolve(_ args: Arguments) throws -> Value {
    if let delay = args.string("follow_up"), Duration.parseDays(delay) == nil {
      throw ToolError.invalidArgument(tool: "case_resolve", name: "follow_up", reason: CaseError.invalidDelay(delay).description)
    }
    let change = try workspace.resolve(
      caseID: try args.required("id"), answer: args.string("answer"), text: args.string("text"),
      followUp: args.string("follow_up"), author: try author(), at: try time(args, "at") ?? Date(),
      timeZone: try timeZone(args).zone)
    return try Self.encode(Self.changeJSON(change))
  }

  func caseAssign(_ args: Arguments) throws -> Value {
    let change = try workspace.assign(
      caseID: try args.required("id"), to: try args.required("agent"), note: args.string("note"), author: try author(),
      at: try time(args, "at") ?? Date())
    return try Self.encode(Self.changeJSON(change))
  }

  func casesDue(_ args: Arguments) throws -> Value {
    let zone = try timeZone(args)
    if let day = args.string("today") {
      do { _ = try FollowUp.parseDay(day) } catch {
        throw ToolError.invalidArgument(tool: "cases_due", name: "today", reason: error.description)
      }
    }
    return try Self.encode(try workspace.due(today: args.string("today"), timeZone: zone))
  }

  // MARK: Arguments

  func time(_ args: Arguments, _ key: String) throws(ToolError) -> Date? {
    guard let text = args.string(key) else { return nil }
    guard let date = Timestamp.parse(text) else {
      throw .invalidArgument(tool: args.tool, name: key, reason: "must be an ISO 8601 time such as 2024-10-20T16:05:00Z, not '\(text)'.")
    }
    return date
  }

  /// `time_zone`, else the server's `$TZ`, else UTC: ``TimeZoneChoice``, as `kb --tz`. A `$TZ`
  /// that names no zone means UTC, with a warning on standard error.
  func timeZone(_ args: Arguments) throws(ToolError) -> TimeZoneChoice {
    do {
      let choice = try TimeZoneChoice(args.string("time_zone"))
      if let warning = choice.warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
      return choice
    } catch {
      throw .invalidArgument(tool: args.tool, name: "time_zone", reason: error.description)
    }
  }
}

extension ToolBox {
  /// The CLI's JSON shape of a case change, plus the case's resource URI.
  static func changeJSON(_ change: CaseChange) -> CaseChangeJSON {
    var json = CaseChangeJSON(change)
    json.uri = uri(type: .case, id: change.document.id)
    return json
  }
}
