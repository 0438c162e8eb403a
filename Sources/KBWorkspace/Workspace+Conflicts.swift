import Foundation
import KBCore
internal import KBStore
import Yams

/// Which side `kb conflicts ID --take` keeps.
public enum ConflictSide: String, Sendable, CaseIterable, Codable {
  /// This clone's version (what was here before the merge).
  case ours
  /// The teammate's version.
  case theirs
  /// Both versions' text, ours first, without the markers (fields keep ours).
  case both
}

/// What settling a document's conflicts did.
public struct SettledConflict: Sendable, Codable, Equatable {
  public var path: String
  public var id: String?
  public var took: ConflictSide
  /// Marker blocks settled.
  public var blocks: Int
  /// Fields taken from the `conflicts:` record.
  public var fields: [String]
  /// Who settled it (signs the case's journal entry and, with the next sync, the commit).
  public var by: String
}

extension Workspace {
  /// `kb conflicts ID --take SIDE`: ``settleConflicts(_:take:by:at:)`` under the write lock,
  /// signed by `identity` (default: ``Identity/current(in:environment:)``).
  public func settleConflicts(_ target: String, take side: ConflictSide, as identity: Identity?) throws -> SettledConflict {
    guard let who = identity ?? Identity.current(in: root) else { throw SyncFailure.noIdentity }
    return try withWriteLock { try settleConflicts(target, take: side, by: who) }
  }

  /// Settles every conflict of one document: each `<<<<<<<` … `>>>>>>>` block is replaced by
  /// one side's lines (or both sides', ours first), the `conflicts:` field's records are applied
  /// (`theirs` sets each field to the other value; `ours` and `both` keep the value in the field)
  /// and the field removed. A case gets a journal entry saying who settled it and how; for every
  /// document, the next `kb sync` commits the change as that person.
  ///
  /// - Parameter target: an id or a path ending in `.md` (a file whose front matter the merge
  ///   broke is only reachable by path).
  public func settleConflicts(_ target: String, take side: ConflictSide, by identity: Identity, at time: Date = Date()) throws
    -> SettledConflict
  {
    let path: String
    if target.hasSuffix(".md") {
      _ = try resolve(target)
      path = target
    } else {
      let paths = try store.paths(forID: target)
      guard let first = paths.first else { throw WorkspaceError.documentNotFound(target) }
      guard paths.count == 1 else { throw WorkspaceError.ambiguousID(target, paths: paths) }
      path = first
    }
    let text = try readText(path)
    let (unmarked, blocks) = Self.removeMarkers(text, keeping: side)
    var document: Document
    do {
      document = try Document(path: path, text: unmarked)
    } catch {
      throw WorkspaceError.invalidDocument(
        path: path, line: error.line, reason: "\(error.description) (after taking \(side.rawValue); edit the file by hand)")
    }
    var fields: [String] = []
    if let records = document.frontMatter["conflicts"] {
      for record in records.sequence ?? [] {
        guard let field = record["field"]?.string else { continue }
        fields.append(field)
        if side == .theirs, field != "conflicts" {
          document.edit { $0.set(field, node: record["theirs"]) }
        }
      }
      document.edit { $0.set("conflicts", node: nil) }
    }
    guard blocks > 0 || !fields.isEmpty || unmarked != text else {
      throw WorkspaceError.invalidInput("\(path) has no conflicts to settle (no markers, no 'conflicts:' field).")
    }
    if document.type == .case {
      let how = side == .both ? "kept both versions" : "took \(side.rawValue)"
      document.append(JournalEntry(time: time, author: identity.name, kind: "note", text: "Merge conflict settled: \(how)."))
    }
    try write(document)
    return SettledConflict(path: path, id: document.id, took: side, blocks: blocks, fields: fields, by: identity.name)
  }

  /// `text` with each conflict block replaced by the chosen side's lines; and the block count.
  /// A block: `<<<<<<<` ours [`|||||||` base] `=======` theirs `>>>>>>>`.
  static func removeMarkers(_ text: String, keeping side: ConflictSide) -> (String, Int) {
    enum State { case outside, ours, base, theirs }
    var state = State.outside
    var out: [Substring] = []
    var ours: [Substring] = [], theirs: [Substring] = []
    var blocks = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      switch state {
      case .outside:
        if line.hasPrefix("<<<<<<<") { state = .ours; ours = []; theirs = [] } else { out.append(line) }
      case .ours:
        if line.hasPrefix("|||||||") { state = .base } else if line == "=======" { state = .theirs } else { ours.append(line) }
      case .base:
        if line == "=======" { state = .theirs }
      case .theirs:
        if line.hasPrefix(">>>>>>>") {
          switch side {
          case .ours: out += ours
          case .theirs: out += theirs
          case .both: out += ours + theirs
          }
          blocks += 1
          state = .outside
        } else {
          theirs.append(line)
        }
      }
    }
    if state != .outside {  // an unterminated block: leave the text as it was
      return (text, 0)
    }
    return (out.joined(separator: "\n"), blocks)
  }

  /// `kb check`'s conflict diagnostics: the first marker line of each document with markers,
  /// and each document with a `conflicts:` field.
  func conflictDiagnostics() throws -> [Diagnostic] {
    var out: [Diagnostic] = []
    for path in try conflictedDocuments() {
      guard let text = try? readText(path) else { continue }
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      if let i = lines.firstIndex(where: { $0.hasPrefix("<<<<<<<") }) {
        out.append(Diagnostic(
          path: path, line: i + 1, severity: .error,
          message: "merge conflict markers (<<<<<<< … >>>>>>>): both versions are kept; settle with 'kb conflicts \(path) --take ours|theirs|both' or edit the file"))
      }
      if let document = try? Document(path: path, text: text), document.frontMatter["conflicts"] != nil {
        out.append(Diagnostic(
          path: path, line: document.frontMatter.keyLines["conflicts"], severity: .error,
          message: "a 'conflicts:' field lists values two edits disagreed on; settle with 'kb conflicts \(path) --take ours|theirs', or set the fields and delete the 'conflicts:' field"))
      }
    }
    return out
  }
}
