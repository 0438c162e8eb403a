import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `kb clone` and `kb sync` over ssh against an unprivileged sshd on 127.0.0.1 (ed25519 keys,
/// host key checked against known_hosts). Runs when /usr/sbin/sshd exists and we are root (sshd
/// needs its privilege-separation directory).
@Suite struct SSHTests {
  static let available = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0

  @Test(.enabled(if: available)) func cloneSyncUnknownHostAndBadKey() throws {
    let box = try Sandbox("ssh")
    let alice = try box.makeRemote(first: "alice")
    try box.write(box.answer(id: "a", title: "From Alice"), to: alice + "/answers/a.md")
    #expect(try box.kb(["sync"], in: alice).ok)
    try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    let d = box.dir
    #expect(try box.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", d + "/host_ed25519"], cwd: d).ok)
    #expect(try box.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", d + "/id_ed25519"], cwd: d).ok)
    #expect(try box.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", d + "/other_ed25519"], cwd: d).ok)
    try FileManager.default.copyItem(atPath: d + "/id_ed25519.pub", toPath: d + "/authorized_keys")
    var sshd: Child?
    var port = 0
    defer {
      if let sshd, sshd.isRunning { sshd.kill(SIGTERM); sshd.wait() }
    }
    for _ in 0..<10 {
      port = Int.random(in: 20000...60000)
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
      if child.isRunning { sshd = child; break }
    }
    #expect(sshd != nil, "sshd did not start: \(box.read(d + "/sshd.log") ?? "")")
    guard sshd != nil else { return }
    let hostKey = (box.read(d + "/host_ed25519.pub") ?? "").split(separator: " ").prefix(2).joined(separator: " ")
    let url = "ssh://\(NSUserName())@127.0.0.1:\(port)\(box.remote)"
    let key = ["KB_SSH_KEY": d + "/id_ed25519"]

    // Unknown host: refused with a clear message.
    var r = try box.kb(["clone", url, d + "/bob"], in: d, extraEnv: key)
    #expect(r.status == 1 && r.stderr.contains("is not in ~/.ssh/known_hosts"), "\(r.stderr)")

    try box.write("[127.0.0.1]:\(port) \(hostKey)\n", to: d + "/home/.ssh/known_hosts")
    r = try box.kb(["clone", url, d + "/bob"], in: d, extraEnv: key)
    #expect(r.ok, "\(r.stdout)\(r.stderr)")
    let bob = d + "/bob"
    try box.configure(bob, name: "bob")
    #expect(box.read(bob + "/answers/a.md")?.contains("From Alice") == true)
    try box.write(box.answer(id: "b", title: "From Bob over ssh"), to: bob + "/answers/b.md")
    r = try box.kb(["sync", "--json"], in: bob, extraEnv: key)
    #expect(r.ok && Sandbox.json(r)["pushed"] as? Bool == true, "\(r.stdout)\(r.stderr)")
    #expect(try box.remoteFile("answers/b.md")?.contains("From Bob over ssh") == true)

    // A key the server does not know: authentication fails, the edit stays committed.
    try box.write(box.answer(id: "c", title: "Pending"), to: bob + "/answers/c.md")
    r = try box.kb(["sync"], in: bob, extraEnv: ["KB_SSH_KEY": d + "/other_ed25519"])
    #expect(r.status == 1 && r.stderr.contains("Authentication to") && r.stderr.contains("committed locally"), "\(r.stderr)")
    #expect(try box.git(["status", "--porcelain"], in: bob).stdout.isEmpty)
    #expect(!r.stderr.contains("BEGIN OPENSSH PRIVATE KEY"))
    r = try box.kb(["sync"], in: bob, extraEnv: key)
    #expect(r.ok, "\(r.stderr)")
    #expect(try box.remoteFile("answers/c.md") != nil)
  }
}
