import KBCore
internal import KBStore

/// A failure that the user can act on. `description` says what failed, where, and what to do.
public enum WorkspaceError: Error, CustomStringConvertible, Equatable {
  case notAKnowledgeBase(path: String)
  case noKnowledgeBaseFound(from: String)
  case documentNotFound(String)
  case ambiguousID(String, paths: [String])
  /// No id is or starts with this; these ids are close to it.
  case unknownID(String, didYouMean: [String])
  /// Several ids start with (or, after their date, begin with) this.
  case ambiguousPrefix(String, ids: [String])
  case pathOutsideKnowledgeBase(String)
  case alreadyExists(path: String)
  case unreadable(path: String, reason: String)
  case invalidDocument(path: String, line: Int?, reason: String)
  case invalidSettings(path: String, line: Int?, reason: String)
  case invalidInput(String)
  case io(path: String, reason: String)
  /// A file kb reads or writes is a symbolic link (leading outside the knowledge base).
  case linkNotFollowed(path: String)

  public var description: String {
    switch self {
    case .notAKnowledgeBase(let path):
      "'\(path)' is not a knowledge base (no kb.yml). Run 'kb init \(path)' or pass --kb <folder>."
    case .noKnowledgeBaseFound(let from):
      "No knowledge base found: no kb.yml in '\(from)' or any parent folder. Pass --kb <folder>, set KB_DIR, or run 'kb init'."
    case .documentNotFound(let id):
      "No document with id '\(id)'. Run 'kb search' or 'kb list' to find one."
    case .ambiguousID(let id, let paths):
      "Id '\(id)' is used by \(paths.count) files (\(paths.joined(separator: ", "))). Give each a unique id; 'kb check' lists duplicates."
    case .unknownID(let id, let near):
      "No document with id '\(id)'. Did you mean " + near.map { "'\($0)'" }.joined(separator: " or ") + "?"
    case .ambiguousPrefix(let id, let ids):
      "'\(id)' is the start of \(ids.count) ids: " + ids.prefix(8).joined(separator: ", ")
        + (ids.count > 8 ? ", …" : "") + ". Type more of the id."
    case .pathOutsideKnowledgeBase(let path):
      "'\(path)' is outside the knowledge base. Only files inside it can be read or written."
    case .alreadyExists(let path):
      "'\(path)' already exists. Choose another id."
    case .unreadable(let path, let reason):
      "\(path): \(reason)"
    case .invalidDocument(let path, let line, let reason):
      "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
    case .invalidSettings(let path, let line, let reason):
      "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
    case .invalidInput(let message):
      message
    case .io(let path, let reason):
      "Could not write '\(path)': \(reason)"
    case .linkNotFollowed(let path):
      "'\(path)' is a symbolic link leading outside the knowledge base; kb does not follow it (a link committed by a teammate could make kb read or write files elsewhere on this machine). Replace it with a real file or folder: 'rm \(path)', then run the command again."
    }
  }
}
