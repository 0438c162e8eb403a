import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The built `kb` (`swift build --build-tests` puts it beside the test bundle, also with
/// `--scratch-path`), else `.build/debug/kb` in the package.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path
let kbBinary: String = {
  // KB_TEST_KB: run these tests against another build (to see a test fail before a fix).
  if let other = ProcessInfo.processInfo.environment["KB_TEST_KB"], !other.isEmpty { return other }
  var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for _ in 0..<3 {
    let candidate = dir.appendingPathComponent("kb").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  return packageRoot + "/.build/debug/kb"
}()

struct Run {
  var status: Int32
  var stdout: String
  var stderr: String
  var ok: Bool { status == 0 }
}

/// A temporary folder with a bare remote and clones; every process runs with a private HOME,
/// no system git config, and `kb` on the PATH (for git's merge driver).
final class Sandbox: @unchecked Sendable {
  let dir: String
  let env: [String: String]

  init(_ name: String = "sync") throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(name)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
    var env = ProcessInfo.processInfo.environment
    env["HOME"] = dir + "/home"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["NO_COLOR"] = "1"
    env["PATH"] = (kbBinary as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    for key in ["KB_DIR", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "KB_SYNC_PAUSE_AT", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "KB_SSH_KEY", "KB_SSH_PASSPHRASE", "KB_GIT_TOKEN", "KB_GIT_USER", "KB_SSL_CA_FILE"] { env[key] = nil }
    self.env = env
  }

  deinit {
    if ProcessInfo.processInfo.environment["KB_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
  }

  var remote: String { dir + "/remote.git" }

  /// Starts a process (posix_spawn; output to files); the caller waits with `wait`.
  func start(_ executable: String, _ args: [String], cwd: String, extraEnv: [String: String] = [:],
             stdout: String? = nil, stderr: String? = nil) throws -> Child {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // `env -C` changes directory and execs in place (same pid), as posix_spawn has no chdir here.
    let argv = (["/usr/bin/env", "-C", cwd, executable] + args).map { strdup($0) } + [nil]
    let envp = env.merging(extraEnv) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    // Children get default signal handling and an empty mask (the test runner blocks some).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t(), defaults = sigset_t()
    sigemptyset(&empty)
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let code = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
    guard code == 0 else {
      throw NSError(domain: "spawn", code: Int(code), userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable)"])
    }
    return Child(pid: pid)
  }

  @discardableResult
  func run(_ executable: String, _ args: [String], cwd: String, extraEnv: [String: String] = [:]) throws -> Run {
    let id = UUID().uuidString
    let out = dir + "/.out-\(id)", err = dir + "/.err-\(id)"
    let p = try start(executable, args, cwd: cwd, extraEnv: extraEnv, stdout: out, stderr: err)
    let status = p.wait()
    defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
    return Run(
      status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
  }

  @discardableResult
  func kb(_ args: [String], in folder: String, extraEnv: [String: String] = [:]) throws -> Run {
    try run(kbBinary, args, cwd: folder, extraEnv: extraEnv)
  }

  @discardableResult
  func git(_ args: [String], in folder: String) throws -> Run {
    try run("/usr/bin/git", args, cwd: folder)
  }

  /// `git init --bare` remote plus a first teammate that ran `kb init` and pushed.
  func makeRemote(first name: String) throws -> String {
    try git(["init", "-q", "--bare", "-b", "main", remote], in: dir)
    let a = dir + "/" + name
    let r = try kb(["init", a], in: dir)
    #expect(r.ok, "\(r.stderr)")
    try configure(a, name: name)
    try git(["remote", "add", "origin", remote], in: a)
    let s = try kb(["sync"], in: a)
    #expect(s.ok, "\(s.stdout)\(s.stderr)")
    return a
  }

  /// `makeRemote`, then a first answer "From Alice" (`answers/a.md`) synced to the remote.
  func makeRemoteWithAnAnswer(first name: String) throws -> String {
    let a = try makeRemote(first: name)
    try write(answer(id: "a", title: "From Alice"), to: a + "/answers/a.md")
    #expect(try kb(["sync"], in: a).ok)
    return a
  }

  func configure(_ clone: String, name: String) throws {
    try git(["config", "user.name", name.capitalized], in: clone)
    try git(["config", "user.email", "\(name)@example.com"], in: clone)
  }

  /// `kb clone` of the remote as another teammate.
  func clone(_ name: String, url: String? = nil) throws -> String {
    let path = dir + "/" + name
    let r = try kb(["clone", url ?? remote, path], in: dir)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    try configure(path, name: name)
    return path
  }

  func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

  /// The text of `path` on the remote's main branch.
  func remoteFile(_ path: String) throws -> String? {
    let r = try git(["--git-dir", remote, "show", "main:\(path)"], in: dir)
    return r.ok ? r.stdout : nil
  }

  func answer(id: String, title: String, body: String = "## Fix\n1. Restart it.\n") -> String {
    "---\nid: \(id)\ntype: answer\ntitle: \(title)\ntags: [test]\nupdated: 2026-11-20\nauthor: test\n---\n\(body)"
  }

  /// Parses `kb sync --json`.
  static func json(_ run: Run) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any] ?? [:]
  }
}

/// A child process started by `Sandbox.start`.
final class Child: @unchecked Sendable {
  let pid: pid_t
  private var status: Int32?
  init(pid: pid_t) { self.pid = pid }

  /// Waits for the exit; the exit status, or 128+signal.
  @discardableResult
  func wait() -> Int32 {
    if let status { return status }
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    let s = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    status = s
    return s
  }

  var isRunning: Bool {
    if status != nil { return false }
    var raw: Int32 = 0
    let r = waitpid(pid, &raw, WNOHANG)
    if r == pid { status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f); return false }
    return r == 0
  }

  func kill(_ signal: Int32) { _ = Glibc.kill(pid, signal) }

  /// SIGTERM, up to 2 s for it to end, then SIGKILL; reaps it. For the servers tests start.
  func terminate() {
    guard isRunning else { return }
    kill(SIGTERM)
    for _ in 0..<40 where isRunning { usleep(50_000) }
    if isRunning { kill(SIGKILL) }
    wait()
  }
}

/// A `git daemon` on 127.0.0.1 serving `base` with push enabled; stopped by `stop()` (its PID only).
final class GitDaemon {
  let process: Child
  let port: Int

  init(sandbox: Sandbox, base: String) throws {
    var lastError = ""
    for _ in 0..<20 {
      let port = Int.random(in: 20000...60000)
      let p = try sandbox.start(
        "/usr/lib/git-core/git-daemon",
        ["--reuseaddr", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)", "--export-all",
         "--enable=receive-pack", base],
        cwd: base, stdout: sandbox.dir + "/.daemon-out", stderr: sandbox.dir + "/.daemon-err-\(port)")
      for _ in 0..<50 {
        usleep(100_000)
        if !p.isRunning { break }
        if try sandbox.git(["ls-remote", "git://127.0.0.1:\(port)/remote.git"], in: base).ok {
          self.process = p
          self.port = port
          return
        }
      }
      if p.isRunning { p.kill(SIGTERM); p.wait() }
      lastError = sandbox.read(sandbox.dir + "/.daemon-err-\(port)") ?? ""
    }
    throw NSError(domain: "GitDaemon", code: 1, userInfo: [NSLocalizedDescriptionKey: "git daemon did not start: \(lastError)"])
  }

  func stop() {
    process.terminate()
  }
}
