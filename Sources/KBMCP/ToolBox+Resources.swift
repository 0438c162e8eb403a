import Foundation
import KBCore
import KBWorkspace
import MCP

/// Answers and cases as MCP resources: `kb://answers/<id>` and `kb://cases/<id>`, read as the
/// document's Markdown file.
extension ToolBox {
  static let resourcesPerPage = 500

  static func uri(type: DocumentType, id: String) -> String {
    "kb://\(type == .answer ? "answers" : "cases")/\(id)"
  }

  public static let resourceTemplates: [Resource.Template] = [
    Resource.Template(
      uriTemplate: "kb://answers/{id}", name: "answer", title: "An answer (known fix)",
      description: "A troubleshooting answer as Markdown with YAML front matter.", mimeType: "text/markdown"),
    Resource.Template(
      uriTemplate: "kb://cases/{id}", name: "case", title: "A customer case",
      description: "A customer case with its journal, as Markdown with YAML front matter.", mimeType: "text/markdown"),
  ]

  /// One page of resources: answers first (by id), then cases (newest first). The cursor is the
  /// offset of the page, as a decimal string.
  public func listResources(cursor: String?) throws -> ListResources.Result {
    let offset: Int
    if let cursor {
      guard let n = Int(cursor), n >= 0 else { throw MCPError.invalidParams("Invalid cursor '\(cursor)'.") }
      offset = n
    } else {
      offset = 0
    }
    try refreshForResources()
    let answers = try workspace.list(DocumentFilter(type: .answer))
    let cases = try workspace.list(DocumentFilter(type: .case))
    let all = answers + cases
    let page = all.dropFirst(offset).prefix(Self.resourcesPerPage)
    let resources = page.map { d in
      Resource(
        name: d.id, uri: Self.uri(type: d.type, id: d.id), title: d.title,
        description: d.type == .answer ? "Answer: \(d.title)" : "Case (\(d.status ?? "open")): \(d.title)",
        mimeType: "text/markdown")
    }
    let next = offset + page.count < all.count ? String(offset + page.count) : nil
    return ListResources.Result(resources: Array(resources), nextCursor: next)
  }

  /// Reads `kb://answers/<id>` or `kb://cases/<id>`. Anything else, or a document of the other
  /// type, is an error; so is an id that is not a plain id (no `/`, no `..`).
  public func readResource(uri: String) throws -> ReadResource.Result {
    let type: DocumentType
    let id: String
    if uri.hasPrefix("kb://answers/") {
      type = .answer
      id = String(uri.dropFirst("kb://answers/".count))
    } else if uri.hasPrefix("kb://cases/") {
      type = .case
      id = String(uri.dropFirst("kb://cases/".count))
    } else {
      throw MCPError.invalidParams("Unknown resource '\(uri)'. Resources are kb://answers/<id> and kb://cases/<id>.")
    }
    let decoded = id.removingPercentEncoding ?? id
    guard Document.isValidID(decoded) else {
      throw MCPError.invalidParams("'\(decoded)' is not a document id: ids use letters, digits, '-', '_' and '.'.")
    }
    try refreshForResources()
    let document: Document
    do {
      document = try workspace.document(id: decoded)
    } catch let error as WorkspaceError {
      if case .documentNotFound = error {
        throw MCPError.serverError(code: -32002, message: "Resource not found: \(uri). \(error.description)")
      }
      throw MCPError.invalidParams(error.description)
    }
    guard document.type == type else {
      throw MCPError.serverError(
        code: -32002, message: "Resource not found: \(uri). '\(decoded)' is a\(type == .answer ? " case" : "n answer"); use \(Self.uri(type: document.type, id: decoded)).")
    }
    return ReadResource.Result(contents: [.text(document.text, uri: uri, mimeType: "text/markdown")])
  }

  private func refreshForResources() throws {
    do {
      try workspace.refresh()
    } catch {
      throw MCPError.internalError("Could not bring the index up to date: \(error)")
    }
  }
}
