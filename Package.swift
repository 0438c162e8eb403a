// swift-tools-version: 6.1
import PackageDescription

#if os(Linux)
  let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
#else
  let staticStdlib: [LinkerSetting] = []
#endif

let package = Package(
  name: "kb",
  products: [
    .executable(name: "kb", targets: ["kb"]),
    // The MCP server, which `kb mcp` runs in its place: the MCP SDK (and libcurl, through its
    // FoundationNetworking) stays out of `kb`'s start-up.
    .executable(name: "kb-mcp", targets: ["kb-mcp"]),
    // The commands that touch git (init, clone, status, sync, conflicts, log, merge-driver),
    // which `kb` runs in its place: libgit2 and the libraries behind it stay out of `kb`.
    .executable(name: "kb-git", targets: ["kb-git"]),
    // The web interface, which `kb serve` runs in its place: Hummingbird and SwiftNIO stay out of
    // `kb`'s start-up.
    .executable(name: "kb-serve", targets: ["kb-serve"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", .upToNextMinor(from: "0.12.1")),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    .package(url: "https://github.com/JohnSundell/Ink", from: "0.6.0"),
  ],
  targets: [
    .target(name: "KBCore", dependencies: ["CWordVectors", .product(name: "Yams", package: "Yams")]),
    // The suggest ranker's static word vectors (scripts/word-vectors), assembled into the binary.
    .target(name: "CWordVectors", exclude: ["word-vectors.bin"], cSettings: [.headerSearchPath(".")]),
    .target(name: "CSQLiteShim", linkerSettings: [.linkedLibrary("sqlite3")]),
    // The ranker, pure: its one parameter set (RankingParameters) and the fusion arithmetic.
    .target(name: "KBRank", dependencies: ["KBCore"]),
    .target(name: "KBStore", dependencies: ["KBCore", "KBRank", "CSQLiteShim", .product(name: "GRDB", package: "GRDB.swift")]),
    .systemLibrary(name: "CLibgit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
    // The pack writer of kb's local transfers, in C, on zlib and mbedTLS's SHA-1 (no libgit2).
    .target(name: "CGitPack", linkerSettings: [.linkedLibrary("z"), .linkedLibrary("mbedcrypto")]),
    .target(name: "KBSync", dependencies: ["KBCore", "CLibgit2", "CGitPack"]),
    // The application layer: the only importer of KBStore and KBSync (`internal import`), in two
    // parts: KBWorkspace, and KBWorkspaceGit for what touches git (so `kb` links no libgit2).
    .target(name: "KBWorkspace", dependencies: ["KBCore", "KBRank", "KBStore", .product(name: "Yams", package: "Yams")]),
    .target(name: "KBWorkspaceGit", dependencies: ["KBCore", "KBWorkspace", "KBSync"]),
    // Front ends: they see KBWorkspace, KBRank and KBCore, nothing below.
    .target(
      name: "KBMCP",
      dependencies: [
        "KBWorkspace",
        "KBWorkspaceGit",
        .product(name: "MCP", package: "swift-sdk"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(
      name: "KBCLI",
      dependencies: [
        "KBWorkspace",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"),
      ]),
    // The web front end (`kb serve`): imports only KBWorkspace and KBCore, like KBMCP.
    .target(
      name: "KBWeb",
      dependencies: [
        "KBWorkspace",
        "KBWorkspaceGit",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Ink", package: "Ink"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(name: "KBCLIGit", dependencies: ["KBCLI", "KBWorkspaceGit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // Release builds link the Swift runtime and Foundation statically (start-up: docs/BENCHMARKS.md).
    .executableTarget(name: "kb", dependencies: ["KBCLI"], linkerSettings: staticStdlib),
    .executableTarget(name: "kb-mcp", dependencies: ["KBCLI", "KBMCP", "KBWorkspace"], linkerSettings: staticStdlib),
    .executableTarget(name: "kb-git", dependencies: ["KBCLIGit"], linkerSettings: staticStdlib),
    .executableTarget(name: "kb-serve", dependencies: ["KBCLI", "KBWeb", "KBWorkspace"], linkerSettings: staticStdlib),
    // What every test target shares: the built binaries' locator, one sandboxed process runner
    // (temporary HOME and git config), temporary folders and knowledge bases, a seeded generator.
    .target(name: "KBTestSupport", path: "Tests/KBTestSupport"),
    .testTarget(name: "KBCoreTests", dependencies: ["KBCore", "CWordVectors", "KBTestSupport"]),
    .testTarget(name: "KBRankTests", dependencies: ["KBRank", "KBTestSupport"]),
    .testTarget(name: "KBStoreTests", dependencies: ["KBStore", "KBTestSupport"]),
    .testTarget(name: "KBWorkspaceTests", dependencies: ["KBWorkspace", "KBWorkspaceGit", "KBTestSupport"]),
    .testTarget(name: "KBCLITests", dependencies: ["KBCLI", "KBCLIGit", "KBTestSupport"]),
    .testTarget(name: "KBMCPTests", dependencies: ["KBMCP", "KBWorkspace", "KBTestSupport", .product(name: "MCP", package: "swift-sdk")]),
    .testTarget(name: "KBSyncTests", dependencies: ["KBSync", "KBCore", "KBTestSupport"]),
    .testTarget(name: "CGitPackTests", dependencies: ["CGitPack", "KBTestSupport"]),
    .testTarget(
      name: "KBWebTests",
      dependencies: [
        "KBWeb", "KBWorkspace", "KBWorkspaceGit", "KBTestSupport",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
      ]),
  ]
)
