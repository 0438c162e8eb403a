import ArgumentParser
import Foundation
import KBCLI
import KBMCP
import KBWorkspace

/// `kb-mcp`: the MCP server that `kb mcp` runs in its place (a separate executable so that `kb`
/// does not link the MCP SDK and its networking libraries). Same options as `kb mcp`.
@main
struct KBMCPMain: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kb mcp",
    abstract: "Serve the knowledge base to AI agents over the Model Context Protocol (stdio).",
    discussion: "Started by 'kb mcp'; see 'kb mcp --help' and docs/MCP.md.")

  @OptionGroup var options: MCPOptions

  func run() async throws {
    let workspace = try options.global.open()
    // A long-lived process watches the folder itself: every call re-reads only what changed.
    workspace.watchDirectly()
    let who = options.who(in: workspace)
    if who == nil {
      FileHandle.standardError.write(
        Data("warning: no identity for writes (pass --as \"Name <email>\"); write tools will refuse.\n".utf8))
    }
    let server = KBMCPServer(workspace: workspace, identity: who, logLevel: options.verbose ? .info : .warning)
    try await server.run()
  }
}
