/// A set of words kept by deltas: each word with the number of texts (answers) that use it, so
/// that removing one answer's text drops a word only when no other answer still uses it. The
/// suggester's vocabulary (words of the answers' titles and symptoms, which repair chat
/// spellings) is one.
///
/// ```swift
/// var vocabulary = WordCounts()
/// vocabulary.add(text: "Router light blinking")
/// vocabulary.add(text: "Router resets")
/// vocabulary.remove(text: "Router resets")
/// vocabulary.contains("router")  // true: the first text still uses it
/// vocabulary.contains("resets")  // false
/// ```
public struct WordCounts: WordSet, Sendable, Equatable {
  /// Per word (as ``SearchQuery/words(in:)`` gives them): how many texts counted use it.
  public private(set) var counts: [String: Int32] = [:]

  public init() {}

  /// The words of `texts`, each text counting a word once.
  public init(texts: some Sequence<String>) {
    for text in texts { add(text: text) }
  }

  public func contains(_ word: String) -> Bool { counts[word] != nil }

  public var words: Set<String> { Set(counts.keys) }

  /// Counts the distinct words of a text.
  public mutating func add(text: String) {
    for word in Set(SearchQuery.words(in: text)) { counts[word, default: 0] += 1 }
  }

  /// Stops counting a text counted before. False (and nothing changed) when one of its words
  /// was not counted: the counts no longer match the caller's corpus, rebuild them.
  @discardableResult
  public mutating func remove(text: String) -> Bool {
    let words = Set(SearchQuery.words(in: text))
    guard words.allSatisfy({ counts[$0] != nil }) else { return false }
    for word in words {
      let n = counts[word]!
      counts[word] = n > 1 ? n - 1 : nil
    }
    return true
  }

  /// The words in UTF-8 order (as ``StringTable/init(sorted:)`` stores them) and their counts:
  /// what the model file stores.
  public var stored: (words: [String], counts: [Int32]) {
    let words = counts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    return (words, words.map { counts[$0]! })
  }

  /// Counts read back from ``stored``; nil when the columns do not fit together (lengths,
  /// order, a count below 1).
  public init?(words: some Collection<String>, counts: some Collection<Int32>) {
    guard words.count == counts.count else { return nil }
    var table: [String: Int32] = [:]
    table.reserveCapacity(words.count)
    var previous: String?
    for (word, n) in zip(words, counts) {
      guard n > 0, previous.map({ $0.utf8.lexicographicallyPrecedes(word.utf8) }) ?? true else { return nil }
      table[word] = n
      previous = word
    }
    self.counts = table
  }
}
