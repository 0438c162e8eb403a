import Foundation
import KBCore
internal import KBStore

extension Workspace {
  /// Makes `path` a knowledge base: `kb.yml`, `answers/`, `cases/`, and a `.gitignore` that
  /// keeps `.kb/` out of git. Existing files are left as they are.
  ///
  /// - Returns: the files created, relative to the root.
  @discardableResult
  public static func initialize(at path: String, team: String = "Support") throws -> [String] {
    let root = absolute(path)
    let fm = FileManager.default
    var created: [String] = []
    do {
      try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
      for folder in ["answers", "cases", ".kb"] where !fm.fileExists(atPath: root + "/" + folder) {
        try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        if folder != ".kb" { created.append(folder + "/") }
      }
      let settings = root + "/" + Settings.fileName
      if !fm.fileExists(atPath: settings) {
        try atomicWrite(Data(Settings.template(team: team).utf8), to: settings)
        created.append(Settings.fileName)
      }
      let ignore = root + "/.gitignore"
      let existing = fm.contents(atPath: ignore).flatMap { String(data: $0, encoding: .utf8) } ?? ""
      // `.kb` (not `.kb/`, which matches folders only) also keeps a `.kb` link out of git.
      if !existing.split(separator: "\n").contains(where: { $0 == ".kb" || $0 == "/.kb" }) {
        let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n")
          + "# Casebook's local index, lock and settings (a folder, never a link): derived, never committed.\n/.kb\n"
        try atomicWrite(Data(text.utf8), to: ignore)
        created.append(".gitignore")
      }
    } catch let error as WorkspaceError {
      throw error
    } catch {
      throw WorkspaceError.io(path: path, reason: error.localizedDescription)
    }
    return created
  }

  /// A new answer document (not yet written).
  public func newAnswer(
    title: String, id: String? = nil, tags: [String] = [], symptoms: [String] = [],
    products: [String] = [], body: String? = nil, author: String?, now: Date = Date()
  ) throws -> Document {
    let id = id ?? Document.slug(title)
    guard Document.isValidID(id) else {
      throw WorkspaceError.invalidInput("'\(id)' is not a valid id: use \(Document.idRule).")
    }
    var fm = FrontMatter()
    fm.set("id", to: id)
    fm.set("type", to: "answer")
    fm.set("title", to: title)
    fm.set("tags", to: tags)
    fm.set("symptoms", to: symptoms, inline: false)
    if !products.isEmpty { fm.set("products", to: products) }
    fm.set("updated", to: Timestamp.day(now))
    if let author { fm.set("author", to: author) }
    let text = "---\n" + fm.raw + "---\n" + (body ?? "## Fix\n1. \n")
    return try parsed(path: "answers/\(id).md", text: text)
  }

  /// A new case document (not yet written), opened from a customer's words.
  public func newCase(
    complaint: String, id: String? = nil, customer: String?, channel: String?, source: String?,
    opened: Date, assignee: String?, tags: [String] = [], related: [String] = [], title: String? = nil
  ) throws -> Document {
    try newCase(
      complaint: complaint, id: id, customer: customer, channel: channel, source: source, opened: opened,
      assignee: assignee, tags: tags, related: related, title: title, batch: nil)
  }

  /// ``newCase(complaint:id:customer:channel:source:opened:assignee:tags:related:title:)``;
  /// in a batch, an id base the batch already used continues from the batch's last suffix.
  func newCase(
    complaint: String, id: String?, customer: String?, channel: String?, source: String?,
    opened: Date, assignee: String?, tags: [String], related: [String], title: String?, batch: IntakeBatch?
  ) throws -> Document {
    let day = Timestamp.day(opened)
    let base = id ?? day + "-" + Self.caseSlug(title ?? complaint)
    guard Document.isValidID(base) else {
      throw WorkspaceError.invalidInput("'\(base)' is not a valid id: use \(Document.idRule).")
    }
    let folder = "cases/" + day.prefix(4) + "/" + day.dropFirst(5).prefix(2)
    var chosen = base
    var n = 2
    var probed = false
    if id == nil, let next = batch?.nextSuffix[base] {
      n = next
      probed = true
      chosen = "\(base)-\(n)"
      n += 1
    }
    while try !store.paths(forID: chosen).isEmpty || FileManager.default.fileExists(atPath: root + "/\(folder)/\(chosen).md") {
      guard id == nil else { throw WorkspaceError.alreadyExists(path: "\(folder)/\(chosen).md") }
      // Taken: start after the highest `base-N` in use, in one query (trying 2, 3, … one by one
      // made a batch of mentions with the same words quadratic).
      if !probed {
        probed = true
        n = max(n, (try store.highestSuffix(ofID: base)) + 1)
      }
      chosen = "\(base)-\(n)"
      n += 1
    }
    if id == nil { batch?.nextSuffix[base] = chosen == base ? 2 : n }
    var fm = FrontMatter()
    fm.set("id", to: chosen)
    fm.set("type", to: "case")
    if let title { fm.set("title", to: title) }
    fm.set("status", to: CaseStatus.open.rawValue)
    if let channel { fm.set("channel", to: channel) }
    if let customer { fm.set("customer", to: customer) }
    if let source { fm.set("source", to: source) }
    fm.set("opened", to: Timestamp.format(opened))
    if let assignee { fm.set("assignee", to: assignee) }
    if !tags.isEmpty { fm.set("tags", to: tags) }
    if !related.isEmpty { fm.set("related", to: related) }
    let quote = complaint.split(separator: "\n", omittingEmptySubsequences: false)
      .map { "> " + $0 }.joined(separator: "\n")
    let text = "---\n" + fm.raw + "---\n" + quote + "\n\n" + Journal.heading + "\n"
    return try parsed(path: "\(folder)/\(chosen).md", text: text)
  }

  /// The words part of a new case's id: up to four significant words of the complaint (no
  /// handles, links or common words), at most 32 characters, cut at a word boundary:
  /// "@ATT my iPhone keeps repeating the same text message endlessly!!" → `iphone-repeating-text-message`.
  /// Ids already in files are never changed; a taken id gets `-2`, `-3`.
  static func caseSlug(_ complaint: String) -> String {
    let words = significantWords(customerWords(complaint)).filter { Document.slug($0) != "untitled" }
    let slug = Document.slug(words.prefix(4).joined(separator: " "), maxLength: 32)
    return slug == "untitled" ? Document.slug(customerWords(complaint), maxLength: 32) : slug
  }

  private func parsed(path: String, text: String) throws -> Document {
    do {
      return try Document(path: path, text: text)
    } catch {
      throw WorkspaceError.invalidDocument(path: path, line: error.line, reason: error.description)
    }
  }
}
