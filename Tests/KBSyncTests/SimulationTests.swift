import Foundation
import KBTestSupport
import Testing

/// Teammates make random edits (new answer or case, edit a field, edit the body, append a
/// journal entry, delete) and sync at random points; then everyone syncs until quiet.
///
/// Oracle: every token written is in the final file, unless a teammate who had seen it deleted
/// that file; all clones end on the same commit with clean work trees.
/// `KB_SIM_SEED`, `KB_SIM_OPS` (per teammate) and `KB_SIM_TEAM` size longer runs.
@Suite struct SimulationTests {
  @Test func randomTeamConverges() throws {
    let env = ProcessInfo.processInfo.environment
    let seed = UInt64(env["KB_SIM_SEED"] ?? "") ?? 20091020
    let opsEach = Int(env["KB_SIM_OPS"] ?? "") ?? 30
    let team = Int(env["KB_SIM_TEAM"] ?? "") ?? 6
    var rng = SeededGenerator(seed: seed)
    let box = try Sandbox("sim")
    var clones = [try box.makeRemote(first: "t0")]
    for i in 1..<team { clones.append(try box.clone("t\(i)")) }

    var ledger: [String: Set<String>] = [:]  // path -> tokens written
    var deletedSeen: [String: Set<String>] = [:]  // path -> tokens the deleters had
    var tokenCount = 0
    var remaining = Array(repeating: opsEach, count: team)
    var syncs = 0
    func tokens(in text: String) -> Set<String> {
      Set(text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" }).map(String.init).filter { $0.hasPrefix("tok-") })
    }
    func documents(_ clone: String) -> [String] {
      let fm = FileManager.default
      let all = (fm.enumerator(atPath: clone)?.allObjects as? [String]) ?? []
      return all.filter { ($0.hasPrefix("answers/") || $0.hasPrefix("cases/")) && $0.hasSuffix(".md") }.sorted()
    }

    while let who = (0..<team).filter({ remaining[$0] > 0 }).randomElement(using: &rng) {
      remaining[who] -= 1
      let clone = clones[who]
      tokenCount += 1
      let token = "tok-t\(who)-\(tokenCount)"
      let docs = documents(clone)
      let op = docs.isEmpty ? 0 : Int.random(in: 0..<10, using: &rng)
      switch op {
      case 0, 1:  // new answer or case
        let isCase = Bool.random(using: &rng)
        let path = isCase ? "cases/2026/11/c-\(token).md" : "answers/a-\(token).md"
        let text = isCase
          ? "---\nid: c-\(token)\ntype: case\nstatus: open\nchannel: twitter\ncustomer: \"@someone\"\nopened: 2026-11-20T10:00:00Z\ntags: [sim]\n---\n> It keeps failing.\n\n## Journal\n- 2026-11-20T10:00:00Z · t\(who) · opened · \(token)\n"
          : box.answer(id: "a-\(token)", title: "Answer \(token)", body: "## Fix\n1. \(token)\n")
        try box.write(text, to: clone + "/" + path)
        ledger[path, default: []].insert(token)
      case 2, 3:  // edit a field: add a tag
        let path = docs.randomElement(using: &rng)!
        var lines = (box.read(clone + "/" + path) ?? "").components(separatedBy: "\n")
        if let i = lines.firstIndex(where: { $0.hasPrefix("tags: [") && $0.hasSuffix("]") }) {
          lines[i] = String(lines[i].dropLast()) + ", \(token)]"
          try box.write(lines.joined(separator: "\n"), to: clone + "/" + path)
          ledger[path, default: []].insert(token)
        }
      case 4, 5:  // edit the body: insert a line somewhere after the front matter
        let path = docs.randomElement(using: &rng)!
        var lines = (box.read(clone + "/" + path) ?? "").components(separatedBy: "\n")
        let closing = (lines.indices.dropFirst().first { lines[$0] == "---" } ?? 0) + 1
        let at = Int.random(in: closing...max(closing, lines.count - 1), using: &rng)
        lines.insert("Note \(token).", at: at)
        try box.write(lines.joined(separator: "\n"), to: clone + "/" + path)
        ledger[path, default: []].insert(token)
      case 6, 7, 8:  // append a journal entry (cases), else a body line at the end
        let path = docs.randomElement(using: &rng)!
        var text = box.read(clone + "/" + path) ?? ""
        if !text.hasSuffix("\n") { text += "\n" }
        text += path.hasPrefix("cases/")
          ? "- 2026-11-2\(Int.random(in: 1...9, using: &rng))T1\(Int.random(in: 0...9, using: &rng)):00:00Z · t\(who) · note · \(token)\n"
          : "See also \(token).\n"
        try box.write(text, to: clone + "/" + path)
        ledger[path, default: []].insert(token)
      default:  // delete
        let path = docs.randomElement(using: &rng)!
        deletedSeen[path, default: []].formUnion(tokens(in: box.read(clone + "/" + path) ?? ""))
        try FileManager.default.removeItem(atPath: clone + "/" + path)
      }
      if Int.random(in: 0..<4, using: &rng) == 0 {
        let r = try box.kb(["sync"], in: clone)
        #expect(r.ok, "seed \(seed): t\(who) sync failed: \(r.stdout)\(r.stderr)")
        syncs += 1
      }
    }
    // Everyone syncs until quiet.
    for _ in 0..<4 {
      for clone in clones {
        let r = try box.kb(["sync"], in: clone)
        #expect(r.ok, "seed \(seed): final sync failed: \(r.stderr)")
      }
      let heads = Set(try clones.map { try box.git(["rev-parse", "HEAD"], in: $0).stdout })
      if heads.count == 1 { break }
    }
    let trees = Set(try clones.map { try box.git(["rev-parse", "HEAD^{tree}"], in: $0).stdout })
    #expect(trees.count == 1, "seed \(seed): clones differ")
    let remoteHead = try box.git(["--git-dir", box.remote, "rev-parse", "main"], in: box.dir).stdout
    #expect(try box.git(["rev-parse", "HEAD"], in: clones[0]).stdout == remoteHead)
    for clone in clones { #expect(try box.git(["status", "--porcelain"], in: clone).stdout.isEmpty) }

    var lost: [String] = []
    var present = 0
    for (path, written) in ledger {
      let final = tokens(in: box.read(clones[0] + "/" + path) ?? "")
      for token in written {
        if final.contains(token) { present += 1 } else if !(deletedSeen[path]?.contains(token) ?? false) {
          lost.append("\(path): \(token)")
        }
      }
    }
    #expect(lost.isEmpty, "\(box.dir) seed \(seed): lost \(lost.count) edits: \(lost.prefix(10))")
    #expect(present > 0)
    print("simulation seed \(seed): \(team) teammates × \(opsEach) ops, \(syncs) syncs, \(present) tokens present, \(lost.count) lost")
  }
}
