import Foundation
import KBCore

#if canImport(Glibc)
  import Glibc
#endif

/// The agent's identity: who signs journal entries and commits.
///
/// Read from `.kb/identity` (lines `name = …`, `email = …`, overriding), then git config
/// (`user.name`, `user.email`, as `git config` reads them in the knowledge base's folder), then
/// `$GIT_AUTHOR_NAME`/`$GIT_AUTHOR_EMAIL`.
public struct Identity: Equatable, Sendable, Codable, CustomStringConvertible {
  public var name: String
  public var email: String?

  public init(name: String, email: String?) {
    self.name = name
    self.email = email
  }

  /// Parses `Name <email>` or a bare name.
  public init?(parsing text: String) {
    let t = text.trimmingCharacters(in: .whitespaces)
    guard !t.isEmpty else { return nil }
    if let open = t.lastIndex(of: "<"), t.hasSuffix(">") {
      let name = t[..<open].trimmingCharacters(in: .whitespaces)
      let email = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
      guard !name.isEmpty else { return nil }
      self.init(name: name, email: email.isEmpty ? nil : email)
    } else {
      self.init(name: t, email: nil)
    }
  }

  public var description: String { email.map { "\(name) <\($0)>" } ?? name }

  /// Why `name` cannot sign journal entries, or `nil` when it can: a journal line separates its
  /// fields with `·` and ends at the line break.
  public static func nameProblem(_ name: String) -> String? {
    guard !name.contains(JournalEntry.separator.trimmingCharacters(in: .whitespaces)), !name.contains("\n") else {
      return "An author's name cannot contain '·' or a line break"
    }
    return nil
  }

  /// The identity for a knowledge base at `root`, or `nil` when none is configured.
  public static func current(in root: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Identity? {
    var name: String?
    var email: String?
    // Not through a link: a committed `.kb` link or a planted one must not choose who signs.
    if !Workspace.isLink(root + "/.kb/identity"), !Workspace.isLink(root + "/.kb"),
      let text = try? String(contentsOfFile: root + "/.kb/identity", encoding: .utf8)
    {
      for line in text.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { continue }
        if parts[0] == "name" { name = parts[1] }
        if parts[0] == "email" { email = parts[1] }
      }
    }
    if name == nil || email == nil {
      let config = gitUserConfig(root: root, environment: environment)
      if name == nil { name = config["user.name"] }
      if email == nil { email = config["user.email"] }
    }
    if name == nil { name = environment["GIT_AUTHOR_NAME"] }
    if email == nil { email = environment["GIT_AUTHOR_EMAIL"] }
    guard let name, !name.isEmpty else { return nil }
    return Identity(name: name, email: email)
  }

  /// `user.name` and `user.email` from git config, read by `git config` itself (system,
  /// global, XDG, the repository's, includes: git's own rules), in one process. Commands that
  /// sign journal entries do not load libgit2 for it (docs/BENCHMARKS.md, start-up). Empty
  /// when git is not installed.
  static func gitUserConfig(root: String, environment: [String: String]) -> [String: String] {
    let paths = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
    guard let git = paths.map({ String($0) + "/git" }).first(where: { access($0, X_OK) == 0 }) else { return [:] }
    // posix_spawn, not Foundation's Process: its child closes every possible descriptor one by
    // one before exec (tens of milliseconds under a high descriptor limit, on every suggestion).
    guard let data = WatchService.output(of: git, ["-C", root, "config", "--get-regexp", "^user\\.(name|email)$"], environment: environment)
    else { return [:] }
    var out: [String: String] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2 else { continue }
      out[parts[0].lowercased()] = String(parts[1])  // the last value wins, as in git
    }
    return out
  }
}
