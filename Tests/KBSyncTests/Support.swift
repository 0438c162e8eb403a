import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// The sandbox, process runner and binary locator are KBTestSupport's; these are the sync
// tests' own steps on top of them.
typealias Run = ProcessResult
let kbBinary = BuiltBinary.kb

extension Sandbox {
  var remote: String { dir + "/remote.git" }

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

  func write(_ text: String, to path: String) throws { try TempFolder.write(text, to: path) }

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
