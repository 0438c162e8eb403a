import ArgumentParser
import KBCLI

/// `kb-git`: the commands that touch git, which `kb` runs in its place (GitCommands in KBCLI) so
/// that `kb` itself does not link libgit2. Named `kb` in help and errors: users type `kb sync`.
public struct KBGitCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "kb",
    abstract: "A local-first knowledge base and case journal for support teams (the commands that touch git).",
    version: KBCommand.configuration.version,
    subcommands: [Init.self, Clone.self, Status.self, Sync.self, Conflicts.self, Log.self, MergeDriver.self])

  public init() {}
}
