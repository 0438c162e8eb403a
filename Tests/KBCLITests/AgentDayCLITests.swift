import ArgumentParser
import Foundation
import Testing

@testable import KBCLI
@testable import KBCore
@testable import KBWorkspace

/// The command line of an agent's day (issue 16): parse-level where it can be, else the built `kb`.
@Suite struct AgentDayParsingTests {
  func parse(_ arguments: [String]) throws -> ParsableCommand {
    try KBCommand.parseAsRoot(KBCommand.normalize(arguments))
  }

  func usageError(_ arguments: [String]) -> String? {
    do {
      var command = try parse(arguments)
      try command.validate()
      return nil
    } catch {
      #expect(KBCommand.exitCode(for: error) == .validationFailure)
      return KBCommand.message(for: error)
    }
  }

  @Test func searchMinusWordExcludesInsteadOfBeingFlags() throws {
    let mesh = try #require(try parse(["search", "wifi", "-mesh"]) as? KBCommand.Search)
    #expect(mesh.terms == ["wifi", "-mesh"])
    let fibre = try #require(try parse(["search", "wifi", "-fibre", "--limit", "3", "--json"]) as? KBCommand.Search)
    #expect(fibre.terms == ["wifi", "-fibre"] && fibre.limit == 3 && fibre.global.json)
    let short = try #require(try parse(["search", "-l", "2", "router", "-hub"]) as? KBCommand.Search)
    #expect(short.terms == ["router", "-hub"] && short.limit == 2)
    // Other commands are left alone.
    #expect(KBCommand.normalize(["case", "log", "x", "-k", "note"]) == ["case", "log", "x", "-k", "note"])
    #expect(usageError(["search", "type:note"])?.contains("type") == true)
  }

  @Test func queueFlagsParseAndConflict() throws {
    let cases = try #require(try parse(["cases", "--view", "mine", "--assignee", "@me", "--waiting", "--at-risk", "--sort", "due"]) as? KBCommand.CasesList)
    #expect(cases.view == "mine" && cases.waiting && cases.atRisk && cases.sort == .due)
    #expect(try cases.flags().assignee == "@me")
    #expect(usageError(["cases", "--assignee", "tina", "--unassigned"]) == "Pass --assignee or --unassigned, not both.")
    #expect(usageError(["cases", "--sort", "size"]) != nil)
    let due = try #require(try parse(["case", "due", "--assignee", "@me"]) as? KBCommand.CaseDue)
    #expect(due.assignee == "@me")
    #expect(try parse(["stats", "--since", "2024-01-01", "--until", "2025-01-01"]) is KBCommand.Stats)
    #expect(try parse(["edit", "--resume"]) is KBCommand.Edit)
    #expect(usageError(["edit"])?.contains("kb edit ID") == true)
    #expect(usageError(["case", "log", "x", "--kind", "pending"])?.contains("Unknown journal kind") == true)
    #expect(usageError(["case", "log", "x", "--kind", "asked", "Order number?"]) == nil)
  }

  @Test func helpTopicsThatDoNotExistAreUsageErrors() {
    #expect(KBCommand.helpTopicProblem(["help", "nonexistent"])?.contains("'nonexistent' is not a kb command") == true)
    #expect(KBCommand.helpTopicProblem(["help", "case", "lgo"])?.contains("not a kb case command") == true)
    #expect(KBCommand.helpTopicProblem(["help", "case", "log"]) == nil)
    #expect(KBCommand.helpTopicProblem(["help"]) == nil)
  }

  @Test func helpTextHasNoDuplicatedDefaultsNoOptionsPlaceholderAndNoHardBreaks() {
    func all(_ command: ParsableCommand.Type) -> [ParsableCommand.Type] {
      [command] + command.configuration.subcommands.flatMap(all)
    }
    for command in all(KBCommand.self) {
      let help = KBCommand.helpMessage(for: command, columns: 200)
      let name = command._commandName
      #expect(!help.contains("<options>"), "\(name): \(help.prefix(300))")
      #expect(help.components(separatedBy: "(default: note)").count <= 2, "\(name)")
      for line in help.split(separator: "\n") {
        #expect(line.components(separatedBy: "(default:").count <= 2, "\(name): \(line)")
      }
      // A discussion is paragraphs: a single line break inside a sentence is a hard break.
      let discussion = command.configuration.discussion
      let single = discussion.replacingOccurrences(of: "\n\n", with: "").contains("\n")
      #expect(!single, "\(name) has a hard line break in its discussion")
    }
    #expect(KBCommand.usageLines(of: KBCommand.Search.self).hasPrefix("Usage: kb search"))
    #expect(KBCommand.path(of: KBCommand.CaseLog.self) == ["case", "log"])
  }

  @Test func suggestHighlightsAreColouredOnATerminalOnly() {
    let snippet = "my **iphone** keeps **texting**"
    let tty = Output(json: false, environment: [:], terminal: true)
    #expect(tty.highlightMarkdown(snippet) == "my \u{1B}[1;33miphone\u{1B}[0m keeps \u{1B}[1;33mtexting\u{1B}[0m")
    #expect(Output(json: false, environment: ["NO_COLOR": "1"], terminal: true).highlightMarkdown(snippet) == snippet)
    #expect(Output(json: false, environment: [:], terminal: false).highlightMarkdown(snippet) == snippet)
  }
}

/// Runs the built `kb` on a knowledge base with a few cases.
@Suite struct AgentDayProcessTests {
  func kb() throws -> KBProcess {
    let kb = try KBProcess()
    try """
      team: Northwind Support
      agents:
        tina: Tina Ng
      views:
        mine: "status:active assignee:@me sort:waiting"
      sla:
        first_response: 30m
        resolution: 2d

      """.write(toFile: kb.root + "/kb.yml", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: kb.root + "/cases/2024/10", withIntermediateDirectories: true)
    try """
      ---
      id: 2024-10-21-router-dead
      type: case
      status: open
      title: "Router dead\\nsince Monday"
      channel: twitter
      customer: '@amy'
      opened: 2024-10-21T06:00:00Z
      assignee: tina
      ---
      > My router is dead

      ## Journal

      """.write(toFile: kb.root + "/cases/2024/10/router-dead.md", atomically: true, encoding: .utf8)
    return kb
  }

  @Test func searchRoughEdges() throws {
    let kb = try kb()
    defer { kb.remove() }
    var r = try kb.run(["search", "iphone", "-router"])
    #expect(r.status == 0 && r.stdout.contains("iphone-sms-repeats") && !r.stdout.contains("USAGE"))
    r = try kb.run(["search", "router", "-dead"])
    #expect(r.status == 1 && r.stdout.contains("No matches"))
    r = try kb.run(["search", "zzzqqq", "--json"])
    #expect(r.status == 1)
    #expect(try r.json()["hits"] as? [Any] != nil)
    r = try kb.run(["search", "*"])
    #expect(r.status == 64 && r.stderr.contains("Usage: kb search") && !r.stderr.contains("Usage: kb <subcommand>"))
    r = try kb.run(["suggest"], stdin: "")
    #expect(r.status == 64 && r.stderr.contains("Usage: kb suggest"))
    r = try kb.run(["help", "nonexistent"])
    #expect(r.status == 64 && r.stderr.contains("not a kb command"))
    r = try kb.run(["search", "text", "--json"])
    let hits = try #require(try r.json()["hits"] as? [[String: Any]])
    #expect(hits.first?["matched"] as? [String] == ["text"])
  }

  @Test func myQueueViewsAndTargets() throws {
    let kb = try kb()
    defer { kb.remove() }
    try "name = Tina Ng\n".write(toFile: kb.root + "/.kb/identity", atomically: true, encoding: .utf8)
    var r = try kb.run(["cases", "--view", "mine"])
    #expect(r.status == 0)
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(lines.first?.contains("Router dead since Monday  open · Tina Ng · @amy · twitter") == true)
    #expect(lines.first?.contains("waiting") == true && lines.first?.contains("SLA breached") == true)
    r = try kb.run(["cases", "--breached", "--json"])
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    #expect(rows.first?["sla_state"] as? String == "breached" && rows.first?["assignee_name"] as? String == "Tina Ng")
    r = try kb.run(["cases", "--unassigned"])
    #expect(r.stdout == "No cases match.\n")
    r = try kb.run(["cases", "--view", "nope"])
    #expect(r.status == 1 && r.stderr.contains("Views: mine"))
    r = try kb.run(["stats", "--json"])
    #expect(try r.json()["service_levels"] != nil && r.json()["customers_helped"] as? Int == 0)
  }

  @Test func shortIdsEverywhereAndDidYouMean() throws {
    let kb = try kb()
    defer { kb.remove() }
    var r = try kb.run(["case", "log", "router-d", "--kind", "acknowledged", "--as", "Tina Ng", "On it", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let entry = try #require(try r.json()["entry"] as? [String: Any])
    let line = try #require(entry["line"] as? Int)
    let file = try String(contentsOfFile: kb.root + "/cases/2024/10/router-dead.md", encoding: .utf8)
    #expect(file.split(separator: "\n", omittingEmptySubsequences: false)[line - 1].contains("· acknowledged · On it"))
    r = try kb.run(["show", "iphone-sms-repaets"])
    #expect(r.status == 1 && r.stderr.contains("Did you mean 'iphone-sms-repeats'?"))
    r = try kb.run(["show", "iphone"])
    #expect(r.status == 0 && r.stdout.contains("answers/iphone-sms-repeats.md"))
    // Completion: the generated script calls kb back, and kb answers with ids.
    r = try kb.run(["--generate-completion-script", "bash"])
    #expect(r.stdout.contains("---completion edit -- positional@0"))
    #expect(r.stdout.contains("'note'") || r.stdout.contains("note"))
    r = try kb.run(["---completion", "edit", "--", "positional@0", "2", "3", "kb", "edit", "ip"])
    #expect(r.stdout == "iphone-sms-repeats\n")
    r = try kb.run(["---completion", "cases", "--", "--view", "2", "0", "kb", "cases", "--view", ""])
    #expect(r.stdout == "mine\n")
  }

  @Test func editAndNewInTheEditor() throws {
    let kb = try kb()
    defer { kb.remove() }
    let path = kb.root + "/answers/iphone-sms-repeats.md"
    let original = try String(contentsOfFile: path, encoding: .utf8)
    // Closed unchanged: nothing written.
    var r = try kb.run(["edit", "iphone"], environment: ["EDITOR": "true"])
    #expect(r.status == 0 && r.stdout.contains("No changes"))
    // Broken: nothing written, the edit kept; --resume reopens it, and a fix saves it.
    // Run by sh, not executed (a child forked meanwhile by another test could hold them open
    // for writing, and executing them would fail with "Text file busy").
    let breaker = kb.root + "/break.sh", fixer = kb.root + "/fix.sh"
    try "#!/bin/sh\nsed -i 's/^title: .*/title: [broken/' \"$1\"\n".write(toFile: breaker, atomically: true, encoding: .utf8)
    try "#!/bin/sh\nsed -i 's/^title: .*/title: Fixed title/' \"$1\"\n".write(toFile: fixer, atomically: true, encoding: .utf8)
    chmod(breaker, 0o755)
    chmod(fixer, 0o755)
    r = try kb.run(["edit", "iphone-sms-repeats"], environment: ["EDITOR": "/bin/sh " + breaker])
    #expect(r.status == 1 && r.stderr.contains("kb edit --resume"))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    r = try kb.run(["edit", "--resume"], environment: ["EDITOR": "/bin/sh " + fixer])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try String(contentsOfFile: path, encoding: .utf8).contains("title: Fixed title"))
    // kb new in the editor: an unchanged template writes nothing; a broken one is kept for --resume.
    r = try kb.run(["new", "answer"], environment: ["EDITOR": "true"])
    #expect(r.status == 1 && r.stderr.contains("Nothing written"))
    #expect(!FileManager.default.fileExists(atPath: kb.root + "/answers/title-of-the-fix.md"))
    r = try kb.run(["new", "answer"], environment: ["EDITOR": "/bin/sh " + breaker])
    #expect(r.status == 1 && r.stderr.contains("kb new answer --resume"))
    r = try kb.run(["new", "answer", "--resume"], environment: ["EDITOR": "/bin/sh " + fixer])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: kb.root + "/answers/fixed-title.md"))
  }

  @Test func cloneOfAMissingPathSaysSo() throws {
    let kb = try kb()
    defer { kb.remove() }
    let r = try kb.run(["clone", "/nonexistent-\(UUID().uuidString).git", kb.root + "/x"])
    #expect(r.status == 1 && r.stderr.contains("no such folder") && !r.stderr.contains("unsupported URL protocol"), "\(r.stderr)")
  }

  @Test func statusJSONIsSnakeCaseWithTheOldKeysKept() throws {
    let kb = try kb()
    defer { kb.remove() }
    _ = try Workspace.setUpGit(at: kb.root)
    let r = try kb.run(["status", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try r.json()
    #expect(json["pending_push"] as? Bool == false && json["pendingPush"] as? Bool == false)
  }
}
