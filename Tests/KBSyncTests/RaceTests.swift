import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Several clones run `kb sync` at the same instant against one bare remote. Every push that
/// `kb sync` acknowledges must be on the remote afterwards: this catches libgit2 1.5's local
/// push, which overwrites the remote branch without a compare-and-swap.
@Suite(.serialized) struct RaceTests {
  static let clones = Int(ProcessInfo.processInfo.environment["KB_RACE_CLONES"] ?? "") ?? 4
  /// With libgit2's own local push instead of kb's CAS push, 6 rounds over path and file://
  /// lost acknowledged pushes in each transport (measured); 5 rounds by default.
  static let rounds = Int(ProcessInfo.processInfo.environment["KB_RACE_ROUNDS"] ?? "")

  enum Transport: String, CaseIterable { case path, file, git }

  static let transports: [Transport] = (ProcessInfo.processInfo.environment["KB_RACE_TRANSPORTS"]
    .map { $0.split(separator: ",").compactMap { Transport(rawValue: String($0)) } }) ?? Transport.allCases

  @Test(arguments: transports)
  func everyAcknowledgedPushLands(transport: Transport) throws {
    let box = try Sandbox("race-\(transport.rawValue)")
    let first = try box.makeRemote(first: "t0")
    var daemon: GitDaemon?
    defer { daemon?.stop() }
    let url: String
    switch transport {
    case .path: url = box.remote
    case .file: url = "file://" + box.remote
    case .git:
      daemon = try GitDaemon(sandbox: box, base: box.dir)
      url = "git://127.0.0.1:\(daemon!.port)/remote.git"
    }
    var clones = [first]
    for i in 1..<Self.clones { clones.append(try box.clone("t\(i)")) }
    for c in clones { try box.git(["remote", "set-url", "origin", url], in: c) }

    var acknowledged: [(clone: Int, head: String, file: String)] = []
    var written: [String] = []
    let rounds = Self.rounds ?? (transport == .git ? 3 : 5)
    for round in 0..<rounds {
      var procs: [(Child, String)] = []
      for (i, c) in clones.enumerated() {
        let file = "answers/r\(round)-t\(i).md"
        try box.write(box.answer(id: "r\(round)-t\(i)", title: "Round \(round) by t\(i)"), to: c + "/" + file)
        written.append(file)
      }
      // Start every sync at once; every first push waits for the same instant.
      let pushAt = String(Date().timeIntervalSince1970 + 1.5)
      for (i, c) in clones.enumerated() {
        let out = box.dir + "/.race-\(round)-\(i)"
        procs.append((
          try box.start(kbBinary, ["sync", "--json"], cwd: c, environment: ["KB_SYNC_PUSH_AT": pushAt], stdout: out, stderr: out + ".err"),
          out))
      }
      for (i, (p, out)) in procs.enumerated() {
        p.wait()
        let text = box.read(out) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        if json["pushed"] as? Bool == true, let head = json["head"] as? String {
          acknowledged.append((i, head, "answers/r\(round)-t\(i).md"))
        } else {
          #expect(json["pendingPush"] as? Bool == true, "t\(i) round \(round): \(text) \(box.read(out + ".err") ?? "")")
        }
      }
    }
    // Every acknowledged head is in the remote's history.
    for ack in acknowledged {
      let r = try box.git(["--git-dir", box.remote, "merge-base", "--is-ancestor", ack.head, "main"], in: box.dir)
      #expect(r.ok, "t\(ack.clone)'s acknowledged push \(ack.head) is missing from the remote")
      #expect(try box.remoteFile(ack.file) != nil, "\(ack.file) acknowledged but missing")
    }
    #expect(acknowledged.count >= rounds)
    // Then everyone syncs until quiet: all edits everywhere, identical heads.
    for _ in 0..<2 {
      for c in clones { #expect(try box.kb(["sync"], in: c).ok) }
    }
    let heads = try clones.map { try box.git(["rev-parse", "HEAD"], in: $0).stdout }
    #expect(Set(heads).count == 1)
    for file in written { #expect(try box.remoteFile(file) != nil, "\(file) lost") }
    #expect(try box.git(["--git-dir", box.remote, "fsck", "--no-dangling"], in: box.dir).ok)
  }
}
