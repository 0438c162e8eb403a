import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

/// The options of `kb serve`, shared by the `kb serve` command (which checks them) and the
/// `kb-serve` executable (which serves).
public struct ServeOptions: ParsableArguments {
  @OptionGroup public var global: GlobalOptions
  @Option(help: "The TCP port (0 picks a free one).") public var port: Int = 8080
  @Option(help: "The address to listen on. Anything but a loopback address needs --token-file.")
  public var host: String = "127.0.0.1"
  @Option(
    name: .customLong("token-file"),
    help: ArgumentHelp("A file whose first line is the token every request must carry (required off loopback).", valueName: "file"))
  public var tokenFile: String?
  @Flag(help: "Open the interface in the default browser (xdg-open).") public var open = false
  @Option(
    name: .customLong("as"),
    help: ArgumentHelp("Sign journal entries and sync commits as \"Name <email>\" (default: .kb/identity or git config).", valueName: "identity"))
  public var identity: String?
  @Option(name: .customLong("tz"), help: ArgumentHelp("Time zone for follow-up days (default: $TZ, else UTC).", valueName: "zone"))
  public var tz: String?
  @Option(help: ArgumentHelp("Seconds between looks for files changed by other tools.", valueName: "seconds"))
  public var poll: Double = 1

  public init() {}

  public func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("'--port \(port)': use a port from 0 to 65535.") }
    guard poll >= 0.05, poll <= 3600 else { throw ValidationError("'--poll \(poll)': use 0.05 to 3600 seconds.") }
    if let identity {
      guard let parsed = Identity(parsing: identity) else {
        throw ValidationError("'--as \(identity)' is not an identity; use \"Name <email>\" or a name.")
      }
      guard !parsed.name.contains("·"), !parsed.name.contains("\n") else {
        throw ValidationError("'--as': the name cannot contain '·' or a line break (journal lines use them).")
      }
    }
    if let tz { do { _ = try FollowUp.timeZone(tz) } catch { throw ValidationError(error.description) } }
    if !Loopback.isLoopback(host) && tokenFile == nil {
      throw ValidationError(
        "Refusing to listen on '\(host)' without a token: anyone who can reach it could read and write the knowledge base. Pass --token-file FILE (its first line is the token), or keep the default --host 127.0.0.1.")
    }
    if let tokenFile {
      guard let data = FileManager.default.contents(atPath: tokenFile), let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("'--token-file \(tokenFile)': no readable file there. Make one with: openssl rand -hex 16 > \(tokenFile)")
      }
      let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
      guard token.count >= 16, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "," }) else {
        throw ValidationError(
          "'--token-file \(tokenFile)': its first line must be a token of at least 16 printable characters without spaces, ';' or ','. Make one with: openssl rand -hex 16 > \(tokenFile)")
      }
    }
  }

  /// The identity for writes: `--as`, else `.kb/identity` or git config.
  public func who(in workspace: Workspace) -> Identity? {
    identity.flatMap(Identity.init(parsing:)) ?? Identity.current(in: workspace.root)
  }

  /// `--tz`, else `$TZ` when it names a zone, else UTC.
  public func timeZone() -> TimeZone {
    if let tz, let zone = try? FollowUp.timeZone(tz) { return zone }
    if let env = ProcessInfo.processInfo.environment["TZ"], !env.isEmpty, let zone = try? FollowUp.timeZone(env) { return zone }
    return TimeZone(secondsFromGMT: 0)!
  }
}

extension KBCommand {
  /// `kb serve` runs the `kb-serve` executable beside `kb` in its place: Hummingbird and SwiftNIO
  /// stay out of `kb`, whose every command would otherwise pay to load them.
  struct ServeWeb: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "serve",
      abstract: "Serve a local web interface: the queue, cases, mentions, answers, search, figures, sync.",
      discussion: """
        Listens on 127.0.0.1:8080 by default; pages work without JavaScript, and open pages update \
        when files change. Any address but a loopback one is refused without --token-file, whose \
        first line every request must then carry (?token=… once in the browser, or \
        'Authorization: Bearer …'). Writes are signed by --as, else .kb/identity or git config. \
        Pages, the JSON API under /api/ and the security rules: docs/WEB.md. The server is the \
        kb-serve executable installed beside kb.
        """)

    @OptionGroup var options: ServeOptions

    func run() throws {
      let server = Self.serverPath()
      guard FileManager.default.isExecutableFile(atPath: server) else {
        throw KBFailure(
          "kb serve needs the kb-serve executable beside kb (\(server)); build it with 'swift build --product kb-serve' (add -c release for a release build).")
      }
      let args = CommandLine.arguments
      let rest = args.firstIndex(of: "serve").map { Array(args[($0 + 1)...]) } ?? []
      let argv = ([server] + rest).map { strdup($0) } + [nil]
      execv(server, argv)
      throw KBFailure("kb serve could not start \(server): \(String(cString: strerror(errno)))")
    }

    static func serverPath() -> String {
      let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
      return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("kb-serve").path
    }
  }
}
