import Foundation
import KBCLI

// Synchronous: no command of kb's awaits anything, and an async entry point would start the
// concurrency runtime's worker threads in every process (start-up: docs/BENCHMARKS.md).
@main
enum Entry {
  static func main() {
    // The commands that touch git run in kb-git, which links libgit2 (kb does not).
    do {
      try GitCommands.forwardIfNeeded()
    } catch {
      FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
      exit(1)
    }
    KBCommand.main()
  }
}
