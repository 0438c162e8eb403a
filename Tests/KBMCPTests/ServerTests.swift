import Foundation
import KBWorkspace
import MCP
import Testing

@testable import KBMCP

/// The server's handlers, driven in process by the SDK's own client over an in-memory transport.
@Suite struct ServerTests {
  @Test func toolsAndResourcesOverTheProtocol() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let kbServer = KBMCPServer(
      workspace: try Workspace(root: fixture.root), identity: Identity(parsing: "Support bot <bot@example.com>"))
    let server = await kbServer.makeServer()
    let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
    try await server.start(transport: serverTransport)
    let client = Client(name: "tests", version: "1")
    _ = try await client.connect(transport: clientTransport)

    let (tools, _) = try await client.listTools()
    #expect(tools.map(\.name).contains("search"))
    #expect(tools.allSatisfy { $0.inputSchema.objectValue?["type"]?.stringValue == "object" })

    let (content, isError) = try await client.callTool(name: "search", arguments: ["query": "text message repeats"])
    #expect(isError != true)
    guard case .text(let text, _, _) = content.first else {
      Issue.record("no text content")
      return
    }
    #expect(text.contains("iphone-sms-repeats"))

    let (_, unknown) = try await client.callTool(name: "does_not_exist", arguments: [:])
    #expect(unknown == true)

    let contents = try await client.readResource(uri: "kb://answers/iphone-sms-repeats")
    #expect(contents.first?.text == Fixture.answer)
    await #expect(throws: (any Error).self) { try await client.readResource(uri: "kb://answers/../../etc/passwd") }
    // Still serving after the error.
    let (resources, _) = try await client.listResources()
    #expect(Set(resources.map(\.uri)) == ["kb://answers/iphone-sms-repeats", "kb://cases/2009-10-20-sms-loop-barnaul"])

    await client.disconnect()
    await server.stop()
  }
}
