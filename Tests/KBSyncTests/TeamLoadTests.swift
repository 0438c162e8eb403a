import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A team under load: agents edit and `kb sync` at the same time through one `git daemon` on
/// 127.0.0.1. Half the operations write a new answer, half append a journal entry to one of
/// three shared cases (so pushes race and merges happen on every round).
///
/// Oracle: every edit whose sync was acknowledged (exit 0, pushed) is on the remote, once; all
/// clones converge on one commit. Figures: syncs per minute, retries per sync (median, max), and
/// the longest an agent waited for its push to land (from starting `kb sync` to its exit).
///
/// Small by default; `KB_LOAD_FULL=1` runs 20 agents × 40 operations; `KB_LOAD_AGENTS`,
/// `KB_LOAD_OPS` and `KB_LOAD_SEED` set the size and the seed.
@Suite struct TeamLoadTests {
  @Test func agentsSyncingThroughOneGitDaemonLoseNothing() throws {
    let env = ProcessInfo.processInfo.environment
    let full = env["KB_LOAD_FULL"] == "1"
    let agents = Int(env["KB_LOAD_AGENTS"] ?? "") ?? (full ? 20 : 4)
    let opsEach = Int(env["KB_LOAD_OPS"] ?? "") ?? (full ? 40 : 4)
    let seed = UInt64(env["KB_LOAD_SEED"] ?? "") ?? 14
    let box = try Sandbox("load")
    let first = try box.makeRemote(first: "t0")
    let shared = ["load-a", "load-b", "load-c"]
    for id in shared {
      try box.write(
        "---\nid: \(id)\ntype: case\nstatus: open\nchannel: twitter\ncustomer: \"@someone\"\nopened: 2026-11-20T10:00:00Z\n---\n> It keeps failing.\n\n## Journal\n- 2026-11-20T10:00:00Z · t0 · opened · start\n",
        to: first + "/cases/2026/11/\(id).md")
    }
    #expect(try box.kb(["sync"], in: first).ok)
    let daemon = try GitDaemon(sandbox: box, base: box.dir)
    defer { daemon.stop() }
    let url = "git://127.0.0.1:\(daemon.port)/remote.git"
    var clones: [String] = []
    for i in 0..<agents { clones.append(try box.clone("agent\(i)", url: url)) }

    final class Log: @unchecked Sendable {
      let lock = NSLock()
      var acknowledged: [(path: String, token: String)] = []
      var attempts: [Int] = []
      var waits: [Double] = []
      var failures: [String] = []
      func add(_ f: () -> Void) { lock.lock(); f(); lock.unlock() }
    }
    let log = Log()
    let started = Date()
    let group = DispatchGroup()
    for (i, clone) in clones.enumerated() {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        var rng = SeededGenerator(seed: seed &+ UInt64(i) &* 7919)
        for op in 0..<opsEach {
          let token = "tok-\(i)-\(op)"
          var path: String
          do {
            if Bool.random(using: &rng) {
              path = "answers/\(token).md"
              try box.write(box.answer(id: token, title: "Load \(token)", body: "## Fix\n1. \(token)\n"), to: clone + "/" + path)
            } else {
              let id = shared[Int.random(in: 0..<shared.count, using: &rng)]
              path = "cases/2026/11/\(id).md"
              let file = clone + "/" + path
              let time = ISO8601DateFormatter().string(from: Date())
              let text = (box.read(file) ?? "") + "- \(time) · agent\(i) · note · \(token)\n"
              try box.write(text, to: file)
            }
            // Sync until the push lands (a pending push is retried, as an agent would).
            for _ in 0..<5 {
              let t = Date()
              let r = try box.kb(["sync", "--json"], in: clone)
              let json = Sandbox.json(r)
              let waited = Date().timeIntervalSince(t)
              if r.ok, json["pushed"] as? Bool == true {
                log.add {
                  log.acknowledged.append((path, token))
                  log.attempts.append(json["attempts"] as? Int ?? 1)
                  log.waits.append(waited)
                }
                break
              }
              log.add { log.failures.append("agent\(i) \(token): \(r.status) \(r.stderr.prefix(300))") }
            }
          } catch {
            log.add { log.failures.append("agent\(i) \(token): \(error)") }
          }
        }
      }
      thread.start()
    }
    group.wait()
    let elapsed = Date().timeIntervalSince(started)

    // Quiet: everyone syncs once more; all end on one commit.
    for clone in clones { #expect(try box.kb(["sync"], in: clone).ok) }
    for clone in clones { #expect(try box.kb(["sync"], in: clone).ok) }
    let heads = Set(try clones.map { try box.git(["rev-parse", "HEAD"], in: $0).stdout })
    #expect(heads.count == 1, "\(heads)")
    // Every acknowledged edit is on the remote, once.
    for (path, token) in log.acknowledged {
      let text = try box.remoteFile(path) ?? ""
      // An answer's fix step, or a journal entry: exactly once.
      let mark = path.hasPrefix("answers/") ? "1. \(token)\n" : " · note · \(token)\n"
      #expect(text.components(separatedBy: mark).count == 2, "\(token) in \(path)")
    }
    #expect(log.failures.isEmpty, "\(log.failures)")
    #expect(log.acknowledged.count == agents * opsEach)

    let retries = log.attempts.map { $0 - 1 }.sorted()
    let median = retries.isEmpty ? 0 : retries[retries.count / 2]
    let perMinute = Double(log.attempts.count) / elapsed * 60
    var load = [0.0, 0.0, 0.0]
    _ = getloadavg(&load, 3)
    let line = String(
      format: "team load: %d agents × %d operations (seed %llu) through git daemon: %d syncs in %.1f s = %.1f syncs/min; retries per sync median %d, max %d; longest wait for a push %.2f s; load average %.1f",
      agents, opsEach, seed, log.attempts.count, elapsed, perMinute, median, retries.last ?? 0, log.waits.max() ?? 0, load[0])
    print(line)
    if let report = env["KB_LOAD_REPORT"] { try? (line + "\n").write(toFile: report, atomically: true, encoding: .utf8) }
  }
}
