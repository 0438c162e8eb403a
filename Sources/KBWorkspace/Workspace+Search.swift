import Foundation
import KBCore
internal import KBStore

/// The result of a search, as the CLI and MCP return it.
public struct SearchResult: Sendable, Codable {
  public var query: String
  /// `all` when every term matched, `any` when the search fell back to any term, `filters`
  /// when the query had no text.
  public var match: SearchMatch
  /// Matched terms in each snippet are wrapped in ``SearchHit/highlightStart`` and
  /// ``SearchHit/highlightEnd``; ``markdown`` wraps them in `**` instead.
  public var hits: [SearchHit]

  /// The result as JSON carries it (`kb search --json`, MCP `search`): matched terms in `**`.
  public var markdown: SearchResult {
    var result = self
    result.hits = hits.map(\.markdownSnippet)
    return result
  }
}

extension Workspace {
  /// Parses and runs a search query. Hostile input is searched as words or rejected with a
  /// ``QueryError``; it never reaches FTS5 raw.
  public func search(_ text: String, limit: Int = 10) throws -> SearchResult {
    let query = try SearchQuery(parsing: text)
    guard query.hasText || !query.filters.isEmpty else {
      throw QueryError("Nothing to search for in '\(text)'. Type words, \"a phrase\", prefix*, or filters such as type:answer.")
    }
    var (hits, mode) = try store.search(query, limit: limit)
    // Among hits missing some words, those holding more of the words that matter (not "a",
    // "for") come first: "schedule a status for later" finds the page titled "scheduled_statuses".
    if let all = hits.first?.matched.map(Set.init), mode == .all || mode == .any {
      let complete = mode == .all ? hits.prefix { Set($0.matched ?? []) == all }.count : 0
      let partial = hits[complete...].enumerated().sorted { a, b in
        let x = (a.element.matched ?? []).filter { !Self.stopWords.contains($0) }.count
        let y = (b.element.matched ?? []).filter { !Self.stopWords.contains($0) }.count
        return x != y ? x > y : a.offset < b.offset
      }.map(\.element)
      hits = Array(hits[..<complete]) + partial
    }
    return SearchResult(query: text, match: mode, hits: hits)
  }
}
