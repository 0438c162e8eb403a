import Foundation
import KBCore
import KBTestSupport
import KBWorkspace
import MCP

@testable import KBMCP

/// A small knowledge base in its own temporary folder (Swift Testing runs tests in parallel).
struct Fixture {
  let folder: TempFolder
  var root: String { folder.path + "/kb" }

  static let answer = """
    ---
    id: iphone-sms-repeats
    type: answer
    title: Text message repeats endlessly on iPhone
    tags: [iphone, sms]
    symptoms:
      - the same text message keeps arriving again and again
    ---
    ## Fix
    1. Power the phone off for a few minutes.

    """

  static let resolvedCase = """
    ---
    id: 2009-10-20-sms-loop-barnaul
    type: case
    status: resolved
    channel: twitter
    customer: "@stevebuttry"
    opened: 2009-10-20T16:05:00Z
    answer: iphone-sms-repeats
    ---
    > How do I stop a text message from repeating endlessly on the iPhone?

    ## Journal
    - 2009-10-20T16:09:00Z · jason · acknowledged · Can I help?
    - 2009-10-20T17:02:00Z · tina · resolved · Loop stopped.

    """

  init() throws {
    folder = try TempFolder("mcp")
    let root = folder.path + "/kb"
    try Workspace.initialize(at: root)
    try Self.answer.write(toFile: root + "/answers/iphone-sms-repeats.md", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: root + "/cases/2009/10", withIntermediateDirectories: true)
    try Self.resolvedCase.write(
      toFile: root + "/cases/2009/10/2009-10-20-sms-loop-barnaul.md", atomically: true, encoding: .utf8)
  }

  func toolBox(identity: String? = "Support bot <bot@example.com>") throws -> ToolBox {
    ToolBox(workspace: try Workspace(root: root), identity: identity.flatMap(Identity.init(parsing:)))
  }

  /// The folder goes with the fixture; kept for the tests that say when.
  func remove() {}
}

extension CallTool.Result {
  var text: String {
    content.compactMap { if case .text(let t, _, _) = $0 { t } else { nil } }.joined()
  }
  var errorCode: String? { structuredContent?.objectValue?["error"]?.objectValue?["code"]?.stringValue }
}
