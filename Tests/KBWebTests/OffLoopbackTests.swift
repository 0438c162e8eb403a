import Foundation
import KBTestSupport
import Testing

/// `kb serve` bound to an address that is not loopback, reached through it: refused without a
/// token; with `--token-file`, every request without the token refused (Tests/web/off_loopback.py).
///
/// Where user and network namespaces work (`unshare -rn`), the server listens on 10.23.0.1 inside
/// a private namespace and the script connects to it there, touching no real network. Otherwise
/// it listens on 0.0.0.0 and the script connects through one of the machine's own non-loopback
/// addresses (`hostname -I`). With neither, the test is skipped and says why.
@Suite struct OffLoopbackTests {
  enum Plan {
    case namespace
    case host(String)
    case none
  }

  static let plan: Plan = {
    if BrowserEndToEndTests.run(["unshare", "-rn", "ip", "addr", "add", "10.23.0.1/32", "dev", "lo"]).status == 0 {
      return .namespace
    }
    let addresses = BrowserEndToEndTests.run(["hostname", "-I"]).output.split(whereSeparator: \.isWhitespace).map(String.init)
    if let address = addresses.first(where: { !$0.hasPrefix("127.") && $0 != "::1" && !$0.hasPrefix("fe80") && !$0.contains("Usage") }) {
      return .host(address)
    }
    return .none
  }()

  static var possible: Bool {
    if case .none = plan { return false }
    return true
  }

  @Test(
    .enabled(
      if: OffLoopbackTests.possible,
      "neither a network namespace (unshare -rn) nor a non-loopback address (hostname -I) on this machine"),
    .timeLimit(.minutes(2)))
  func requestsWithoutTheTokenAreRefusedOffLoopback() throws {
    try #require(BuiltBinary.kbProblem == nil, "\(BuiltBinary.kbProblem ?? "")")
    let folder = try TempFolder("web-off-loopback")
    try FileManager.default.copyItem(atPath: packageRoot + "/kb", toPath: folder.path + "/kb")
    let script = ["python3", "Tests/web/off_loopback.py", BuiltBinary.kb, folder.path + "/kb"]
    let arguments: [String]
    switch Self.plan {
    case .namespace: arguments = ["unshare", "-rn"] + script + ["namespace"]
    case .host(let address): arguments = script + ["host", address]
    case .none: return
    }
    let (status, output) = BrowserEndToEndTests.run(arguments)
    #expect(status == 0, "\(arguments.joined(separator: " ")) failed:\n\(output)")
    #expect(output.contains(" passed, 0 failed") && output.contains("refused (401) from "), "\(output)")
    #expect(!output.contains("from 127."), "\(output)")
  }
}
