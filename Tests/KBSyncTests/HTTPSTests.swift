import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `kb clone` and `kb sync` over https against lighttpd on 127.0.0.1: `git http-backend` through
/// mod_cgi, HTTP basic auth (mod_auth, plain user file) so that the token path runs, TLS with a
/// self-signed certificate for `localhost` trusted through `KB_SSL_CA_FILE`. Runs when lighttpd
/// (with mod_openssl) and openssl are installed (`apt-get install lighttpd lighttpd-mod-openssl openssl`).
@Suite struct HTTPSTests {
  static let lighttpd = ["/usr/sbin/lighttpd", "/usr/bin/lighttpd"].first { FileManager.default.isExecutableFile(atPath: $0) }
  static let backend = "/usr/lib/git-core/git-http-backend"
  static let available = lighttpd != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
    && FileManager.default.fileExists(atPath: "/usr/lib/lighttpd/mod_openssl.so")
    && FileManager.default.isExecutableFile(atPath: backend)

  static let token = "kb-test-token-7f3a9c1e5d"

  @Test(.enabled(if: available, "needs lighttpd, lighttpd-mod-openssl and openssl (apt-get install lighttpd lighttpd-mod-openssl openssl)"))
  func cloneSyncWrongTokenAndNoLeak() throws {
    let box = try Sandbox("https")
    let d = box.dir
    let alice = try box.makeRemoteWithAnAnswer(first: "alice")
    try box.git(["--git-dir", box.remote, "config", "http.receivepack", "true"], in: d)

    let server = try HTTPSServer(sandbox: box, users: ["x-access-token:\(Self.token)", "tester:\(Self.token)"])
    defer { server.stop() }
    let url = "https://localhost:\(server.port)/git/remote.git"
    let ca = ["KB_SSL_CA_FILE": server.certificate]
    let good = ca.merging(["KB_GIT_TOKEN": Self.token]) { $1 }
    var outputs: [String] = []

    // The self-signed certificate is refused unless trusted, with a message that says so.
    var r = try box.kb(["clone", url, d + "/nobody"], in: d, environment: ["KB_GIT_TOKEN": Self.token])
    outputs.append(r.stdout + r.stderr)
    #expect(r.status == 1 && r.stderr.contains("certificate") && r.stderr.contains("KB_SSL_CA_FILE"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: d + "/nobody/.git"))

    // A CA file that cannot be loaded is named in the message.
    try box.write("not a certificate\n", to: d + "/bad-ca.pem")
    r = try box.kb(["clone", url, d + "/nobody1"], in: d, environment: ["KB_SSL_CA_FILE": d + "/bad-ca.pem", "KB_GIT_TOKEN": Self.token])
    outputs.append(r.stdout + r.stderr)
    #expect(r.status == 1 && r.stderr.contains("bad-ca.pem could not be loaded"), "\(r.stderr)")

    // No token: a clear message, not a prompt.
    r = try box.kb(["clone", url, d + "/nobody2"], in: d, environment: ca)
    outputs.append(r.stdout + r.stderr)
    #expect(r.status == 1 && r.stderr.contains("Authentication to") && r.stderr.contains("KB_GIT_TOKEN"), "\(r.stderr)")

    // Clone with the token from the environment.
    let bob = d + "/bob"
    r = try box.kb(["clone", url, bob], in: d, environment: good)
    outputs.append(r.stdout + r.stderr)
    #expect(r.ok, "\(r.stdout)\(r.stderr)\n\(server.log)")
    guard r.ok else { return }
    try box.configure(bob, name: "bob")
    #expect(box.read(bob + "/answers/a.md")?.contains("From Alice") == true)

    // Bob pushes over https; Alice (local path) receives it.
    try box.write(box.answer(id: "b", title: "From Bob over https"), to: bob + "/answers/b.md")
    r = try box.kb(["sync", "--json"], in: bob, environment: good)
    outputs.append(r.stdout + r.stderr)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stdout)\(r.stderr)\n\(server.log)")
    #expect(try box.remoteFile("answers/b.md")?.contains("From Bob over https") == true)
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(box.read(alice + "/answers/b.md")?.contains("From Bob over https") == true)

    // Alice edits; Bob fetches it over https with the token from .kb/credentials (user named there).
    try box.write(box.answer(id: "a", title: "From Alice, edited"), to: alice + "/answers/a.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try box.write("username = tester\ntoken = \(Self.token)\n", to: bob + "/.kb/credentials")
    r = try box.kb(["sync", "--json"], in: bob, environment: ca)
    outputs.append(r.stdout + r.stderr)
    #expect(r.ok, "\(r.stdout)\(r.stderr)\n\(server.log)")
    #expect(box.read(bob + "/answers/a.md")?.contains("From Alice, edited") == true)
    try FileManager.default.removeItem(atPath: bob + "/.kb/credentials")

    // A wrong token: authentication fails clearly, the edit stays committed, a later sync pushes it.
    try box.write(box.answer(id: "c", title: "Pending"), to: bob + "/answers/c.md")
    r = try box.kb(["sync"], in: bob, environment: ca.merging(["KB_GIT_TOKEN": "wrong-token"]) { $1 })
    outputs.append(r.stdout + r.stderr)
    #expect(r.status == 1 && r.stderr.contains("Authentication to") && r.stderr.contains("committed locally"), "\(r.stderr)")
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
    #expect(try box.git(["log", "-1", "--name-only", "--format="], in: bob).stdout.contains("answers/c.md"))
    #expect(try box.remoteFile("answers/c.md") == nil)
    r = try box.kb(["sync"], in: bob, environment: good)
    outputs.append(r.stdout + r.stderr)
    #expect(r.ok, "\(r.stderr)")
    #expect(try box.remoteFile("answers/c.md") != nil)

    // The token is nowhere: not in kb's output, not in .git (config, reflogs, commits).
    for text in outputs { #expect(!text.contains(Self.token)) }
    #expect(box.read(bob + "/.git/config")?.contains("https://localhost:\(server.port)/git/remote.git") == true)
    let grep = try box.run("/usr/bin/grep", ["-r", "-a", "-l", Self.token, bob + "/.git"], cwd: d)
    #expect(grep.status == 1 && grep.stdout.isEmpty, "token found in \(grep.stdout)")
    let log = try box.git(["log", "--all", "-p", "--format=%an %ae %s %b"], in: bob)
    #expect(!log.stdout.contains(Self.token))
  }
}

/// lighttpd on 127.0.0.1 with TLS (a fresh self-signed certificate for `localhost`), basic auth
/// from a plain user file, and `/git/` served by `git http-backend` from the sandbox folder.
/// Stopped by `stop()` (its PID only).
final class HTTPSServer {
  let process: Child
  let port: Int
  /// The PEM certificate to trust (`KB_SSL_CA_FILE`).
  let certificate: String
  private let errorLog: String

  var log: String { (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? "" }

  init(sandbox: Sandbox, users: [String]) throws {
    let d = sandbox.dir + "/https"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    certificate = d + "/cert.pem"
    errorLog = d + "/error.log"
    let openssl = try sandbox.run(
      "/usr/bin/openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
       "-keyout", d + "/key.pem", "-out", certificate, "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
      cwd: d)
    guard openssl.ok else {
      throw NSError(domain: "HTTPSServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "openssl: \(openssl.stderr)"])
    }
    try sandbox.write(users.joined(separator: "\n") + "\n", to: d + "/users")
    var lastError = ""
    for _ in 0..<10 {
      let port = Int.random(in: 20000...60000)
      try sandbox.write("""
        server.modules = ("mod_auth", "mod_authn_file", "mod_alias", "mod_setenv", "mod_cgi", "mod_openssl")
        server.document-root = "\(d)"
        server.bind = "127.0.0.1"
        server.port = \(port)
        server.errorlog = "\(errorLog)"
        ssl.engine = "enable"
        ssl.pemfile = "\(certificate)"
        ssl.privkey = "\(d)/key.pem"
        auth.backend = "plain"
        auth.backend.plain.userfile = "\(d)/users"
        auth.require = ("/git/" => ("method" => "basic", "realm" => "kb", "require" => "valid-user"))
        alias.url = ("/git/" => "\(HTTPSTests.backend)/")
        cgi.assign = ("" => "")
        setenv.set-environment = ("GIT_PROJECT_ROOT" => "\(sandbox.dir)", "GIT_HTTP_EXPORT_ALL" => "1")

        """, to: d + "/lighttpd.conf")
      let p = try sandbox.start(HTTPSTests.lighttpd!, ["-D", "-f", d + "/lighttpd.conf"], cwd: d,
                                stdout: d + "/stdout", stderr: d + "/stderr")
      for _ in 0..<40 {
        usleep(50_000)
        if !p.isRunning { break }
        if Self.listening(port) {
          self.process = p
          self.port = port
          return
        }
      }
      if p.isRunning { p.kill(SIGTERM); p.wait() }
      lastError = (sandbox.read(d + "/stderr") ?? "") + (sandbox.read(errorLog) ?? "")
    }
    throw NSError(domain: "HTTPSServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "lighttpd did not start: \(lastError)"])
  }

  /// Whether something accepts TCP connections on 127.0.0.1:port.
  static func listening(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
  }

  func stop() {
    process.terminate()
  }
}
