import Foundation
import KBCore
import KBRank
internal import KBStore

/// What `kb suggest` returns for one mention (the JSON shape is documented in docs/CLI.md).
public struct SuggestionResult: Codable, Sendable {
  public enum Verdict: String, Codable, Sendable { case knownFix = "known-fix", noKnownFix = "no-known-fix" }
  /// How sure a suggestion is (``KBRank/Confidence``).
  public typealias Confidence = KBRank.Confidence

  public struct Suggestion: Codable, Sendable {
    public var id: String
    public var title: String
    public var path: String
    public var score: Double
    /// The best cosine similarity (0…1) of the mention with one of the answer's examples.
    public var similarity: Double
    public var confidence: Confidence
    /// The mention's words found in the answer: why it was suggested.
    public var matched: [String]
    public var snippet: String
    /// The numbered steps of the answer's `## Fix` section.
    public var fix: [String]
    public var evidence: Suggester.Evidence
    /// True when the answer holds conflicts to settle (two versions between markers, or a
    /// `conflicts:` field): it is still suggested, so that the fix is not lost, but its steps may
    /// be two versions, and no public reply quotes it. Absent otherwise.
    public var conflicted: Bool?
  }

  /// The input line, in `--jsonl` streams.
  public var line: Int?
  public var mention: Mention
  public var normalized: String
  public var terms: [String]
  public var verdict: Verdict
  /// One line for people: "known fix: …" or "no known fix; open a case".
  public var message: String
  public var suggestions: [Suggestion]
  public var guards: [MentionGuard]
  /// `nil` when a guard says not to reply in public.
  public var reply: ReplyDraft?
}

/// Options for ``Workspace/suggest(_:options:)``.
public struct SuggestOptions: Sendable {
  public var limit = 3
  public var channel: String?
  public var agent: Identity?
  public var ranker: Suggester.Ranker = .full
  public init(limit: Int = 3, channel: String? = nil, agent: Identity? = nil, ranker: Suggester.Ranker = .full) {
    self.limit = limit
    self.channel = channel
    self.agent = agent
    self.ranker = ranker
  }
}

extension Workspace {
  /// Reply templates: defaults, `reply_templates:` in kb.yml, then `templates/*.md`. A template
  /// that is a link leading outside the knowledge base (or cannot be read) is skipped, and
  /// `warn` is told why: a teammate must not be able to commit a link that makes a file of
  /// someone else's machine their reply draft.
  public func replyTemplates(warn: ((String) -> Void)? = nil) -> ReplyTemplates {
    var files: [String: String] = [:]
    let folder = root + "/templates"
    if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
      for name in names.sorted() where name.hasSuffix(".md") {
        do {
          let text = try readText("templates/" + name)
          files[String(name.dropLast(3))] = Self.templateBody(text)
        } catch WorkspaceError.pathOutsideKnowledgeBase {
          warn?("warning: templates/\(name) is a symbolic link leading outside the knowledge base; not read (the built-in template is used).")
        } catch {
          warn?("warning: templates/\(name): \(error); not used.")
        }
      }
    }
    return ReplyTemplates(settings: settings, files: files)
  }

  /// A template file's text without front matter or comment lines.
  static func templateBody(_ text: String) -> String {
    var body = text
    if body.hasPrefix("---\n"), let end = body.range(of: "\n---\n", range: body.index(body.startIndex, offsetBy: 4)..<body.endIndex) {
      body = String(body[end.upperBound...])
    }
    return body.split(separator: "\n").filter { !$0.hasPrefix("<!--") }.joined(separator: " ")
  }

  /// Suggests known fixes for a mention, with guards and a reply draft.
  ///
  /// Pass `suggester` (from ``suggester()``) to skip the index-state check on every call, as a
  /// stream does.
  public func suggest(
    _ mention: Mention, options: SuggestOptions, templates: ReplyTemplates? = nil, using suggester: Suggester? = nil
  ) throws -> SuggestionResult {
    try Self.checkMentionSize(mention.text)
    let suggester = try suggester ?? self.suggester()
    let text = MentionText(normalizing: mention.text, vocabulary: suggester.vocabulary)
    let query = options.ranker == .full ? ([text.text] + text.expansions).joined(separator: " ") : text.text
    let ranked = try suggester.rank(query, limit: options.limit, ranker: options.ranker, id: mention.id)
    let terms = text.terms
    var suggestions: [SuggestionResult.Suggestion] = []
    for (rank, c) in ranked.enumerated() {
      let details = suggester.details(c.index)
      let matched = terms.filter { details.stems.contains(WordBM25.stem(ExampleModel.words($0).first ?? [])) }
      let confidence = Self.confidence(c, matched: matched.count, of: terms.count, rank: rank, runnerUp: rank == 0 && ranked.count > 1 ? ranked[1] : nil)
      let snippet = Self.snippet(details, terms: matched)
      suggestions.append(SuggestionResult.Suggestion(
        id: c.answer.id, title: c.answer.title, path: c.answer.path, score: (c.score * 10000).rounded() / 10000,
        similarity: (c.similarity * 1000).rounded() / 1000,
        confidence: confidence, matched: matched, snippet: snippet, fix: details.fix, evidence: c.evidence))
    }
    let conflicted = try store.conflictedIDs(among: suggestions.map(\.id))
    for i in suggestions.indices where conflicted.contains(suggestions[i].id) { suggestions[i].conflicted = true }
    let best = suggestions.first
    let known = best.map { $0.confidence >= .medium } ?? false
    let disputed = best?.conflicted == true
    let onTopic = known
    let guards = MentionGuard.check(text, settings: settings, onTopic: onTopic)
    let channel = (options.channel ?? mention.channel)?.lowercased()
    let needsPrivate = known && suggester.details(ranked[0].index).needsPrivate
    // A conflicted answer's steps may be two versions: no reply quotes them until settled.
    let step = known && !disputed ? (best?.fix.first ?? Self.firstSentence(ranked[0].answer)) : nil
    let context = ReplyDraft.Context(
      customer: mention.author, title: known ? best?.title : nil, step: step,
      needsPrivate: needsPrivate, guards: guards.map(\.kind))
    let reply = ReplyDraft.write(
      context, templates: templates ?? replyTemplates(), settings: settings,
      agent: options.agent.map { ReplyDraft.Agent(name: $0.name) }, channel: channel)
    return SuggestionResult(
      mention: mention, normalized: text.text, terms: terms, verdict: known ? .knownFix : .noKnownFix,
      message: known
        ? "known fix: \(best!.title)" + (disputed ? " (conflicted: two versions kept; settle it with 'kb conflicts \(best!.id) --take ours|theirs|both')" : "")
        : "no known fix; open a case",
      suggestions: suggestions,
      guards: guards, reply: reply)
  }

  /// Confidence from absolute fit (the best example cosine) and how many of the mention's
  /// words the answer has; a near tie with the runner-up (another problem) lowers it. The
  /// thresholds are ``RankingParameters/confidence``.
  static func confidence(
    _ c: Suggester.Candidate, matched: Int, of total: Int, rank: Int, runnerUp: Suggester.Candidate?
  ) -> SuggestionResult.Confidence {
    let gap = runnerUp.flatMap { r in r.answer.title != c.answer.title ? c.score - r.score : nil }
    return Confidence.level(
      similarity: c.similarity, coverage: total == 0 ? 0 : Double(matched) / Double(total), matched: matched,
      rank: rank, runnerUpGap: gap, parameters: Suggester.parameters)
  }

  /// The numbered steps of the `## Fix` section (any heading starting with "Fix").
  public static func fixSteps(_ body: String) -> [String] {
    var steps: [String] = []
    var inFix = false
    for line in body.split(separator: "\n") {
      var trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
      while let last = trimmed.last, last == " " || last == "\t" || last == "\r" { trimmed = trimmed.dropLast() }
      let t = String(trimmed)
      if t.hasPrefix("#") {
        if inFix { break }
        let heading = t.drop(while: { $0 == "#" || $0 == " " }).lowercased()
        inFix = heading.hasPrefix("fix") || heading.hasPrefix("steps") || heading.hasPrefix("how to fix")
        continue
      }
      guard inFix else { continue }
      let digits = t.prefix(while: \.isNumber)
      if !digits.isEmpty, let mark = t.dropFirst(digits.count).first, mark == "." || mark == ")" {
        steps.append(String(t.dropFirst(digits.count + 1).drop(while: { $0 == " " })))
      } else if !steps.isEmpty, !t.isEmpty, line.hasPrefix(" ") {
        steps[steps.count - 1] += " " + t
      }
    }
    return steps
  }

  /// Whether replying needs personal details: an answer tagged private/account/billing, or one
  /// whose text asks for an account or order number, an address or a DM.
  static func needsPrivate(_ a: SuggestAnswer) -> Bool {
    let tags = Set(a.tags.lowercased().split(separator: " ").map(String.init))
    if !tags.isDisjoint(with: ["private", "account", "billing", "needs-details", "personal"]) { return true }
    let body = a.body.lowercased()
    return ["account number", "order number", "dm us", "direct message", "send us a dm", "billing address", "date of birth", "last four"]
      .contains { body.containsBytes($0) }
  }

  /// The sentence of the answer (body, then symptoms) with the most matched terms, those terms
  /// in `**bold**`; the opening sentence when none matches.
  static func snippet(_ details: Suggester.Details, terms: [String]) -> String {
    guard let first = details.sentences.first else { return "" }
    let stems = Set(terms.map { WordBM25.stem(ExampleModel.words($0).first ?? []) })
    var best = first.text
    var bestCount = 0
    for sentence in details.sentences {
      let n = sentence.stems.intersection(stems).count
      if n > bestCount { best = sentence.text; bestCount = n }
    }
    if best.count > 200 { best = ReplyDraft.shorten(best, to: 200) }
    guard bestCount > 0 else { return best }
    // Bold the matched words.
    var out = ""
    var word = ""
    func flush() {
      if !word.isEmpty, let w = ExampleModel.words(word).first, stems.contains(WordBM25.stem(w)) {
        out += "**\(word)**"
      } else {
        out += word
      }
      word = ""
    }
    for ch in best {
      if ch.isLetter || ch.isNumber || ch == "'" { word.append(ch) } else { flush(); out.append(ch) }
    }
    flush()
    return out
  }

  static func firstSentence(_ a: SuggestAnswer) -> String {
    let text = Suggester.bodyExample(a.body).trimmingCharacters(in: .whitespaces)
    if let end = text.firstIndex(where: { $0 == "." || $0 == "!" || $0 == "?" }) {
      return String(text[...end])
    }
    return text
  }
}
