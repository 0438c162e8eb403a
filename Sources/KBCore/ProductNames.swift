/// The product names a knowledge base's problems are about, guessed from its own text: a
/// complaint about YouTube should not get the Vimeo fix first, however alike the words.
///
/// A product name is a word written with a capital inside at least two problems' titles (not
/// as a title's or sentence's first word) that keeps its capital in at least 70% of its other
/// uses in titles and bodies (not first in a sentence either), and is not a function word:
/// "Gmail", "Dropbox", "Northwind"; not "My" from "My Northwind".
///
/// ```swift
/// let names = ProductNames.guess(titles: ["Archive in Gmail", "Filters in Gmail"], texts: ["Gmail keeps mail."])
/// // ["gmail"]
/// ```
public enum ProductNames {
  /// Share of a candidate's uses (not first in a sentence) that must be capitalized.
  static let capitalizedShare = 0.7

  /// `titles`: one per problem; `texts`: every answer's title and body. (``ProductCounts``
  /// keeps the counts behind it by deltas.)
  public static func guess(titles: [String], texts: [String]) -> Set<String> {
    ProductCounts(titles: titles, texts: texts, candidatesOnly: true).names
  }

  /// The products among `products` that a problem's title names (in any case).
  public static func named(inTitle title: String, among products: Set<String>) -> Set<String> {
    guard !products.isEmpty else { return [] }
    return Set(ExampleModel.words(title).map { String(decoding: $0, as: UTF8.self) }.filter(products.contains))
  }

  /// Each problem's ``named(inTitle:among:)``, brought up to date after a delta: recomputed for
  /// the problems in `changed` (new, or whose title changed) and, when the names themselves
  /// changed (rare: a word crossed a threshold), for every problem whose title has a name that
  /// came or went. `titles` gives a problem's title; `sets` grows to `count` problems.
  public static func update(
    _ sets: inout [Set<String>], count: Int, titles: (Int) -> String, changed: some Sequence<Int>,
    names old: Set<String>, now products: Set<String>
  ) {
    if sets.count > count { sets.removeLast(sets.count - count) }
    var todo = Set(changed.filter { $0 < count })
    for p in sets.count..<max(sets.count, count) { todo.insert(p) }
    if sets.count < count { sets += Array(repeating: [], count: count - sets.count) }
    let moved = old.symmetricDifference(products)
    if !moved.isEmpty {
      for p in 0..<count where !todo.contains(p) {
        if ExampleModel.words(titles(p)).contains(where: { moved.contains(String(decoding: $0, as: UTF8.self)) }) {
          todo.insert(p)
        }
      }
    }
    for p in todo { sets[p] = named(inTitle: titles(p), among: products) }
  }

  /// Calls `body` with each word use of `text` that is not first in a sentence (per line, as
  /// ``forEachWord(in:_:)`` finds them), lower-cased, and whether it is written with a capital.
  static func forEachUse(in text: String, _ body: (String, Bool) -> Void) {
    var text = text
    // ASCII without a carriage return (the one ASCII pair that makes one Character): each
    // byte is a Character, and a byte walk finds the same uses ten times faster.
    let ascii = text.withUTF8 { bytes -> Bool in
      guard bytes.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) else { return false }
      forEachASCIIUse(in: bytes, body)
      return true
    }
    guard !ascii else { return }
    forEachUseByCharacter(in: text, body)
  }

  /// ``forEachUse(in:_:)`` over Characters: the rule itself.
  static func forEachUseByCharacter(in text: String, _ body: (String, Bool) -> Void) {
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      forEachWord(in: line) { word, sentenceStart in
        guard !sentenceStart else { return }
        body(String(word).lowercased(), word.first!.isUppercase)
      }
    }
  }

  /// ``forEachUseByCharacter(in:_:)`` for ASCII text without a carriage return.
  static func forEachASCIIUse(in bytes: UnsafeBufferPointer<UInt8>, _ body: (String, Bool) -> Void) {
    @inline(__always) func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    @inline(__always) func isWord(_ c: UInt8) -> Bool { isLetter(c) || (c >= 0x30 && c <= 0x39) || c == 0x5F }
    var lastNonSpace: UInt8?  // nil at a line's start
    var i = 0
    while i < bytes.count {
      let c = bytes[i]
      if c == 0x0A {
        lastNonSpace = nil
        i += 1
        continue
      }
      guard isWord(c) else {
        if c != 0x20 && c != 0x09 { lastNonSpace = c }
        i += 1
        continue
      }
      var j = i
      var letters = true
      while j < bytes.count, isWord(bytes[j]) {
        if !isLetter(bytes[j]) { letters = false }
        j += 1
      }
      if letters, let previous = lastNonSpace, previous != 0x2E, previous != 0x3F, previous != 0x21, previous != 0x3A {
        let word = String(unsafeUninitializedCapacity: j - i) { out in
          for k in i..<j { out[k - i] = bytes[k] | 0x20 }
          return j - i
        }
        body(word, bytes[i] < 0x61)
      }
      lastNonSpace = bytes[j - 1]
      i = j
    }
  }

  /// Words of ASCII letters that start with a capital, inside a title: not its first word, nor
  /// the first after ". ", "? " or "! "; cut at the first character that is not a letter
  /// ("GitHub's" → "github").
  static func capitalizedWords(inTitle title: String) -> [String] {
    let chars = Array(title)
    var out: [String] = []
    var i = 1  // never the title's first character
    while i < chars.count {
      let c = chars[i]
      let startsWord = !isWordCharacter(chars[i - 1])
      let afterSentence = i >= 2 && chars[i - 1] == " " && ".?!".contains(chars[i - 2])
      if startsWord, !afterSentence, c.isASCII, c.isUppercase {
        var j = i + 1
        while j < chars.count, chars[j].isASCII, chars[j].isLetter { j += 1 }
        if j - i >= 2 { out.append(String(chars[i..<j]).lowercased()) }
        i = j
      } else {
        i += 1
      }
    }
    return out
  }

  /// Calls `body` with each whole word of ASCII letters in a line (runs of letters, digits and
  /// underscores that hold anything else are skipped) and whether it opens a sentence: first
  /// in the line, or after ".", "?", "!" or ":" and spaces.
  static func forEachWord(in line: Substring, _ body: (Substring, Bool) -> Void) {
    var i = line.startIndex
    var lastNonSpace: Character?
    while i < line.endIndex {
      let c = line[i]
      guard isWordCharacter(c) else {
        if c != " " && c != "\t" { lastNonSpace = c }
        i = line.index(after: i)
        continue
      }
      var j = i
      var letters = true
      while j < line.endIndex, isWordCharacter(line[j]) {
        if !(line[j].isASCII && line[j].isLetter) { letters = false }
        j = line.index(after: j)
      }
      if letters {
        let sentenceStart = lastNonSpace == nil || ".?!:".contains(lastNonSpace!)
        body(line[i..<j], sentenceStart)
      }
      lastNonSpace = line[line.index(before: j)]
      i = j
    }
  }

  @inline(__always)
  static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
}
