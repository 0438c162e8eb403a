import Foundation
import KBCore

/// A journal entry and status move, as `kb case log --json` prints it (docs/CASES.md) and the
/// MCP case tools return it (with `uri`).
public struct CaseChangeJSON: Codable, Sendable {
  public var id: String
  public var path: String
  public var entry: DocumentJSON.Entry
  public var previousStatus: String
  public var status: String
  public var held: Bool?
  public var assignee: String?
  public var answer: String?
  public var followUp: String?
  /// The case as an MCP resource (`kb://cases/ID`); set by the MCP server only.
  public var uri: String?

  enum CodingKeys: String, CodingKey {
    case id, path, entry, status, held, assignee, answer, uri
    case previousStatus = "previous_status"
    case followUp = "follow_up"
  }

  public init(_ change: CaseChange) {
    let d = change.document
    id = d.id
    path = d.path
    let line = d.journal.entries.last { $0.entry == change.entry }?.line ?? 0
    entry = DocumentJSON.Entry(
      time: Timestamp.format(change.entry.time), author: change.entry.author, kind: change.entry.kind.rawValue,
      text: change.entry.text, line: line)
    previousStatus = change.previousStatus.rawValue
    status = change.status.rawValue
    held = change.held
    assignee = d.assignee
    answer = d.answer
    followUp = d.followUp
  }
}
