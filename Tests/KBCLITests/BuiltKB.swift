import Foundation

/// The `kb` executable that `swift build --build-tests` puts next to the test bundle (or, as a
/// fallback, `.build/debug/kb` in the package), for tests that run it as a user or script would.
enum BuiltKB {
  static let path: String = {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("kb").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".build/debug/kb").path
  }()
}
