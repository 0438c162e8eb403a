import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

extension KBCommand {
  struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "new",
      abstract: "Create an answer or a case, from flags or in $EDITOR.",
      subcommands: [NewAnswer.self, NewCase.self])
  }

  struct NewAnswer: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "answer",
      abstract: "Create a troubleshooting answer.",
      discussion: """
        Without --title, opens $VISUAL or $EDITOR on a template. Closing the editor without \
        changing the template writes nothing (exit 1); a draft that does not parse is kept in \
        .kb/drafts/ and 'kb new answer --resume' opens it again.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The answer's title.") var title: String?
    @Option(help: "The id (default: from the title).") var id: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Option(name: .customLong("symptom"), help: "A symptom in the customer's words (repeatable).") var symptoms: [String] = []
    @Option(name: .customLong("product"), help: "A product (repeatable).") var products: [String] = []
    @Option(help: "The Markdown body (the fix). '-' reads it from standard input.") var body: String?
    @Option(name: .customLong("as"), help: "Author name (default: git config user.name).") var author: String?
    @Flag(help: "Reopen the draft that a previous 'kb new answer' kept because it did not parse.") var resume = false

    func validate() throws {
      if resume, title != nil { throw ValidationError("--resume reopens the kept draft in the editor; do not also pass --title.") }
    }

    func run() throws {
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
        document = try Editor.create(template, draft: "new-answer", resume: resume, command: "kb new answer", in: workspace)
        if id == nil, document.id == "new-answer" {
          let slug = Document.slug(document.title)
          document.edit { $0.set("id", to: slug) }
        }
        document.path = "answers/\(document.id).md"
      }
      try workspace.withWriteLock { try workspace.write(document, creating: true) }
      if title == nil, let draft = workspace.keptDraft("new-answer") { workspace.discardDraft(draft) }
      try report(document, global: global)
    }
  }

  struct NewCase: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "case",
      abstract: "Create a customer case from a complaint.",
      discussion: """
        Without --text, opens $VISUAL or $EDITOR on a template. Closing the editor without \
        changing it writes nothing (exit 1); a draft that does not parse is kept in .kb/drafts/ \
        and 'kb new case --resume' opens it again.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The customer's words.") var text: String?
    @Option(help: "The customer's handle, such as @stevebuttry.") var customer: String?
    @Option(help: "Where it came from: twitter, mastodon, email, ….") var channel: String?
    @Option(help: "A link to the original post.") var url: String?
    @Option(help: "When it was posted (ISO 8601; default: now).") var at: String?
    @Option(help: "The agent who owns it.") var assignee: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Option(help: "The id (default: date and words of the complaint).") var id: String?
    @Flag(help: "Reopen the draft that a previous 'kb new case' kept because it did not parse.") var resume = false

    func validate() throws {
      if resume, text != nil { throw ValidationError("--resume reopens the kept draft in the editor; do not also pass --text.") }
      _ = try parseTime(at, option: "at")
    }

    func run() throws {
      let workspace = try global.open()
      let opened = at.flatMap(Timestamp.parse) ?? Date()
      var document = try workspace.newCase(
        complaint: text ?? "What the customer wrote.", id: id, customer: customer, channel: channel, source: url,
        opened: opened, assignee: assignee, tags: tags)
      if text == nil {
        let path = document.path
        document = try Editor.create(document, draft: "new-case", resume: resume, command: "kb new case", in: workspace)
        document.path = path
      }
      try workspace.withWriteLock { try workspace.write(document, creating: true) }
      if text == nil, let draft = workspace.keptDraft("new-case") { workspace.discardDraft(draft) }
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

/// Opens `$VISUAL` or `$EDITOR` on drafts kept in `.kb/drafts/` (see ``EditDraft``).
enum Editor {
  /// The editor command: `$VISUAL`, else `$EDITOR`.
  static func command() throws -> String {
    let env = ProcessInfo.processInfo.environment
    guard let editor = env["VISUAL"].flatMap({ $0.isEmpty ? nil : $0 }) ?? env["EDITOR"].flatMap({ $0.isEmpty ? nil : $0 }) else {
      throw ValidationError("No $EDITOR is set: set EDITOR (or VISUAL), or pass the fields as flags (see --help).")
    }
    return editor
  }

  /// Runs the editor on `file` and returns what it saved. A failing editor keeps the draft.
  static func run(on file: String, resumeHint: String) throws -> String {
    let editor = try command()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "\(editor) \"$1\"", "editor", file]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw WorkspaceError.invalidInput(
        "The editor exited with status \(process.terminationStatus); your draft is kept in \(file) ('\(resumeHint)' opens it again).")
    }
    return try String(contentsOfFile: file, encoding: .utf8)
  }

  /// `kb new` in the editor: the template (or, with `resume`, the kept draft) is edited; an
  /// unchanged template writes nothing; a draft that does not parse is kept for `--resume`.
  static func create(_ template: Document, draft name: String, resume: Bool, command: String, in workspace: Workspace) throws -> Document {
    let draft: EditDraft
    if resume {
      guard let kept = workspace.keptDraft(name) else {
        throw WorkspaceError.invalidInput("No draft is kept for '\(command)': run it without --resume to start one.")
      }
      draft = kept
    } else {
      draft = try workspace.keepDraft(name, text: template.text, target: nil)
    }
    let text = try run(on: draft.file, resumeHint: command + " --resume")
    if text == template.text {
      workspace.discardDraft(draft)
      Output.warn("Nothing written: the template was not changed.")
      throw ExitCode.failure
    }
    do {
      return try Document(path: template.path, text: text)
    } catch {
      throw WorkspaceError.invalidDocument(
        path: draft.relativeFile, line: error.line,
        reason: "\(error.description). Nothing was written; your draft is kept: '\(command) --resume' opens it again.")
    }
  }
}

extension KBCommand {
  struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "edit",
      abstract: "Edit an answer or a case in $EDITOR; it is saved only if it still parses.",
      usage: "kb edit ID\n  kb edit --resume",
      discussion: """
        Opens $VISUAL or $EDITOR on a copy of the document (in .kb/drafts/). When the editor \
        closes: unchanged, nothing is written; valid, the document is saved and indexed; \
        invalid (broken front matter, a changed id or type), nothing is written, the edit is \
        kept, and 'kb edit --resume' opens it again.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The document's id (or a unique start of it).", completion: .custom(completeIDs)) var id: String?
    @Flag(help: "Reopen the edit kept because it did not parse (the latest one, or ID's).") var resume = false

    func validate() throws {
      if id == nil, !resume { throw ValidationError("Which document? kb edit ID (or kb edit --resume).") }
    }

    func run() throws {
      let workspace = try global.open()
      let draft: EditDraft
      let path: String
      if resume {
        let kept = try id.map { try workspace.keptDraft("edit-" + workspace.resolveID($0)) } ?? workspace.latestEditDraft()
        guard let kept, let target = kept.target else {
          throw WorkspaceError.invalidInput("No edit is kept\(id.map { " for '\($0)'" } ?? ""): nothing to resume. Run 'kb edit ID'.")
        }
        draft = kept
        path = target
      } else {
        let document = try workspace.document(id: id!)
        path = document.path
        // An edit kept from before is offered again rather than overwritten.
        if let kept = workspace.keptDraft("edit-" + document.id) {
          throw WorkspaceError.invalidInput(
            "An unsaved edit of '\(document.id)' is kept in \(kept.relativeFile): run 'kb edit --resume \(document.id)' to finish it, or delete that file.")
        }
        draft = try workspace.keepDraft("edit-" + document.id, text: document.text, target: document.path)
      }
      let text = try Editor.run(on: draft.file, resumeHint: "kb edit --resume")
      let outcome: Workspace.EditOutcome
      do {
        outcome = try workspace.saveEdit(path: path, text: text)
      } catch let error as WorkspaceError {
        throw WorkspaceError.invalidInput(
          "\(error.description). Nothing was written; your edit is kept in \(draft.relativeFile): 'kb edit --resume' opens it again.")
      }
      workspace.discardDraft(draft)
      switch outcome {
      case .unchanged:
        if global.json {
          try global.output.print(json: EditResult(path: path, saved: false, document: nil))
        } else {
          print("No changes; nothing written.")
        }
      case .saved(let document):
        if global.json {
          try global.output.print(json: EditResult(path: path, saved: true, document: DocumentJSON(document)))
        } else {
          print("Saved \(global.output.bold(document.id)) (\(document.path)).")
        }
      }
    }

    struct EditResult: Encodable {
      var path: String
      var saved: Bool
      var document: DocumentJSON?
    }
  }
}
