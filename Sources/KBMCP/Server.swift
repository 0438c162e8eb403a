import Foundation
import KBWorkspace
import Logging
import MCP

/// The Model Context Protocol server behind `kb mcp`.
///
/// Speaks MCP over standard input and output (stdout carries only the protocol; logs go to
/// stderr) and serves ``ToolBox``'s tools and resources until the client closes the input.
///
/// ```swift
/// let workspace = try Workspace(root: try Workspace.locate(explicit: nil))
/// try await KBMCPServer(workspace: workspace, identity: Identity(parsing: "Support bot <bot@example.com>")).run()
/// ```
public struct KBMCPServer: Sendable {
  public let toolBox: ToolBox
  let logger: Logger

  public static let name = "casebook"
  public static let version = "0.1.0"

  public init(workspace: Workspace, identity: Identity?, logLevel: Logger.Level = .warning) {
    toolBox = ToolBox(workspace: workspace, identity: identity)
    var logger = Logger(label: "kb.mcp") { label in StreamLogHandler.standardError(label: label) }
    logger.logLevel = logLevel
    self.logger = logger
  }

  /// Registers the handlers on an SDK server.
  public func makeServer() async -> Server {
    let server = Server(
      name: Self.name, version: Self.version, title: "Casebook knowledge base",
      instructions: """
        Casebook: a support team's knowledge base of known fixes (answers) and customer cases with \
        append-only journals. Search before answering a customer; read answers as kb://answers/<id>; \
        log what you did on the case.
        """,
      capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
    let toolBox = self.toolBox
    let logger = self.logger
    await server.withMethodHandler(ListTools.self) { _ in
      ListTools.Result(tools: ToolBox.tools)
    }
    await server.withMethodHandler(CheckedCallTool.self) { params in
      let (name, arguments) = try CheckedCallTool.unpack(params)
      let started = Date()
      let result: CallTool.Result
      if let arguments {
        result = await toolBox.call(name, arguments)
      } else {
        result = ToolBox.failure(.wrongType(
          tool: name, name: "arguments", expected: "an object", got: Arguments.describe(params.objectValue?["arguments"] ?? .null)))
      }
      let ms = Int(Date().timeIntervalSince(started) * 1000)
      if result.isError == true {
        logger.notice("tool \(name) failed in \(ms) ms: \(result.content.first.map(Self.text) ?? "")")
      } else {
        logger.info("tool \(name) ok in \(ms) ms")
      }
      return result
    }
    await server.withMethodHandler(ListResources.self) { params in
      try await toolBox.listResources(cursor: params.cursor)
    }
    await server.withMethodHandler(ListResourceTemplates.self) { _ in
      ListResourceTemplates.Result(templates: ToolBox.resourceTemplates)
    }
    await server.withMethodHandler(CheckedReadResource.self) { params in
      guard let uri = params.objectValue?["uri"]?.stringValue else {
        throw MCPError.invalidParams("resources/read needs params.uri, a string such as kb://answers/<id>.")
      }
      do {
        return try await toolBox.readResource(uri: uri)
      } catch {
        logger.notice("resource \(uri) failed: \(error)")
        throw error
      }
    }
    return server
  }

  /// Serves over stdin/stdout until the client closes the connection.
  public func run() async throws {
    let server = await makeServer()
    let transport = StdioTransport(logger: logger)
    try await server.start(transport: transport) { client, _ in
      logger.info("client \(client.name) \(client.version) connected")
    }
    await server.waitUntilCompleted()
    await server.stop()
  }

  static func text(_ content: Tool.Content) -> String {
    if case .text(let text, _, _) = content { return text }
    return ""
  }
}

/// `tools/call` with its parameters taken as any JSON value, so that a malformed call (no name,
/// arguments that are not an object) gets a clear answer instead of the SDK's generic decoding
/// error.
enum CheckedCallTool: Method {
  static let name = CallTool.name
  typealias Parameters = Value
  typealias Result = CallTool.Result

  /// The tool's name, and its arguments (`nil` when they are present but not an object).
  static func unpack(_ params: Value) throws -> (String, [String: Value]?) {
    guard let name = params.objectValue?["name"]?.stringValue else {
      throw MCPError.invalidParams("tools/call needs params.name, the tool's name as a string; tools/list lists them.")
    }
    switch params.objectValue?["arguments"] {
    case nil, .null?: return (name, [:])
    case .object(let arguments)?: return (name, arguments)
    default: return (name, nil)
    }
  }
}

/// `resources/read` with its parameters taken as any JSON value (see ``CheckedCallTool``).
enum CheckedReadResource: Method {
  static let name = ReadResource.name
  typealias Parameters = Value
  typealias Result = ReadResource.Result
}
