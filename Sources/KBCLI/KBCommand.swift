import ArgumentParser
import Foundation
import KBWorkspace

/// The `kb` command: a local-first knowledge base and case journal for support teams.
public struct KBCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "kb",
    abstract: "A local-first knowledge base and case journal for support teams.",
    discussion: """
      The knowledge base is found from --kb, then the KB_DIR environment variable, then the
      nearest parent folder with a kb.yml. Every command takes --json for scripts.
      """,
    version: "0.1.0",
    subcommands: KBCommand.allSubcommands)

  public init() {}
}

/// Options every command takes.
public struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The knowledge base folder.", valueName: "folder"))
  public var kb: String?

  @Flag(name: .long, help: "Print JSON for scripts (see docs/CLI.md).")
  public var json = false

  public init() {}

  /// Opens the knowledge base and brings its index up to date, printing any warnings and
  /// progress on stderr (progress only on a terminal, never with --json).
  public func open(refresh: Bool = true) throws -> Workspace {
    let root = try Workspace.locate(explicit: kb)
    let workspace = try Workspace(root: root)
    if refresh {
      let progress = Progress(label: "Indexing", enabled: !json)
      try workspace.refresh(progress: progress.callback)
      progress.finish()
    }
    for warning in workspace.warnings { Output.warn(warning) }
    return workspace
  }

  package var output: Output { Output(json: json) }
}
