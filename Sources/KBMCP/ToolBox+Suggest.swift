import Foundation
import KBCore
import KBWorkspace
import MCP

/// The `suggest` tool: `Workspace.suggest`, the code behind `kb suggest`.
extension ToolBox {
  static let suggestSpecs: [ToolSpec] = [
    ToolSpec(
      tool: Tool(
        name: "suggest",
        title: "Suggest known fixes and a reply",
        description: """
          For a customer's mention: the best known fixes (answers) with confidence, matched words, snippet, fix \
          steps and evidence from resolved cases; guards (a competitor's customer, venting, an unrelated trend, \
          abuse, a threat, self-harm, personal data) with advice; and a reply draft in the team's playbook style, \
          signed by the server's identity, or none when a guard says not to reply in public. Give `text` (the \
          customer's words) or `mention` (a JSON mention: {text, author, url, created_at, channel}, an X API v2 \
          tweet response or a Mastodon status). Returns {mention, normalized, terms, verdict ("known-fix" or \
          "no-known-fix"), message, suggestions: [{id, title, path, score, confidence, matched, snippet, fix, \
          evidence}], guards: [{kind, advice, evidence}], reply: {text, length, limit, channel, template, \
          signature, truncated, privateChannel} or null}.
          """,
        inputSchema: Schema.object([
          "text": Schema.string("The customer's words, as posted.", nonEmpty: true),
          "mention": [
            "type": "object",
            "description": "Instead of text: the mention as JSON (plain object with text, X API v2 response, or Mastodon status).",
          ],
          "author": Schema.string("With text: the customer's handle, such as @stevebuttry (used in the reply).", nonEmpty: true),
          "channel": Schema.string("The channel the reply goes to (twitter, x, mastodon, …): sets the length limit.", nonEmpty: true),
          "limit": Schema.integer("How many answers to return.", minimum: 1, maximum: 20, default: 3),
        ]),
        annotations: .init(readOnlyHint: true, openWorldHint: false)))
  ]

  func runSuggest(_ name: String, _ args: Arguments) throws -> Value? {
    guard name == "suggest" else { return nil }
    var mention: Mention
    switch (args.string("text"), args.values["mention"]) {
    case (let text?, nil):
      mention = Mention(text: text)
      mention = mention.filling(customer: args.string("author"), channel: nil, url: nil, createdAt: nil)
    case (nil, let json?):
      mention = try Self.mention(from: json, tool: "suggest")
      if args.string("author") != nil {
        throw ToolError.invalidArgument(tool: "suggest", name: "author", reason: "goes with text; a mention carries its own author.")
      }
    case (_?, _?):
      throw ToolError.invalidArgument(tool: "suggest", name: "text", reason: "and 'mention' cannot both be given; pass one.")
    case (nil, nil):
      throw ToolError.missingArgument(tool: "suggest", name: "text")
    }
    guard !mention.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw ToolError.invalidArgument(tool: "suggest", name: "mention", reason: "has no text: suggestions start from the customer's words.")
    }
    // The reply is signed with the agent's name as given (the customer sees it); only journal
    // entries and commits carry the "(via MCP)" mark.
    let options = SuggestOptions(limit: args.int("limit") ?? 3, channel: args.string("channel"), agent: identity)
    return try Self.encode(try workspace.suggest(mention, options: options))
  }

  /// One mention from a JSON argument (a plain object, an X API v2 response or a Mastodon status).
  static func mention(from json: Value, tool: String) throws(ToolError) -> Mention {
    let mentions: [Mention]
    do {
      mentions = try Mention.parse(json: try JSONEncoder().encode(json))
    } catch let error as MentionError {
      throw .invalidArgument(tool: tool, name: "mention", reason: "is not a mention: \(error.description)")
    } catch {
      throw .invalidArgument(tool: tool, name: "mention", reason: "is not a mention: \(error)")
    }
    guard mentions.count == 1, let first = mentions.first else {
      throw .invalidArgument(
        tool: tool, name: "mention", reason: "must hold exactly one mention, not \(mentions.count); call \(tool) once per mention.")
    }
    return first
  }
}
