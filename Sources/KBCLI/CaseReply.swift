import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension KBCommand {
  /// `kb case reply`: a help desk's macro. The drafting and the logging are
  /// `Workspace.draftCaseReply` and `Workspace.sendCaseReply` (the MCP tool `case_reply` calls
  /// the same); this command only parses, asks and prints.
  struct CaseReplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reply",
      abstract: "Draft the reply to a case's customer, show it, and on confirmation log it in the journal.",
      discussion: """
        The draft answers the case's complaint with the known fix's customer-facing words (or \
        --answer's, or --text as written). On a terminal it asks before logging; --yes logs without \
        asking; elsewhere without --yes it only shows the draft. The entry is 'acted' when the reply \
        gives a fix, else 'acknowledged', and the status moves as the playbook says (open → \
        acknowledged). Nothing is posted anywhere: send the words yourself.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The case's id.") var id: String
    @Option(help: "Reply with this answer's fix instead of the one found.") var answer: String?
    @Option(help: "Reply with these words instead of a draft.") var text: String?
    @Flag(help: "Edit the draft in $VISUAL or $EDITOR before logging it.") var edit = false
    @Flag(name: .shortAndLong, help: "Log the reply without asking.") var yes = false
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign as \"Name <email>\" (default: the agent identity).", valueName: "author"))
    var author: String?
    @Option(help: "When it was sent (ISO 8601; default: now).") var at: String?

    func validate() throws {
      _ = try parseTime(at, option: "at")
      if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("'--text' is empty.") }
    }

    func run() throws {
      let workspace = try global.open()
      let name = try workspace.agentName(override: author)
      let identity = author.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
      let draft = try workspace.draftCaseReply(caseID: id, answer: answer, text: text, agent: identity)
      var words = draft.text
      if edit { words = try Self.edit(words, in: workspace) }
      let interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0 && !global.json
      var send = yes
      if !global.json { show(draft, words: words) }
      if !send, interactive {
        let prompt = "Log this reply on \(draft.id) as \(name) (\(draft.kind): \(draft.status) → \(draft.nextStatus))? [y/N] "
        FileHandle.standardOutput.write(Data(prompt.utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        send = answer == "y" || answer == "yes"
      }
      var change: CaseChange?
      if send {
        change = try workspace.sendCaseReply(draft, text: words, author: name, at: try parseTime(at, option: "at") ?? Date())
      }
      if global.json {
        struct Result: Encodable {
          var reply: CaseReply
          var text: String
          var logged: CaseChangeJSON?
        }
        try global.output.print(json: Result(reply: draft, text: words, logged: change.map(CaseChangeJSON.init)))
        return
      }
      if let change {
        try KBCommand.report(change, global: global)
      } else {
        print(global.output.dim(interactive ? "Not logged." : "Not logged: pass --yes to log it (kb case reply \(draft.id) --yes)."))
      }
    }

    func show(_ draft: CaseReply, words: String) {
      let output = global.output
      for g in draft.guards { print(output.red("! \(g.kind.rawValue)") + ": " + g.advice) }
      let limit = draft.draft?.limit.map { "/\($0)" } ?? ""
      let about = draft.answer.map { " with the fix \($0)" } ?? ""
      print(output.bold("Reply to \(draft.customer ?? "the customer")") + output.dim(" on \(draft.id)\(about) (\(words.count)\(limit) characters):"))
      print("  " + words)
      for note in draft.notes { print(output.yellow("  ! " + note)) }
    }

    /// The draft in $VISUAL / $EDITOR; the edited words (lines joined) come back.
    static func edit(_ text: String, in workspace: Workspace) throws -> String {
      let env = ProcessInfo.processInfo.environment
      guard let editor = env["VISUAL"].flatMap({ $0.isEmpty ? nil : $0 }) ?? env["EDITOR"].flatMap({ $0.isEmpty ? nil : $0 }) else {
        throw ValidationError("No $EDITOR is set: set EDITOR, or pass the words with --text.")
      }
      let path = workspace.root + "/.kb/reply-\(getpid()).txt"
      try? FileManager.default.createDirectory(atPath: workspace.root + "/.kb", withIntermediateDirectories: true)
      try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", "\(editor) \"$1\"", "editor", path]
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        throw WorkspaceError.invalidInput("The editor exited with status \(process.terminationStatus); nothing was logged (the draft is in \(path)).")
      }
      let edited = try String(contentsOfFile: path, encoding: .utf8)
      try? FileManager.default.removeItem(atPath: path)
      let words = edited.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: " ")
      guard !words.isEmpty else { throw WorkspaceError.invalidInput("The reply is empty: nothing was logged.") }
      return words
    }
  }
}
