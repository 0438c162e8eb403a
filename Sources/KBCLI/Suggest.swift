import ArgumentParser
import Foundation
import KBCore
import KBRank
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

extension KBCommand {
  struct Suggest: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "suggest",
      abstract: "Suggest known fixes for a customer's mention, with a reply draft.",
      discussion: """
        The mention is the TEXT argument, or JSON on stdin (a plain object with "text", an X API v2 \
        response, or a Mastodon status). With --jsonl, every stdin line is one such JSON payload and \
        every result is printed as one JSON line, in order, as soon as it is ready; a bad line gets \
        {"line": N, "error": "..."} and the stream goes on.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The customer's words (omit to read JSON or text from stdin).") var text: [String] = []
    @Flag(help: "Read JSON lines on stdin; print one JSON result per line.") var jsonl = false
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign the reply as this agent.", valueName: "Name <email>"))
    var agent: String?
    @Option(help: "The channel the reply goes to (twitter, x, mastodon, …): sets the length limit.") var channel: String?
    @Option(help: "With TEXT: the customer's handle, such as @stevebuttry (the reply starts with it).") var customer: String?
    @Option(name: .shortAndLong, help: "How many answers to show.") var limit = 3
    @Option(help: ArgumentHelp("full (default) or bm25 (plain FTS5 ranking, for evaluation).", valueName: "ranker"))
    var ranker: Ranker = .full
    @Flag(help: "Print the ranking parameters (docs/RANKING.md) as JSON and exit.") var parameters = false

    func validate() throws {
      guard limit > 0, limit <= 100 else { throw ValidationError("'--limit' must be between 1 and 100.") }
      if let agent, Identity(parsing: agent) == nil {
        throw ValidationError("'--as \(agent)' is not an identity; use \"Name <email>\" or a name.")
      }
      if jsonl, !text.isEmpty { throw ValidationError("--jsonl reads stdin; do not also pass TEXT.") }
    }

    func run() throws {
      if parameters {
        print(try Output.encode(RankingParameters.shipped))
        return
      }
      let workspace = try global.open()
      let identity = agent.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
      let options = SuggestOptions(limit: limit, channel: channel, agent: identity, ranker: ranker)
      let templates = workspace.replyTemplates(warn: { Output.warn($0) })
      // Building the model takes a while on a large knowledge base: say what it is doing (on a
      // terminal, never with --json or --jsonl); then the suggestions below reuse it.
      let stage = Stage(enabled: !global.json && !jsonl)
      _ = try workspace.suggester(progress: stage.callback)
      stage.finish()
      if jsonl {
        try stream(workspace, options, templates)
        return
      }
      var mentions: [Mention]
      if !text.isEmpty {
        mentions = [Mention.plain(text.joined(separator: " "), author: customer)]
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
          mentions = [Mention.plain(trimmed, author: customer)]
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

    /// One result line per input line, in order. Whatever complete lines one read of stdin
    /// brings are worked on in parallel (a live feed: one line at a time, answered at once; a
    /// file: many lines per read, on every core), and their results written before reading on.
    func stream(_ workspace: Workspace, _ options: SuggestOptions, _ templates: ReplyTemplates) throws {
      // A live feed runs for hours while teammates sync: at most once a second, before a batch,
      // the index is brought up to date and the model with it (the saved model plus the
      // documents changed since: a fraction of a second, not a rebuild).
      var suggester = try workspace.suggester()
      var checked = ContinuousClock.now
      var reader = LineReader(fd: 0)
      var number = 0
      while let batch = reader.nextLines() {
        if ContinuousClock.now - checked >= .seconds(1) {
          _ = try workspace.refresh()
          suggester = try workspace.suggester()
          checked = ContinuousClock.now
        }
        var jobs: [(line: Int, text: String)] = []
        for raw in batch {
          number += 1
          let text = raw.trimmingCharacters(in: .whitespaces)
          if !text.isEmpty { jobs.append((number, text)) }
        }
        guard !jobs.isEmpty else { continue }
        let work = jobs
        let model = suggester
        let results = OrderedResults(count: work.count)
        DispatchQueue.concurrentPerform(iterations: work.count) { i in
          results.set(i, Self.answer(work[i].text, line: work[i].line, workspace, options, templates, model))
        }
        var text = results.joined()
        text.append("\n")
        var offset = 0
        let bytes = Array(text.utf8)
        while offset < bytes.count {
          let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
          if n <= 0 {
            if errno == EINTR { continue }
            throw ExitCode.failure  // stdout closed: nobody is reading.
          }
          offset += n
        }
      }
    }

    /// The JSON line(s) for one input line: its results, or its error.
    static func answer(
      _ text: String, line: Int, _ workspace: Workspace, _ options: SuggestOptions, _ templates: ReplyTemplates,
      _ suggester: Suggester
    ) -> String {
      struct LineError: Encodable { var line: Int; var error: String }
      do {
        let mentions = try Mention.parse(json: Data(text.utf8))
        if mentions.isEmpty { throw MentionError("no mention in this line") }
        var lines: [String] = []
        for mention in mentions {
          var result = try workspace.suggest(mention, options: options, templates: templates, using: suggester)
          result.line = line
          lines.append(try Output.encode(result, pretty: false))
        }
        return lines.joined(separator: "\n")
      } catch {
        let message = "\(error)"
        return (try? Output.encode(LineError(line: line, error: message), pretty: false))
          ?? #"{"error":"could not encode the result","line":\#(line)}"#
      }
    }

    func printHuman(_ r: SuggestionResult, output: Output) {
      let verdict = r.verdict == .knownFix ? output.green(r.message) : output.yellow(r.message)
      print(verdict)
      if r.verdict == .ownAccount { return }
      for g in r.guards {
        print(output.red("! \(g.kind.rawValue)") + ": " + g.advice)
      }
      for (i, s) in r.suggestions.enumerated() {
        print("")
        print("\(i + 1). \(output.bold(s.id))  \(s.title)  " + output.dim("[\(s.confidence.rawValue), \(String(format: "%.2f", s.score))]"))
        if s.conflicted == true {
          print("   " + output.yellow("conflicted: two versions are kept in it; settle with 'kb conflicts \(s.id) --take ours|theirs|both'"))
        }
        if !s.matched.isEmpty { print("   " + output.dim("matched: " + s.matched.joined(separator: ", "))) }
        if !s.snippet.isEmpty {
          print("   " + output.highlightMarkdown(s.snippet))
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
        if let note = reply.note { print(output.yellow("  ! " + note)) }
      } else {
        print(output.dim("No public reply drafted (see the warnings above)."))
      }
    }
  }
}

extension Ranker: ExpressibleByArgument {}

/// Results filled in by parallel workers, read in order.
private final class OrderedResults: @unchecked Sendable {
  private var items: [String]
  private let lock = NSLock()
  init(count: Int) { items = Array(repeating: "", count: count) }
  func set(_ i: Int, _ value: String) { lock.withLock { items[i] = value } }
  func joined() -> String { lock.withLock { items.joined(separator: "\n") } }
}

/// Reads a file descriptor in chunks and hands out the complete lines each read brought.
struct LineReader {
  let fd: Int32
  private var pending: [UInt8] = []
  private var done = false

  init(fd: Int32) { self.fd = fd }

  /// The next complete lines (at least one), or nil at the end of input. A last line without
  /// a newline is returned at the end.
  mutating func nextLines() -> [String]? {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      if let lastNewline = pending.lastIndex(of: 10) {
        let chunk = pending[..<lastNewline]
        pending.removeSubrange(...lastNewline)
        return chunk.split(separator: 10, omittingEmptySubsequences: false).map {
          String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self)
        }
      }
      if done {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return [String(decoding: pending, as: UTF8.self)]
      }
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 { done = true } else { pending.append(contentsOf: buffer[0..<n]) }
    }
  }
}
