import ArgumentParser
import Foundation
import KBMCP
import KBWorkspace

extension KBCommand {
  struct ServeMCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "mcp",
      abstract: "Serve the knowledge base to AI agents over the Model Context Protocol (stdio).",
      discussion: """
        Reads MCP requests on standard input and answers on standard output; logs go to standard \
        error. Tools: search, suggest, show, list_cases, case_open, case_log, case_resolve, \
        case_assign, cases_due, sync; resources kb://answers/<id> and kb://cases/<id> (see \
        docs/MCP.md). Journal entries and sync commits written through MCP are signed \
        '<name> (via MCP)', where <name> comes from --as, else from .kb/identity or git config \
        user.name. Register it with a client as: command "kb", args ["mcp", "--kb", "<folder>", \
        "--as", "Support bot <bot@example.com>"].
        """)

    @OptionGroup var global: GlobalOptions
    @Option(
      name: .customLong("as"),
      help: ArgumentHelp("The agent's identity for writes, such as \"Support bot <bot@example.com>\".", valueName: "identity"))
    var identity: String?
    @Flag(name: .shortAndLong, help: "Log every call on standard error.") var verbose = false

    func validate() throws {
      if let identity {
        guard let parsed = Identity(parsing: identity) else {
          throw ValidationError("'--as \(identity)' is not an identity; use \"Name <email>\" or a name.")
        }
        guard !parsed.name.contains("·"), !parsed.name.contains("\n") else {
          throw ValidationError("'--as': the name cannot contain '·' or a line break (journal lines use them).")
        }
      }
    }

    func run() async throws {
      let workspace = try global.open()
      let who = identity.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
      if who == nil {
        Output.warn("warning: no identity for writes (pass --as \"Name <email>\"); write tools will refuse.")
      }
      let server = KBMCPServer(workspace: workspace, identity: who, logLevel: verbose ? .info : .warning)
      try await server.run()
    }
  }
}
