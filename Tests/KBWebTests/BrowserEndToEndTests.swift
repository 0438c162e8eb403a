import Foundation
import KBTestSupport
import Testing

/// Runs `Tests/web/test_web.py`: the built `kb serve` driven in headless Chromium (Debian's
/// `chromium` and `chromium-driver`) with Selenium from PyPI, as an agent would use it.
///
/// It never skips silently: when Chromium, chromedriver, the Selenium virtualenv
/// (`.build/venv-web`, made by scripts/test) or the built `kb` is missing, the test fails and says
/// what to install. Set `KB_SKIP_BROWSER_TEST=1` to skip it on purpose (shown as skipped, with why).
@Suite struct BrowserEndToEndTests {
  static let repository = URL(fileURLWithPath: packageRoot)

  /// `$KB_BIN`, else KBTestSupport's built `kb`.
  static let kbBinary: String? = {
    if let env = ProcessInfo.processInfo.environment["KB_BIN"], FileManager.default.isExecutableFile(atPath: env) { return env }
    return BuiltBinary.kbProblem == nil ? BuiltBinary.kb : nil
  }()

  /// `$KB_WEB_PYTHON`, else the virtualenv scripts/test makes.
  static var python: String {
    ProcessInfo.processInfo.environment["KB_WEB_PYTHON"] ?? repository.appendingPathComponent(".build/venv-web/bin/python").path
  }

  static let skipped = ProcessInfo.processInfo.environment["KB_SKIP_BROWSER_TEST"] == "1"

  /// What is missing to run the test, said so that a person can fix it.
  static func missing() -> [String] {
    let fm = FileManager.default
    var out: [String] = []
    if kbBinary == nil { out.append("the kb executable is not built: run swift build (or set KB_BIN)") }
    if let kb = kbBinary, !fm.isExecutableFile(atPath: URL(fileURLWithPath: kb).deletingLastPathComponent().appendingPathComponent("kb-serve").path) {
      out.append("kb-serve is not built beside kb: run swift build")
    }
    if run(["sh", "-c", "command -v chromium && command -v chromedriver"]).status != 0 {
      out.append("Debian's chromium and chromium-driver are not installed: run scripts/setup")
    }
    if run([python, "-c", "import selenium"]).status != 0 {
      out.append("Selenium is not installed in \(python): run scripts/test (it makes .build/venv-web), or set KB_WEB_PYTHON")
    }
    return out
  }

  @Test(
    .disabled(if: BrowserEndToEndTests.skipped, "KB_SKIP_BROWSER_TEST=1 was set"),
    .timeLimit(.minutes(5)))
  func agentWorksInHeadlessChromium() throws {
    let missing = Self.missing()
    try #require(missing.isEmpty, "cannot run the browser test: \(missing.joined(separator: "; "))")
    let (status, output) = Self.run(
      [Self.python, "Tests/web/test_web.py"], environment: ["KB_BIN": Self.kbBinary!, "SE_OFFLINE": "true"])
    #expect(status == 0, "Tests/web/test_web.py failed:\n\(output)")
    #expect(output.contains(" passed, 0 failed"), "\(output)")
  }

  /// Runs a command in KBTestSupport's sandbox (temporary HOME and git config), from the
  /// repository's folder; standard output and error together.
  static func run(_ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
    do {
      let box = try Sandbox("web-e2e")
      let r = try box.run("/usr/bin/env", arguments, cwd: packageRoot, environment: environment)
      return (r.status, r.stdout + r.stderr)
    } catch {
      return (-1, "\(error)")
    }
  }

}
