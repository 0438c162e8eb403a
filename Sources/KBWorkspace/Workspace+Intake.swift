import Foundation
import KBCore
internal import KBStore

/// What opening cases from a batch of mentions did (`kb case open -`, `POST /api/mentions`).
public struct CaseIntake: Sendable {
  public struct Skipped: Codable, Equatable, Sendable {
    public var id: String
    public var source: String
  }
  public var opened: [OpenedCase]
  /// Mentions of a batch already opened as a case (same link and time), not opened again.
  public var skipped: [Skipped]
}

extension Workspace {
  /// Opens one case per mention. In a batch (more than one mention), a mention already opened
  /// (same `source` and time) is skipped rather than refused, so a batch run twice opens each
  /// mention once; a single mention already opened is refused with the existing case's id.
  public func openCases(
    from mentions: [Mention], related: [String] = [], assignee: String? = nil, tags: [String] = [],
    id: String? = nil, title: String? = nil, now: Date = Date()
  ) throws -> CaseIntake {
    if id != nil, mentions.count > 1 {
      throw WorkspaceError.invalidInput("'--id' names one case, but the input holds \(mentions.count) mentions.")
    }
    var opened: [OpenedCase] = []
    var skipped: [CaseIntake.Skipped] = []
    for mention in mentions {
      if mentions.count > 1, let existing = try existingCase(for: mention) {
        skipped.append(CaseIntake.Skipped(id: existing, source: mention.url ?? ""))
        continue
      }
      opened.append(try openCase(
        from: mention, related: related, assignee: assignee, tags: tags, id: id, title: title, now: now))
    }
    return CaseIntake(opened: opened, skipped: skipped)
  }

  /// Logs a reply sent to the customer: its words as an `acknowledged` entry while the case is
  /// open (the first response), else as an `acted` entry.
  @discardableResult
  public func logReply(caseID: String, text: String, author: String, at time: Date = Date()) throws -> CaseChange {
    let words = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !words.isEmpty else {
      throw WorkspaceError.invalidInput("The reply is empty: write what was sent to the customer.")
    }
    let status = try caseDocument(id: caseID).status ?? .open
    return try log(caseID: caseID, kind: status == .open ? .acknowledged : .acted, text: words, author: author, at: time)
  }
}
