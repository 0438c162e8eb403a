import Foundation

/// A bad mention payload, with what was wrong.
public struct MentionError: Error, Equatable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A public post that mentions the team: the input of `kb case open` and `kb suggest`.
///
/// Read from plain text, or from JSON in three shapes: a plain object (`text`, `author`, `url`,
/// `created_at`), an X API v2 response (`data` as one tweet or an array, authors from
/// `includes.users`), or a Mastodon status (HTML `content`, `account.acct`).
public struct Mention: Equatable, Sendable, Codable {
  /// The post's text, as plain text (HTML removed, entities decoded).
  public var text: String
  /// The author's handle with a leading `@`, when known.
  public var author: String?
  /// The author's display name, when known.
  public var authorName: String?
  public var url: String?
  public var createdAt: Date?
  /// `twitter`, `mastodon`, or what the plain object says.
  public var channel: String?
  /// The platform's id of the post.
  public var id: String?
  /// The post's language, when the platform says.
  public var language: String?

  public init(
    text: String, author: String? = nil, authorName: String? = nil, url: String? = nil, createdAt: Date? = nil,
    channel: String? = nil, id: String? = nil, language: String? = nil
  ) {
    self.text = text
    self.author = author
    self.authorName = authorName
    self.url = url
    self.createdAt = createdAt
    self.channel = channel
    self.id = id
    self.language = language
  }

  enum CodingKeys: String, CodingKey {
    case text, author, url, channel, id, language
    case authorName = "author_name"
    case createdAt = "created_at"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(text, forKey: .text)
    try c.encodeIfPresent(author, forKey: .author)
    try c.encodeIfPresent(authorName, forKey: .authorName)
    try c.encodeIfPresent(url, forKey: .url)
    try c.encodeIfPresent(createdAt.map(Timestamp.format), forKey: .createdAt)
    try c.encodeIfPresent(channel, forKey: .channel)
    try c.encodeIfPresent(id, forKey: .id)
    try c.encodeIfPresent(language, forKey: .language)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    text = try c.decode(String.self, forKey: .text)
    author = try c.decodeIfPresent(String.self, forKey: .author)
    authorName = try c.decodeIfPresent(String.self, forKey: .authorName)
    url = try c.decodeIfPresent(String.self, forKey: .url)
    createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt).flatMap(Timestamp.parse)
    channel = try c.decodeIfPresent(String.self, forKey: .channel)
    id = try c.decodeIfPresent(String.self, forKey: .id)
    language = try c.decodeIfPresent(String.self, forKey: .language)
  }

  // MARK: Parsing JSON

  /// Parses one JSON document: a plain object, an X API v2 response, a Mastodon status, or an
  /// array of any of these. Returns every mention in it, in order.
  ///
  /// - Throws: ``MentionError`` saying what is wrong, for JSON that does not parse or has no text.
  public static func parse(json data: Data) throws(MentionError) -> [Mention] {
    let value: Any
    do {
      value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      throw MentionError("not valid JSON: \(Self.describe(error))")
    }
    return try parse(value: value)
  }

  /// Parses JSON lines: one mention payload a line. Each line gives its mentions or its error,
  /// so one bad line never stops the others.
  public static func parse(jsonLines text: String) -> [(line: Int, result: Result<[Mention], MentionError>)] {
    var out: [(Int, Result<[Mention], MentionError>)] = []
    for (i, line) in Lines(text).lines.enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !trimmed.isEmpty else { continue }
      out.append((i + 1, Result { () throws(MentionError) in try parse(json: Data(trimmed.utf8)) }))
    }
    return out
  }

  static func parse(value: Any) throws(MentionError) -> [Mention] {
    if let array = value as? [Any] {
      var out: [Mention] = []
      for item in array { out += try parse(value: item) }
      return out
    }
    guard let object = value as? [String: Any] else {
      // A bare JSON string is not a mention: it has no author, link or time, and accepting it
      // silently hid input that was meant to be an object.
      let hint = value is String ? " (a bare JSON string; to open a case from plain words, pass them as arguments instead)" : ""
      throw MentionError("expected a JSON object with a 'text' field, got \(kind(of: value))\(hint)")
    }
    if object["data"] != nil { return try parseX(object) }
    if object["content"] is String, object["account"] != nil { return [try parseMastodon(object)] }
    if let reblog = object["reblog"] as? [String: Any], reblog["content"] is String {
      return [try parseMastodon(reblog)]
    }
    return [try parsePlain(object)]
  }

  static func parsePlain(_ object: [String: Any]) throws(MentionError) -> Mention {
    guard let raw = object["text"] ?? object["content"] ?? object["body"] else {
      throw MentionError("missing 'text': a mention needs the customer's words in a 'text' field")
    }
    guard let text = raw as? String else {
      throw MentionError("'text' must be a string, got \(kind(of: raw))")
    }
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw MentionError("'text' is empty")
    }
    // A field of the wrong type is an error, not silently dropped ("author": 5).
    for key in ["url", "channel", "created_at", "at", "time", "lang", "language"] {
      if let v = object[key], !(v is String), !(v is NSNull) {
        throw MentionError("'\(key)' must be a string, got \(kind(of: v))")
      }
    }
    var author: String?
    var authorName: String?
    let authorKey = ["author", "user", "customer"].first { object[$0] != nil } ?? "author"
    switch object["author"] ?? object["user"] ?? object["customer"] {
    case let s as String: author = s
    case let o as [String: Any]:
      author = (o["handle"] ?? o["username"] ?? o["screen_name"] ?? o["acct"]) as? String
      authorName = (o["name"] ?? o["display_name"]) as? String
    case nil, is NSNull: break
    case let other?:
      throw MentionError("'\(authorKey)' must be a string (a handle) or an object, got \(kind(of: other))")
    }
    let created = (object["created_at"] ?? object["at"] ?? object["time"]) as? String
    if let created, Timestamp.parse(created) == nil {
      throw MentionError("'created_at' is not an ISO 8601 time: '\(created)'")
    }
    return Mention(
      text: text, author: author.map(handle), authorName: authorName, url: object["url"] as? String,
      createdAt: created.flatMap(Timestamp.parse), channel: (object["channel"] as? String)?.lowercased(),
      id: stringID(object["id"]), language: object["lang"] as? String ?? object["language"] as? String)
  }

  static func parseX(_ object: [String: Any]) throws(MentionError) -> [Mention] {
    var users: [String: (username: String?, name: String?)] = [:]
    if let includes = object["includes"] as? [String: Any], let list = includes["users"] as? [[String: Any]] {
      for user in list {
        if let id = stringID(user["id"]) { users[id] = (user["username"] as? String, user["name"] as? String) }
      }
    }
    let tweets: [[String: Any]]
    switch object["data"] {
    case let one as [String: Any]: tweets = [one]
    case let many as [[String: Any]]: tweets = many
    default:
      if let errors = object["errors"] as? [[String: Any]], let first = errors.first {
        throw MentionError("the X response is an error: \(first["detail"] as? String ?? first["title"] as? String ?? "unknown")")
      }
      throw MentionError("'data' must be a tweet object or an array of tweets")
    }
    var out: [Mention] = []
    for tweet in tweets {
      guard let text = tweet["text"] as? String else { throw MentionError("a tweet in 'data' has no 'text'") }
      let id = stringID(tweet["id"])
      let authorID = stringID(tweet["author_id"])
      let user = authorID.flatMap { users[$0] }
      let username = user?.username
      var url: String?
      if let id {
        url = username.map { "https://x.com/\($0)/status/\(id)" } ?? "https://x.com/i/web/status/\(id)"
      }
      out.append(Mention(
        text: decodeEntities(text), author: username.map(handle) ?? authorID.map { "x:\($0)" },
        authorName: user?.name, url: url, createdAt: (tweet["created_at"] as? String).flatMap(Timestamp.parse),
        channel: "twitter", id: id, language: tweet["lang"] as? String))
    }
    return out
  }

  static func parseMastodon(_ object: [String: Any]) throws(MentionError) -> Mention {
    guard let html = object["content"] as? String else { throw MentionError("a Mastodon status needs 'content'") }
    let account = object["account"] as? [String: Any]
    var acct = account?["acct"] as? String
    if let a = acct, !a.contains("@"), let accountURL = account?["url"] as? String,
      let host = URL(string: accountURL)?.host
    {
      acct = "\(a)@\(host)"
    }
    var text = plainText(fromHTML: html)
    if let spoiler = object["spoiler_text"] as? String, !spoiler.isEmpty {
      text = plainText(fromHTML: spoiler) + "\n" + text
    }
    return Mention(
      text: text, author: acct.map(handle), authorName: account?["display_name"] as? String,
      url: object["url"] as? String ?? object["uri"] as? String,
      createdAt: (object["created_at"] as? String).flatMap(Timestamp.parse), channel: "mastodon",
      id: stringID(object["id"]), language: object["language"] as? String)
  }

  // MARK: Helpers

  /// A platform account name as a handle: `stevebuttry` → `@stevebuttry` (a Mastodon
  /// `user@host` too becomes `@user@host`).
  static func handle(_ s: String) -> String {
    let t = s.trimmingCharacters(in: .whitespaces)
    return t.hasPrefix("@") || t.isEmpty ? t : "@" + t
  }

  /// A customer as a person types it (`--customer`, MCP `customer` or `author`): a bare name
  /// gets the `@` of a handle; a handle, or an address with an `@` in it, stays as written.
  public static func customer(_ typed: String) -> String {
    typed.hasPrefix("@") || typed.contains("@") ? typed : "@" + typed
  }

  /// The mention with what it does not say filled in from flags or tool arguments: the
  /// customer (``customer(_:)``), the channel (lowercased), the link and the time. What the
  /// mention says wins.
  public func filling(customer: String?, channel: String?, url: String?, createdAt: Date?) -> Mention {
    var m = self
    if m.author == nil { m.author = customer.map(Self.customer) }
    if m.channel == nil { m.channel = channel?.lowercased() }
    if m.url == nil { m.url = url }
    if m.createdAt == nil { m.createdAt = createdAt }
    return m
  }

  static func stringID(_ value: Any?) -> String? {
    switch value {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    default: nil
    }
  }

  static func kind(of value: Any) -> String {
    switch value {
    case is String: "a string"
    case is NSNumber: "a number"
    case is [Any]: "an array"
    case is [String: Any]: "an object"
    case is NSNull: "null"
    default: "\(type(of: value))"
    }
  }

  static func describe(_ error: Error) -> String {
    let ns = error as NSError
    if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
    return ns.localizedDescription
  }

  /// Text from an HTML fragment: tags removed (even malformed ones), `<br>` and paragraph ends
  /// as line breaks, entities decoded.
  public static func plainText(fromHTML html: String) -> String {
    var out = ""
    var i = html.startIndex
    while i < html.endIndex {
      let ch = html[i]
      if ch == "<" {
        // A tag runs to the next '>' (or, for a malformed tag, the next '<').
        var j = html.index(after: i)
        while j < html.endIndex, html[j] != ">", html[j] != "<" { j = html.index(after: j) }
        let tag = html[html.index(after: i)..<j].lowercased()
        if tag.hasPrefix("br") || tag.hasPrefix("/p") || tag.hasPrefix("p ") || tag == "p" {
          if tag.hasPrefix("br") || tag.hasPrefix("/p") { out.append("\n") }
        }
        i = j < html.endIndex && html[j] == ">" ? html.index(after: j) : j
        continue
      }
      out.append(ch)
      i = html.index(after: i)
    }
    return decodeEntities(out).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Decodes the HTML entities platforms use (`&amp;`, `&quot;`, `&#39;`, `&#x1F600;`).
  public static func decodeEntities(_ s: String) -> String {
    guard s.contains("&") else { return s }
    let named: [String: String] = [
      "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "hellip": "…",
      "mdash": "—", "ndash": "–", "rsquo": "’", "lsquo": "‘", "ldquo": "“", "rdquo": "”",
    ]
    var out = ""
    var rest = s[...]
    while let amp = rest.firstIndex(of: "&") {
      out += rest[..<amp]
      let after = rest[rest.index(after: amp)...]
      if let semi = after.prefix(10).firstIndex(of: ";") {
        let name = String(after[..<semi])
        var replacement: String?
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
          replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        } else if name.hasPrefix("#") {
          replacement = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        } else {
          replacement = named[name]
        }
        if let replacement {
          out += replacement
          rest = after[after.index(after: semi)...]
          continue
        }
      }
      out += "&"
      rest = after
    }
    out += rest
    return out
  }
}
