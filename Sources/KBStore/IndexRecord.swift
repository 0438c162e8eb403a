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

  public init(path: String, size: Int64, mtime: Int64, document: Document) {
    self.path = path
    self.size = size
    self.mtime = mtime
    self.document = document
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

/// A search result.
public struct SearchHit: Equatable, Sendable, Codable {
  public var id: String
  public var type: DocumentType
  public var path: String
  public var title: String
  public var status: String?
  public var assignee: String?
  public var tags: [String]
  /// Lower is better, as FTS5's bm25() returns it; 0 when listing without text.
  public var score: Double
  /// A short excerpt; matched terms are wrapped in ``SearchHit/highlightStart`` and
  /// ``SearchHit/highlightEnd``.
  public var snippet: String

  public static let highlightStart = "\u{2}"
  public static let highlightEnd = "\u{3}"
}

/// A document's row in the index, for listings.
public struct DocumentSummary: Equatable, Sendable, Codable {
  public var id: String
  public var type: DocumentType
  public var path: String
  public var title: String
  public var status: String?
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var answer: String?
  public var opened: String?
  public var followUp: String?
  public var updated: String?
  public var tags: [String]
}

/// A file the index skipped, with the reason.
public struct IndexProblem: Equatable, Sendable, Codable {
  public var path: String
  public var line: Int?
  public var message: String
  public init(path: String, line: Int?, message: String) {
    self.path = path
    self.line = line
    self.message = message
  }
}

/// Document counts by kind.
public struct IndexCounts: Equatable, Sendable, Codable {
  public var answers: Int
  public var cases: Int
  public var problems: Int
  public var documents: Int { answers + cases }
}
