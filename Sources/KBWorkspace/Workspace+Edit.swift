import Foundation
import KBCore
internal import KBStore

/// A draft kept in `.kb/drafts/` while a document is edited in `$EDITOR` (`kb edit`, `kb new`):
/// an edit that does not parse is never lost, and `--resume` opens it again.
public struct EditDraft: Equatable, Sendable {
  /// `edit-<id>`, `new-answer`, `new-case`.
  public var name: String
  /// The draft file (absolute).
  public var file: String
  /// The draft file relative to the root, for messages.
  public var relativeFile: String { ".kb/drafts/\(name).md" }
  /// The document the draft becomes (relative path), for an edit; a new case's planned path.
  public var target: String?
}

extension Workspace {
  public var draftFolder: String { root + "/.kb/drafts" }

  /// The draft `name`, if one is kept.
  public func keptDraft(_ name: String) -> EditDraft? {
    let file = draftFolder + "/\(name).md"
    guard FileManager.default.fileExists(atPath: file) else { return nil }
    let target = try? String(contentsOfFile: draftFolder + "/\(name).target", encoding: .utf8)
    return EditDraft(name: name, file: file, target: target?.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// The most recently saved `kb edit` draft.
  public func latestEditDraft() -> EditDraft? {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: draftFolder)) ?? []
    let drafts = names.filter { $0.hasPrefix("edit-") && $0.hasSuffix(".md") }.compactMap { name -> (Date, String)? in
      let attributes = try? FileManager.default.attributesOfItem(atPath: draftFolder + "/" + name)
      return (attributes?[.modificationDate] as? Date ?? .distantPast, String(name.dropLast(3)))
    }
    return drafts.max { $0.0 < $1.0 }.flatMap { keptDraft($0.1) }
  }

  /// Writes a draft of `text` (replacing one of the same name).
  public func keepDraft(_ name: String, text: String, target: String?) throws -> EditDraft {
    try FileManager.default.createDirectory(atPath: draftFolder, withIntermediateDirectories: true)
    let file = draftFolder + "/\(name).md"
    try Self.atomicWrite(Data(text.utf8), to: file, durable: false)
    if let target { try Self.atomicWrite(Data((target + "\n").utf8), to: draftFolder + "/\(name).target", durable: false) }
    return EditDraft(name: name, file: file, target: target)
  }

  public func discardDraft(_ draft: EditDraft) {
    try? FileManager.default.removeItem(atPath: draft.file)
    try? FileManager.default.removeItem(atPath: draftFolder + "/\(draft.name).target")
  }

  /// What an edit came to.
  public enum EditOutcome: Sendable {
    /// The text is the file's text: nothing written.
    case unchanged
    case saved(Document)
  }

  /// Saves an edited document's text to `path` after checking it: it must parse, keep its id
  /// and type (links point at the id), and stay inside the knowledge base. Unchanged text
  /// writes nothing. Under the write lock; the index follows.
  ///
  /// - Throws: ``WorkspaceError/invalidDocument(path:line:reason:)`` naming the line.
  public func saveEdit(path: String, text: String) throws -> EditOutcome {
    try withWriteLock {
      let current = try readDocument(at: path)
      if text == current.text { return .unchanged }
      let edited: Document
      do {
        edited = try Document(path: path, text: text)
      } catch let error as FrontMatterError {
        throw WorkspaceError.invalidDocument(path: path, line: error.line, reason: error.description)
      }
      guard edited.id == current.id else {
        throw WorkspaceError.invalidDocument(
          path: path, line: edited.frontMatter.keyLines["id"],
          reason: "the id changed from '\(current.id)' to '\(edited.id)'; links use the id, so it stays. Put it back")
      }
      guard edited.type == current.type else {
        throw WorkspaceError.invalidDocument(
          path: path, line: edited.frontMatter.keyLines["type"],
          reason: "the type changed from \(current.type.rawValue) to \(edited.type.rawValue); make a new document instead")
      }
      try write(edited)
      return .saved(edited)
    }
  }
}
