import ArgumentParser
import Foundation
import KBCore
import KBStore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

extension KBCommand {
  struct Suggest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Suggest known fixes for a customer's mention, with a reply draft.",
      discussion: """
        The mention is the TEXT argument, or JSON on stdin (a plain object with "text", an X API v2
        response, or a Mastodon status). With --jsonl, every stdin line is one such JSON payload and
        every result is printed as one JSON line, in order, as soon as it is ready; a bad line gets
        {"line": N, "error": "..."} and the stream goes on.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The customer's words (omit to read JSON or text from stdin).") var text: [String] = []
    @Flag(help: "Read JSON lines on stdin; print one JSON result per line.") var jsonl = false
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign the reply as this agent.", valueName: "Name <email>"))
    var agent: String?
    @Option(help: "The channel the reply goes to (twitter, x, mastodon, …): sets the length limit.") var channel: String?
    @Option(name: .shortAndLong, help: "How many answers to show.") var limit = 3
    @Option(help: ArgumentHelp("full (default) or bm25 (plain FTS5 ranking, for evaluation).", valueName: "ranker"))
    var ranker: Suggester.Ranker = .full

    func validate() throws {
      guard limit > 0, limit <= 100 else { throw ValidationError("'--limit' must be between 1 and 100.") }
      if let agent, Identity(parsing: agent) == nil {
        throw ValidationError("'--as \(agent)' is not an identity; use \"Name <email>\" or a name.")
      }
      if jsonl, !text.isEmpty { throw ValidationError("--jsonl reads stdin; do not also pass TEXT.") }
    }

    func run() async throws {
      let workspace = try global.open()
      let identity = agent.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
      let options = SuggestOptions(limit: limit, channel: channel, agent: identity, ranker: ranker)
      let templates = workspace.replyTemplates()
      if jsonl {
        try stream(workspace, options, templates)
        return
      }
      var mentions: [Mention]
      if !text.isEmpty {
        mentions = [Mention(text: text.joined(separator: " "))]
      } else {
        let input = readAllStandardInput()
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
          throw ValidationError("Nothing to suggest for: pass the customer's words, or JSON on stdin.")
        }
        if let first = trimmed.first, first == "{" || first == "[" {
          do {
            mentions = try Mention.parse(json: Data(trimmed.utf8))
          } catch {
            throw ValidationError("stdin: \(error.description)")
          }
        } else {
          mentions = [Mention(text: trimmed)]
        }
      }
      guard !mentions.isEmpty else { throw ValidationError("The JSON on stdin holds no mention.") }
      let results = try mentions.map { try workspace.suggest($0, options: options, templates: templates) }
      if global.json {
        if results.count == 1 { try global.output.print(json: results[0]) } else { try global.output.print(json: results) }
        return
      }
      for (i, result) in results.enumerated() {
        if i > 0 { print("") }
        printHuman(result, output: global.output)
      }
    }

    /// One result line per input line, flushed at once.
    func stream(_ workspace: Workspace, _ options: SuggestOptions, _ templates: ReplyTemplates) throws {
      let out = FileHandle.standardOutput
      // One model for the whole stream: the index does not change under it.
      let suggester = try workspace.suggester()
      var number = 0
      while let line = readLine(strippingNewline: true) {
        number += 1
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { continue }
        var lines: [String] = []
        do {
          let mentions = try Mention.parse(json: Data(trimmed.utf8))
          if mentions.isEmpty { throw MentionError("no mention in this line") }
          for mention in mentions {
            var result = try workspace.suggest(mention, options: options, templates: templates, using: suggester)
            result.line = number
            lines.append(try Output.encode(result, pretty: false))
          }
        } catch {
          struct LineError: Encodable { var line: Int; var error: String }
          let message = (error as? CustomStringConvertible)?.description ?? "\(error)"
          lines = [try Output.encode(LineError(line: number, error: message), pretty: false)]
        }
        out.write(Data((lines.joined(separator: "\n") + "\n").utf8))
      }
    }

    func printHuman(_ r: SuggestionResult, output: Output) {
      let verdict = r.verdict == .knownFix ? output.green(r.message) : output.yellow(r.message)
      print(verdict)
      for g in r.guards {
        print(output.red("! \(g.kind.rawValue)") + ": " + g.advice)
      }
      for (i, s) in r.suggestions.enumerated() {
        print("")
        print("\(i + 1). \(output.bold(s.id))  \(s.title)  " + output.dim("[\(s.confidence.rawValue), \(String(format: "%.2f", s.score))]"))
        if !s.matched.isEmpty { print("   " + output.dim("matched: " + s.matched.joined(separator: ", "))) }
        if !s.snippet.isEmpty {
          print("   " + s.snippet)
        }
        if s.evidence.cases > 0 {
          print("   " + output.dim("\(s.evidence.cases) case(s); fix held \(s.evidence.held)×, did not hold \(s.evidence.failed)×"))
        }
        for (n, step) in s.fix.enumerated() { print("   \(n + 1). \(step)") }
      }
      print("")
      if let reply = r.reply {
        let limit = reply.limit.map { "/\($0)" } ?? ""
        print(output.bold("Reply draft") + output.dim(" (\(reply.length)\(limit) characters)") + ":")
        print("  " + reply.text)
      } else {
        print(output.dim("No public reply drafted (see the warnings above)."))
      }
    }
  }
}

extension Suggester.Ranker: ExpressibleByArgument {}
