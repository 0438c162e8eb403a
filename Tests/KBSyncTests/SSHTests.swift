import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `kb clone` and `kb sync` over ssh against an unprivileged sshd on 127.0.0.1 (ed25519 keys,
/// host key checked against known_hosts). Runs when /usr/sbin/sshd exists and we are root (sshd
/// needs its privilege-separation directory); the ssh-agent tests also need ssh-agent and ssh-add.
@Suite struct SSHTests {
  static let available = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0
  static let agentAvailable = available && FileManager.default.isExecutableFile(atPath: SSHAgent.agentPath)
    && FileManager.default.isExecutableFile(atPath: SSHAgent.addPath)

  @Test(.enabled(if: available, "needs /usr/sbin/sshd and root (sshd's privilege-separation directory)"))
  func cloneSyncUnknownHostAndBadKey() throws {
    let box = try Sandbox("ssh")
    _ = try box.makeRemoteWithAnAnswer(first: "alice")
    let server = try SSHServer(sandbox: box)
    defer { server.stop() }
    let d = box.dir
    let url = server.url(box.remote)
    let key = ["KB_SSH_KEY": server.goodKey]

    // Unknown host: refused with a clear message.
    var r = try box.kb(["clone", url, d + "/bob"], in: d, environment: key)
    #expect(r.status == 1 && r.stderr.contains("is not in ~/.ssh/known_hosts"), "\(r.stderr)")

    try server.trustHostKey()
    r = try box.kb(["clone", url, d + "/bob"], in: d, environment: key)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    let bob = d + "/bob"
    try box.configure(bob, name: "bob")
    #expect(box.read(bob + "/answers/a.md")?.contains("From Alice") == true)
    try box.write(box.answer(id: "b", title: "From Bob over ssh"), to: bob + "/answers/b.md")
    r = try box.kb(["sync", "--json"], in: bob, environment: key)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/b.md")?.contains("From Bob over ssh") == true)

    // A key the server does not know: authentication fails, the edit stays committed.
    try box.write(box.answer(id: "c", title: "Pending"), to: bob + "/answers/c.md")
    r = try box.kb(["sync"], in: bob, environment: ["KB_SSH_KEY": server.otherKey])
    #expect(r.status == 1 && r.stderr.contains("Authentication to") && r.stderr.contains("committed locally"), "\(r.stderr)")
    #expect(r.stderr.contains("offered: the key file in KB_SSH_KEY."), "\(r.stderr)")
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
    #expect(!r.stderr.contains("BEGIN OPENSSH PRIVATE KEY"))
    r = try box.kb(["sync"], in: bob, environment: key)
    #expect(r.ok, "\(r.stderr)")
    #expect(try box.remoteFile("answers/c.md") != nil)
  }

  /// The key comes from ssh-agent (no KB_SSH_KEY, no ~/.ssh/id_ed25519): clone, push, pull.
  @Test(.enabled(if: agentAvailable, "needs /usr/sbin/sshd, root, /usr/bin/ssh-agent and /usr/bin/ssh-add"))
  func agentCloneAndSyncBothWays() throws {
    let setup = try AgentSetup(firstAnswer: true)
    defer { setup.stop() }
    let (box, alice, server, agent, env) = (setup.box, setup.alice, setup.server, setup.agent, setup.env)
    #expect(!FileManager.default.fileExists(atPath: box.dir + "/home/.ssh/id_ed25519"))
    let bob = box.dir + "/bob"

    var r = try box.kbWithin(["clone", server.url(box.remote), bob], in: box.dir, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    guard r.ok else { return }
    try box.configure(bob, name: "bob")
    #expect(box.read(bob + "/answers/a.md")?.contains("From Alice") == true)

    // Bob pushes over ssh with the agent's key.
    try box.write(box.answer(id: "b", title: "From Bob via the agent"), to: bob + "/answers/b.md")
    r = try box.kbWithin(["sync", "--json"], in: bob, environment: env)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/b.md")?.contains("From Bob via the agent") == true)

    // Alice (local remote) answers; Bob pulls it over ssh.
    #expect(try box.kb(["sync"], in: alice).ok)
    #expect(box.read(alice + "/answers/b.md")?.contains("From Bob via the agent") == true)
    try box.write(box.answer(id: "a2", title: "Alice again"), to: alice + "/answers/a2.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    r = try box.kbWithin(["sync", "--json"], in: bob, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    #expect(box.read(bob + "/answers/a2.md")?.contains("Alice again") == true)

    // sshd saw the agent's key, the only key there is.
    let fingerprint = try box.run("/usr/bin/ssh-keygen", ["-l", "-f", server.goodKey + ".pub"], cwd: box.dir)
      .stdout.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
    #expect(box.read(server.log)?.contains("Accepted publickey for \(NSUserName()) from 127.0.0.1") == true)
    #expect(box.read(server.log)?.contains(fingerprint) == true, "\(fingerprint)")
    try box.expectNoSecrets(in: [r], clone: bob, keys: [server.goodKey], socket: agent.socket)
  }

  /// An agent whose keys the server refuses: a clear message, work committed, exit 1, no endless
  /// retry. Then the order of the key sources: KB_SSH_KEY alone if set, else the agent, then
  /// ~/.ssh/id_ed25519; and a stale SSH_AUTH_SOCK.
  @Test(.enabled(if: agentAvailable, "needs /usr/sbin/sshd, root, /usr/bin/ssh-agent and /usr/bin/ssh-add"))
  func agentRefusedKeyAndKeyOrder() throws {
    let setup = try AgentSetup(firstAnswer: false)
    defer { setup.stop() }
    let (box, alice, server, agent, env) = (setup.box, setup.alice, setup.server, setup.agent, setup.env)
    let bob = box.dir + "/bob"
    var r = try box.kbWithin(["clone", server.url(box.remote), bob], in: box.dir, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    guard r.ok else { return }
    try box.configure(bob, name: "bob")
    var outputs: [Run] = []

    // Only a key the server does not accept in the agent.
    #expect(try agent.removeAll().ok)
    #expect(try agent.add(server.otherKey).ok)
    try box.write(box.answer(id: "c", title: "Pending"), to: bob + "/answers/c.md")
    let started = Date()
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    let elapsed = Date().timeIntervalSince(started)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("Authentication to") && r.stderr.contains("offered: the keys in ssh-agent (see 'ssh-add -l')."),
            "\(r.stderr)")
    #expect(r.stderr.contains("committed locally"), "\(r.stderr)")
    #expect(elapsed < 20, "kb sync took \(elapsed) s")
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
    #expect(try box.git(["log", "-1", "--name-only", "--format="], in: bob).stdout.contains("answers/c.md"))
    #expect(try box.remoteFile("answers/c.md") == nil)
    outputs.append(r)
    r = try box.kbWithin(["sync", "--json"], in: bob, environment: env)
    #expect(r.status == 1 && r.stderr.contains("offered: the keys in ssh-agent (see 'ssh-add -l')."), "\(r.stdout)\(r.stderr)")
    outputs.append(r)

    // The agent holds the refused key first, then the accepted one: libssh2 offers each in turn.
    #expect(try agent.add(server.goodKey).ok)
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/c.md") != nil)
    outputs.append(r)

    // KB_SSH_KEY wins over the agent, and is the only key offered when set.
    try box.write(box.answer(id: "d", title: "Explicit key"), to: bob + "/answers/d.md")
    r = try box.kbWithin(["sync"], in: bob, environment: env.merging(["KB_SSH_KEY": server.otherKey]) { $1 })
    #expect(r.status == 1 && r.stderr.contains("offered: the key file in KB_SSH_KEY."), "\(r.stderr)")
    outputs.append(r)
    r = try box.kbWithin(["sync"], in: bob, environment: env.merging(["KB_SSH_KEY": box.dir + "/missing_ed25519"]) { $1 })
    #expect(r.status == 1 && r.stderr.contains("KB_SSH_KEY names a key file that does not exist"), "\(r.stderr)")
    outputs.append(r)
    #expect(try agent.removeAll().ok)
    #expect(try agent.add(server.otherKey).ok)
    r = try box.kbWithin(["sync"], in: bob, environment: env.merging(["KB_SSH_KEY": server.goodKey]) { $1 })
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/d.md") != nil)
    outputs.append(r)

    // The agent's key is refused, ~/.ssh/id_ed25519 is accepted.
    let homeKey = box.dir + "/home/.ssh/id_ed25519"
    try FileManager.default.copyItem(atPath: server.goodKey, toPath: homeKey)
    try box.write(box.answer(id: "e", title: "Default key file"), to: bob + "/answers/e.md")
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/e.md") != nil)
    outputs.append(r)

    // Both refused: the message names both.
    try FileManager.default.removeItem(atPath: homeKey)
    try FileManager.default.copyItem(atPath: server.otherKey, toPath: homeKey)
    try box.write(box.answer(id: "f", title: "Both refused"), to: bob + "/answers/f.md")
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    #expect(r.status == 1 && r.stderr.contains("offered: the keys in ssh-agent (see 'ssh-add -l'), then ~/.ssh/id_ed25519."), "\(r.stderr)")
    outputs.append(r)
    try FileManager.default.removeItem(atPath: homeKey)

    // A stale SSH_AUTH_SOCK (nothing listening) and no key file: a clear message, no hang.
    let stale = box.dir + "/stale.sock"
    r = try box.kbWithin(["sync"], in: bob, environment: ["SSH_AUTH_SOCK": stale])
    #expect(r.status == 1 && r.stderr.contains("no ssh-agent answers at SSH_AUTH_SOCK"), "\(r.stderr)")
    #expect(!r.stderr.contains(stale))
    outputs.append(r)

    // An agent that holds no key at all.
    #expect(try agent.removeAll().ok)
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    #expect(r.status == 1 && r.stderr.contains("offered: the keys in ssh-agent (see 'ssh-add -l')."), "\(r.stderr)")
    outputs.append(r)

    // The agent gets the good key back: the pending edit goes out; Alice receives everything.
    #expect(try agent.add(server.goodKey).ok)
    r = try box.kbWithin(["sync"], in: bob, environment: env)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    outputs.append(r)
    #expect(try box.kb(["sync"], in: alice).ok)
    for id in ["c", "d", "e", "f"] { #expect(FileManager.default.fileExists(atPath: alice + "/answers/\(id).md"), "\(id)") }
    try box.expectNoSecrets(in: outputs, clone: bob, keys: [server.goodKey, server.otherKey], socket: agent.socket)
  }
}

/// An unprivileged sshd on 127.0.0.1 (random port) with an ed25519 host key, an accepted user
/// key (`goodKey`) and one it does not know (`otherKey`). `stop()` ends it (its pid only).
/// Alice's remote (with a first answer or without), an sshd on loopback whose host key the
/// sandbox HOME trusts, and an ssh-agent holding the key the server accepts.
struct AgentSetup {
  let box: Sandbox
  let alice: String
  let server: SSHServer
  let agent: SSHAgent
  var env: [String: String] { ["SSH_AUTH_SOCK": agent.socket] }

  init(firstAnswer: Bool) throws {
    box = try Sandbox("sshagent")
    alice = firstAnswer ? try box.makeRemoteWithAnAnswer(first: "alice") : try box.makeRemote(first: "alice")
    server = try SSHServer(sandbox: box)
    do {
      try server.trustHostKey()
      agent = try SSHAgent(sandbox: box)
    } catch {
      server.stop()
      throw error
    }
    #expect(try agent.add(server.goodKey).ok)
  }

  func stop() {
    agent.stop()
    server.stop()
  }
}

final class SSHServer {
  let dir: String
  let port: Int
  let process: Child
  let sandbox: Sandbox
  var goodKey: String { dir + "/id_ed25519" }
  var otherKey: String { dir + "/other_ed25519" }
  var log: String { dir + "/sshd.log" }

  init(sandbox box: Sandbox) throws {
    sandbox = box
    let d = box.dir
    dir = d
    try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    for name in ["host_ed25519", "id_ed25519", "other_ed25519"] {
      let r = try box.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", d + "/" + name], cwd: d)
      guard r.ok else { throw NSError(domain: "SSHServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "ssh-keygen: \(r.stderr)"]) }
    }
    try FileManager.default.copyItem(atPath: d + "/id_ed25519.pub", toPath: d + "/authorized_keys")
    for _ in 0..<10 {
      let port = Int.random(in: 20000...60000)
      try box.write("""
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(d)/host_ed25519
        PidFile \(d)/sshd.pid
        AuthorizedKeysFile \(d)/authorized_keys
        StrictModes no
        UsePAM no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password

        """, to: d + "/sshd_config")
      let child = try box.start("/usr/sbin/sshd", ["-D", "-f", d + "/sshd_config", "-E", d + "/sshd.log"], cwd: d)
      usleep(300_000)
      if child.isRunning {
        self.port = port
        process = child
        return
      }
    }
    throw NSError(domain: "SSHServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "sshd did not start: \(box.read(d + "/sshd.log") ?? "")"])
  }

  func url(_ path: String) -> String { "ssh://\(NSUserName())@127.0.0.1:\(port)\(path)" }

  /// Puts the host key (one ed25519 line, libgit2 #6454) in the sandbox HOME's known_hosts.
  func trustHostKey() throws {
    let hostKey = (sandbox.read(dir + "/host_ed25519.pub") ?? "").split(separator: " ").prefix(2).joined(separator: " ")
    try sandbox.write("[127.0.0.1]:\(port) \(hostKey)\n", to: dir + "/home/.ssh/known_hosts")
  }

  func stop() {
    process.terminate()
  }
}

/// `ssh-agent -D -a SOCKET` in the foreground (so the pid we hold is the agent's); `stop()` ends it.
final class SSHAgent {
  static let agentPath = "/usr/bin/ssh-agent"
  static let addPath = "/usr/bin/ssh-add"
  let socket: String
  let process: Child
  let sandbox: Sandbox

  init(sandbox box: Sandbox) throws {
    sandbox = box
    socket = box.dir + "/agent.sock"
    process = try box.start(Self.agentPath, ["-D", "-a", socket], cwd: box.dir)
    for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) && process.isRunning { usleep(20_000) }
    guard FileManager.default.fileExists(atPath: socket) else {
      stop()
      throw NSError(domain: "SSHAgent", code: 1, userInfo: [NSLocalizedDescriptionKey: "ssh-agent did not start"])
    }
  }

  private func add(_ args: [String]) throws -> Run {
    try sandbox.run(Self.addPath, args, cwd: sandbox.dir, environment: ["SSH_AUTH_SOCK": socket])
  }

  /// ssh-agent creates its socket file before it listens on it: on a busy machine the first
  /// `ssh-add` can meet a refused connection, so it is tried again for up to two seconds.
  func add(_ key: String) throws -> Run {
    var run = try add(["-q", key])
    for _ in 0..<20 where !run.ok && process.isRunning {
      usleep(100_000)
      run = try add(["-q", key])
    }
    return run
  }
  func removeAll() throws -> Run { try add(["-q", "-D"]) }

  func stop() {
    process.terminate()
  }
}

extension Sandbox {
  /// `kb` that must finish within `seconds` (a credential loop would not): killed and recorded
  /// as an issue otherwise.
  func kbWithin(_ args: [String], seconds: Double = 60, in folder: String, environment: [String: String] = [:]) throws -> Run {
    let id = UUID().uuidString
    let out = dir + "/.out-\(id)", err = dir + "/.err-\(id)"
    defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
    let p = try start(kbBinary, args, cwd: folder, environment: environment, stdout: out, stderr: err)
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
      Issue.record("kb \(args.joined(separator: " ")) did not finish within \(seconds) s")
      p.kill(SIGKILL)
    }
    let status = p.wait()
    return Run(status: status, stdout: read(out) ?? "", stderr: read(err) ?? "")
  }

  /// No private key text, public key, or agent socket path in what kb printed or wrote into
  /// the clone's git config.
  func expectNoSecrets(in runs: [Run], clone: String, keys: [String], socket: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    var needles = ["PRIVATE KEY", socket]
    for key in keys {
      let lines = (read(key) ?? "").split(separator: "\n").filter { !$0.hasPrefix("-----") && $0.count > 20 }
      needles += lines.map(String.init)
      if let pub = read(key + ".pub")?.split(separator: " ").dropFirst().first { needles.append(String(pub)) }
    }
    #expect(needles.count > 2, sourceLocation: sourceLocation)
    let texts = runs.flatMap { [$0.stdout, $0.stderr] } + [read(clone + "/.git/config") ?? ""]
    for text in texts {
      for needle in needles where text.contains(needle) {
        Issue.record("output contains secret material: \(needle.prefix(12))…", sourceLocation: sourceLocation)
      }
    }
  }
}
