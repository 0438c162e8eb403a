import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `kill -9` of `kb sync` at each step (KB_SYNC_PAUSE_AT makes it wait there); a rerun completes
/// and no edit is lost. Also: a second sync on the same folder waits for the lock, then fails
/// with a clear message.
@Suite struct CrashTests {
  @Test(arguments: ["commit", "fetch", "merge", "push"])
  func killNineThenRerunLosesNothing(point: String) throws {
    let box = try Sandbox("crash-\(point)")
    let alice = try box.makeRemote(first: "alice")
    let bob = try box.clone("bob")
    // Bob pushes first, so Alice's sync must merge.
    try box.write(box.answer(id: "bob1", title: "Bob's answer"), to: bob + "/answers/bob1.md")
    #expect(try box.kb(["sync"], in: bob).ok)
    try box.write(box.answer(id: "alice1", title: "Alice's answer"), to: alice + "/answers/alice1.md")

    let err = box.dir + "/.paused-err"
    let child = try box.start(
      kbBinary, ["sync"], cwd: alice, environment: ["KB_SYNC_PAUSE_AT": point, "KB_SYNC_PAUSE_SECONDS": "30"],
      stdout: box.dir + "/.paused-out", stderr: err)
    var paused = false
    for _ in 0..<200 {
      if box.read(err)?.contains("paused at \(point)") == true { paused = true; break }
      if !child.isRunning { break }
      usleep(50_000)
    }
    #expect(paused, "never paused at \(point): \(box.read(err) ?? "")")
    if point == "commit" {
      // While it holds the lock, another sync waits, then says why it gives up.
      let second = try box.kb(["sync", "--wait", "0.5"], in: alice)
      #expect(second.status == 1 && second.stderr.contains("Another kb sync is running"), "\(second.stderr)")
    }
    child.kill(SIGKILL)
    #expect(child.wait() == 128 + SIGKILL)

    // An edit made after the crash also survives.
    try box.write(box.answer(id: "alice2", title: "Alice after the crash"), to: alice + "/answers/alice2.md")
    let rerun = try box.kb(["sync", "--json"], in: alice)
    #expect(rerun.ok, "\(rerun.stdout)\(rerun.stderr)")
    #expect(try box.kb(["sync"], in: bob).ok)
    for clone in [alice, bob] {
      for id in ["bob1", "alice1", "alice2"] {
        #expect(FileManager.default.fileExists(atPath: "\(clone)/answers/\(id).md"), "\(id) missing in \(clone)")
      }
      #expect(try box.git(["status", "--porcelain"], in: clone).stdout.isEmpty)
      #expect(try box.git(["fsck", "--no-dangling"], in: clone).ok)
    }
    for id in ["bob1", "alice1", "alice2"] { #expect(try box.remoteFile("answers/\(id).md") != nil) }
    #expect(try box.git(["rev-parse", "HEAD"], in: alice).stdout == (try box.git(["rev-parse", "HEAD"], in: bob).stdout))
  }
}
