import ArgumentParser
import Testing

@testable import KBCLI
@testable import KBCLIGit

/// Commands checked at parse level, without a process (argument-parser's own style): what each
/// flag becomes, and the usage errors (exit 64) with their messages.
@Suite struct ParseTests {
  func usageError(_ arguments: [String]) -> String? {
    do {
      _ = try KBCommand.parseAsRoot(arguments)
      return nil
    } catch {
      #expect(KBCommand.exitCode(for: error) == .validationFailure, "\(arguments)")
      return KBCommand.message(for: error)
    }
  }

  /// Start-up: a command without an explicit name makes argument-parser derive it with
  /// `String(describing:)`, a runtime reflection that costs every `kb` process (even
  /// `kb --version`) a scan of all protocol conformances. Every command names itself.
  @Test func everyCommandNamesItself() {
    var unnamed: [String] = []
    func walk(_ command: ParsableCommand.Type) {
      if command.configuration.commandName == nil { unnamed.append("\(command)") }
      for sub in command.configuration.subcommands { walk(sub) }
    }
    walk(KBCommand.self)
    walk(KBGitCommand.self)
    #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
  }

  @Test func searchAndListValidateTheirFlags() throws {
    #expect(usageError(["search"]) == "Please provide at least one search term.")
    #expect(usageError(["search", "--limit", "0", "x"]) == "'--limit' must be at least 1.")
    #expect(usageError(["list", "--limit", "0"]) == "'--limit' must be at least 1.")
    #expect(usageError(["list", "--type", "memo"]) != nil)
    // `kb log` parses in kb-git (kb hands the git commands over before parsing).
    do {
      _ = try KBGitCommand.parseAsRoot(["log", "--limit", "0"])
      Issue.record("kb log --limit 0 parsed")
    } catch {
      #expect(KBGitCommand.message(for: error) == "'--limit' must be at least 1.")
    }
    let search = try #require(try KBCommand.parseAsRoot(["search", "--kb", "k", "-l", "3", "text", "repeats"]) as? KBCommand.Search)
    #expect(search.terms == ["text", "repeats"] && search.limit == 3 && search.global.kb == "k")
    let list = try #require(try KBCommand.parseAsRoot(["list", "--type", "case", "--status", "open", "--tag", "sms"]) as? KBCommand.List)
    #expect(list.type == .case && list.status == .open && list.tag == "sms")
  }

  @Test func aTimeFlagIsCheckedOneWay() {
    // `kb case open --at` and `kb new case --at` share one check and one message.
    let message = "'--at yesterday' is not a time; use ISO 8601 such as 2024-10-20T16:05:00Z."
    #expect(usageError(["case", "open", "--at", "yesterday", "it loops"]) == message)
    #expect(usageError(["new", "case", "--at", "yesterday", "--text", "it loops"]) == message)
  }

  @Test func suggestValidatesItsFlags() throws {
    #expect(usageError(["suggest", "--limit", "0", "x"]) == "'--limit' must be between 1 and 100.")
    #expect(usageError(["suggest", "--jsonl", "x"]) == "--jsonl reads stdin; do not also pass TEXT.")
    #expect(usageError(["suggest", "--as", "  ", "x"])?.contains("is not an identity") == true)
    #expect(usageError(["suggest", "--ranker", "magic", "x"]) != nil)
    let suggest = try #require(try KBCommand.parseAsRoot(["suggest", "--ranker", "bm25", "--channel", "x", "hi"]) as? KBCommand.Suggest)
    #expect(suggest.ranker == .bm25 && suggest.channel == "x" && suggest.text == ["hi"])
    #expect((try KBCommand.parseAsRoot(["suggest", "--parameters"]) as? KBCommand.Suggest)?.parameters == true)
  }

  @Test func mcpChecksTheIdentity() {
    #expect(usageError(["mcp", "--as", "Bot · One"])?.contains("cannot contain '·'") == true)
    #expect(usageError(["mcp", "--as", ""])?.contains("is not an identity") == true)
  }

  @Test func syncAndCloneParse() throws {
    // The git commands parse in kb-git (kb hands them over before parsing: GitCommands).
    let sync = try #require(try KBGitCommand.parseAsRoot(["sync", "--wait", "2.5", "--json"]) as? KBGitCommand.Sync)
    #expect(sync.wait == 2.5 && sync.global.json)
    let clone = try #require(try KBGitCommand.parseAsRoot(["clone", "git@host:team/kb.git"]) as? KBGitCommand.Clone)
    #expect(clone.url == "git@host:team/kb.git" && clone.folder == nil)
  }
}
