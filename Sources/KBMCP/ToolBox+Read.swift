import Foundation
import KBCore
import KBWorkspace
import MCP

extension ToolBox {
  /// Every tool the server offers. Descriptions are for the agent: what the tool does and when.
  static let specs: [ToolSpec] = readSpecs + suggestSpecs + caseSpecs + syncSpecs

  static let readSpecs: [ToolSpec] = [
    ToolSpec(
      tool: Tool(
        name: "search",
        title: "Search the knowledge base",
        description: """
          Full-text search over answers (known fixes) and cases. Words match their stems; "quoted phrases" \
          match in order; prefix* matches word starts; -word excludes. Filters may be written in the query \
          (type:answer status:open tag:iphone assignee:tina channel:twitter customer:@handle). When no document \
          has every word, the best matches on any word are returned and `match` is "any". Returns \
          {query, match, hits: [{id, type, path, title, status, assignee, tags, score, snippet}]}; matched \
          words in `snippet` are wrapped in **.
          """,
        inputSchema: Schema.object(
          [
            "query": Schema.string("What to search for, such as the customer's words.", nonEmpty: true),
            "type": Schema.string("Only answers or only cases.", enum: DocumentType.allCases.map(\.rawValue)),
            "limit": Schema.integer("Maximum number of hits.", minimum: 1, maximum: 100, default: 10),
          ], required: ["query"]),
        annotations: .init(readOnlyHint: true, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "show",
        title: "Show an answer or a case",
        description: """
          One document by `id` (or by `path` relative to the knowledge base), with its front-matter fields, \
          Markdown body and, for a case, its parsed journal. Same shape as `kb show --json`, plus `uri`.
          """,
        inputSchema: Schema.object([
          "id": Schema.string("The document's id, such as iphone-sms-repeats.", nonEmpty: true),
          "path": Schema.string("Instead of id: the file's path inside the knowledge base, such as answers/x.md.", nonEmpty: true),
        ]),
        annotations: .init(readOnlyHint: true, openWorldHint: false))),
    ToolSpec(
      tool: Tool(
        name: "list_cases",
        title: "List cases",
        description: """
          Cases, newest first, filtered by status, assignee, tag, channel, customer or linked answer. Returns \
          {count, cases: [{id, path, title, status, assignee, channel, customer, answer, opened, followUp, tags}]}.
          """,
        inputSchema: Schema.object([
          "status": Schema.string("Only cases in this state.", enum: CaseStatus.allCases.map(\.rawValue)),
          "assignee": Schema.string("Only cases assigned to this agent.", nonEmpty: true),
          "tag": Schema.string("Only cases with this tag.", nonEmpty: true),
          "channel": Schema.string("Only cases from this channel, such as twitter.", nonEmpty: true),
          "customer": Schema.string("Only cases from this customer, such as @stevebuttry.", nonEmpty: true),
          "answer": Schema.string("Only cases linked to this answer id.", nonEmpty: true),
          "limit": Schema.integer("Maximum number of cases.", minimum: 1, maximum: 1000, default: 50),
        ]),
        annotations: .init(readOnlyHint: true, openWorldHint: false))),
  ]

  /// Runs the tool `name` with checked arguments.
  func run(_ name: String, _ args: Arguments) throws -> Value {
    switch name {
    case "search": return try search(args)
    case "show": return try show(args)
    case "list_cases": return try listCases(args)
    default:
      if let value = try runCase(name, args) { return value }
      if let value = try runSuggest(name, args) { return value }
      if let value = try runSync(name, args) { return value }
      throw ToolError.unknownTool(name, known: Self.specs.map(\.tool.name))
    }
  }

  func search(_ args: Arguments) throws -> Value {
    var query = try args.required("query")
    if let type = args.string("type") { query += " type:\(type)" }
    var result = try workspace.search(query, limit: args.int("limit") ?? 10).markdown
    result.query = try args.required("query")
    return try Self.encode(result)
  }

  func show(_ args: Arguments) throws -> Value {
    let document: Document
    switch (args.string("id"), args.string("path")) {
    case (let id?, nil): document = try workspace.document(id: id)
    case (nil, let path?): document = try workspace.readDocument(at: path)
    case (_?, _?): throw ToolError.invalidArgument(tool: "show", name: "id", reason: "and 'path' cannot both be given; pass one.")
    case (nil, nil): throw ToolError.missingArgument(tool: "show", name: "id")
    }
    guard var object = try Self.encode(DocumentJSON(document)).objectValue else { return .null }
    object["uri"] = .string(Self.uri(type: document.type, id: document.id))
    return .object(object)
  }

  func listCases(_ args: Arguments) throws -> Value {
    let filter = DocumentFilter(
      type: .case, status: args.string("status").flatMap(CaseStatus.init(rawValue:)), tag: args.string("tag"),
      assignee: args.string("assignee"), channel: args.string("channel"), customer: args.string("customer"),
      answer: args.string("answer"))
    let cases = try workspace.list(filter, limit: args.int("limit") ?? 50)
    struct Result: Encodable { var count: Int; var cases: [DocumentSummary] }
    return try Self.encode(Result(count: cases.count, cases: cases))
  }
}
