import ArgumentParser
import Foundation
import KBCLI
import KBWeb
import KBWorkspace

/// `kb-serve`: the web interface that `kb serve` runs in its place (a separate executable so
/// that `kb` does not link Hummingbird and SwiftNIO). Same options as `kb serve`.
@main
struct KBServeMain: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kb serve",
    abstract: "Serve a local web interface on the knowledge base.",
    discussion: "Started by 'kb serve'; see 'kb serve --help' and docs/WEB.md.")

  @OptionGroup var options: ServeOptions

  func run() async throws {
    let workspace = try options.global.open()
    let who = options.who(in: workspace)
    if who == nil {
      FileHandle.standardError.write(
        Data("warning: no identity for writes (pass --as \"Name <email>\"); pages that write will say so.\n".utf8))
    }
    let token = try options.tokenFile.map { try WebServer.readToken(path: $0) }
    let server = WebServer(
      host: options.host, port: options.port, token: token, identity: who, timeZone: options.timeZone(),
      pollInterval: options.poll, openBrowser: options.open)
    try await server.run(workspace: workspace)
  }
}
