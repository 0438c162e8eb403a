import ArgumentParser
import Foundation
import KBWorkspace

/// The `kb` command: a local-first knowledge base and case journal for support teams.
public struct KBCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "kb",
    abstract: "A local-first knowledge base and case journal for support teams.",
    discussion: """
      The knowledge base is found from --kb, then the KB_DIR environment variable, then the \
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
    // Later ones (an index rebuilt in the middle of the command) are shown as they arise.
    workspace.warningHandler = { Output.warn($0) }
    if ProcessInfo.processInfo.environment["KB_INDEX_STATS"] == "1" { IndexStats.report(workspace) }
    return workspace
  }

  package var output: Output { Output(json: json) }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension KBCommand {
  /// `kb`'s entry point: ArgumentParser's, with three differences. A search's `-word` (exclude
  /// a word) is a query term, not a flag (``normalize(_:)``); `kb help NAME` for a command that
  /// does not exist is a usage error; and a usage error found while running a command (a bad
  /// query, no text to suggest for) shows that command's usage line, not the root's.
  public static func main() {
    let arguments = normalize(Array(CommandLine.arguments.dropFirst()))
    if let problem = helpTopicProblem(arguments) {
      FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    var command: ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      exit(withError: error)
    }
    do {
      try command.run()
    } catch let error as ValidationError {
      FileHandle.standardError.write(Data(runUsageMessage(error, command: type(of: command)).utf8))
      Foundation.exit(ExitCode.validationFailure.rawValue)
    } catch {
      exit(withError: error)
    }
  }

  /// What stderr says for a usage error found while `command` ran: the error, then its usage.
  static func runUsageMessage(_ error: ValidationError, command: ParsableCommand.Type) -> String {
    "Error: \(error.message)\n" + usageLines(of: command) + "\n  See 'kb \(path(of: command).joined(separator: " ")) --help'.\n"
  }

  /// A command's usage line(s), as `kb help` prints them: `Usage: kb search …`.
  static func usageLines(of command: ParsableCommand.Type) -> String {
    let help = KBCommand.helpMessage(for: command, columns: 100)
    var lines: [String] = []
    var inUsage = false
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("USAGE:") {
        inUsage = true
        lines.append("Usage:" + line.dropFirst("USAGE:".count))
      } else if inUsage {
        if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
        lines.append(String(line))
      }
    }
    return lines.joined(separator: "\n")
  }

  /// The subcommand names leading to `command` (`["case", "log"]`).
  static func path(of command: ParsableCommand.Type) -> [String] {
    func walk(_ node: ParsableCommand.Type, _ trail: [String]) -> [String]? {
      if ObjectIdentifier(node) == ObjectIdentifier(command) { return trail }
      for sub in node.configuration.subcommands {
        if let found = walk(sub, trail + [sub._commandName]) { return found }
      }
      return nil
    }
    return walk(KBCommand.self, []) ?? [command._commandName]
  }

  /// `kb help a b`: the error when `a b` names no command (nil when it does, or for other input).
  static func helpTopicProblem(_ arguments: [String]) -> String? {
    guard arguments.first == "help" else { return nil }
    var node: ParsableCommand.Type = KBCommand.self
    for word in arguments.dropFirst() where !word.hasPrefix("-") {
      guard let next = node.configuration.subcommands.first(where: { $0._commandName == word }) else {
        let names = node.configuration.subcommands.map { $0._commandName }
        let near = names.filter { $0.hasPrefix(String(word.prefix(2))) }
        let scope = ObjectIdentifier(node) == ObjectIdentifier(KBCommand.self) ? "kb" : "kb " + path(of: node).joined(separator: " ")
        return "'\(word)' is not a \(scope) command."
          + (near.isEmpty ? "" : " Did you mean " + near.map { "'\($0)'" }.joined(separator: " or ") + "?")
          + " See '\(scope) --help' for the list."
      }
      node = next
    }
    return nil
  }

  /// Rewrites the arguments of `kb search` so that a query word starting with `-` (`-mesh`,
  /// `-fibre`: exclude the word) reaches the query instead of being read as flags: the options
  /// `search` knows stay in front, everything else follows a `--`. Other commands are unchanged.
  public static func normalize(_ arguments: [String]) -> [String] {
    guard let at = arguments.firstIndex(of: "search"),
      arguments[..<at].allSatisfy({ $0.hasPrefix("-") }) || at == 0
    else { return arguments }
    let known: Set<String> = ["--json", "-h", "--help", "--version"]
    let withValue: Set<String> = ["--limit", "-l", "--kb"]
    var options: [String] = []
    var terms: [String] = []
    var i = at + 1
    while i < arguments.count {
      let a = arguments[i]
      if a == "--" {
        terms += arguments[(i + 1)...]
        break
      }
      if known.contains(a) || withValue.contains(where: { a.hasPrefix($0 + "=") }) {
        options.append(a)
      } else if withValue.contains(a) {
        options.append(a)
        if i + 1 < arguments.count {
          options.append(arguments[i + 1])
          i += 1
        }
      } else if a.hasPrefix("-l"), a.count > 2, Int(a.dropFirst(2)) != nil {
        options.append(a)  // -l5
      } else {
        terms.append(a)
      }
      i += 1
    }
    guard terms.contains(where: { $0.hasPrefix("-") }) else { return arguments }
    return Array(arguments[...at]) + options + ["--"] + terms
  }
}

/// `KB_INDEX_STATS=1`: on exit, stderr says how many index pages the command looked up
/// (`index pages: N`), a count of its work that a busy machine does not change.
enum IndexStats {
  nonisolated(unsafe) private static var workspace: Workspace?

  static func report(_ workspace: Workspace) {
    let first = Self.workspace == nil
    Self.workspace = workspace
    guard first else { return }
    atexit {
      guard let workspace = IndexStats.workspace else { return }
      FileHandle.standardError.write(Data("index pages: \(workspace.indexPagesTouched)\n".utf8))
    }
  }
}
