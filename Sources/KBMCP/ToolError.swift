import KBCore
import KBWorkspace
import KBWorkspaceGit

/// A tool call the server refuses or cannot complete. Returned to the client as a tool result
/// with `isError: true`; the server keeps serving.
public enum ToolError: Error, CustomStringConvertible, Equatable, Sendable {
  case unknownTool(String, known: [String])
  case unknownArgument(tool: String, name: String, allowed: [String])
  case missingArgument(tool: String, name: String)
  case wrongType(tool: String, name: String, expected: String, got: String)
  case invalidArgument(tool: String, name: String, reason: String)
  case noIdentity
  case failed(code: String, message: String)

  /// Shown to the agent in the result's text content.
  public var description: String {
    switch self {
    case .unknownTool(let name, let known):
      "Unknown tool '\(name)'. Tools: \(known.joined(separator: ", "))."
    case .unknownArgument(let tool, let name, let allowed):
      "'\(tool)' has no argument '\(name)'. Arguments: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))."
    case .missingArgument(let tool, let name):
      "'\(tool)' needs the argument '\(name)'."
    case .wrongType(let tool, let name, let expected, let got):
      "'\(tool)': argument '\(name)' must be \(expected), not \(got)."
    case .invalidArgument(let tool, let name, let reason):
      "'\(tool)': argument '\(name)' \(reason)"
    case .noIdentity:
      "No identity to sign journal entries with: start the server with --as \"Name <email>\", or set git config user.name."
    case .failed(_, let message):
      message
    }
  }

  /// A stable, machine-readable code (see docs/MCP.md).
  public var code: String {
    switch self {
    case .unknownTool: "unknown_tool"
    case .unknownArgument, .missingArgument, .wrongType, .invalidArgument: "invalid_arguments"
    case .noIdentity: "no_identity"
    case .failed(let code, _): code
    }
  }

  /// Maps any error from the workspace, the index or the query parser to a tool error.
  static func from(_ error: any Error) -> ToolError {
    switch error {
    case let error as ToolError:
      return error
    case let error as WorkspaceError:
      let code: String
      switch error {
      case .documentNotFound: code = "not_found"
      case .ambiguousID: code = "ambiguous_id"
      case .pathOutsideKnowledgeBase: code = "outside_knowledge_base"
      case .alreadyExists: code = "already_exists"
      case .invalidInput: code = "invalid_arguments"
      case .unreadable, .invalidDocument: code = "unreadable"
      default: code = "failed"
      }
      return .failed(code: code, message: error.description)
    case let error as SyncFailure:
      return .failed(code: error.kind.rawValue, message: error.description)
    case let error as CaseError:
      return .failed(code: "refused", message: error.description)
    case let error as MentionError:
      return .failed(code: "invalid_arguments", message: error.message)
    case let error as QueryError:
      return .failed(code: "invalid_query", message: error.message)
    default:
      return .failed(code: "failed", message: String(describing: error))
    }
  }
}
