/// The counts behind ``ProductNames/guess(titles:texts:)``, kept by deltas: adding or removing
/// a problem's title or an answer's text changes them by that title's or text's own share, and
/// ``names`` is then exactly what `guess` gives for the titles and texts now counted.
///
/// Three counts: each distinct problem title that names a capitalized word (with how many times
/// it is present, so a title given twice counts once, as `guess` counts `Set(titles)`); per
/// word, how many of those titles write it with a capital; and per word, its uses not first in
/// a sentence over every text, capitalized and all. The uses are kept for every word, not only
/// today's candidates: a new title can make any word a candidate.
///
/// ```swift
/// var counts = ProductCounts(titles: ["Archive in Gmail"], texts: ["Archive in Gmail", "Gmail keeps mail."])
/// counts.names                         // [] (one title names Gmail)
/// counts.add(title: "Filters in Gmail")
/// counts.add(text: "Filters in Gmail")
/// counts.names                         // ["gmail"]
/// ```
public struct ProductCounts: Sendable, Equatable {
  /// A word's uses (not first in a sentence): capitalized, and all.
  public struct Uses: Sendable, Equatable {
    public var capital: Int32
    public var all: Int32

    mutating func count(capital isCapital: Bool) {
      all += 1
      if isCapital { capital += 1 }
    }
  }

  /// Problem titles that write some word with a capital, with how many times each is present.
  public private(set) var titles: [String: Int32] = [:]
  /// Per word: how many of ``titles`` write it with a capital.
  public private(set) var titleWords: [String: Int32] = [:]
  /// Per word: its uses over every text counted.
  public private(set) var uses: [String: Uses] = [:]
  /// The product names: ``ProductNames/guess(titles:texts:)`` of what is counted.
  public private(set) var names: Set<String> = []

  public init() {}

  /// `titles`: one per problem; `texts`: every answer's title and body (as `guess` takes them).
  public init(titles: [String], texts: [String]) {
    self.init(titles: titles, texts: texts, candidatesOnly: false)
  }

  /// With `candidatesOnly`, only the uses of words that two titles or more name are counted:
  /// enough for ``names`` (``ProductNames/guess(titles:texts:)``), not for later deltas.
  init(titles: [String], texts: [String], candidatesOnly: Bool) {
    for title in titles { count(title: title, by: 1) }
    if candidatesOnly {
      let candidates = Set(titleWords.filter { $0.value >= 2 && !MentionText.functionWords.contains($0.key) }.keys)
      guard !candidates.isEmpty else { return }
      for text in texts {
        ProductNames.forEachUse(in: text) { word, capital in
          guard candidates.contains(word) else { return }
          uses[word, default: Uses(capital: 0, all: 0)].count(capital: capital)
        }
      }
    } else {
      for text in texts { count(text: text) }
    }
    names = Set(titleWords.keys.filter(isName))
  }

  /// Counts an answer: its problem's title (nil when the problem was counted already) and its
  /// texts (its title and body).
  public mutating func add(title: String?, texts: [String]) {
    if let title { add(title: title) }
    for text in texts { add(text: text) }
  }

  /// Stops counting an answer counted by ``add(title:texts:)``: its problem's title (nil when
  /// the problem stays, with the same title) and its texts. False (and nothing more changed)
  /// at the first part that was not counted.
  @discardableResult
  public mutating func remove(title: String?, texts: [String]) -> Bool {
    if let title, !remove(title: title) { return false }
    for text in texts where !remove(text: text) { return false }
    return true
  }

  /// Counts a problem's title.
  public mutating func add(title: String) {
    for word in count(title: title, by: 1) { update(word) }
  }

  /// Stops counting a problem's title. False (and nothing changed) when it was not counted:
  /// the caller's counts no longer match its corpus, rebuild them.
  @discardableResult
  public mutating func remove(title: String) -> Bool {
    let words = ProductNames.capitalizedWords(inTitle: title)
    guard words.isEmpty || titles[title] != nil else { return false }
    for word in count(title: title, by: -1) { update(word) }
    return true
  }

  /// Counts the uses in an answer's title or body.
  public mutating func add(text: String) {
    var touched: Set<String> = []
    count(text: text) { touched.insert($0) }
    for word in touched { update(word) }
  }

  /// Stops counting the uses in a text counted before. False (and nothing changed) when some
  /// use was not counted: the caller's counts no longer match its corpus, rebuild them.
  @discardableResult
  public mutating func remove(text: String) -> Bool {
    let share = Self.uses(in: text)
    for (word, u) in share {
      guard let have = uses[word], have.all >= u.all, have.capital >= u.capital else { return false }
    }
    for (word, u) in share {
      let have = uses[word]!
      let left = Uses(capital: have.capital - u.capital, all: have.all - u.all)
      uses[word] = left.all == 0 ? nil : left
      update(word)
    }
    return true
  }

  /// A text's uses per word.
  static func uses(in text: String) -> [String: Uses] {
    var out: [String: Uses] = [:]
    ProductNames.forEachUse(in: text) { word, capital in out[word, default: Uses(capital: 0, all: 0)].count(capital: capital) }
    return out
  }

  /// Whether `word` is a product name, from its counts (the rule of ``ProductNames``). A
  /// function word never is, however it is written ("My Northwind": the sample KB's bodies
  /// write "my" with a capital almost only there).
  func isName(_ word: String) -> Bool {
    guard let problems = titleWords[word], problems >= 2, !MentionText.functionWords.contains(word),
      let u = uses[word], u.all > 0
    else { return false }
    return Double(u.capital) >= ProductNames.capitalizedShare * Double(u.all)
  }

  private mutating func update(_ word: String) {
    if isName(word) { names.insert(word) } else { names.remove(word) }
  }

  /// Adds `delta` (±1) to a title's count; the words whose title count changed.
  @discardableResult
  private mutating func count(title: String, by delta: Int32) -> [String] {
    let words = ProductNames.capitalizedWords(inTitle: title)
    guard !words.isEmpty else { return [] }  // names no word: it never counts
    let before = titles[title] ?? 0
    let after = max(0, before + delta)
    titles[title] = after == 0 ? nil : after
    // Only a title's first copy, and its last, change the words' counts.
    guard (before == 0) != (after == 0) else { return [] }
    var changed: [String] = []
    var seen: Set<String> = []
    for word in words where seen.insert(word).inserted {
      let n = (titleWords[word] ?? 0) + delta
      titleWords[word] = n <= 0 ? nil : n
      changed.append(word)
    }
    return changed
  }

  /// Adds a text's uses; calls `touched` with each word whose counts changed (once a use).
  private mutating func count(text: String, touched: (String) -> Void = { _ in }) {
    ProductNames.forEachUse(in: text) { word, capital in
      uses[word, default: Uses(capital: 0, all: 0)].count(capital: capital)
      touched(word)
    }
  }
}

extension ProductCounts {
  /// The counts as the model file can store them: sorted columns (UTF-8 order).
  public struct Stored: Sendable, Equatable, Codable {
    /// The counted titles and how many times each is present.
    public var titles: [String]
    public var titleCounts: [Int32]
    /// Every word with a count; per word, its title count and its uses.
    public var words: [String]
    public var titleWordCounts: [Int32]
    public var capitalUses: [Int32]
    public var allUses: [Int32]

    public init(
      titles: [String], titleCounts: [Int32], words: [String], titleWordCounts: [Int32], capitalUses: [Int32],
      allUses: [Int32]
    ) {
      self.titles = titles
      self.titleCounts = titleCounts
      self.words = words
      self.titleWordCounts = titleWordCounts
      self.capitalUses = capitalUses
      self.allUses = allUses
    }
  }

  public var stored: Stored {
    func sorted(_ s: some Sequence<String>) -> [String] { s.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
    let titleList = sorted(titles.keys)
    let words = sorted(Set(titleWords.keys).union(uses.keys))
    return Stored(
      titles: titleList, titleCounts: titleList.map { titles[$0]! }, words: words,
      titleWordCounts: words.map { titleWords[$0] ?? 0 }, capitalUses: words.map { uses[$0]?.capital ?? 0 },
      allUses: words.map { uses[$0]?.all ?? 0 })
  }

  /// Counts read back from ``stored``; nil when the columns do not fit together (lengths,
  /// order, counts out of range).
  public init?(stored s: Stored) {
    guard s.titleCounts.count == s.titles.count, s.titleWordCounts.count == s.words.count,
      s.capitalUses.count == s.words.count, s.allUses.count == s.words.count
    else { return nil }
    func ascending(_ list: [String]) -> Bool {
      zip(list, list.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
    guard ascending(s.titles), ascending(s.words) else { return nil }
    var titles: [String: Int32] = [:]
    titles.reserveCapacity(s.titles.count)
    for (t, n) in zip(s.titles, s.titleCounts) {
      guard n > 0 else { return nil }
      titles[t] = n
    }
    var titleWords: [String: Int32] = [:]
    var uses: [String: Uses] = [:]
    uses.reserveCapacity(s.words.count)
    for (i, w) in s.words.enumerated() {
      let (t, c, a) = (s.titleWordCounts[i], s.capitalUses[i], s.allUses[i])
      guard t >= 0, c >= 0, a >= c, t > 0 || a > 0 else { return nil }
      if t > 0 { titleWords[w] = t }
      if a > 0 { uses[w] = Uses(capital: c, all: a) }
    }
    self.titles = titles
    self.titleWords = titleWords
    self.uses = uses
    names = Set(titleWords.keys.filter(isName))
  }
}
