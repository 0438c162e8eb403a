import Foundation
import KBCore

/// What the index keeps of one file: its stat data and, when it parsed, its document.
public struct IndexRecord: Sendable {
  public var path: String
  public var size: Int64
  public var mtime: Int64
  public var document: Document?
  /// Why the file was skipped, when it was.
  public var problem: String?
  public var problemLine: Int?

  /// What the index stores of the document, computed when the record is made (on the
  /// parsing threads), so that writing is only binding values.
  var row: IndexRow?
  /// The file was not in the index before (its folder's rows were read): no row to replace.
  public var isNew = false

  public init(path: String, size: Int64, mtime: Int64, document: Document) {
    self.path = path
    self.size = size
    self.mtime = mtime
    self.document = document
    self.row = IndexRow(document)
  }

  public init(path: String, size: Int64, mtime: Int64, problem: String, line: Int? = nil) {
    self.path = path
    self.size = size
    self.mtime = mtime
    self.problem = problem
    self.problemLine = line
  }

  /// The folder part of a relative path (`""` at the root).
  public static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
  }
}

/// The values of one document's rows in `document`, `document_fts` and `entry`.
struct IndexRow: Sendable {
  var id: String
  var type: String
  var title: String
  var status: String?
  var assignee: String?
  var channel: String?
  var customer: String?
  var answer: String?
  var opened: String?
  var followUp: String?
  var updated: String?
  /// Lowercased tags as ` a b `, or `""`.
  var tagsColumn: String
  var links: String
  var conflicted: Bool
  var symptoms: String
  var tagsText: String
  var body: String
  var entries: [(time: String, author: String, kind: String, text: String)]

  init(_ d: Document) {
    let tags = d.tags
    let lowered = tags.map { $0.lowercased() }
    id = d.id
    type = d.type.rawValue
    title = d.title
    status = d.status?.rawValue
    assignee = d.assignee
    channel = d.channel?.lowercased()
    customer = d.customer
    answer = d.answer
    opened = d.opened.map(Timestamp.format)
    followUp = d.followUp
    updated = d.updated
    tagsColumn = lowered.isEmpty ? "" : " " + lowered.joined(separator: " ") + " "
    links = d.links.joined(separator: " ")
    conflicted = d.hasConflicts
    symptoms = d.symptoms.joined(separator: "\n")
    tagsText = tags.joined(separator: " ")
    body = d.bodyText
    entries = d.type == .case
      ? d.journal.entries.map { ($0.entry.time, $0.entry) }.map { time, e in
        (Timestamp.format(time), e.author, e.kind.rawValue, e.text)
      } : []
  }
}

/// A file's stat data as the index saw it last.
public struct FileStamp: Equatable, Sendable {
  public var size: Int64
  public var mtime: Int64
  public init(size: Int64, mtime: Int64) {
    self.size = size
    self.mtime = mtime
  }
}

/// One batch of changes for the index, applied in one transaction.
public struct IndexChanges: Sendable {
  public var upserts: [IndexRecord] = []
  public var removals: [String] = []
  /// Folder fingerprints to store after the batch (folder → fingerprint); a `nil` value removes.
  public var directories: [String: Int64?] = [:]
  public init() {}
  public var isEmpty: Bool { upserts.isEmpty && removals.isEmpty && directories.isEmpty }
}
