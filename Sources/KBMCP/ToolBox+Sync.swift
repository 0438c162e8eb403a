import Foundation
import KBCore
import KBSync
import KBWorkspace
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
    let r = report.sync
    struct Result: Encodable {
      var remote: String; var branch: String; var committed: String?; var head: String?
      var incoming: [String]; var outgoing: [String]; var merged: [MergedFile]; var conflicts: [MergedFile]
      var reindexed: Int; var pushed: Bool; var pendingPush: Bool; var attempts: Int; var seconds: Double
      var message: String
    }
    let message: String
    if r.pushed {
      message = "Synced with \(r.remote) (\(r.branch)): \(r.incoming.count) in, \(r.outgoing.count) out, \(r.conflicts.count) conflict(s)."
    } else if r.pendingPush {
      message = "Pending push: the work is committed locally but the remote kept moving (\(r.attempts) attempts). Sync again later."
    } else {
      message = "Nothing to sync yet: no commits here or on \(r.remote)."
    }
    return try Self.encode(Result(
      remote: r.remote, branch: r.branch, committed: r.committed, head: r.head, incoming: r.incoming,
      outgoing: r.outgoing, merged: r.merged, conflicts: r.conflicts, reindexed: report.reindexed, pushed: r.pushed,
      pendingPush: r.pendingPush, attempts: r.attempts, seconds: report.seconds, message: message))
  }
}
