import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

extension KBCommand {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an answer or a case.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The document's id.") var id: String

    func run() throws {
      let workspace = try global.open()
      let document = try workspace.document(id: id)
      let output = global.output
      if global.json {
        try output.print(json: DocumentJSON(document))
      } else {
        print(output.dim("# \(document.path)"))
        print(document.text, terminator: document.text.hasSuffix("\n") ? "" : "\n")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List answers and cases, with filters.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "answer or case.") var type: DocumentType?
    @Option(help: "Case status: open, acknowledged, offline, escalated, resolved, closed.") var status: CaseStatus?
    @Option(help: "Only documents with this tag.") var tag: String?
    @Option(help: "Only cases assigned to this agent.") var assignee: String?
    @Option(help: "Only cases from this channel.") var channel: String?
    @Option(name: .shortAndLong, help: "Maximum number of documents.") var limit: Int?

    func validate() throws {
      if let limit, limit < 1 { throw ValidationError("'--limit' must be at least 1.") }
    }

    func run() throws {
      let workspace = try global.open()
      let filter = DocumentFilter(type: type, status: status, tag: tag, assignee: assignee, channel: channel)
      let documents = try workspace.list(filter, limit: limit)
      let output = global.output
      if global.json {
        try output.print(json: documents)
        return
      }
      if documents.isEmpty { print("No documents match."); return }
      for d in documents {
        let detail = d.type == .case
          ? [d.status, d.assignee.map { "@\($0)" }, d.customer].compactMap { $0 }.joined(separator: " · ")
          : d.tags.joined(separator: ", ")
        print("\(output.bold(d.id))  \(d.title)\(detail.isEmpty ? "" : "  " + output.dim(detail))")
      }
    }
  }

  struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "search",
      abstract: "Search answers and cases.",
      discussion: """
        Words match their stems (porter). "Quoted phrases" match in order, prefix* matches the \
        start of words, -word excludes a word. Filters: type:answer|case status:open tag:iphone \
        assignee:tina channel:twitter customer:@handle. Documents with every word come first, \
        then documents with most of them. Exits 1 when nothing matches (with or without --json).
        """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Maximum number of results.") var limit = 10
    @Argument(help: "The query.") var terms: [String] = []

    func validate() throws {
      guard !terms.isEmpty else { throw ValidationError("Please provide at least one search term.") }
      guard limit > 0 else { throw ValidationError("'--limit' must be at least 1.") }
      // A bad filter or an empty query is a usage error, found before the index is opened.
      do {
        let query = try SearchQuery(parsing: terms.joined(separator: " "))
        guard query.hasText || !query.filters.isEmpty else {
          throw QueryError("Nothing to search for in '\(terms.joined(separator: " "))'. Type words, \"a phrase\", prefix*, or filters such as type:answer.")
        }
      } catch let error as QueryError {
        throw ValidationError(error.message)
      }
    }

    func run() throws {
      let workspace = try global.open()
      let result: SearchResult
      do {
        result = try workspace.search(terms.joined(separator: " "), limit: limit)
      } catch let error as QueryError {
        throw ValidationError(error.message)
      }
      let output = global.output
      if global.json {
        try output.print(json: result.markdown)
        // The same rule with and without --json: nothing found is exit 1.
        if result.hits.isEmpty { throw ExitCode.failure }
        return
      }
      guard !result.hits.isEmpty else {
        print("No matches for '\(result.query)'.")
        throw ExitCode.failure
      }
      if result.match == .any { print(output.dim("No document has every word; best matches on most of them:")) }
      let all = Set(result.hits.first?.matched ?? [])
      for hit in result.hits {
        let kind = hit.type == .answer ? output.green("answer") : output.cyan("case \(hit.status ?? "")")
        var line = "\(output.bold(hit.id))  \(CaseRow.oneLine(hit.title))  \(output.dim("[") + kind + output.dim("]"))"
        if let matched = hit.matched, result.match == .all, matched.count < all.count {
          line += "  " + output.dim("(without: " + all.subtracting(matched).sorted().joined(separator: ", ") + ")")
        }
        print(line)
        if !hit.snippet.isEmpty { print("    " + output.highlight(hit.snippet)) }
      }
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Check the knowledge base: front matter, duplicate ids, broken links, journal lines.",
      discussion: "Prints problems as path:line: severity: message and exits 1 when there are any.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
      let workspace = try global.open(refresh: false)
      let report = try workspace.checkReport()
      let diagnostics = report.problems
      if global.json {
        try global.output.print(json: report)
      } else {
        for d in diagnostics { print(d.description) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        print(diagnostics.isEmpty
          ? "\(report.documents) documents, no problems."
          : "\(report.documents) documents indexed; \(errors) error(s), \(warnings) warning(s).")
      }
      if !report.ok { throw ExitCode.failure }
    }
  }

  struct Index: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "index",
      abstract: "Bring the index up to date and show its counts.",
      discussion: "The index (.kb/index.sqlite) is derived from the files; --rebuild starts it over.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Delete the index and build it again from the files.") var rebuild = false
    @Flag(help: "Save the suggestion model of today's documents (the changes since it was saved folded in).")
    var model = false
    @Flag(help: .hidden) var background = false

    func run() throws {
      let workspace = try global.open(refresh: false)
      if background {
        // Started by a command that found many changes since the saved model: bring the index
        // up to date, save the model at low priority, say nothing.
        _ = try workspace.refresh()
        try workspace.saveSuggestionModel(background: true)
        return
      }
      let progress = Progress(label: rebuild ? "Rebuilding" : "Indexing", enabled: !global.json)
      let summary = try workspace.index(rebuild: rebuild, progress: progress.callback)
      progress.finish()
      if rebuild {
        // A rebuild starts everything over, the suggestion model too (built now, not by the
        // first `kb suggest`).
        let stage = Stage(enabled: !global.json)
        try workspace.rebuildSuggestionModel(progress: stage.callback)
        stage.finish()
      } else if model {
        let stage = Stage(enabled: !global.json)
        try workspace.saveSuggestionModel(progress: stage.callback)
        stage.finish()
      }
      if global.json {
        try global.output.print(json: summary)
        return
      }
      let output = global.output
      print("\(output.bold("\(summary.documents)")) documents: \(summary.answers) answers, \(summary.cases) cases")
      let verb = summary.rebuilt ? "rebuilt" : "updated"
      if summary.changed > 0 || summary.rebuilt {
        print("Index \(verb) in \(String(format: "%.2f", summary.seconds)) s: \(summary.added) added, \(summary.updated) changed, \(summary.removed) removed.")
      } else {
        print("Index is up to date.")
      }
      if summary.skipped > 0 {
        print(output.yellow("\(summary.skipped) file(s) skipped:"))
        for p in summary.problems {
          print("  \(p.path)\(p.line.map { ":\($0)" } ?? ""): \(p.message)")
        }
      }
    }
  }
}

extension DocumentType: ExpressibleByArgument {}
extension CaseStatus: ExpressibleByArgument {}
