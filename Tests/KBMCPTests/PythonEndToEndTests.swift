import Foundation
import Testing

/// Runs the end-to-end suite `Tests/mcp/test_mcp.py`: the built `kb mcp` driven as a subprocess
/// by an independent client, the PyPI `mcp` package. With pytest when it is installed, else with
/// the file's own small runner. Skipped, saying why, when python3 with `mcp` or the built `kb`
/// is missing (`pip install mcp`, `swift build`).
@Suite struct PythonEndToEndTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// `$KB_BIN`, else `kb` next to this test binary, else `.build/debug/kb`.
  static let kbBinary: String? = {
    let fm = FileManager.default
    if let env = ProcessInfo.processInfo.environment["KB_BIN"], fm.isExecutableFile(atPath: env) { return env }
    var candidates: [String] = []
    if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
      // Inside an .xctest bundle on some platforms: walk up to the build folder.
      for _ in 0..<4 {
        candidates.append(dir.appendingPathComponent("kb").path)
        dir = dir.deletingLastPathComponent()
      }
    }
    candidates.append(repository.appendingPathComponent(".build/debug/kb").path)
    return candidates.first { fm.isExecutableFile(atPath: $0) && !$0.hasSuffix(".xctest") }
  }()

  static let pythonReady: Bool = {
    run(["python3", "-c", "import mcp"]).status == 0
  }()

  static let hasPytest: Bool = {
    run(["python3", "-c", "import pytest"]).status == 0
  }()

  static var available: Bool { kbBinary != nil && pythonReady }

  @Test(
    .enabled(if: PythonEndToEndTests.pythonReady, "python3 with the PyPI 'mcp' package is needed: pip install mcp"),
    .enabled(if: PythonEndToEndTests.kbBinary != nil, "the kb executable is not built: run swift build (or set KB_BIN)"),
    .timeLimit(.minutes(3)))
  func pythonClientDrivesKBMCP() throws {
    let command = Self.hasPytest
      ? ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "Tests/mcp"] : ["python3", "Tests/mcp/test_mcp.py"]
    let (status, output) = Self.run(command, environment: ["KB_BIN": Self.kbBinary!])
    #expect(status == 0, "pytest failed:\n\(output)")
    #expect(output.contains(" passed"), "\(output)")
    #expect(!output.contains(" skipped"), "\(output)")
  }

  static func run(_ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = repository
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
