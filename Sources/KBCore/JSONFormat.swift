import Foundation

/// The one JSON form of every result, as `kb --json`, MCP tools and the files under `.kb/` write
/// it: keys sorted, `/` unescaped, dates in ISO 8601.
public enum JSONFormat {
  /// An encoder for results: pretty-printed (two-space indent) unless `pretty` is false, as
  /// `--jsonl` lines and MCP structured content are.
  public static func encoder(pretty: Bool = true) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }

  /// A value as JSON text.
  public static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
  }

  /// A decoder for what ``encoder(pretty:)`` wrote.
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}
