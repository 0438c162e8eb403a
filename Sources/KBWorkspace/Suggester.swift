import Foundation
import Synchronization
import KBCore
import KBRank
internal import KBStore

/// Ranks known fixes (answers) for a customer's words.
///
/// Three signals, fused as z-scores over all answers:
/// - bm25 over the answers' words (title and symptoms weighted above the body), OR of the words;
/// - an ``ExampleModel``: nearest-neighbour cosine over word and character n-grams of each
///   answer's examples (title + symptoms, each symptom, the body's opening, and the complaint of
///   every resolved case that links to the answer). Answers that share a title are alternative
///   fixes for one problem, so they pool their examples;
/// - a ``SemanticModel``: the cosine of the text's and the problem's static word vectors, which
///   matches a fix worded differently from the complaint.
///
/// Then a product check: when the text names one of the knowledge base's products
/// (``ProductNames``), problems whose title names it gain, and problems about another product
/// lose, `productWeight`.
///
/// A case linked to an answer whose check back says `Held:` raises the answer's trust; `Did not
/// hold:` lowers it. The model is built from the index on first use and cached per index state.
public final class Suggester: @unchecked Sendable {
  /// Which ranking to run (``KBRank/Ranker``).
  public typealias Ranker = KBRank.Ranker
  /// What resolved cases say about an answer (``KBRank/Evidence``).
  public typealias Evidence = KBRank.Evidence

  struct Candidate: Sendable {
    var answer: SuggestAnswer
    /// The answer's position in ``Suggester/answers``.
    var index: Int
    var score: Double
    /// The best cosine of the query with one of the answer's examples (0…1): absolute fit.
    var similarity: Double
    /// The semantic model's cosine of the query with the answer's problem (0 without one).
    var semantic: Double = 0
    var bm25: Double
    var evidence: Evidence
  }

  public let state: String
  /// The answers, in index order; their bodies are empty when the suggester was read from the
  /// cache file (``answer(_:)`` fills them in from the index).
  let answers: AnswerList
  let bodiesInline: Bool
  private let bodyLock = NSLock()
  private var bodies: [Int: String] = [:]
  let examples: ExampleScorer
  /// Nil only when the binary has no word-vector table.
  let semantic: SemanticModel?
  let words: WordScorer
  let problemOfAnswer: [Int]
  /// The counts an overlay moves (problem keys, vocabulary, product names); nil for a
  /// suggester that is an overlay (its base has them).
  let counts: SuggestCounts?
  /// Where the index's change log stood when the model's inputs were read.
  let position: SuggestLogPosition
  /// For a suggester made of a saved base and the changes since (``overlaid(base:changes:snapshot:state:position:)``),
  /// that base: the next change is applied to it, not to this.
  let base: Suggester?
  /// How many documents changed since `base` (0 for a suggester that is not an overlay).
  let changesSinceBase: Int
  /// The knowledge base's product names (``ProductNames``), and those each problem's title names.
  let products: Set<String>
  let problemProducts: [Set<String>]
  /// 1 for an answer that is the first with its id (evidence goes to that one), else 0.
  let isFirstOfID: Column<UInt8>
  private let lookupLock = NSLock()
  private var indexOfPathTable: [String: Int]?
  private var indexOfIDTable: [String: Int]?
  /// Check-back counts of the answers that have any (for trust), read from the index (kept
  /// there by deltas, not in the built model) and re-read when the index changes: a check back
  /// never rebuilds the model. The counts of a shown answer are read when it is shown.
  private let evidenceLock = NSLock()
  private var evidenceState: String?
  private var trustByAnswer: [Evidence] = []
  /// Every word of the answers' texts, for repairing chat spellings and splitting hashtags.
  public let vocabulary: any WordSet
  let store: IndexStore

  /// The ranking's constants (docs/RANKING.md).
  static let parameters = RankingParameters.shipped

  /// `progress` hears the build's stages ("Building the suggestion model: …"), for a terminal.
  init(store: IndexStore, corpus: SuggestCorpus, progress: ((String) -> Void)? = nil) {
    self.store = store
    state = corpus.state
    answers = AnswerList(corpus.answers)
    var indexOfPath: [String: Int] = [:]
    var indexOfID: [String: Int] = [:]
    var problemOfTitle: [String: Int] = [:]
    var problemOfAnswer: [Int] = []
    var examples: [(classIndex: Int, text: String)] = []
    // Which examples are an answer's body (its index; -1 for the others): their text is made
    // again each time the build reads it (``bodyExample(_:)``), not held through the build.
    var bodyOf: [Int32] = []
    var vocabulary = WordCounts()
    var titled: Set<Int> = []
    for (i, a) in corpus.answers.enumerated() {
      indexOfPath[a.path] = i
      if indexOfID[a.id] == nil { indexOfID[a.id] = i }
      let key = Self.problemKey(a.title)
      let problem: Int
      if !key.isEmpty, let known = problemOfTitle[key] {
        problem = known
      } else {
        problem = problemOfTitle.count
        problemOfTitle[key.isEmpty ? "#\(i)" : key] = problem
      }
      problemOfAnswer.append(problem)
      // The title once per problem: answers sharing it pool their examples.
      if titled.insert(problem).inserted {
        examples.append((problem, a.title))
        bodyOf.append(-1)
      }
      for s in a.symptoms where !s.isEmpty {
        examples.append((problem, s))
        bodyOf.append(-1)
      }
      if !Self.bodyExample(a.body).isEmpty {
        examples.append((problem, ""))
        bodyOf.append(Int32(i))
      }
      vocabulary.add(text: Self.vocabularyText(a))
    }
    for c in corpus.cases {
      guard let i = indexOfID[c.answer] else { continue }
      // A resolved case teaches a real customer's phrasing for the fix it used.
      if let status = c.status, SuggestInputs.teachingStatuses.contains(status),
        let complaint = c.complaint
      {
        examples.append((problemOfAnswer[i], complaint))
        bodyOf.append(-1)
      }
    }
    let stage = "Building the suggestion model (\(corpus.answers.count) answers, \(examples.count) examples)"
    progress?("\(stage): example model…")
    // The postings are built in a temporary file's pages beside the index (the page cache's
    // memory, not the process's), when the index is a file.
    let folder = (store.path as NSString).deletingLastPathComponent
    var isFolder: ObjCBool = false
    let scratch = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue ? folder : nil
    let answerList = corpus.answers
    let texts = examples.map(\.text)
    let bodies = bodyOf
    let list = ExampleList(classes: examples.map(\.classIndex)) { e in
      bodies[e] >= 0 ? Self.bodyExample(answerList[Int(bodies[e])].body) : texts[e]
    }
    examples = []
    self.examples = .built(
      ExampleModel(list: list, classCount: problemOfTitle.count, config: Self.exampleConfig, scratch: scratch))
    releaseFreedMemory()
    progress?("\(stage): semantic model…")
    semantic = SemanticModel(list: list, classCount: problemOfTitle.count)
    releaseFreedMemory()
    progress?("\(stage): word statistics…")
    let productCounts = ProductCounts(
      titles: Self.problemTitles(answers: corpus.answers, problemOfAnswer: problemOfAnswer, problemCount: problemOfTitle.count),
      texts: corpus.answers.flatMap(Self.productTexts))
    products = productCounts.names
    problemProducts = Self.problemProducts(
      products, answers: corpus.answers, problemOfAnswer: problemOfAnswer, problemCount: problemOfTitle.count)
    words = .built(WordBM25(documents: corpus.answers.map(Self.wordFields), scratch: scratch))
    releaseFreedMemory()
    self.problemOfAnswer = problemOfAnswer
    counts = SuggestCounts(
      problemKeys: ProblemKeys(problemOfTitle.filter { !$0.key.hasPrefix("#") }), vocabulary: vocabulary, products: productCounts)
    position = corpus.position
    base = nil
    changesSinceBase = 0
    indexOfPathTable = indexOfPath
    indexOfIDTable = indexOfID
    isFirstOfID = Column<UInt8>(corpus.answers.indices.map { indexOfID[corpus.answers[$0].id] == $0 ? UInt8(1) : UInt8(0) })
    self.vocabulary = vocabulary
    bodiesInline = true
  }

  /// A suggester from parts read back from the on-disk model cache (see `SuggestModelCache`).
  init(
    store: IndexStore, state: String, answers: AnswerList, isFirstOfID: Column<UInt8>, examples: ExampleScorer,
    semantic: SemanticModel?, words: WordScorer, problemOfAnswer: [Int], products: Set<String>,
    problemProducts: [Set<String>], vocabulary: any WordSet, counts: SuggestCounts?, position: SuggestLogPosition,
    base: Suggester? = nil, changesSinceBase: Int = 0
  ) {
    self.changesSinceBase = changesSinceBase
    self.store = store
    self.state = state
    self.answers = answers
    self.examples = examples
    self.counts = counts
    self.position = position
    self.base = base
    self.semantic = semantic
    self.words = words
    self.problemOfAnswer = problemOfAnswer
    self.products = products
    self.problemProducts = problemProducts
    self.isFirstOfID = isFirstOfID
    self.vocabulary = vocabulary
    bodiesInline = false
  }

  /// The answer at `index` with its body (read from the index on first use when the suggester
  /// came from the cache file, which leaves bodies out: the index has them).
  func answer(_ index: Int) -> SuggestAnswer {
    var a = answers[index]
    guard !bodiesInline else { return a }
    if let body = bodyLock.withLock({ bodies[index] }) {
      a.body = body
      return a
    }
    let body = (try? store.answerBody(path: a.path)) ?? nil ?? ""
    bodyLock.withLock {
      if bodies.count >= Self.cachedAnswers { bodies.removeAll(keepingCapacity: true) }
      bodies[index] = body
    }
    a.body = body
    return a
  }

  /// An answer's position by path (built on first use: only the plain-bm25 ranker needs it).
  func index(ofPath path: String) -> Int? {
    lookupLock.withLock {
      if indexOfPathTable == nil {
        var t: [String: Int] = [:]
        for i in answers.indices { t[answers.path(i)] = i }
        indexOfPathTable = t
      }
      return indexOfPathTable?[path]
    }
  }

  /// The first answer with an id (built on first use: needed only when some check back exists).
  func index(ofID id: String) -> Int? {
    lookupLock.withLock {
      if indexOfIDTable == nil {
        var t: [String: Int] = [:]
        for i in answers.indices where isFirstOfID[i] == 1 { t[answers.id(i)] = i }
        indexOfIDTable = t
      }
      return indexOfIDTable?[id]
    }
  }

  /// Each answer's check-back counts for trust, as of the index's current content (cases 0:
  /// the counts of a shown answer are read when it is shown, ``evidence(of:)``).
  var trust: [Evidence] {
    evidenceLock.withLock { trustByAnswer.count == answers.count ? trustByAnswer : Array(repeating: Evidence(), count: answers.count) }
  }

  /// Re-reads the check-back counts if the index changed since they were read.
  func refreshEvidence(contentState: String) throws {
    if evidenceLock.withLock({ evidenceState == contentState }) { return }
    var out = [Evidence](repeating: Evidence(), count: answers.count)
    for (id, counts) in try store.answerTrust() {
      guard let i = index(ofID: id) else { continue }
      out[i] = Evidence(cases: 0, held: counts.held, failed: counts.failed)
    }
    evidenceLock.withLock {
      trustByAnswer = out
      evidenceState = contentState
    }
  }

  /// The case and check-back counts of the answers at these positions (evidence goes to the
  /// first answer with an id).
  func evidence(of indexes: [Int]) -> [Int: Evidence] {
    let ids = indexes.filter { isFirstOfID[$0] == 1 }.map { answers.id($0) }
    guard !ids.isEmpty, let table = try? store.answerEvidence(ids: ids) else { return [:] }
    var out: [Int: Evidence] = [:]
    for i in indexes where isFirstOfID[i] == 1 {
      if let c = table[answers.id(i)] { out[i] = Evidence(cases: c.cases, held: c.held, failed: c.failed) }
    }
    return out
  }

  /// What the vocabulary counts of an answer: its title and symptoms.
  static func vocabularyText(_ a: SuggestAnswer) -> String { a.title + " " + a.symptoms.joined(separator: " ") }

  /// What the product names count of an answer: its title and body.
  static func productTexts(_ a: SuggestAnswer) -> [String] { [a.title, a.body] }

  /// An answer's fields for the word bm25, with their weights.
  static func wordFields(_ a: SuggestAnswer) -> [(text: String, weight: Double)] {
    let w = parameters.suggestFields
    return [(a.title, w.title), (a.symptoms.joined(separator: "\n"), w.symptoms), (a.tags, w.tags), (a.body, w.body)]
  }

  /// The example model's settings (docs/RANKING.md).
  static var exampleConfig: ExampleModel.Config {
    var config = ExampleModel.Config()
    config.top = parameters.exampleModel.top
    config.maxWords = parameters.exampleModel.maxWords
    return config
  }

  /// The key that makes answers one problem: their titles' words, lower case (empty for a
  /// title without letters or digits: such an answer is a problem of its own).
  static func problemKey(_ title: String) -> String {
    title.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ")
  }

  /// Each problem's title (its first answer's).
  static func problemTitles(answers: [SuggestAnswer], problemOfAnswer: [Int], problemCount: Int) -> [String] {
    var titles = [String?](repeating: nil, count: problemCount)
    for (i, a) in answers.enumerated() where titles[problemOfAnswer[i]] == nil { titles[problemOfAnswer[i]] = a.title }
    return titles.map { $0 ?? "" }
  }

  /// The products each problem's title names.
  static func problemProducts(_ products: Set<String>, answers: [SuggestAnswer], problemOfAnswer: [Int], problemCount: Int) -> [Set<String>] {
    guard !products.isEmpty else { return Array(repeating: [], count: problemCount) }
    return problemTitles(answers: answers, problemOfAnswer: problemOfAnswer, problemCount: problemCount).map {
      ProductNames.named(inTitle: $0, among: products)
    }
  }

  /// Per answer: +1 when the text names a product the answer's problem title names, −1 when the
  /// text names products and the title names only others, else 0 (empty when the text names
  /// no product).
  func productMatch(for text: String) -> [Double] {
    guard !products.isEmpty else { return [] }
    let named = ProductNames.named(inTitle: text, among: products)
    guard !named.isEmpty else { return [] }
    let byProblem = problemProducts.map { p -> Double in p.isEmpty ? 0 : (p.isDisjoint(with: named) ? -1 : 1) }
    return problemOfAnswer.map { byProblem[$0] }
  }

  /// The body's text as one example: Markdown marks dropped, cut to its opening words.
  static func bodyExample(_ body: String) -> String {
    var out = ""
    // At most the body's length (grown by appends, the string took 1.4× that).
    out.reserveCapacity(body.utf8.count)
    for line in body.split(separator: "\n") {
      let t = line.drop(while: { $0 == " " || $0 == "\t" })
      if t.hasPrefix("#") {
        if t.lowercased().hasPrefix("## journal") { break }
        continue
      }
      if !out.isEmpty { out += " " }
      out += t
    }
    return out
  }

  /// The block quote at the top of a case's body (the customer's words).
  public static func complaint(inBody body: String) -> String? { SuggestInputs.complaint(inBody: body) }

  /// The FTS5 pattern for a text: OR of its words.
  public static func pattern(for text: String) -> String? {
    var seen: Set<String> = []
    let words = SearchQuery.words(in: text).filter { seen.insert($0).inserted }.prefix(64)
    return SearchQuery(terms: words.map { .word($0) }).matchPattern(.any)
  }

  /// `KB_RANK_DUMP=FILE`: each suggestion appends its ranking components to FILE as a JSON
  /// line (for `scripts/rank-cv`, which picks fusion constants under cross-validation).
  static let dumpPath: String? = ProcessInfo.processInfo.environment["KB_RANK_DUMP"].flatMap { $0.isEmpty ? nil : $0 }

  /// The ranking signals of the full ranker for a normalized text, one value per answer.
  func components(for text: String) -> Components {
    let n = answers.count
    let bm25 = words.scores(for: text)
    let (problemScores, best, means) = examples.classScoresWithMean(for: text)
    var knn = [Double](repeating: 0, count: n)
    var similarity = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let c = problemOfAnswer[i]
      knn[i] = Double(problemScores[c]) + Self.parameters.exampleModel.meanWeight * Double(means[c])
      similarity[i] = Double(best[c])
    }
    var semanticScores: [Double] = []
    if let semantic {
      let byProblem = semantic.scores(for: text)
      semanticScores = problemOfAnswer.map { Double(byProblem[$0]) }
    }
    return Components(
      bm25: bm25, knn: knn, similarity: similarity, semantic: semanticScores, product: productMatch(for: text))
  }

  /// The components as one JSON line, for `KB_RANK_DUMP`.
  func dump(_ c: Components, id: String?, text: String = "") {
    guard let path = Self.dumpPath else { return }
    func list(_ v: [Double]) -> String { "[" + v.map { String(format: "%.6g", $0) }.joined(separator: ",") + "]" }
    var line = "{\"id\":" + (id.map { "\"" + $0.replacingOccurrences(of: "\"", with: "") + "\"" } ?? "null")
    Self.dumpLock.withLock {
      if !Self.dumpedHeader {
        Self.dumpedHeader = true
        let ids = answers.indices.map { "\"" + answers.id($0).replacingOccurrences(of: "\"", with: "") + "\"" }.joined(separator: ",")
        let trust = self.trust.map(\.trust)
        let header = "{\"answers\":[\(ids)],\"problems\":[\(problemOfAnswer.map(String.init).joined(separator: ","))],\"trust\":\(list(trust))}\n"
        Self.append(header, to: path)
      }
    }
    let quoted = (try? JSONSerialization.data(withJSONObject: [text], options: [])).map { String(decoding: $0, as: UTF8.self).dropFirst().dropLast() }
    line += ",\"text\":" + (quoted.map(String.init) ?? "\"\"")
    line += ",\"bm25\":\(list(c.bm25)),\"knn\":\(list(c.knn)),\"similarity\":\(list(c.similarity)),\"semantic\":\(list(c.semantic)),\"product\":\(list(c.product))}\n"
    Self.dumpLock.withLock { Self.append(line, to: path) }
  }

  nonisolated(unsafe) static var dumpedHeader = false
  static let dumpLock = NSLock()
  static func append(_ text: String, to path: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard fd >= 0 else { return }
    _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }

  /// The best answers for a normalized text, best first. `id` labels the `KB_RANK_DUMP` line.
  func rank(_ text: String, limit: Int, ranker: Ranker = .full, id: String? = nil) throws -> [Candidate] {
    guard !answers.isEmpty, let pattern = Self.pattern(for: text) else { return [] }
    let n = answers.count
    var bm25: [Double]
    var similarity = [Double](repeating: 0, count: n)
    var score: [Double]
    var semantic: [Double] = []
    if ranker == .bm25 {
      // The baseline: SQLite FTS5's own bm25 (porter stemming), OR of the words.
      bm25 = [Double](repeating: 0, count: n)
      let w = Self.parameters.suggestFields
      for hit in try store.answerBM25(pattern, weights: (w.title, w.symptoms, w.tags, w.body), limit: max(100, limit)) {
        if let i = index(ofPath: hit.path) { bm25[i] = hit.score }
      }
      score = bm25
    } else {
      let c = components(for: text)
      if Self.dumpPath != nil { dump(c, id: id, text: text) }
      bm25 = c.bm25
      similarity = c.similarity
      semantic = c.semantic
      score = Fusion.scores(c, evidence: trust, parameters: Self.parameters)
    }
    // The best few; then, for the full ranker, one answer per problem first.
    let keep = max(50, limit * 3)
    var order = Fusion.best(score, matching: { bm25[$0] > 0 || similarity[$0] > 0 }, keep: keep)
    if ranker == .full {
      order = Fusion.diversify(
        Array(order.prefix(keep)), score: score, problemOf: problemOfAnswer, limit: limit, parameters: Self.parameters)
    }
    let shown = Array(order.prefix(limit))
    let evidence = self.evidence(of: shown)
    return shown.map {
      Candidate(
        answer: answer($0), index: $0, score: score[$0], similarity: similarity[$0],
        semantic: semantic.isEmpty ? 0 : semantic[$0], bm25: bm25[$0], evidence: evidence[$0] ?? Evidence())
    }
  }

  /// What the output shows of an answer, derived once per answer and kept.
  struct Details {
    var fix: [String]
    var stems: Set<[UInt8]>
    /// Sentences of the body (then the symptoms) with their stems, for snippets.
    var sentences: [(text: String, stems: Set<[UInt8]>)]
    /// Whether replying needs personal details (``Workspace/needsPrivate(_:)``).
    var needsPrivate: Bool
  }

  /// How many answers' bodies and details a long-lived process keeps (a stream of thousands of
  /// mentions at 100k documents shows tens of thousands of answers: kept all, they were most of
  /// its memory); past it they are read again.
  static let cachedAnswers = 1024

  private let detailsLock = NSLock()
  private var detailsCache: [Int: Details] = [:]

  func details(_ index: Int) -> Details {
    if let d = detailsLock.withLock({ detailsCache[index] }) { return d }
    let a = answer(index)
    var stems: Set<[UInt8]> = []
    for text in [a.title, a.symptoms.joined(separator: " "), a.tags, a.body] {
      for w in ExampleModel.words(text) { stems.insert(WordBM25.stem(w)) }
    }
    var sentences: [(String, Set<[UInt8]>)] = []
    for text in Self.sentences(Self.bodyExample(a.body)) + a.symptoms {
      sentences.append((text, Set(ExampleModel.words(text).map(WordBM25.stem))))
    }
    let d = Details(
      fix: Workspace.fixSteps(a.body), stems: stems, sentences: sentences, needsPrivate: Workspace.needsPrivate(a))
    detailsLock.withLock {
      if detailsCache.count >= Self.cachedAnswers { detailsCache.removeAll(keepingCapacity: true) }
      detailsCache[index] = d
    }
    return d
  }

  static func sentences(_ text: String) -> [String] {
    var out: [String] = []
    var start = text.startIndex
    var i = text.startIndex
    while i < text.endIndex {
      let ch = text[i]
      i = text.index(after: i)
      if ch == "." || ch == "?" || ch == "!" {
        let s = text[start..<i].drop(while: { $0 == " " })
        if !s.isEmpty { out.append(String(s)) }
        start = i
      }
    }
    let rest = text[start...].drop(while: { $0 == " " })
    if !rest.isEmpty { out.append(String(rest)) }
    return out
  }
}

extension Workspace {
  fileprivate static let suggesterCache = SuggesterCache()

  /// Each suggestion allocates and frees score arrays of tens of kilobytes per answer set. By
  /// default glibc returns freed memory at the top of the heap to the system (trim threshold
  /// 128 KiB), so the next suggestion page-faults it back in and the kernel zeroes it again:
  /// 4% of the CPU of a `--jsonl` stream at 10k documents. Keeping up to 64 MiB of freed
  /// memory avoids that (set once, on first use of the ranker). Setting it also stops glibc
  /// from raising its mmap threshold as it goes, so arrays over 128 KiB (a cosine per example:
  /// 1 MB at 100k) would each be a fresh mapping, faulted in and zeroed every suggestion: they
  /// come from the heap up to 32 MiB.
  private static let keepFreedMemory: Void = {
    #if os(Linux)
    _ = glibcMallopt(-1, 64 << 20)  // M_TRIM_THRESHOLD (malloc.h), not in Swift's Glibc module
    _ = glibcMallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD
    #endif
  }()

  /// The ranker for this knowledge base's current index, built on first use and kept while the
  /// index does not change.
  public func suggester(progress: ((String) -> Void)? = nil) throws -> Suggester {
    _ = Self.keepFreedMemory
    // The model depends only on its inputs (``IndexStore/suggestState()``); check backs and
    // every other change to the index only refresh the evidence counts.
    let contentState = try store.contentState()
    let state = try store.suggestState()
    let key = indexPath
    if let cached = Self.suggesterCache.get(key), cached.state == state {
      try cached.refreshEvidence(contentState: contentState)
      return cached
    }
    // Then a model saved for another state brought up to date by the documents changed since
    // (the base this process holds, or the one saved on disk by an earlier process); else build
    // it from the index and save it (best effort: a read-only `.kb/` only costs the next
    // start-up a build).
    let cache = SuggestModelCache(path: suggestModelPath)
    var found: Suggester?
    if cache.enabled {
      let held = Self.suggesterCache.get(key).map { $0.base ?? $0 }
      found = try held.flatMap { try bringUpToDate($0, state: state) }
      if found == nil, let saved = cache.load(store: store) { found = try bringUpToDate(saved, state: state) }
      // Every process pays for the changes since the saved model: past a few dozen, a
      // background `kb index --model` saves one of today's documents.
      if let found, found.changesSinceBase >= Self.compactAfter { startSavingModelInBackground() }
    }
    let suggester: Suggester
    if let found {
      suggester = found
    } else {
      progress?("Building the suggestion model: reading the index…")
      suggester = Suggester(store: store, corpus: try store.suggestCorpus(), progress: progress)
      if cache.enabled {
        progress?("Building the suggestion model: saving…")
        if cache.save(suggester) { try? store.pruneSuggestChanges(through: suggester.position) }
      }
    }
    try suggester.refreshEvidence(contentState: contentState)
    Self.suggesterCache.set(key, suggester)
    return suggester
  }

  /// `base` itself if it is of `state`, else `base` plus the documents changed since it was
  /// built (nil when the change log cannot tell them or they are too many: build anew).
  private func bringUpToDate(_ base: Suggester, state: String) throws -> Suggester? {
    if base.state == state { return base }
    return try store.withSuggestSnapshot { snapshot -> Suggester? in
      guard let changes = try snapshot.changes(since: base.position) else { return nil }
      return try Suggester.overlaid(
        base: base, changes: changes, snapshot: snapshot, state: try snapshot.state(), position: try snapshot.position())
    }
  }

  /// How many documents changed since the saved model make a process start saving a new one
  /// (`KB_MODEL_SAVE_AFTER`; 0: never in the background).
  static let compactAfter: Int = {
    let n = Int(ProcessInfo.processInfo.environment["KB_MODEL_SAVE_AFTER"] ?? "") ?? 64
    return n > 0 ? n : Int.max
  }()

  /// When this process last started a background save.
  private static let lastBackgroundSave = Mutex<Date?>(nil)

  /// Where a model being saved holds its lock (one build at a time).
  var suggestModelBuildLock: String { suggestModelPath + ".build" }

  /// Starts `kb index --model --background` for this knowledge base, unless a build holds the
  /// lock already.
  private func startSavingModelInBackground() {
    // At most once a minute from one process (a save that cannot write must not be started
    // again on every suggestion of a long-lived process).
    let now = Date()
    guard Self.lastBackgroundSave.withLock({ last in
      if let last, now.timeIntervalSince(last) < 60 { return false }
      last = now
      return true
    }) else { return }
    let fd = open(suggestModelBuildLock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }  // One is running.
    flock(fd, LOCK_UN)
    guard let kb = WatchService.helperPath() else { return }
    _ = WatchService.spawnDetached(kb, ["index", "--model", "--background", "--kb", root])
  }

  /// Saves a suggestion model of today's documents (the changes since the saved one folded
  /// in), replacing the saved one atomically: readers keep the old one until it is in place.
  /// `background`: at low priority, and nothing when another build holds the lock (else wait
  /// for it). False when nothing was saved (`KB_SUGGEST_CACHE=0`, or a background build found
  /// the lock taken).
  @discardableResult
  public func saveSuggestionModel(background: Bool = false, progress: ((String) -> Void)? = nil) throws -> Bool {
    let cache = SuggestModelCache(path: suggestModelPath)
    guard cache.enabled else { return false }
    let fd = open(suggestModelBuildLock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if background {
      guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
      _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    } else {
      while flock(fd, LOCK_EX) != 0, errno == EINTR {}
    }
    // Another build may have saved today's model while this one waited.
    let position = try store.withSuggestSnapshot { try $0.position() }
    if let saved = cache.load(store: store), saved.state == (try store.suggestState()), saved.position.log == position.log {
      return true
    }
    progress?("Building the suggestion model: reading the index…")
    let built = Suggester(store: store, corpus: try store.suggestCorpus(), progress: progress)
    progress?("Building the suggestion model: saving…")
    guard cache.save(built) else { return false }
    try? store.pruneSuggestChanges(through: built.position)
    Self.suggesterCache.set(indexPath, built)
    return true
  }

  /// Builds the suggestion model from the index and saves it, whatever is saved already (for
  /// `kb index --rebuild`). Nothing with `KB_SUGGEST_CACHE=0` (a model that is not saved is
  /// built by its first use).
  public func rebuildSuggestionModel(progress: ((String) -> Void)? = nil) throws {
    guard SuggestModelCache(path: suggestModelPath).enabled else { return }
    unlink(suggestModelPath)
    Self.suggesterCache.remove(indexPath)
    try saveSuggestionModel(progress: progress)
  }
}

/// Hands the heap's free pages back to the system (glibc's `malloc_trim`), between the stages
/// of a model's build: what one stage freed in the middle of the heap would otherwise stay in
/// the process's private memory while the next one runs.
func releaseFreedMemory() {
  #if os(Linux)
  _ = glibcMallocTrim(0)
  #endif
}

#if os(Linux)
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

final class SuggesterCache: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [String: Suggester] = [:]
  func get(_ key: String) -> Suggester? { lock.withLock { items[key] } }
  func set(_ key: String, _ value: Suggester) { lock.withLock { items[key] = value } }
  func remove(_ key: String) { _ = lock.withLock { items.removeValue(forKey: key) } }
}
