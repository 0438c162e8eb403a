import Foundation
import KBTestSupport
import Testing

/// Runs the end-to-end suite `Tests/mcp/test_mcp.py`: the built `kb mcp` driven as a subprocess
/// by an independent client, the PyPI `mcp` package, in KBTestSupport's sandbox. With pytest when
/// it is installed, else with the file's own small runner.
///
/// The Python is `$KB_TEST_PYTHON`, else the virtual environment `scripts/test` creates
/// (`.build/venv`, with `mcp` and `pytest` from PyPI: Debian's own Python is externally managed),
/// else `python3` when it has `mcp`. When none has it, the test is skipped and says how to get it
/// (`scripts/test`); it never passes without running.
@Suite struct PythonEndToEndTests {
  /// The interpreter (its real path, as `sys.executable` gives it) of the first Python with the
  /// `mcp` package, or `nil`.
  static let python: String? = {
    guard let box = try? Sandbox("python-probe") else { return nil }
    let env = ProcessInfo.processInfo.environment
    var candidates: [String] = []
    if let p = env["KB_TEST_PYTHON"], !p.isEmpty { candidates.append(p) }
    candidates.append(packageRoot + "/.build/venv/bin/python")
    // python3 on the caller's PATH (a pyenv shim needs the caller's HOME to find its interpreter).
    candidates += (env["PATH"] ?? "").split(separator: ":").map { $0 + "/python3" }
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
      let probe = try? box.run(
        candidate, ["-c", "import mcp, sys; print(sys.executable)"], environment: ["HOME": env["HOME"] ?? box.home])
      if let probe, probe.ok, let path = probe.stdout.split(separator: "\n").first { return String(path) }
    }
    return nil
  }()

  @Test(
    .enabled(if: PythonEndToEndTests.python != nil, "no Python with the PyPI 'mcp' package: run scripts/test (it creates .build/venv)"),
    .timeLimit(.minutes(3)))
  func pythonClientDrivesKBMCP() throws {
    try #require(BuiltBinary.kbProblem == nil, "\(BuiltBinary.kbProblem ?? "")")
    let python = try #require(Self.python)
    let box = try Sandbox("mcp-e2e")
    let hasPytest = try box.run(python, ["-c", "import pytest"]).ok
    let command = hasPytest ? ["-m", "pytest", "-q", "-p", "no:cacheprovider", "Tests/mcp"] : ["Tests/mcp/test_mcp.py"]
    let r = try box.run(python, command, cwd: packageRoot, environment: ["KB_BIN": BuiltBinary.kb])
    let output = r.stdout + r.stderr
    #expect(r.ok, "the Python MCP client failed:\n\(output)")
    #expect(output.contains(" passed"), "\(output)")
    #expect(!output.contains(" skipped"), "\(output)")
  }
}
