import Foundation
import Hummingbird
import KBCore
import KBWorkspace
import KBWorkspaceGit
import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// `kb serve`: the web interface on one knowledge base, until interrupted.
public struct WebServer: Sendable {
  public var host: String
  public var port: Int
  public var token: String?
  public var identity: Identity?
  public var timeZone: TimeZone
  /// Seconds between the background passes that look for changed files.
  public var pollInterval: Double
  public var openBrowser: Bool

  public init(
    host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, identity: Identity?, timeZone: TimeZone,
    pollInterval: Double = 1, openBrowser: Bool = false
  ) {
    self.host = host
    self.port = port
    self.token = token
    self.identity = identity
    self.timeZone = timeZone
    self.pollInterval = pollInterval
    self.openBrowser = openBrowser
  }

  /// Whether `host` is a loopback address or name (the only kind served without a token).
  public static func isLoopback(_ host: String) -> Bool { Loopback.isLoopback(host) }

  /// Reads a token file: its first line, which must be at least 16 characters.
  public static func readToken(path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw WorkspaceError.invalidInput("--token-file \(path): cannot read it.")
    }
    let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    guard token.count >= 16 else {
      throw WorkspaceError.invalidInput("--token-file \(path): the token (its first line) must be at least 16 characters; try: openssl rand -hex 16 > \(path)")
    }
    guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "," }) else {
      throw WorkspaceError.invalidInput("--token-file \(path): the token must be printable ASCII without spaces, ';' or ','.")
    }
    return token
  }

  /// Serves `workspace` until SIGINT or SIGTERM.
  public func run(workspace: Workspace) async throws {
    guard token != nil || Self.isLoopback(host) else {
      throw WorkspaceError.invalidInput(
        "Refusing to listen on '\(host)' without a token: anyone who can reach it could read and write the knowledge base. Pass --token-file FILE, or keep the default --host 127.0.0.1.")
    }
    // A long-lived process watches the folder itself (inotify): each refresh then reads only
    // what changed, so every page can afford one, and the poll below finds changes at once.
    let watched = workspace.watchDirectly()
    let library = Library(workspace: workspace, identity: identity)
    try await library.refresh()
    let security = WebSecurity(token: token, loopback: Self.isLoopback(host), allowedHosts: Self.isLoopback(host) ? [] : [host])
    let app = WebApp(library: library, security: security, timeZone: timeZone, maxIndexAge: watched ? 0 : pollInterval)
    var logger = Logger(label: "kb.serve")
    logger.logLevel = .warning
    let token = self.token
    let open = openBrowser
    let host = self.host
    let application = Application(
      router: app.router(),
      configuration: .init(address: .hostname(host, port: port), serverName: nil),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let url = "http://\(shown):\(port)/"
        let hint = token != nil ? " (open \(url)?token=… once, or send 'Authorization: Bearer …')" : ""
        FileHandle.standardOutput.write(Data("Casebook is at \(url)\(hint)\nPress Ctrl-C to stop.\n".utf8))
        if open { Self.openInBrowser(url) }
      },
      logger: logger)
    // Files changed by other tools (a sync, an editor) reach the index and open pages.
    let interval = watched ? min(pollInterval, 0.25) : pollInterval
    let poller = Task.detached {
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        do { try await library.refresh(warming: true) } catch {
          FileHandle.standardError.write(Data("warning: refreshing the index failed: \(error)\n".utf8))
        }
        // After a write made here (its page may be asked for next), and the periodic walk.
        await library.warm(status: false)
        await library.keepStatusFresh()
      }
    }
    defer { poller.cancel() }
    Self.exitOnSignals()
    try await application.runService(gracefulShutdownSignals: [])
  }

  /// Ctrl-C and SIGTERM end the process at once: every write is a whole-file rename under a lock
  /// the kernel releases, and open event streams would otherwise hold a graceful shutdown.
  static func exitOnSignals() {
    for sig in [SIGINT, SIGTERM] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
      source.setEventHandler {
        FileHandle.standardOutput.write(Data("Stopped.\n".utf8))
        exit(0)
      }
      source.resume()
      Self.sources.append(source)
    }
  }

  nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

  static func openInBrowser(_ url: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["xdg-open", url]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch {
      FileHandle.standardError.write(Data("warning: could not open a browser (xdg-open): \(error.localizedDescription)\n".utf8))
    }
  }
}
