import Foundation

#if canImport(Glibc)
  import Glibc
#endif

// What every test target shares: where the package and the built executables are, temporary
// folders, one sandboxed way to run a process, a temporary knowledge base, a seeded generator.

/// The package's root folder (the one with Package.swift).
public let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The executables `swift build --build-tests` builds beside the test bundle (also with
/// `--scratch-path`), else in `.build/debug` of the package.
public enum BuiltBinary {
  public static func path(_ name: String) -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent(name).path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return packageRoot + "/.build/debug/" + name
  }

  /// `kb`; `KB_TEST_KB` runs the tests against another build (to see a test fail before a fix).
  public static let kb: String = {
    if let other = ProcessInfo.processInfo.environment["KB_TEST_KB"], !other.isEmpty { return other }
    return path("kb")
  }()
  /// `kb-mcp`.
  public static let kbMCP = path("kb-mcp")

  /// Why `kb` cannot be run, or `nil` when it can. Suites that run it fail with this (they never
  /// skip silently).
  public static var kbProblem: String? {
    FileManager.default.isExecutableFile(atPath: kb) ? nil : "no kb executable at \(kb): build with swift build --build-tests"
  }
}

/// A folder under the system's temporary folder, removed when the value goes away (kept when
/// `KB_TEST_KEEP` is set, to look at after a failure).
public final class TempFolder: @unchecked Sendable {
  public let path: String

  public init(_ label: String = "test") throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(label)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit {
    if ProcessInfo.processInfo.environment["KB_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: path) }
  }

  /// Writes `text` at `relative`, creating folders.
  public func write(_ relative: String, _ text: String) throws {
    try TempFolder.write(text, to: path + "/" + relative)
  }

  public static func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  }

  public func read(_ relative: String) -> String? { try? String(contentsOfFile: path + "/" + relative, encoding: .utf8) }
}

/// What a finished process printed and how it exited.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
  public var ok: Bool { status == 0 }

  public init(status: Int32, stdout: String, stderr: String) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }

  /// Standard output as a JSON value.
  public func jsonValue() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }

  /// Standard output as a JSON object.
  public func json() throws -> [String: Any] {
    guard let object = try jsonValue() as? [String: Any] else {
      throw NSError(domain: "ProcessResult", code: 1, userInfo: [NSLocalizedDescriptionKey: "not a JSON object: \(stdout)"])
    }
    return object
  }

  /// Standard output as a JSON object (`[:]` when it is not one).
  public var object: [String: Any] { (try? json()) ?? [:] }
}

/// A process started by ``Sandbox/start(_:_:cwd:environment:stdin:stdout:stderr:)``.
public final class Child: @unchecked Sendable {
  public let pid: pid_t
  private var status: Int32?

  init(pid: pid_t) { self.pid = pid }

  /// Waits for the exit and returns the exit status (128 + signal when killed).
  @discardableResult
  public func wait() -> Int32 {
    if let status { return status }
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    status = code
    return code
  }

  public var isRunning: Bool {
    if status != nil { return false }
    var raw: Int32 = 0
    let r = waitpid(pid, &raw, WNOHANG)
    if r == pid {
      status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
      return false
    }
    return r == 0
  }

  public func kill(_ signal: Int32) { _ = Glibc.kill(pid, signal) }

  /// SIGTERM, up to 2 s for it to end, then SIGKILL; reaps it.
  public func terminate() {
    guard isRunning else { return }
    kill(SIGTERM)
    for _ in 0..<40 where isRunning { usleep(50_000) }
    if isRunning { kill(SIGKILL) }
    wait()
  }
}

/// The one way tests run a process: a temporary HOME with its own (empty) git config, no system
/// git config, no colour, no `TZ`, none of `kb`'s or git's identity and credential variables from
/// the caller, and `kb` on the PATH (git's merge driver runs it).
public final class Sandbox: @unchecked Sendable {
  public let folder: TempFolder
  public var dir: String { folder.path }
  public var home: String { dir + "/home" }
  /// The environment every process gets (``run(_:_:cwd:environment:stdin:)`` adds to it).
  public var environment: [String: String]

  public static let clearedVariables = [
    "KB_DIR", "TZ", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "KB_SYNC_PAUSE_AT", "KB_SYNC_PAUSE_SECONDS", "KB_SYNC_PUSH_AT", "KB_SYNC_ATTEMPTS", "KB_SUGGEST_CACHE", "KB_RANK_DUMP",
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "KB_SSH_KEY", "KB_SSH_PASSPHRASE", "KB_GIT_TOKEN", "KB_GIT_USER", "KB_SSL_CA_FILE",
    "VISUAL", "EDITOR",
  ]

  public init(_ label: String = "sandbox") throws {
    folder = try TempFolder(label)
    try FileManager.default.createDirectory(atPath: folder.path + "/home", withIntermediateDirectories: true)
    var env = ProcessInfo.processInfo.environment
    for key in Self.clearedVariables { env[key] = nil }
    env["HOME"] = folder.path + "/home"
    env["XDG_CONFIG_HOME"] = folder.path + "/home/.config"
    env["GIT_CONFIG_GLOBAL"] = folder.path + "/home/.gitconfig"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["NO_COLOR"] = "1"
    env["PATH"] = (BuiltBinary.kb as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    environment = env
    FileManager.default.createFile(atPath: folder.path + "/home/.gitconfig", contents: Data())
  }

  /// Sets `user.name` and `user.email` in the sandbox's global git config.
  public func setGitIdentity(name: String, email: String) throws {
    try TempFolder.write("[user]\n\tname = \(name)\n\temail = \(email)\n", to: home + "/.gitconfig")
  }

  /// Starts a process (posix_spawn, default signal handling); output goes to files or nowhere.
  public func start(
    _ executable: String, _ args: [String], cwd: String, environment extra: [String: String] = [:], stdin: String? = nil,
    stdout: String? = nil, stderr: String? = nil
  ) throws -> Child {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // `env -C` changes directory and execs in place (same pid), as posix_spawn has no chdir here.
    let argv = (["/usr/bin/env", "-C", cwd, executable] + args).map { strdup($0) } + [nil]
    let envp = environment.merging(extra) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
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

  /// Runs a process to its end; `stdin` is its standard input.
  @discardableResult
  public func run(
    _ executable: String, _ args: [String], cwd: String? = nil, environment extra: [String: String] = [:], stdin: String? = nil
  ) throws -> ProcessResult {
    let id = UUID().uuidString
    let out = dir + "/.out-\(id)", err = dir + "/.err-\(id)", input = dir + "/.in-\(id)"
    if let stdin { try TempFolder.write(stdin, to: input) }
    defer { for f in [out, err, input] { try? FileManager.default.removeItem(atPath: f) } }
    let p = try start(
      executable, args, cwd: cwd ?? dir, environment: extra, stdin: stdin == nil ? nil : input, stdout: out, stderr: err)
    let status = p.wait()
    return ProcessResult(
      status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
  }

  /// Runs the built `kb`.
  @discardableResult
  public func kb(_ args: [String], in folder: String? = nil, environment extra: [String: String] = [:], stdin: String? = nil)
    throws -> ProcessResult
  {
    try run(BuiltBinary.kb, args, cwd: folder, environment: extra, stdin: stdin)
  }

  /// A `Process` for the built `kb` with the sandbox's environment, for tests that talk to it
  /// while it runs (attach pipes, then `run()`).
  public func kbProcess(_ args: [String], in folder: String? = nil, environment extra: [String: String] = [:]) -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: BuiltBinary.kb)
    p.arguments = args
    p.environment = environment.merging(extra) { $1 }
    p.currentDirectoryURL = URL(fileURLWithPath: folder ?? dir)
    return p
  }

  /// Runs `git`.
  @discardableResult
  public func git(_ args: [String], in folder: String) throws -> ProcessResult {
    try run("/usr/bin/git", args, cwd: folder)
  }
}

/// A knowledge base in a temporary folder: `kb.yml`, `answers/`, `cases/`, written as files (no
/// `kb` code runs to make it), removed at the end.
public final class TempKB: @unchecked Sendable {
  public let folder: TempFolder
  public var root: String { folder.path }

  /// - Parameter settings: the text of `kb.yml` (`nil`: no kb.yml, as the evaluation sets are).
  public init(_ label: String = "kb", settings: String? = "team: Support\n") throws {
    folder = try TempFolder(label)
    for sub in ["answers", "cases"] {
      try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
    }
    if let settings { try folder.write("kb.yml", settings) }
  }

  public func write(_ relative: String, _ text: String) throws { try folder.write(relative, text) }
  public func read(_ relative: String) -> String? { folder.read(relative) }

  /// Writes `answers/<id>.md`.
  public func answer(
    _ id: String, title: String, symptoms: [String] = [], tags: [String] = [], body: String = "## Fix\n1. Restart it.\n"
  ) throws {
    var text = "---\nid: \(id)\ntype: answer\ntitle: \"\(title)\"\n"
    if !tags.isEmpty { text += "tags: [\(tags.joined(separator: ", "))]\n" }
    if !symptoms.isEmpty { text += "symptoms:\n" + symptoms.map { "  - \"\($0)\"\n" }.joined() }
    text += "---\n\n" + body
    try write("answers/\(id).md", text)
  }
}

/// A small deterministic generator (SplitMix64), so that a failing seed can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
