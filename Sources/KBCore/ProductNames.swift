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

  /// `titles`: one per problem; `texts`: every answer's title and body.
  public static func guess(titles: [String], texts: [String]) -> Set<String> {
    var problems: [String: Int] = [:]
    for title in Set(titles) {
      var seen: Set<String> = []
      for word in capitalizedWords(inTitle: title) where seen.insert(word).inserted { problems[word, default: 0] += 1 }
    }
    // A function word is never a name, however it is written ("My Northwind": the sample KB's
    // bodies write "my" with a capital almost only there).
    let candidates = Set(problems.filter { $0.value >= 2 && !MentionText.functionWords.contains($0.key) }.keys)
    guard !candidates.isEmpty else { return [] }
    var uses: [String: (capital: Int, all: Int)] = [:]
    for text in texts {
      for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        forEachWord(in: line) { word, sentenceStart in
          guard !sentenceStart else { return }
          let lower = String(word).lowercased()
          guard candidates.contains(lower) else { return }
          var u = uses[lower] ?? (0, 0)
          u.all += 1
          if word.first!.isUppercase { u.capital += 1 }
          uses[lower] = u
        }
      }
    }
    return candidates.filter { word in
      guard let u = uses[word], u.all > 0 else { return false }
      return Double(u.capital) >= capitalizedShare * Double(u.all)
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
