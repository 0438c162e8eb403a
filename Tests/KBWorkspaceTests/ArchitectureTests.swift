import Foundation
import KBTestSupport
import Testing

/// The module rules of docs/ARCHITECTURE.md, checked on the sources: a front end that imports
/// what it must not fails here (and in review), not months later.
@Suite struct ArchitectureTests {
  static let sources = URL(fileURLWithPath: packageRoot).appendingPathComponent("Sources")

  /// `(file, imported module)` for every import line of the Swift files under `Sources/<target>`.
  static func imports(in target: String) -> [(file: String, module: String)] {
    let folder = sources.appendingPathComponent(target)
    guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
    var out: [(String, String)] = []
    for case let file as String in walker where file.hasSuffix(".swift") {
      guard let text = try? String(contentsOfFile: folder.appendingPathComponent(file).path, encoding: .utf8) else { continue }
      for line in text.split(separator: "\n") {
        var words = line.split(separator: " ").map(String.init)
        // `@testable`, `@preconcurrency`, `@_implementationOnly`, `public`, `internal`, … before `import`.
        while let first = words.first, first != "import", first.hasPrefix("@") || ["public", "internal", "package", "private", "fileprivate"].contains(first) {
          words.removeFirst()
        }
        guard words.count >= 2, words[0] == "import" else { continue }
        let module = words[1].split(separator: ".").first.map(String.init) ?? words[1]
        out.append((target + "/" + file, module))
      }
    }
    return out
  }

  static var targets: [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: sources.path))?.sorted() ?? []
  }

  @Test func frontEndsSeeOnlyTheApplicationLayer() {
    let frontEnds = Self.targets.filter { ["KBCLI", "KBCLIGit", "KBMCP", "KBWeb", "kb", "kb-git", "kb-mcp", "kb-serve"].contains($0) }
    #expect(frontEnds.contains("KBCLI") && frontEnds.contains("KBMCP"))
    for target in frontEnds {
      for (file, module) in Self.imports(in: target) where ["KBStore", "KBSync", "CLibgit2", "GRDB", "CSQLiteShim"].contains(module) {
        Issue.record("\(file) imports \(module): front ends call KBWorkspace (docs/ARCHITECTURE.md)")
      }
    }
  }

  @Test func eachLowLevelModuleHasOneImporter() {
    let owners = ["GRDB": "KBStore", "CSQLiteShim": "KBStore", "CLibgit2": "KBSync", "CGitPack": "KBSync"]
    for target in Self.targets {
      for (file, module) in Self.imports(in: target) {
        if let owner = owners[module], owner != target {
          Issue.record("\(file) imports \(module), which only \(owner) may import")
        }
        if module == "KBStore", target != "KBWorkspace" {
          Issue.record("\(file) imports \(module), which only KBWorkspace may import")
        }
        // libgit2 stays out of `kb`: only the git part of the application layer imports KBSync.
        if module == "KBSync", target != "KBWorkspaceGit" {
          Issue.record("\(file) imports \(module), which only KBWorkspaceGit may import (kb links no libgit2)")
        }
      }
    }
  }

  /// Raw libgit2 stays under `KBSync/Internals/`: the rest of KBSync (the sync engine, the
  /// repository commands, the merge hook, the team branch) speaks in Swift types only.
  @Test func rawLibgit2OnlyUnderInternals() throws {
    let folder = Self.sources.appendingPathComponent("KBSync")
    let outside = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
    #expect(outside.contains("SyncEngine.swift"))
    for file in outside {
      let text = try String(contentsOfFile: folder.appendingPathComponent(file).path, encoding: .utf8)
      for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if line.contains("import CLibgit2") || line.contains("import CGitPack") || line.contains("git_") || line.contains("OpaquePointer") {
          Issue.record("KBSync/\(file):\(n + 1): raw libgit2 outside KBSync/Internals/: \(line)")
        }
        // The engine reads no environment: its caller hands in `SyncOptions` and `SyncHooks`.
        if line.contains("processInfo.environment") || line.contains("getenv(") {
          Issue.record("KBSync/\(file):\(n + 1): an environment read outside KBSync/Internals/: \(line)")
        }
      }
    }
  }

  /// `kb` links no libgit2: neither it nor what it is built from (KBCLI, KBWorkspace) imports
  /// the git layers; the commands that touch git run in `kb-git` (Sources/KBCLI/GitCommands.swift).
  @Test func kbLinksNoGit() {
    for target in ["kb", "KBCLI", "KBWorkspace"] {
      for (file, module) in Self.imports(in: target) where ["KBSync", "CLibgit2", "KBWorkspaceGit", "KBCLIGit"].contains(module) {
        Issue.record("\(file) imports \(module): kb would load libgit2 at start-up")
      }
    }
  }

  @Test func rankingAndCoreStayPure() {
    for target in ["KBCore", "KBRank"] {
      for (file, module) in Self.imports(in: target)
      where ["KBStore", "KBSync", "KBWorkspace", "GRDB", "CLibgit2", "KBCLI", "KBMCP"].contains(module) {
        Issue.record("\(file) imports \(module): \(target) depends on nothing above it")
      }
    }
  }

  @Test func theApplicationLayerHidesStoreAndSync() throws {
    for target in ["KBWorkspace", "KBWorkspaceGit"] {
      let folder = Self.sources.appendingPathComponent(target)
      for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
        let text = try String(contentsOfFile: folder.appendingPathComponent(file).path, encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasSuffix("import KBStore") || line.hasSuffix("import KBSync") {
          #expect(line.hasPrefix("internal import"), "\(target)/\(file): '\(line)' must be an internal import")
        }
      }
    }
  }
}
