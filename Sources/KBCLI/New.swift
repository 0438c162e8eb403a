import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

extension KBCommand {
  struct New: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create an answer or a case, from flags or in $EDITOR.",
      subcommands: [NewAnswer.self, NewCase.self])
  }

  struct NewAnswer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "answer",
      abstract: "Create a troubleshooting answer.",
      discussion: "Without --title, opens $EDITOR on a template; the file is written only if it parses.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The answer's title.") var title: String?
    @Option(help: "The id (default: from the title).") var id: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Option(name: .customLong("symptom"), help: "A symptom in the customer's words (repeatable).") var symptoms: [String] = []
    @Option(name: .customLong("product"), help: "A product (repeatable).") var products: [String] = []
    @Option(help: "The Markdown body (the fix). '-' reads it from standard input.") var body: String?
    @Option(name: .customLong("as"), help: "Author name (default: git config user.name).") var author: String?

    func run() async throws {
      let workspace = try global.open()
      let who = author ?? Identity.current(in: workspace.root)?.name
      var document: Document
      if let title {
        let text = body == "-" ? readAllStandardInput() : body
        document = try workspace.newAnswer(
          title: title, id: id, tags: tags, symptoms: symptoms, products: products, body: text, author: who)
      } else {
        let template = try workspace.newAnswer(
          title: "Title of the fix", id: id ?? "new-answer", tags: tags, symptoms: symptoms.isEmpty ? ["what the customer says"] : symptoms,
          products: products, body: "## Fix\n1. First step.\n", author: who)
        document = try Editor.edit(template, in: workspace)
        if id == nil, document.id == "new-answer" {
          let slug = Document.slug(document.title)
          document.edit { $0.set("id", to: slug) }
        }
        document.path = "answers/\(document.id).md"
      }
      try workspace.withWriteLock { try workspace.write(document, creating: true) }
      try report(document, global: global)
    }
  }

  struct NewCase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "case",
      abstract: "Create a customer case from a complaint.",
      discussion: "Without --text, opens $EDITOR on a template.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The customer's words.") var text: String?
    @Option(help: "The customer's handle, such as @stevebuttry.") var customer: String?
    @Option(help: "Where it came from: twitter, mastodon, email, ….") var channel: String?
    @Option(help: "A link to the original post.") var url: String?
    @Option(help: "When it was posted (ISO 8601; default: now).") var at: String?
    @Option(help: "The agent who owns it.") var assignee: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Option(help: "The id (default: date and words of the complaint).") var id: String?

    func validate() throws {
      if let at, Timestamp.parse(at) == nil {
        throw ValidationError("'--at \(at)' is not a time; use ISO 8601 such as 2024-10-20T16:05:00Z.")
      }
    }

    func run() async throws {
      let workspace = try global.open()
      let opened = at.flatMap(Timestamp.parse) ?? Date()
      var document = try workspace.newCase(
        complaint: text ?? "What the customer wrote.", id: id, customer: customer, channel: channel, source: url,
        opened: opened, assignee: assignee, tags: tags)
      if text == nil {
        let path = document.path
        document = try Editor.edit(document, in: workspace)
        document.path = path
      }
      try workspace.withWriteLock { try workspace.write(document, creating: true) }
      try report(document, global: global)
    }
  }

  static func report(_ document: Document, global: GlobalOptions) throws {
    if global.json {
      try global.output.print(json: DocumentJSON(document))
    } else {
      print("Created \(document.type.rawValue) \(global.output.bold(document.id)) (\(document.path))")
    }
  }
}

/// Reads all of standard input as UTF-8.
func readAllStandardInput() -> String {
  String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
}

/// Opens `$VISUAL` or `$EDITOR` on a draft and parses the result.
enum Editor {
  static func edit(_ document: Document, in workspace: Workspace) throws -> Document {
    let env = ProcessInfo.processInfo.environment
    guard let editor = env["VISUAL"].flatMap({ $0.isEmpty ? nil : $0 }) ?? env["EDITOR"].flatMap({ $0.isEmpty ? nil : $0 }) else {
      throw ValidationError("No $EDITOR is set: pass the fields as flags (see --help) or set EDITOR.")
    }
    let draft = workspace.root + "/.kb/draft-\(getpid()).md"
    try Data(document.text.utf8).write(to: URL(fileURLWithPath: draft))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "\(editor) \"$1\"", "editor", draft]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw WorkspaceError.invalidInput("The editor exited with status \(process.terminationStatus); the draft is kept in \(draft).")
    }
    let text = try String(contentsOfFile: draft, encoding: .utf8)
    do {
      let edited = try Document(path: document.path, text: text)
      try? FileManager.default.removeItem(atPath: draft)
      return edited
    } catch {
      throw WorkspaceError.invalidDocument(
        path: draft, line: error.line, reason: "\(error.description). Your draft is kept there; fix it and run again.")
    }
  }
}
