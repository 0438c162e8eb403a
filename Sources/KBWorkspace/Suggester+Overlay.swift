import Foundation
import KBCore
internal import KBStore

/// The example model a ``Suggester`` ranks with: built whole, or a saved base plus the classes
/// that changed since (``ExampleModel/Overlay``).
enum ExampleScorer: Sendable {
  case built(ExampleModel)
  case overlay(ExampleModel.Overlay)

  func classScoresWithMean(for text: String) -> (scores: [Float], best: [Float], mean: [Float]) {
    switch self {
    case .built(let m): m.classScoresWithMean(for: text)
    case .overlay(let o): o.classScoresWithMean(for: text)
    }
  }

  var classCount: Int {
    switch self {
    case .built(let m): m.classCount
    case .overlay(let o): o.classCount
    }
  }
}

/// The word bm25 a ``Suggester`` ranks with: built whole, or a saved base plus the answers that
/// changed since, with each current answer's place among the overlay's documents.
enum WordScorer: Sendable {
  case built(WordBM25)
  /// `documents[i]`: the overlay document of answer `i` (base documents, then added ones).
  case overlay(WordBM25.Overlay, documents: [Int32])

  func scores(for text: String) -> [Double] {
    switch self {
    case .built(let b): return b.scores(for: text)
    case .overlay(let o, let documents):
      let all = o.scores(for: text)
      return documents.map { all[Int($0)] }
    }
  }

  var documentCount: Int {
    switch self {
    case .built(let b): b.documentCount
    case .overlay(_, let documents): documents.count
    }
  }
}

/// Problem keys (``Suggester/problemKey(_:)``) and their classes, sorted for a binary search in
/// place (stored in the model file).
struct ProblemKeys: Sendable {
  let keys: StringTable
  let classes: Column<Int32>

  init(_ table: [String: Int]) {
    let sorted = table.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    keys = StringTable(sorted)
    classes = Column(sorted.map { Int32(table[$0]!) })
  }

  init?(keys: StringTable, classes: Column<Int32>) {
    guard keys.count == classes.count else { return nil }
    self.keys = keys
    self.classes = classes
  }

  func `class`(of key: String) -> Int? { keys.position(of: key).map { Int(classes[$0]) } }
}

extension Suggester {
  /// How many changed documents an overlay takes before the model is rebuilt whole instead.
  static let overlayLimit = 512

  /// The base answer at `path` (answers are in path order), by binary search.
  func baseIndex(ofPath path: String) -> Int? {
    let at = insertionPoint(ofPath: path)
    return at < answers.count && answers.path(at) == path ? at : nil
  }

  /// The first base answer whose path is not before `path` (UTF-8 order, as the index sorts).
  func insertionPoint(ofPath path: String) -> Int {
    var lo = 0
    var hi = answers.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if answers.path(mid).utf8.lexicographicallyPrecedes(path.utf8) { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// The examples of one problem as a rebuild makes them: the first answer's title, then each
  /// answer's symptoms and body (answers in path order), then the complaints of the cases that
  /// name them (in path order).
  static func classExamples(answers: [SuggestAnswer], complaints: [String]) -> [String] {
    var out: [String] = []
    if let first = answers.first { out.append(first.title) }
    for a in answers {
      for s in a.symptoms where !s.isEmpty { out.append(s) }
      let body = bodyExample(a.body)
      if !body.isEmpty { out.append(body) }
    }
    return out + complaints
  }

  /// The suggester for today's index made of `base` (a suggester read from the model file) and
  /// the documents changed since it was saved: the same ranking, bit for bit, as one rebuilt
  /// from every document (``IncrementalModelTests``), at the cost of the change. Nil when the
  /// base cannot take them (too many; a base that is itself an overlay).
  static func overlaid(
    base: Suggester, changes: [SuggestChange], snapshot: SuggestSnapshot, state: String, position: SuggestLogPosition
  ) throws -> Suggester? {
    guard base.base == nil, let counts = base.counts, case .built(let exampleBase) = base.examples, exampleBase.config.idfOverClasses,
      case .built(let wordBase) = base.words, changes.count <= overlayLimit
    else { return nil }
    let baseCount = base.answers.count

    // The answers now: the base's less the changed ones, plus their new versions, in path order.
    var removed: [Int: SuggestAnswer] = [:]
    var added: [SuggestAnswer] = []
    var caseIDs: [String] = []
    var changedCases: [String: (answer: String, complaint: String)?] = [:]
    for change in changes {
      if let old = change.before?.answer {
        guard let b = base.baseIndex(ofPath: change.path) else { return nil }
        removed[b] = old
      }
      if let now = change.now?.answer { added.append(now) }
      if change.before?.teaching != nil || change.now?.teaching != nil {
        changedCases[change.path] = change.before?.teaching
        if let t = change.before?.teaching { caseIDs.append(t.answer) }
        if let t = change.now?.teaching { caseIDs.append(t.answer) }
      }
    }
    // `refs[i]`: answer i's base index, or −1 − its index among `added`.
    var refs: [Int32] = []
    refs.reserveCapacity(baseCount - removed.count + added.count)
    var next = 0
    let places = added.map { base.insertionPoint(ofPath: $0.path) }
    for b in 0...baseCount {
      while next < added.count, places[next] == b {
        refs.append(Int32(-1 - next))
        next += 1
      }
      if b < baseCount, removed[b] == nil { refs.append(Int32(b)) }
    }

    // Problems: the base's classes; a new answer joins its title's problem or starts one.
    var classCount = base.examples.classCount
    var newClassOfKey: [String: Int] = [:]
    var problemOfAnswer: [Int] = []
    problemOfAnswer.reserveCapacity(refs.count)
    for r in refs {
      if r >= 0 {
        problemOfAnswer.append(base.problemOfAnswer[Int(r)])
        continue
      }
      let key = problemKey(added[Int(-1 - r)].title)
      if !key.isEmpty, let known = counts.problemKeys.class(of: key) ?? newClassOfKey[key] {
        problemOfAnswer.append(known)
      } else {
        problemOfAnswer.append(classCount)
        if !key.isEmpty { newClassOfKey[key] = classCount }
        classCount += 1
      }
    }
    var answersOfClass = [Int32](repeating: 0, count: classCount)
    for p in problemOfAnswer { answersOfClass[p] += 1 }
    let liveClasses = answersOfClass.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }

    // Which answer is the first with each id that a change touches (cases name ids; evidence
    // and examples go to the first answer with the id), before and now.
    var ids = Set(caseIDs)
    for a in removed.values { ids.insert(a.id) }
    for a in added { ids.insert(a.id) }
    var firstBefore: [String: Int] = [:]
    var baseHasID = [Bool](repeating: false, count: baseCount)
    for b in 0..<baseCount {
      let id = base.answers.id(b)
      guard ids.contains(id) else { continue }
      baseHasID[b] = true
      if firstBefore[id] == nil { firstBefore[id] = b }
    }
    var firstNow: [String: Int] = [:]
    for (i, r) in refs.enumerated() {
      let id: String
      if r >= 0 {
        guard baseHasID[Int(r)] else { continue }
        id = base.answers.id(Int(r))
      } else {
        id = added[Int(-1 - r)].id
      }
      if ids.contains(id), firstNow[id] == nil { firstNow[id] = i }
    }
    let isFirstOfID = Column<UInt8>(refs.enumerated().map { i, r -> UInt8 in
      if r >= 0, !baseHasID[Int(r)] { return base.isFirstOfID[Int(r)] }
      let id = r >= 0 ? base.answers.id(Int(r)) : added[Int(-1 - r)].id
      return firstNow[id] == i ? 1 : 0
    })

    // The problems whose examples may have changed.
    var touched: Set<Int> = []
    for b in removed.keys { touched.insert(base.problemOfAnswer[b]) }
    for (i, r) in refs.enumerated() where r < 0 { touched.insert(problemOfAnswer[i]) }
    for id in ids {
      if let b = firstBefore[id] { touched.insert(base.problemOfAnswer[b]) }
      if let i = firstNow[id] { touched.insert(problemOfAnswer[i]) }
    }

    // Their examples before and now: answers (bodies from the index for unchanged ones) and the
    // complaints of the cases naming their first-with-id answers.
    var baseAnswersOf: [Int: [Int]] = [:]
    for b in 0..<baseCount where touched.contains(base.problemOfAnswer[b]) { baseAnswersOf[base.problemOfAnswer[b], default: []].append(b) }
    var answersNowOf: [Int: [Int]] = [:]
    for (i, p) in problemOfAnswer.enumerated() where touched.contains(p) { answersNowOf[p, default: []].append(i) }
    let unchangedPaths = baseAnswersOf.values.joined().filter { removed[$0] == nil }.map { base.answers.path($0) }
    let bodies = try snapshot.answerBodies(unchangedPaths)
    func baseAnswer(_ b: Int) -> SuggestAnswer {
      if let old = removed[b] { return old }
      var a = base.answers[b]
      a.body = bodies[a.path] ?? ""
      return a
    }
    func answerNow(_ i: Int) -> SuggestAnswer {
      let r = refs[i]
      if r < 0 { return added[Int(-1 - r)] }
      var a = base.answers[Int(r)]
      a.body = bodies[a.path] ?? ""
      return a
    }
    var idsBefore: [Int: Set<String>] = [:]
    var idsNow: [Int: Set<String>] = [:]
    for (cls, list) in baseAnswersOf {
      idsBefore[cls] = Set(list.filter { base.isFirstOfID[$0] == 1 }.map { base.answers.id($0) })
    }
    for (cls, list) in answersNowOf {
      idsNow[cls] = Set(list.filter { isFirstOfID[$0] == 1 }.map { answerNow($0).id })
    }
    let allIDs = idsBefore.values.reduce(into: Set<String>()) { $0.formUnion($1) }
      .union(idsNow.values.reduce(into: Set<String>()) { $0.formUnion($1) })
    let casesNow = try snapshot.teachingCases(naming: allIDs)
    // Cases as they were: today's unchanged ones, and the changed ones' old versions.
    var casesBefore = casesNow.filter { changedCases[$0.path] == nil }
    for (path, old) in changedCases { if let old { casesBefore.append((path, old.answer, old.complaint)) } }
    casesBefore.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

    var exampleChanges: [Int: (old: [String], new: [String])] = [:]
    for cls in touched.sorted() {
      let before = idsBefore[cls] ?? []
      let now = idsNow[cls] ?? []
      let old = classExamples(
        answers: (baseAnswersOf[cls] ?? []).map(baseAnswer),
        complaints: casesBefore.filter { before.contains($0.answer) }.map(\.complaint))
      let new = classExamples(
        answers: (answersNowOf[cls] ?? []).map(answerNow), complaints: casesNow.filter { now.contains($0.answer) }.map(\.complaint))
      exampleChanges[cls] = (old, new)
    }
    let documents = refs.map { $0 >= 0 ? $0 : Int32(wordBase.documentCount) + (-1 - $0) }

    // The vocabulary and the product names, by their counts.
    guard var vocabulary = counts.vocabulary(), var productCounts = counts.products() else { return nil }
    for old in removed.values {
      guard vocabulary.remove(text: vocabularyText(old)) else { return nil }
      for text in productTexts(old) { guard productCounts.remove(text: text) else { return nil } }
    }
    for now in added {
      vocabulary.add(text: vocabularyText(now))
      for text in productTexts(now) { productCounts.add(text: text) }
    }
    // A problem's title is its first answer's: only a touched problem's can have changed.
    for cls in touched.sorted() {
      if let b = baseAnswersOf[cls]?.first { guard productCounts.remove(title: baseAnswer(b).title) else { return nil } }
      if let i = answersNowOf[cls]?.first { productCounts.add(title: answerNow(i).title) }
    }
    var firstAnswerOfClass: [Int]?
    func problemTitle(_ cls: Int) -> String {
      if firstAnswerOfClass == nil {
        var first = [Int](repeating: -1, count: classCount)
        for (i, p) in problemOfAnswer.enumerated() where first[p] < 0 { first[p] = i }
        firstAnswerOfClass = first
      }
      let i = firstAnswerOfClass![cls]
      return i < 0 ? "" : answerNow(i).title
    }
    var problemProducts = base.problemProducts
    ProductNames.update(
      &problemProducts, count: classCount, titles: problemTitle, changed: touched, names: base.products,
      now: productCounts.names)

    let semantic = base.semantic.flatMap {
      $0.updated(changes: exampleChanges.mapValues(\.new), classCount: classCount, liveClassCount: liveClasses)
    }
    if base.semantic != nil, semantic == nil { return nil }

    let answers = AnswerList(base: base.answers, refs: refs, added: added)
    return Suggester(
      store: base.store, state: state, answers: answers, isFirstOfID: isFirstOfID,
      examples: .overlay(
        ExampleModel.Overlay(base: exampleBase, classCount: classCount, liveClassCount: liveClasses, changes: exampleChanges)),
      semantic: semantic,
      words: .overlay(WordBM25.Overlay(base: wordBase, removed: Set(removed.keys), added: added.map(wordFields)), documents: documents),
      problemOfAnswer: problemOfAnswer, products: productCounts.names, problemProducts: problemProducts,
      vocabulary: vocabulary, counts: nil, position: position, base: base)
  }
}

/// The counts behind a suggester's corpus-wide choices that an overlay moves by deltas: each
/// problem's key, the vocabulary's word counts and the product names' counts. Held as built, or
/// as columns of the model file, decoded only when an overlay needs them.
struct SuggestCounts: Sendable {
  let problemKeys: ProblemKeys
  private let memory: (vocabulary: WordCounts, products: ProductCounts)?
  let vocabularyWords: StringTable
  let vocabularyCounts: Column<Int32>
  let productTitles: StringTable
  let productColumns: (titleCounts: Column<Int32>, words: StringTable, titleWords: Column<Int32>, capital: Column<Int32>, all: Column<Int32>)

  init(problemKeys: ProblemKeys, vocabulary: WordCounts, products: ProductCounts) {
    self.problemKeys = problemKeys
    memory = (vocabulary, products)
    let v = vocabulary.stored
    vocabularyWords = StringTable(v.words)
    vocabularyCounts = Column(v.counts)
    let p = products.stored
    productTitles = StringTable(p.titles)
    productColumns = (Column(p.titleCounts), StringTable(p.words), Column(p.titleWordCounts), Column(p.capitalUses), Column(p.allUses))
  }

  init(
    problemKeys: ProblemKeys, vocabularyWords: StringTable, vocabularyCounts: Column<Int32>, productTitles: StringTable,
    productColumns: (titleCounts: Column<Int32>, words: StringTable, titleWords: Column<Int32>, capital: Column<Int32>, all: Column<Int32>)
  ) {
    self.problemKeys = problemKeys
    memory = nil
    self.vocabularyWords = vocabularyWords
    self.vocabularyCounts = vocabularyCounts
    self.productTitles = productTitles
    self.productColumns = productColumns
  }

  /// The vocabulary's counts (nil when the stored columns do not fit together).
  func vocabulary() -> WordCounts? {
    memory?.vocabulary ?? WordCounts(words: vocabularyWords, counts: vocabularyCounts)
  }

  /// The product names' counts (nil when the stored columns do not fit together).
  func products() -> ProductCounts? {
    if let memory { return memory.products }
    let c = productColumns
    return ProductCounts(stored: ProductCounts.Stored(
      titles: Array(productTitles), titleCounts: c.titleCounts.array, words: Array(c.words),
      titleWordCounts: c.titleWords.array, capitalUses: c.capital.array, allUses: c.all.array))
  }
}
