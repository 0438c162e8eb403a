import Foundation
import MCP

/// A tool call's arguments, checked against the tool's input schema before the tool runs.
///
/// The schema is the single source of truth: the properties it lists are the only arguments
/// accepted, `required` ones must be present, and each value must have the declared type
/// (`string` with optional `enum`/`minLength`, `integer` with `minimum`/`maximum`, `boolean`,
/// `array` of strings). So the schema a client sees and the checks the server makes never
/// disagree.
///
/// ```swift
/// let args = try Arguments(["query": "sms"], schema: schema, tool: "search")
/// let query = args.string("query")  // "sms"
/// ```
struct Arguments: Sendable {
  let tool: String
  let values: [String: Value]

  init(_ raw: [String: Value]?, schema: Value, tool: String) throws(ToolError) {
    self.tool = tool
    let raw = raw ?? [:]
    let properties = schema.objectValue?["properties"]?.objectValue ?? [:]
    let required = schema.objectValue?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
    for key in raw.keys.sorted() where properties[key] == nil {
      throw .unknownArgument(tool: tool, name: key, allowed: properties.keys.sorted())
    }
    var values: [String: Value] = [:]
    for (key, value) in raw {
      // A JSON null counts as an absent optional argument.
      if value.isNull { continue }
      values[key] = try Self.check(value, against: properties[key] ?? [:], name: key, tool: tool)
    }
    for key in required where values[key] == nil {
      throw .missingArgument(tool: tool, name: key)
    }
    self.values = values
  }

  /// Checks one value and returns it normalized (a whole `double` becomes an `int`).
  static func check(_ value: Value, against schema: Value, name: String, tool: String) throws(ToolError) -> Value {
    let type = schema.objectValue?["type"]?.stringValue
    switch type {
    case "string":
      guard let s = value.stringValue else {
        throw .wrongType(tool: tool, name: name, expected: "a string", got: describe(value))
      }
      if let options = schema.objectValue?["enum"]?.arrayValue?.compactMap(\.stringValue), !options.contains(s) {
        throw .invalidArgument(tool: tool, name: name, reason: "must be one of \(options.joined(separator: ", ")), not '\(s)'.")
      }
      if let min = schema.objectValue?["minLength"]?.intValue,
        s.trimmingCharacters(in: .whitespacesAndNewlines).count < min
      {
        throw .invalidArgument(tool: tool, name: name, reason: "must not be empty.")
      }
      return value
    case "integer":
      let n: Int
      if let i = value.intValue {
        n = i
      } else if let d = value.doubleValue, d.rounded() == d, abs(d) < 1e15 {
        n = Int(d)
      } else {
        throw .wrongType(tool: tool, name: name, expected: "an integer", got: describe(value))
      }
      if let min = schema.objectValue?["minimum"]?.intValue, n < min {
        throw .invalidArgument(tool: tool, name: name, reason: "must be at least \(min), not \(n).")
      }
      if let max = schema.objectValue?["maximum"]?.intValue, n > max {
        throw .invalidArgument(tool: tool, name: name, reason: "must be at most \(max), not \(n).")
      }
      return .int(n)
    case "boolean":
      guard value.boolValue != nil else {
        throw .wrongType(tool: tool, name: name, expected: "true or false", got: describe(value))
      }
      return value
    case "array":
      guard let items = value.arrayValue else {
        throw .wrongType(tool: tool, name: name, expected: "an array of strings", got: describe(value))
      }
      guard items.allSatisfy({ $0.stringValue != nil }) else {
        throw .wrongType(tool: tool, name: name, expected: "an array of strings", got: "an array with other values")
      }
      return value
    case "object":
      guard value.objectValue != nil else {
        throw .wrongType(tool: tool, name: name, expected: "an object", got: describe(value))
      }
      return value
    default:
      return value
    }
  }

  /// How a value looks to the client, for error messages.
  static func describe(_ value: Value) -> String {
    switch value {
    case .null: "null"
    case .bool(let b): "the boolean \(b)"
    case .int(let i): "the number \(i)"
    case .double(let d): "the number \(d)"
    case .string(let s): "the string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
    case .data: "binary data"
    case .array: "an array"
    case .object: "an object"
    }
  }

  func string(_ key: String) -> String? { values[key]?.stringValue }
  func int(_ key: String) -> Int? { values[key]?.intValue }
  func bool(_ key: String) -> Bool? { values[key]?.boolValue }
  func strings(_ key: String) -> [String] { values[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }

  /// A required string (the schema check has already made sure it is there).
  func required(_ key: String) throws(ToolError) -> String {
    guard let s = string(key) else { throw .missingArgument(tool: tool, name: key) }
    return s
  }
}
