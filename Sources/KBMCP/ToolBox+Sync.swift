import Foundation
import KBCore
import KBWorkspace
import KBWorkspaceGit
import MCP

/// The `sync` tool: `Workspace.sync`, the code behind `kb sync`, with the commit signed by the
/// server's identity (`<name> (via MCP) <email>`).
extension ToolBox {
  static let syncSpecs: [ToolSpec] = [
    ToolSpec(
      tool: Tool(
        name: "sync",
        title: "Sync with the team",
        description: """
          Commits every change in the knowledge base (signed by the server's identity, "(via MCP)"), fetches the \
          team's changes, merges them (journals as a union; what cannot merge keeps both versions and is listed \
          in `conflicts`), and pushes without force, retrying when a teammate pushed first. Returns {remote, branch, \
          committed, head, incoming, outgoing, merged, conflicts, reindexed, pushed, pendingPush, attempts, seconds, \
          message}. pendingPush true means the work is committed locally but could not be pushed: sync again later.
          """,
        inputSchema: Schema.object([
          "wait": Schema.integer("Seconds to wait for another sync of this knowledge base to finish.", minimum: 0, maximum: 600, default: 10)
        ]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true)))
  ]

  func runSync(_ name: String, _ args: Arguments) throws -> Value? {
    guard name == "sync" else { return nil }
    guard let identity else { throw ToolError.noIdentity }
    let signer = Identity(name: try author(), email: identity.email)
    let report = try workspace.sync(lockTimeout: Double(args.int("wait") ?? 10), identity: signer)
    // `kb sync --json`'s shape, plus the sentence for the agent.
    guard var object = try Self.encode(report).objectValue else { return .null }
    object["message"] = .string(report.message)
    return .object(object)
  }
}
