import Testing

@testable import KBCore

@Suite struct SearchQueryTests {
  @Test func wordsPhrasesPrefixesAndFilters() throws {
    let q = try SearchQuery(parsing: #"iphone "same text" repeat* tag:sms type:answer"#)
    #expect(q.terms == [.word("iphone"), .phrase(["same", "text"]), .prefix("repeat")])
    #expect(q.filters == [.tag("sms"), .type(.answer)])
    #expect(q.matchPattern(.all) == #""iphone" "same text" "repeat"*"#)
    #expect(q.matchPattern(.any) == #"("iphone" OR "same text" OR "repeat"*)"#)
  }

  @Test func excludedWords() throws {
    let q = try SearchQuery(parsing: "router -fibre")
    #expect(q.matchPattern(.all) == #""router" NOT "fibre""#)
  }

  /// Hostile input is either searched as plain words or yields no pattern; it never carries
  /// FTS5 syntax through.
  @Test(arguments: [
    #""unbalanced"#, "NEAR(", "NEAR(a b, 3)", "a:b:c", "*", "-", "AND OR", "\"\"", "(((", "^start",
    "col:umn : x", "OR", "a AND", "'single'", "\u{0}", "🙂", "x\"y\"z", "*prefix", "-*-", "NOT NOT",
    String(repeating: "a ", count: 500),
  ])
  func hostileInputNeverLeaksSyntax(text: String) throws {
    let q = try SearchQuery(parsing: text)
    for mode in [SearchQuery.Mode.all, .any] {
      guard let pattern = q.matchPattern(mode) else { continue }
      // Outside quoted strings, only our own operators may appear.
      var outside = ""
      var inQuote = false
      var previous: Character = " "
      for ch in pattern {
        if ch == "\"" { inQuote.toggle() } else if !inQuote { outside.append(ch) }
        previous = ch
      }
      _ = previous
      #expect(!inQuote, "unbalanced quotes in \(pattern)")
      let allowed = outside.replacingOccurrences(of: " OR ", with: " ").replacingOccurrences(of: " NOT ", with: " ")
      #expect(allowed.allSatisfy { " ()*".contains($0) }, "raw syntax leaked: \(pattern)")
    }
  }

  @Test func unbalancedQuoteRunsToTheEnd() throws {
    let q = try SearchQuery(parsing: #"text "keeps repeating"#)
    #expect(q.terms == [.word("text"), .phrase(["keeps", "repeating"])])
  }

  @Test func unknownKeyIsSearchedAsWords() throws {
    let q = try SearchQuery(parsing: "a:b:c error:42")
    #expect(q.filters.isEmpty)
    #expect(q.terms == [.phrase(["a", "b", "c"]), .phrase(["error", "42"])])
  }

  @Test func operatorsAreWords() throws {
    let q = try SearchQuery(parsing: "AND OR NOT NEAR")
    #expect(q.matchPattern(.all) == #""and" "or" "not" "near""#)
  }

  @Test(arguments: ["type:note", "status:snoozed"])
  func impossibleFilterValuesAreRejectedClearly(text: String) {
    #expect(throws: QueryError.self) { try SearchQuery(parsing: text) }
  }

  @Test func wordsFollowTheTokenizer() {
    #expect(SearchQuery.words(in: "Wi-Fi isn't working!! café 5G") == ["wi", "fi", "isn", "t", "working", "café", "5g"])
  }
}
