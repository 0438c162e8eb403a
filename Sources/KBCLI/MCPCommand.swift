import ArgumentParser
import Foundation
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

/// The options of `kb mcp`, shared by the `kb mcp` command (which checks them) and the `kb-mcp`
/// executable (which serves).
public struct MCPOptions: ParsableArguments {
  @OptionGroup public var global: GlobalOptions
  @Option(
    name: .customLong("as"),
    help: ArgumentHelp("The agent's identity for writes, such as \"Support bot <bot@example.com>\".", valueName: "identity"))
  public var identity: String?
  @Flag(name: .shortAndLong, help: "Log every call on standard error.") public var verbose = false

  public init() {}

  public func validate() throws {
    if let identity {
      guard let parsed = Identity(parsing: identity) else {
        throw ValidationError("'--as \(identity)' is not an identity; use \"Name <email>\" or a name.")
      }
      if let problem = Identity.nameProblem(parsed.name) {
        throw ValidationError("'--as': \(problem) (journal lines use them).")
      }
    }
  }

  /// The identity for writes: `--as`, else `.kb/identity` or git config.
  public func who(in workspace: Workspace) -> Identity? {
    identity.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
  }
}

extension KBCommand {
  /// `kb mcp` runs the `kb-mcp` executable beside `kb` in its place (same process, same standard
  /// input and output): the MCP SDK and the networking libraries it links (libcurl and some
  /// twenty libraries behind it) stay out of `kb`, whose every command would otherwise pay to
  /// load them at start-up.
  struct ServeMCP: ParsableCommand {
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
        "--as", "Support bot <bot@example.com>"]. The server is the kb-mcp executable installed \
        beside kb.
        """)

    @OptionGroup var options: MCPOptions

    func run() throws {
      // Everything after `mcp`, as given: kb-mcp parses the same options.
      let args = CommandLine.arguments
      let rest = args.firstIndex(of: "mcp").map { Array(args[($0 + 1)...]) } ?? []
      try GitCommands.exec(sibling: "kb-mcp", arguments: rest, for: "mcp")
    }
  }
}

/// A command's failure for people (exit status 1).
package struct KBFailure: Error, CustomStringConvertible {
  package let description: String
  package init(_ description: String) { self.description = description }
}
