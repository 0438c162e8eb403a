import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The commands that touch git run in the `kb-git` executable installed beside `kb`, which
/// links libgit2; `kb` itself does not, so that every other command (search, show, list,
/// suggest, case commands, check, index) starts without loading libgit2 and the fifteen
/// libraries behind it (TLS, SSH, Kerberos, …). As `kb mcp` runs `kb-mcp` (docs/ARCHITECTURE.md).
public enum GitCommands {
  /// The command names that `kb` hands to `kb-git`, with their one-line help for `kb --help`.
  public static let names: [(name: String, abstract: String)] = [
    ("init", "Make a folder a knowledge base (kb.yml, answers/, cases/, .gitignore, a git repository)."),
    ("clone", "Clone a team's knowledge base from a git remote and index it."),
    ("status", "Show local changes, commits ahead and behind the remote, the last sync and the file watcher."),
    ("sync", "Commit local changes, merge the team's changes and push (see docs/SYNC.md)."),
    ("conflicts", "List documents with merge conflicts to settle, and what conflicts in each."),
    ("log", "Show the history of the knowledge base or of one document."),
    ("merge-driver", "git's merge driver for documents (merge.kb.driver = kb merge-driver %O %A %B %P)."),
  ]

  /// When `arguments` name a git command (`kb sync …`, or `kb help sync`), replaces this process
  /// with `kb-git` and the same arguments; returns otherwise (or throws when `kb-git` is missing).
  public static func forwardIfNeeded(_ arguments: [String] = CommandLine.arguments) throws {
    guard arguments.count >= 2 else { return }
    let command = arguments[1] == "help" && arguments.count >= 3 ? arguments[2] : arguments[1]
    guard names.contains(where: { $0.name == command }) else { return }
    try exec(sibling: "kb-git", arguments: Array(arguments.dropFirst()), for: command)
  }

  /// Runs the executable `name` beside this one in this process's place.
  package static func exec(sibling name: String, arguments: [String], for command: String) throws -> Never {
    let path = siblingPath(name)
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw KBFailure(
        "kb \(command) needs the \(name) executable beside kb (\(path)); build it with 'swift build --product \(name)' (add -c release for a release build).")
    }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    execv(path, argv)
    throw KBFailure("could not start \(path): \(String(cString: strerror(errno)))")
  }

  package static func siblingPath(_ name: String) -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
  }
}

extension KBCommand {
  /// `kb <git command>` in `kb --help`; `GitCommands.forwardIfNeeded` runs `kb-git` before
  /// this is ever parsed, and `run` does the same should it be reached.
  struct GitProxy<Name: GitCommandName>: ParsableCommand {
    static var configuration: CommandConfiguration {
      let entry = GitCommands.names.first { $0.name == Name.name }!
      return CommandConfiguration(commandName: Name.name, abstract: entry.abstract)
    }
    @Argument(parsing: .captureForPassthrough) var rest: [String] = []

    func run() throws {
      try GitCommands.exec(sibling: "kb-git", arguments: [Name.name] + rest, for: Name.name)
    }
  }
}

protocol GitCommandName { static var name: String { get } }
enum InitName: GitCommandName { static let name = "init" }
enum CloneName: GitCommandName { static let name = "clone" }
enum StatusName: GitCommandName { static let name = "status" }
enum SyncName: GitCommandName { static let name = "sync" }
enum ConflictsName: GitCommandName { static let name = "conflicts" }
enum LogName: GitCommandName { static let name = "log" }
enum MergeDriverName: GitCommandName { static let name = "merge-driver" }
