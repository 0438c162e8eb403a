import Foundation
import Yams

/// A reply an agent can send, following the playbook: acknowledge, apologize for the
/// frustration, act (the fix's first step), offer a private channel when personal details are
/// needed, and sign. Within the channel's length limit; the signature is never cut.
///
/// ```swift
/// let draft = ReplyDraft.write(ReplyDraft.Context(customer: "@ana", step: "Restart the phone."), templates: ReplyTemplates(),
///                              settings: Settings(), agent: Identity(name: "Jason Reyes", email: nil), channel: "twitter")
/// draft.text  // "@ana Thanks for flagging this, and sorry for the frustration. Try this: Restart the phone. ^JR"
/// ```
public struct ReplyDraft: Codable, Equatable, Sendable {
  public var text: String
  /// Characters in `text`.
  public var length: Int
  /// The channel's limit, when it has one.
  public var limit: Int?
  public var channel: String?
  /// Which template was used: fix, no_fix, venting, competitor, sensitive, care.
  public var template: String
  public var signature: String
  /// Whether the text was shortened to fit the limit.
  public var truncated: Bool
  public var privateChannel: Bool

  enum CodingKeys: String, CodingKey {
    case text, length, limit, channel, template, signature, truncated
    case privateChannel = "private_channel"
  }

  /// What the reply is about.
  public struct Context: Sendable, Equatable {
    /// The customer's handle, with `@`.
    public var customer: String?
    /// The known fix's title and first step, when there is one.
    public var title: String?
    public var step: String?
    /// Whether to offer a private channel (personal details needed).
    public var needsPrivate: Bool
    public var guards: [MentionGuard.Kind]

    public init(customer: String? = nil, title: String? = nil, step: String? = nil, needsPrivate: Bool = false, guards: [MentionGuard.Kind] = []) {
      self.customer = customer
      self.title = title
      self.step = step
      self.needsPrivate = needsPrivate
      self.guards = guards
    }
  }

  /// An agent's name and initials, the way signatures use them.
  public struct Agent: Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
    public var initials: String {
      String(name.split(whereSeparator: { $0 == " " || $0 == "-" }).compactMap(\.first).map { Character($0.uppercased()) })
    }
  }

  /// The signature from `Settings.signature` (`{name}`, `{initials}`, `{team}`).
  public static func signature(_ template: String, agent: Agent?, team: String) -> String {
    let name = agent?.name ?? team
    let initials = agent?.initials ?? Agent(name: team).initials
    return template.replacingOccurrences(of: "{name}", with: name)
      .replacingOccurrences(of: "{initials}", with: initials)
      .replacingOccurrences(of: "{team}", with: team)
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Writes the draft; `nil` when the guards say not to reply in public (a threat, a trend that
  /// is not ours).
  public static func write(
    _ context: Context, templates: ReplyTemplates, settings: Settings, agent: Agent?, channel: String?
  ) -> ReplyDraft? {
    let g = Set(context.guards)
    if g.contains(where: \.blocksReply) { return nil }
    let name: String
    var needsPrivate = context.needsPrivate
    if g.contains(.selfHarm) {
      name = "care"
      needsPrivate = true
    } else if g.contains(.personalData) || g.contains(.abusive) {
      name = "sensitive"
      needsPrivate = true
    } else if g.contains(.competitor) {
      name = "competitor"
      needsPrivate = false
    } else if g.contains(.venting) {
      name = "venting"
    } else if context.step != nil || context.title != nil {
      name = "fix"
    } else {
      name = "no_fix"
      needsPrivate = true
    }
    let signature = Self.signature(settings.signature, agent: agent, team: settings.team)
    let limit = channel.flatMap { settings.replyLimits[$0.lowercased()] }
    let privateText = needsPrivate ? templates.text("private") : ""
    var step = context.step ?? (context.title.map { "See our fix for \"\($0)\"." } ?? "")
    let template = templates.text(name)
    func render(_ step: String) -> String {
      let values = [
        "customer": context.customer ?? "", "title": context.title ?? "", "step": step,
        "private": privateText, "team": settings.team, "name": agent?.name ?? settings.team,
      ]
      return collapseSpaces(fill(template, values))
    }
    var body = render(step)
    var truncated = false
    if let limit {
      let budget = limit - signature.count - 1
      if body.count > budget, !step.isEmpty {
        // Shorten the fix step first: the greeting, apology and private offer stay whole.
        let over = body.count - budget
        let keep = step.count - over - 1
        step = keep >= 12 ? shorten(step, to: keep) : ""
        body = render(step)
        truncated = true
      }
      if body.count > budget {
        body = shorten(body, to: max(0, budget - 1))
        truncated = true
      }
    }
    let text = body.isEmpty ? signature : body + " " + signature
    return ReplyDraft(
      text: text, length: text.count, limit: limit, channel: channel, template: name, signature: signature,
      truncated: truncated, privateChannel: needsPrivate)
  }

  /// Replaces `{key}` placeholders in one pass; unknown ones stay as written.
  static func fill(_ template: String, _ values: [String: String]) -> String {
    var out = ""
    var rest = template[...]
    while let open = rest.firstIndex(of: "{") {
      out += rest[..<open]
      let after = rest[rest.index(after: open)...]
      if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
        out += value
        rest = after[after.index(after: close)...]
      } else {
        out += "{"
        rest = after
      }
    }
    out += rest
    return out
  }

  /// Cuts at a word boundary to at most `count - 1` characters and adds "…".
  public static func shorten(_ s: String, to count: Int) -> String {
    guard s.count > count else { return s }
    guard count > 1 else { return "" }
    var cut = String(s.prefix(count - 1))
    if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) > count / 2 {
      cut = String(cut[..<space])
    }
    while let last = cut.last, last.isPunctuation || last == " " { cut.removeLast() }
    return cut + "…"
  }

  static func collapseSpaces(_ s: String) -> String {
    s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
  }
}

/// Reply templates: built-in defaults, overridden by `reply_templates:` in `kb.yml` and by
/// `templates/<name>.md` files. Placeholders: `{customer}`, `{title}`, `{step}`, `{private}`,
/// `{team}`, `{name}`.
public struct ReplyTemplates: Equatable, Sendable {
  public var templates: [String: String]

  public static let defaults: [String: String] = [
    "fix": "{customer} Thanks for flagging this, and sorry for the frustration. Here's what usually fixes it: {step} {private}",
    "no_fix": "{customer} Thanks for letting us know, and sorry for the trouble. We want to look into this with you. {private}",
    "venting": "{customer} We hear you, and we're sorry this has been so frustrating. We're here when you want a hand. {private}",
    "competitor": "{customer} Sorry to hear that, that sounds really frustrating. Hope it gets sorted soon.",
    "sensitive": "{customer} We're sorry about this and want to help. Please don't share personal details here. {private}",
    "care": "{customer} We're really sorry you're going through this. You don't have to face it alone: please reach out to someone you trust or a local crisis line. {private}",
    "private": "Send us a DM and we'll take it from there.",
  ]

  public init(_ overrides: [String: String] = [:]) {
    var t = Self.defaults
    for (k, v) in overrides where !v.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      t[k] = v.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    templates = t
  }

  /// Templates from `kb.yml`'s `reply_templates:` mapping (name → text), then `files` (name →
  /// text, from `templates/<name>.md`) over them.
  public init(settings: Settings, files: [String: String] = [:]) {
    var overrides: [String: String] = [:]
    for (key, value) in settings.raw {
      guard key.string == "reply_templates", case .mapping(let map) = value else { continue }
      for (k, v) in map {
        if let name = k.string, let text = v.string { overrides[name] = text }
      }
    }
    for (k, v) in files { overrides[k] = v }
    self.init(overrides)
  }

  public func text(_ name: String) -> String { templates[name] ?? Self.defaults[name] ?? "" }
}
