import Foundation
import KBCore
import KBStore

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
  /// Which ranking to run: the full one, or plain bm25 (for evaluation).
  public enum Ranker: String, Sendable, CaseIterable { case full, bm25 }

  public struct Evidence: Sendable, Equatable, Codable {
    /// Cases linked to the answer.
    public var cases: Int
    /// Check backs that said the fix held, and that it did not.
    public var held: Int
    public var failed: Int
  }

  public struct Candidate: Sendable {
    public var answer: SuggestAnswer
    /// The answer's position in ``Suggester/answers``.
    public var index: Int
    public var score: Double
    /// The best cosine of the query with one of the answer's examples (0…1): absolute fit.
    public var similarity: Double
    /// The semantic model's cosine of the query with the answer's problem (0 without one).
    public var semantic: Double = 0
    public var bm25: Double
    public var evidence: Evidence
  }

  public let state: String
  /// The answers, in index order; their bodies are empty when the suggester was read from the
  /// cache file (``answer(_:)`` fills them in from the index).
  let answers: [SuggestAnswer]
  let bodiesInline: Bool
  private let bodyLock = NSLock()
  private var bodies: [Int: String] = [:]
  let model: ExampleModel
  /// Nil only when the binary has no word-vector table.
  let semantic: SemanticModel?
  let words: WordBM25
  /// bm25 over character 3-grams (nil when its fusion weight is 0).
  let trigrams: WordBM25?
  let classOfAnswer: [Int]
  /// The knowledge base's product names (``ProductNames``), and those each problem's title names.
  let products: Set<String>
  let classProducts: [Set<String>]
  let indexOfRowid: [Int64: Int]
  let evidence: [Evidence]
  /// Every word of the answers' texts, for repairing chat spellings and splitting hashtags.
  public let vocabulary: Set<String>
  let store: IndexStore

  /// Parameters, fixed for both development sets (see docs/RANKING.md).
  /// bm25 column weights: title, symptoms, tags, body.
  public static let bm25Weights = (3.0, 2.0, 1.0, 1.0)
  /// Weight of the example model's z-score against bm25's.
  public static let modelWeight = 1.0
  /// The same when the binary has no word-vector table (the weight picked before there was one).
  static let modelWeightAlone = 1.5
  /// Weight of the semantic model's z-score (2-fold CV on the dev sets: stackfaq 0.904 → 0.911,
  /// banking77 0.814 → 0.850; docs/RANKING.md, seventh round).
  public static let semanticWeight = 2.0
  /// The example model's class score: top-3 mean cosine + `meanWeight` × mean over all examples.
  static let knnTop = 3
  static let meanWeight = 2.0
  static let maxWords = 80
  /// Weight of the check-back record, (held − failed) / (held + failed + 1), in z units.
  public static let trustWeight = 0.25
  /// Added when the text and the problem's title name the same product, subtracted when the
  /// title names only others (2-fold CV on the dev sets: stackfaq 0.911 → 0.914, banking77,
  /// which names no product, unchanged; docs/RANKING.md, seventh round).
  public static let productWeight = 1.5
  /// Demotion (in z units) of each further answer to an already listed problem (same title).
  /// 100 outweighs any score gap: every problem's best answer is listed before any problem's
  /// second one (2-fold CV on the dev sets: stackfaq 0.883 → 0.897 against 0.5; see
  /// docs/RANKING.md).
  static let diversityPenalty = 100.0
  /// Weight of the character-3-gram bm25's z-score (0: not built, except for `KB_RANK_DUMP`).
  /// Under cross-validation it added nothing once the diversity step lists one answer per
  /// problem first (docs/RANKING.md), so it is off.
  public static let trigramWeight = 0.0
  /// Whether to add synonyms of the mention's words to the full ranker's query.
  public static let expand = true

  public init(store: IndexStore, corpus: SuggestCorpus) {
    self.store = store
    state = corpus.state
    answers = corpus.answers
    var indexOfRowid: [Int64: Int] = [:]
    var indexOfID: [String: Int] = [:]
    var classOfTitle: [String: Int] = [:]
    var classOfAnswer: [Int] = []
    var examples: [(classIndex: Int, text: String)] = []
    var vocabulary: Set<String> = []
    var titled: Set<Int> = []
    for (i, a) in corpus.answers.enumerated() {
      indexOfRowid[a.rowid] = i
      if indexOfID[a.id] == nil { indexOfID[a.id] = i }
      let key = a.title.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ")
      let cls: Int
      if !key.isEmpty, let known = classOfTitle[key] {
        cls = known
      } else {
        cls = classOfTitle.count
        classOfTitle[key.isEmpty ? "#\(i)" : key] = cls
      }
      classOfAnswer.append(cls)
      // The title once per problem: answers sharing it pool their examples.
      if titled.insert(cls).inserted { examples.append((cls, a.title)) }
      for s in a.symptoms where !s.isEmpty { examples.append((cls, s)) }
      let body = Self.bodyExample(a.body)
      if !body.isEmpty { examples.append((cls, body)) }
      for w in SearchQuery.words(in: a.title + " " + a.symptoms.joined(separator: " ")) { vocabulary.insert(w) }
    }
    var evidence = [Evidence](repeating: Evidence(cases: 0, held: 0, failed: 0), count: corpus.answers.count)
    for c in corpus.cases {
      guard let i = indexOfID[c.answer] else { continue }
      evidence[i].cases += 1
      for text in c.checkBacks {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("held") { evidence[i].held += 1 } else if t.hasPrefix("did not hold") || t.hasPrefix("didn't hold") {
          evidence[i].failed += 1
        }
      }
      // A resolved case teaches a real customer's phrasing for the fix it used.
      if let status = c.status, ["resolved", "closed"].contains(status), let complaint = Self.complaint(inBody: c.body) {
        examples.append((classOfAnswer[i], complaint))
      }
    }
    var config = ExampleModel.Config()
    config.top = Self.knnTop
    config.maxWords = Self.maxWords
    model = ExampleModel(examples: examples, classCount: classOfTitle.count, config: config)
    semantic = SemanticModel(examples: examples, classCount: classOfTitle.count)
    products = ProductNames.guess(
      titles: Self.classTitles(answers: corpus.answers, classOfAnswer: classOfAnswer, classCount: classOfTitle.count),
      texts: corpus.answers.flatMap { [$0.title, $0.body] })
    classProducts = Self.classProducts(
      products, answers: corpus.answers, classOfAnswer: classOfAnswer, classCount: classOfTitle.count)
    let fields = corpus.answers.map { a -> [(text: String, weight: Double)] in
      [(a.title, Self.bm25Weights.0), (a.symptoms.joined(separator: "\n"), Self.bm25Weights.1),
       (a.tags, Self.bm25Weights.2), (a.body, Self.bm25Weights.3)]
    }
    words = WordBM25(documents: fields)
    trigrams = Self.buildsTrigrams ? WordBM25(documents: fields, terms: .charTrigrams) : nil
    self.classOfAnswer = classOfAnswer
    self.indexOfRowid = indexOfRowid
    self.evidence = evidence
    self.vocabulary = vocabulary
    bodiesInline = true
  }

  /// A suggester from parts read back from the on-disk model cache (see `SuggestModelCache`).
  init(
    store: IndexStore, state: String, answers: [SuggestAnswer], model: ExampleModel, semantic: SemanticModel?,
    words: WordBM25, trigrams: WordBM25?, classOfAnswer: [Int], products: Set<String>, evidence: [Evidence],
    vocabulary: Set<String>
  ) {
    self.store = store
    self.state = state
    self.answers = answers
    self.model = model
    self.semantic = semantic
    self.words = words
    self.trigrams = trigrams
    self.classOfAnswer = classOfAnswer
    self.products = products
    classProducts = Self.classProducts(products, answers: answers, classOfAnswer: classOfAnswer, classCount: model.classCount)
    var indexOfRowid: [Int64: Int] = [:]
    indexOfRowid.reserveCapacity(answers.count)
    for (i, a) in answers.enumerated() { indexOfRowid[a.rowid] = i }
    self.indexOfRowid = indexOfRowid
    self.evidence = evidence
    self.vocabulary = vocabulary
    bodiesInline = false
  }

  /// The answer at `index` with its body (read from the index on first use when the suggester
  /// came from the cache file, which leaves bodies out: the index has them).
  public func answer(_ index: Int) -> SuggestAnswer {
    var a = answers[index]
    guard !bodiesInline else { return a }
    if let body = bodyLock.withLock({ bodies[index] }) {
      a.body = body
      return a
    }
    let body = (try? store.answerBody(rowid: a.rowid)) ?? nil ?? ""
    bodyLock.withLock { bodies[index] = body }
    a.body = body
    return a
  }

  /// Each problem's title (its first answer's).
  static func classTitles(answers: [SuggestAnswer], classOfAnswer: [Int], classCount: Int) -> [String] {
    var titles = [String?](repeating: nil, count: classCount)
    for (i, a) in answers.enumerated() where titles[classOfAnswer[i]] == nil { titles[classOfAnswer[i]] = a.title }
    return titles.map { $0 ?? "" }
  }

  /// The products each problem's title names.
  static func classProducts(_ products: Set<String>, answers: [SuggestAnswer], classOfAnswer: [Int], classCount: Int) -> [Set<String>] {
    guard !products.isEmpty else { return Array(repeating: [], count: classCount) }
    return classTitles(answers: answers, classOfAnswer: classOfAnswer, classCount: classCount).map { title in
      Set(ExampleModel.words(title).map { String(decoding: $0, as: UTF8.self) }.filter(products.contains))
    }
  }

  /// Per answer: +1 when the text names a product the answer's problem title names, −1 when the
  /// text names products and the title names only others, else 0 (empty when the text names
  /// no product).
  func productMatch(for text: String) -> [Double] {
    guard !products.isEmpty else { return [] }
    let named = Set(ExampleModel.words(text).map { String(decoding: $0, as: UTF8.self) }.filter(products.contains))
    guard !named.isEmpty else { return [] }
    let byClass = classProducts.map { p -> Double in p.isEmpty ? 0 : (p.isDisjoint(with: named) ? -1 : 1) }
    return classOfAnswer.map { byClass[$0] }
  }

  /// The body's text as one example: Markdown marks dropped, cut to its opening words.
  static func bodyExample(_ body: String) -> String {
    var out = ""
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
  public static func complaint(inBody body: String) -> String? {
    var quoted: [Substring] = []
    for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix(">") {
        quoted.append(line.dropFirst().drop(while: { $0 == " " }))
      } else if !quoted.isEmpty {
        break
      } else if line.hasPrefix("#"), line.lowercased().contains("journal") || line.lowercased().contains("timeline") {
        break  // A heading such as "## Complaint" may come first; the journal may not.
      }
    }
    let text = quoted.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    return text.isEmpty ? nil : text
  }

  /// The FTS5 pattern for a text: OR of its words.
  public static func pattern(for text: String) -> String? {
    var seen: Set<String> = []
    let words = SearchQuery.words(in: text).filter { seen.insert($0).inserted }.prefix(64)
    return SearchQuery(terms: words.map { .word($0) }).matchPattern(.any)
  }

  static var buildsTrigrams: Bool { trigramWeight != 0 || dumpPath != nil }

  /// `KB_RANK_DUMP=FILE`: each suggestion appends its ranking components to FILE as a JSON
  /// line (for `scripts/rank-cv`, which picks fusion constants under cross-validation).
  static let dumpPath: String? = ProcessInfo.processInfo.environment["KB_RANK_DUMP"].flatMap { $0.isEmpty ? nil : $0 }

  /// The ranking signals of the full ranker for a normalized text, one value per answer.
  public struct Components: Sendable {
    /// Word bm25 (in memory, light stemmer).
    public var bm25: [Double]
    /// Example model: top-k mean cosine + `meanWeight` × mean cosine of the answer's class.
    public var knn: [Double]
    /// Best example cosine of the answer's class (absolute fit).
    public var similarity: [Double]
    /// Character-3-gram bm25 (empty when not built).
    public var trigrams: [Double]
    /// Semantic model: cosine of the text's and the answer's problem's word vectors (empty
    /// without a word-vector table).
    public var semantic: [Double]
    /// Product check: +1, −1 or 0 (empty when the text names no product).
    public var product: [Double]
  }

  public func components(for text: String) -> Components {
    let n = answers.count
    let bm25 = words.scores(for: text)
    let (classScores, best, means) = model.classScoresWithMean(for: text)
    var knn = [Double](repeating: 0, count: n)
    var similarity = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let c = classOfAnswer[i]
      knn[i] = Double(classScores[c]) + Self.meanWeight * Double(means[c])
      similarity[i] = Double(best[c])
    }
    var semanticScores: [Double] = []
    if let semantic {
      let byClass = semantic.scores(for: text)
      semanticScores = classOfAnswer.map { Double(byClass[$0]) }
    }
    return Components(
      bm25: bm25, knn: knn, similarity: similarity, trigrams: trigrams?.scores(for: text) ?? [], semantic: semanticScores,
      product: productMatch(for: text))
  }

  /// The fused score of every answer: z(bm25) + w·z(example model) + w·z(semantic model)
  /// + w·z(trigram bm25) + trust + w·product check.
  func fuse(_ c: Components) -> [Double] {
    let n = answers.count
    let zb = Self.zscores(c.bm25)
    let zk = Self.zscores(c.knn)
    let zs = c.semantic.isEmpty ? [] : Self.zscores(c.semantic)
    // Without a word-vector table the example model keeps the weight it had alone.
    let modelWeight = zs.isEmpty ? Self.modelWeightAlone : Self.modelWeight
    let zt = Self.trigramWeight != 0 && !c.trigrams.isEmpty ? Self.zscores(c.trigrams) : []
    var score = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let e = evidence[i]
      let trust = e.held + e.failed == 0 ? 0 : Double(e.held - e.failed) / Double(e.held + e.failed + 1)
      score[i] = zb[i] + modelWeight * zk[i] + Self.trustWeight * trust
      if !zs.isEmpty { score[i] += Self.semanticWeight * zs[i] }
      if !c.product.isEmpty { score[i] += Self.productWeight * c.product[i] }
      if !zt.isEmpty { score[i] += Self.trigramWeight * zt[i] }
    }
    return score
  }

  /// The components as one JSON line, for `KB_RANK_DUMP`.
  func dump(_ c: Components, id: String?, text: String = "") {
    guard let path = Self.dumpPath else { return }
    func list(_ v: [Double]) -> String { "[" + v.map { String(format: "%.6g", $0) }.joined(separator: ",") + "]" }
    var line = "{\"id\":" + (id.map { "\"" + $0.replacingOccurrences(of: "\"", with: "") + "\"" } ?? "null")
    Self.dumpLock.withLock {
      if !Self.dumpedHeader {
        Self.dumpedHeader = true
        let ids = answers.map { "\"" + $0.id.replacingOccurrences(of: "\"", with: "") + "\"" }.joined(separator: ",")
        let trust = evidence.map { e in e.held + e.failed == 0 ? 0 : Double(e.held - e.failed) / Double(e.held + e.failed + 1) }
        let header = "{\"answers\":[\(ids)],\"classes\":[\(classOfAnswer.map(String.init).joined(separator: ","))],\"trust\":\(list(trust))}\n"
        Self.append(header, to: path)
      }
    }
    let quoted = (try? JSONSerialization.data(withJSONObject: [text], options: [])).map { String(decoding: $0, as: UTF8.self).dropFirst().dropLast() }
    line += ",\"text\":" + (quoted.map(String.init) ?? "\"\"")
    line += ",\"bm25\":\(list(c.bm25)),\"knn\":\(list(c.knn)),\"similarity\":\(list(c.similarity)),\"trigrams\":\(list(c.trigrams)),\"semantic\":\(list(c.semantic)),\"product\":\(list(c.product))}\n"
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
  public func rank(_ text: String, limit: Int, ranker: Ranker = .full, id: String? = nil) throws -> [Candidate] {
    guard !answers.isEmpty, let pattern = Self.pattern(for: text) else { return [] }
    let n = answers.count
    var bm25: [Double]
    var similarity = [Double](repeating: 0, count: n)
    var score: [Double]
    var semantic: [Double] = []
    if ranker == .bm25 {
      // The baseline: SQLite FTS5's own bm25 (porter stemming), OR of the words.
      bm25 = [Double](repeating: 0, count: n)
      for hit in try store.answerBM25(pattern, weights: Self.bm25Weights, limit: max(100, limit)) {
        if let i = indexOfRowid[hit.rowid] { bm25[i] = hit.score }
      }
      score = bm25
    } else {
      let c = components(for: text)
      if Self.dumpPath != nil { dump(c, id: id, text: text) }
      bm25 = c.bm25
      similarity = c.similarity
      semantic = c.semantic
      score = fuse(c)
    }
    // The best few, by insertion into a short sorted list (no sort of every answer).
    let keep = max(50, limit * 3)
    var order: [Int] = []
    order.reserveCapacity(keep + 1)
    for i in 0..<n where bm25[i] > 0 || similarity[i] > 0 {
      if order.count == keep, let last = order.last, score[i] <= score[last] { continue }
      var at = order.count
      while at > 0, score[order[at - 1]] < score[i] { at -= 1 }
      order.insert(i, at: at)
      if order.count > keep { order.removeLast() }
    }
    if ranker == .full {
      // Answers that share a title are alternative fixes for one problem: each further one
      // from the same problem is demoted, so the next problems get a look-in (like MMR).
      var pool = Array(order.prefix(max(50, limit * 3)))
      var seen: [Int: Int] = [:]
      var picked: [Int] = []
      while !pool.isEmpty, picked.count < limit {
        var bestAt = 0
        var bestValue = -Double.infinity
        for (k, i) in pool.enumerated() {
          let v = score[i] - Self.diversityPenalty * Double(seen[classOfAnswer[i], default: 0])
          if v > bestValue { bestValue = v; bestAt = k }
        }
        let i = pool.remove(at: bestAt)
        seen[classOfAnswer[i], default: 0] += 1
        picked.append(i)
      }
      order = picked
    }
    return order.prefix(limit).map {
      Candidate(
        answer: answer($0), index: $0, score: score[$0], similarity: similarity[$0],
        semantic: semantic.isEmpty ? 0 : semantic[$0], bm25: bm25[$0], evidence: evidence[$0])
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
    detailsLock.withLock { detailsCache[index] = d }
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

  static func zscores(_ values: [Double]) -> [Double] {
    guard values.count > 1 else { return values.map { _ in 0 } }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    let sd = variance.squareRoot()
    guard sd > 0 else { return values.map { _ in 0 } }
    return values.map { ($0 - mean) / sd }
  }
}

extension Workspace {
  private static let suggesterCache = SuggesterCache()

  /// Each suggestion allocates and frees score arrays of tens of kilobytes per answer set. By
  /// default glibc returns freed memory at the top of the heap to the system (trim threshold
  /// 128 KiB), so the next suggestion page-faults it back in and the kernel zeroes it again:
  /// 4% of the CPU of a `--jsonl` stream at 10k documents. Keeping up to 64 MiB of freed
  /// memory avoids that (set once, on first use of the ranker).
  private static let keepFreedMemory: Void = {
    #if os(Linux)
    _ = glibcMallopt(-1, 64 << 20)  // M_TRIM_THRESHOLD (malloc.h), not in Swift's Glibc module
    #endif
  }()

  /// The ranker for this knowledge base's current index, built on first use and kept while the
  /// index does not change.
  public func suggester() throws -> Suggester {
    _ = Self.keepFreedMemory
    let state = try store.contentState()
    let key = indexPath
    if let cached = Self.suggesterCache.get(key), cached.state == state { return cached }
    // Then the model saved on disk by an earlier process for this index state; else build it
    // from the index and save it (best effort: a read-only `.kb/` only costs the next start-up).
    let cache = SuggestModelCache(path: suggestModelPath)
    let suggester: Suggester
    if cache.enabled, let loaded = cache.load(state: state, store: store) {
      suggester = loaded
    } else {
      suggester = Suggester(store: store, corpus: try store.suggestCorpus())
      if cache.enabled { cache.save(suggester) }
    }
    Self.suggesterCache.set(key, suggester)
    return suggester
  }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

final class SuggesterCache: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [String: Suggester] = [:]
  func get(_ key: String) -> Suggester? { lock.withLock { items[key] } }
  func set(_ key: String, _ value: Suggester) { lock.withLock { items[key] = value } }
}
