import Foundation
import KBCLI

@main
enum Entry {
  static func main() async {
    // The commands that touch git run in kb-git, which links libgit2 (kb does not).
    do {
      try GitCommands.forwardIfNeeded()
    } catch {
      FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
      exit(1)
    }
    await KBCommand.main()
  }
}
