import Foundation
import KBCore
internal import KBStore
import Yams

/// A document as `--json` prints it (see docs/CLI.md). The same shape for answers and cases;
/// fields that do not apply are absent.
public struct DocumentJSON: Codable, Equatable, Sendable {
  public struct Entry: Codable, Equatable, Sendable {
    public var time: String
    public var author: String
    public var kind: String
    public var text: String
    public var line: Int

    public init(time: String, author: String, kind: String, text: String, line: Int) {
      self.time = time
      self.author = author
      self.kind = kind
      self.text = text
      self.line = line
    }
  }

  public var id: String
  public var type: DocumentType
  public var path: String
  public var title: String
  public var tags: [String]
  public var symptoms: [String]?
  public var products: [String]?
  public var author: String?
  public var updated: String?
  public var status: String?
  public var channel: String?
  public var customer: String?
  public var source: String?
  public var opened: String?
  public var assignee: String?
  public var answer: String?
  public var related: [String]?
  public var followUp: String?
  public var complaint: String?
  /// Every front-matter field as written, known or not (texts, lists, nested maps).
  public var fields: [String: JSONValue]
  public var body: String
  public var journal: [Entry]?
  public var warnings: [DocumentWarning]?

  enum CodingKeys: String, CodingKey {
    case id, type, path, title, tags, symptoms, products, author, updated, status, channel, customer,
      source, opened, assignee, answer, related, complaint, fields, body, journal, warnings
    case followUp = "follow_up"
  }

  public init(_ d: Document) {
    id = d.id
    type = d.type
    path = d.path
    title = d.title
    tags = d.tags
    author = d.author
    updated = d.updated
    body = d.markdown.body
    var fields: [String: JSONValue] = [:]
    for (key, value) in d.frontMatter.mapping {
      if let k = key.string { fields[k] = JSONValue(value) }
    }
    self.fields = fields
    warnings = d.warnings.isEmpty ? nil : d.warnings
    switch d.type {
    case .answer:
      symptoms = d.symptoms
      products = d.products
    case .case:
      status = d.status?.rawValue
      channel = d.channel
      customer = d.customer
      source = d.source
      opened = d.opened.map(Timestamp.format)
      assignee = d.assignee
      answer = d.answer
      related = d.related
      followUp = d.followUp
      complaint = d.complaint
      journal = d.journal.entries.map {
        Entry(
          time: Timestamp.format($0.entry.time), author: $0.entry.author, kind: $0.entry.kind.rawValue,
          text: $0.entry.text, line: $0.line)
      }
    }
  }
}

/// A JSON value converted from YAML, for front-matter fields of any shape.
public indirect enum JSONValue: Codable, Equatable, Sendable {
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])
  case null

  init(_ node: Node) {
    switch node {
    case .scalar(let s):
      self = s.style == .plain && ["~", "null", ""].contains(s.string) ? .null : .string(s.string)
    case .sequence(let seq): self = .array(seq.map(JSONValue.init))
    case .mapping(let map):
      var out: [String: JSONValue] = [:]
      for (k, v) in map { out[k.string ?? "\(k)"] = JSONValue(v) }
      self = .object(out)
    case .alias: self = .null
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    case .null: try c.encodeNil()
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() { self = .null } else if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }
}
