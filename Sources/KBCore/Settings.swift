import Foundation
import Yams

/// Team settings from `kb.yml` at the knowledge base root.
///
/// Unknown keys are allowed (other modules read their own), and every key has a default, so an
/// empty `kb.yml` is a valid knowledge base.
public struct Settings: Equatable, @unchecked Sendable {
  /// The team's name, for reply signatures and status output.
  public var team: String = "Support"
  /// The team's own handles on each channel (`@NorthwindHelp`).
  public var handles: [String] = []
  /// Product names, so that suggestions can tell a product complaint from an unrelated trend.
  public var products: [String] = []
  /// Competitors' names: a mention about them calls for empathy, never a pitch.
  public var competitors: [String] = []
  /// Default delay before checking back on a resolved case, such as `3d`.
  public var followUp: String = "3d"
  /// Reply length limits per channel.
  public var replyLimits: [String: Int] = ["twitter": 280, "x": 280, "mastodon": 500]
  /// The signature appended to replies; `{name}`, `{initials}` and `{team}` are replaced.
  public var signature: String = "^{initials}"
  /// Saved views for `kb cases --view NAME`: name → query (`status:open assignee:@me sort:waiting`).
  public var views: [String: String] = [:]
  /// Response-time targets (`sla:`).
  public var serviceTargets = ServiceTargets()
  /// The agents: handle → full name (`agents: {tina: Tina Ng}`).
  public var agents = AgentRoster()
  /// The YAML as read, for modules with settings of their own.
  public var raw: Node.Mapping = Node.Mapping([])

  public init() {}

  /// The file name at the root of every knowledge base.
  public static let fileName = "kb.yml"

  /// Parses `kb.yml`.
  public init(parsing text: String) throws(FrontMatterError) {
    let fm = try FrontMatter(parsing: text, firstLine: 1)
    raw = fm.mapping
    if let v = fm.string("team") { team = v }
    handles = fm.strings("handles")
    products = fm.strings("products")
    competitors = fm.strings("competitors")
    if let v = fm.string("follow_up") {
      guard Duration.parseDays(v) != nil else {
        throw .invalidField("follow_up", line: fm.keyLines["follow_up"] ?? 1, expected: "a delay such as 3d or 1w")
      }
      followUp = v
    }
    if let v = fm.string("signature") { signature = v }
    if let node = fm["views"] {
      guard case .mapping(let map) = node else {
        throw .invalidField("views", line: fm.keyLines["views"] ?? 1, expected: "a mapping of view names to queries")
      }
      for (key, value) in map {
        guard let name = key.string, let query = value.string else {
          throw .invalidField("views", line: fm.keyLines["views"] ?? 1, expected: "a mapping of view names to queries")
        }
        do { _ = try CaseView(parsing: query) } catch {
          throw .invalidField("views", line: fm.keyLines["views"] ?? 1, expected: "view '\(name)': \(error.description)")
        }
        views[name] = query
      }
    }
    if let node = fm["sla"] {
      do { serviceTargets = try ServiceTargets(node: node) } catch {
        throw .invalidField("sla", line: fm.keyLines["sla"] ?? 1, expected: error.description)
      }
    }
    if case .mapping(let map)? = fm["agents"] {
      var names: [String: String] = [:]
      for (key, value) in map { if let k = key.string, let v = value.string { names[k] = v } }
      agents = AgentRoster(names: names)
    }
    if case .mapping(let limits)? = fm["reply_limits"] {
      for (key, value) in limits {
        if let k = key.string, let n = value.int { replyLimits[k.lowercased()] = n }
      }
    }
  }

  /// The default `kb.yml` written by `kb init`.
  public static func template(team: String) -> String {
    """
    # Casebook team settings. See docs/FORMAT.md.
    team: "\(team.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"
    # Our own accounts, so we never answer ourselves.
    handles: []
    # What we support; a trending hashtag about none of these is not ours to join.
    products: []
    # Competitors: empathize with their unhappy customers, never pitch to them.
    competitors: []
    # Check back on resolved cases after this delay (d = days, w = weeks).
    follow_up: 3d
    # Appended to reply drafts: {name}, {initials}, {team}.
    signature: "^{initials}"
    reply_limits:
      twitter: 280
      mastodon: 500

    """
  }
}

/// Delays written as `3d`, `36h`, `1w`.
public enum Duration {
  /// Whole days in a delay (`36h` rounds up to 2). `nil` when unreadable.
  public static func parseDays(_ text: String) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    guard let unit = t.last, let n = Int(t.dropLast()), n >= 0, n <= 3650 else {
      return Int(t).flatMap { $0 >= 0 && $0 <= 3650 ? $0 : nil }
    }
    switch unit {
    case "d": return n
    case "w": return n * 7
    case "h": return (n + 23) / 24
    default: return nil
    }
  }
}

extension Settings {
  /// The team's own handle that `author` is, if any (`handles` in kb.yml).
  ///
  /// Compared case-insensitively, with or without the leading `@`. A handle written with a
  /// server (`@northwind@mastodon.social`) is one Mastodon account: it matches that author with
  /// the same server, and the bare `@northwind` only on Mastodon (a local account on its own
  /// server). A handle without a server (`@NorthwindHelp`) matches an author without one, on any
  /// channel but Mastodon, where the same name on another server is someone else.
  public func ownHandle(_ author: String?, channel: String? = nil) -> String? {
    guard let author else { return nil }
    let who = Self.handleParts(author)
    guard !who.user.isEmpty else { return nil }
    for handle in handles {
      let ours = Self.handleParts(handle)
      guard ours.user == who.user, !ours.user.isEmpty else { continue }
      switch (ours.server, who.server) {
      case (nil, nil): return handle
      case (let a?, let b?) where a == b: return handle
      case (_?, nil) where channel?.lowercased() == "mastodon": return handle
      default: continue
      }
    }
    return nil
  }

  /// `@User@Server.example` → ("user", "server.example").
  static func handleParts(_ s: String) -> (user: String, server: String?) {
    var t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    while t.hasPrefix("@") { t.removeFirst() }
    let parts = t.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
    let user = String(parts.first ?? "")
    let server = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
    return (user, server)
  }
}
