import Foundation
import KBCore
import KBWorkspace
import MCP

/// The knowledge base as MCP tools and resources.
///
/// One actor owns the ``Workspace``, so calls that the SDK runs concurrently reach the files and
/// the index one at a time. Every call first brings the index up to date (an incremental
/// refresh: a stat per file, a re-parse only of what changed), so edits made by people or
/// `kb sync` while the server runs are seen at once.
///
/// ```swift
/// let box = ToolBox(workspace: try Workspace(root: "kb"), identity: Identity(parsing: "Bot <bot@example.com>"))
/// let result = await box.call("search", ["query": "text repeats"])
/// ```
public actor ToolBox {
  let workspace: Workspace
  /// The identity that signs what the server writes, as given (`--as`), before the MCP suffix.
  public let identity: Identity?

  /// What every journal entry and commit written through MCP carries after the agent's name.
  public static let authorSuffix = " (via MCP)"

  public init(workspace: Workspace, identity: Identity?) {
    self.workspace = workspace
    self.identity = identity
  }

  /// The tools, in the order `tools/list` returns them.
  public static var tools: [Tool] { specs.map(\.tool) }

  /// Runs a tool. Never throws: every failure is a result with `isError: true`.
  public func call(_ name: String, _ arguments: [String: Value]?) -> CallTool.Result {
    do throws(ToolError) {
      guard let spec = Self.specs.first(where: { $0.tool.name == name }) else {
        throw .unknownTool(name, known: Self.specs.map(\.tool.name))
      }
      let args = try Arguments(arguments, schema: spec.tool.inputSchema, tool: name)
      do {
        try workspace.refresh()
      } catch {
        throw ToolError.failed(code: "index_failed", message: "Could not bring the index up to date: \(error)")
      }
      let payload: Value
      do {
        payload = try run(spec.tool.name, args)
      } catch {
        throw ToolError.from(error)
      }
      return Self.success(payload)
    } catch {
      return Self.failure(error)
    }
  }

  static func success(_ payload: Value) -> CallTool.Result {
    let content: [Tool.Content] = [.text(text: Self.render(payload), annotations: nil, _meta: nil)]
    // The generic initializer stores a `Value` as it is (no re-encoding), so it cannot fail here.
    return (try? CallTool.Result(content: content, structuredContent: payload)) ?? CallTool.Result(content: content)
  }

  static func failure(_ error: ToolError) -> CallTool.Result {
    let detail: Value = ["error": ["code": .string(error.code), "message": .string(error.description)]]
    let content: [Tool.Content] = [.text(text: error.description, annotations: nil, _meta: nil)]
    return (try? CallTool.Result(content: content, structuredContent: detail, isError: true))
      ?? CallTool.Result(content: content, isError: true)
  }

  /// Pretty JSON with sorted keys, as `kb --json` prints it.
  static func render(_ value: Value) -> String {
    (try? JSONFormat.string(value)) ?? "\(value)"
  }

  /// Encodes a result as a JSON object value (structured content must be an object).
  static func encode<T: Encodable>(_ value: T) throws -> Value {
    try JSONDecoder().decode(Value.self, from: try JSONFormat.encoder(pretty: false).encode(value))
  }

  /// The author written into journal entries: the agent's name, marked as written via MCP.
  ///
  /// The name is checked as the CLI checks `--as` (``Workspace/agentName(override:)``).
  func author() throws -> String {
    guard let identity else { throw ToolError.noIdentity }
    let name = try workspace.agentName(override: identity.description)
    return name.hasSuffix(Self.authorSuffix) ? name : name + Self.authorSuffix
  }
}

/// A tool as `tools/list` shows it. What it does is ``ToolBox/run(_:_:)``.
struct ToolSpec: Sendable {
  var tool: Tool
}

/// Small builders for JSON schemas.
enum Schema {
  static func object(_ properties: [String: Value], required: [String] = []) -> Value {
    var schema: [String: Value] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
    if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
    return .object(schema)
  }

  static func string(_ description: String, enum options: [String]? = nil, nonEmpty: Bool = false) -> Value {
    var s: [String: Value] = ["type": "string", "description": .string(description)]
    if let options { s["enum"] = .array(options.map { .string($0) }) }
    if nonEmpty { s["minLength"] = 1 }
    return .object(s)
  }

  static func integer(_ description: String, minimum: Int? = nil, maximum: Int? = nil, default value: Int? = nil) -> Value {
    var s: [String: Value] = ["type": "integer", "description": .string(description)]
    if let minimum { s["minimum"] = .int(minimum) }
    if let maximum { s["maximum"] = .int(maximum) }
    if let value { s["default"] = .int(value) }
    return .object(s)
  }

  static func boolean(_ description: String) -> Value {
    ["type": "boolean", "description": .string(description)]
  }

  static func strings(_ description: String) -> Value {
    ["type": "array", "items": ["type": "string"], "description": .string(description)]
  }
}
