import Foundation

/// A mention's text made ready for ranking: handles and links removed, hashtags split into
/// words, emoji taken out (and read for sentiment), elongated words shortened, chat spellings
/// and missing apostrophes repaired.
///
/// ```swift
/// let m = MentionText(normalizing: "@NorthwindHelp ur app keeps crashing sooooo annoying 😡 #iPhoneProblems")
/// m.text      // "your app keeps crashing so annoying iphone problems"
/// m.hashtags  // ["iPhoneProblems"]
/// ```
public struct MentionText: Equatable, Sendable {
  /// The text as written.
  public var original: String
  /// The normalized text, lower case, one space between words.
  public var text: String
  /// The words of `text`.
  public var words: [String]
  /// Hashtags as written, without `#`.
  public var hashtags: [String]
  /// Each hashtag's words.
  public var hashtagWords: [[String]]
  /// Handles as written, with `@`.
  public var handles: [String]
  public var urls: [String]
  public var emoji: [String]
  /// Emoji sentiment: negative below zero, positive above.
  public var emojiSentiment: Int
  /// Whether the mention asks something (a question mark or a question opening).
  public var asksQuestion: Bool

  public init(normalizing raw: String, vocabulary: any WordSet = Set<String>()) {
    original = raw
    var hashtags: [String] = []
    var hashtagWords: [[String]] = []
    var handles: [String] = []
    var urls: [String] = []
    var emoji: [String] = []
    var sentiment = 0
    var pieces: [String] = []
    let known = KnownWords(vocabulary)
    let decoded = Mention.decodeEntities(raw)
    for token in decoded.split(whereSeparator: { $0.isWhitespace }) {
      var t = String(token)
      // Emoji: taken out wherever they are, counted for sentiment.
      var kept = ""
      for ch in t {
        if Self.isEmoji(ch) {
          emoji.append(String(ch))
          sentiment += Self.emojiSentiment(ch)
          kept.append(" ")
        } else {
          kept.append(ch)
        }
      }
      t = kept
      for part in t.split(separator: " ") {
        let p = String(part)
        let lower = p.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("www.") {
          urls.append(p)
        } else if p.hasPrefix("@"), p.count > 1 {
          handles.append(p.trimmingTrailingPunctuation)
        } else if p.hasPrefix("#"), p.count > 1 {
          let tag = String(p.dropFirst()).trimmingTrailingPunctuation
          guard !tag.isEmpty else { continue }
          let split = Self.splitHashtag(tag, known: known)
          hashtags.append(tag)
          hashtagWords.append(split)
          pieces.append(split.joined(separator: " "))
        } else {
          pieces.append(p)
        }
      }
    }
    let joined = pieces.joined(separator: " ")
    asksQuestion = Self.asksQuestion(joined)
    var words: [String] = []
    for word in Self.tokens(joined) {
      words.append(contentsOf: Self.repair(word, known: known))
    }
    self.words = words
    text = words.joined(separator: " ")
    self.hashtags = hashtags
    self.hashtagWords = hashtagWords
    self.handles = handles
    self.urls = urls
    self.emoji = emoji
    emojiSentiment = sentiment
  }

  /// Words that carry meaning, for showing why an answer matched (the ranker itself keeps
  /// every word: function words like "not" and "how" carry intent).
  public var terms: [String] {
    var seen: Set<String> = []
    return words.filter { !Self.functionWords.contains($0) && $0.count > 1 && seen.insert($0).inserted }
  }

  /// Synonyms and abbreviations of the mention's words that are not in it already: customers
  /// say "remove my fb account" where the answer says "delete your Facebook account".
  public var expansions: [String] {
    let present = Set(words)
    var out: [String] = []
    var added: Set<String> = []
    for w in words {
      guard let group = Self.synonymOf[w] else { continue }
      for s in Self.synonymGroups[group] where !present.contains(s) && added.insert(s).inserted { out.append(s) }
    }
    return out
  }

  static let synonymGroups: [[String]] = [
    ["delete", "remove", "erase"], ["deleted", "removed", "erased"], ["deleting", "removing", "erasing"],
    ["cancel", "terminate"], ["cancelled", "canceled", "terminated"], ["deactivate", "disable"],
    ["email", "mail", "e-mail"], ["emails", "mails"], ["photo", "picture", "image", "pic"],
    ["photos", "pictures", "images", "pics"], ["fb", "facebook"], ["yt", "youtube"], ["ig", "insta", "instagram"],
    ["gdrive", "drive"], ["phone", "mobile", "cellphone", "smartphone"], ["text", "sms"], ["texts", "sms"],
    ["buy", "purchase"], ["bought", "purchased"], ["login", "signin", "log-in"], ["password", "passcode"],
    ["fix", "solve", "resolve", "repair"], ["site", "website"], ["url", "link"], ["urls", "links"],
    ["app", "application"], ["wifi", "wi-fi", "wireless"], ["refund", "reimbursement"], ["fee", "charge"],
    ["fees", "charges"], ["money", "funds"], ["topup", "top-up"], ["atm", "cashpoint"], ["crash", "crashes", "freezes"],
    ["hide", "hidden"], ["private", "privacy"], ["backup", "back-up", "export"], ["unfriend", "unfriended", "unfriends"],
    ["pdf", "document"], ["spreadsheet", "sheet", "spreadsheets", "sheets"], ["cellphone", "phone"],
  ]
  static let synonymOf: [String: Int] = {
    var map: [String: Int] = [:]
    for (i, group) in synonymGroups.enumerated() { for w in group where map[w] == nil { map[w] = i } }
    return map
  }()

  // MARK: Steps

  /// Lower-case words: letters, digits and inner apostrophes.
  static func tokens(_ text: String) -> [String] {
    var out: [String] = []
    var current = ""
    for ch in text.lowercased() {
      if ch.isLetter || ch.isNumber {
        current.append(ch)
      } else if (ch == "'" || ch == "’"), !current.isEmpty {
        current.append("'")
      } else if !current.isEmpty {
        out.append(trimApostrophes(current))
        current = ""
      }
    }
    if !current.isEmpty { out.append(trimApostrophes(current)) }
    return out.filter { !$0.isEmpty }
  }

  static func trimApostrophes(_ s: String) -> String {
    guard s.first == "'" || s.last == "'" else { return s }
    return String(s.drop(while: { $0 == "'" }).reversed().drop(while: { $0 == "'" }).reversed())
  }

  /// One word repaired: elongation shortened, chat spelling expanded, apostrophe restored.
  static func repair(_ word: String, known: KnownWords) -> [String] {
    var w = word
    if let fix = slang[w] { return fix.split(separator: " ").map(String.init) }
    if hasRun(w, of: 3) {
      // "sooooo" → "soo" → "so"; keep a double letter when it makes a known word ("goood" → "good").
      let two = collapse(w, keep: 2)
      let one = collapse(w, keep: 1)
      w = known.contains(two) ? two : (known.contains(one) ? one : (slang[one] != nil || slang[two] != nil ? one : two))
      if let fix = slang[w] { return fix.split(separator: " ").map(String.init) }
    }
    return [w]
  }

  static func hasRun(_ w: String, of n: Int) -> Bool {
    var last: Character?
    var run = 0
    for ch in w {
      run = ch == last ? run + 1 : 1
      last = ch
      if run >= n, ch.isLetter { return true }
    }
    return false
  }

  static func collapse(_ w: String, keep: Int) -> String {
    var out = ""
    var last: Character?
    var run = 0
    for ch in w {
      run = ch == last ? run + 1 : 1
      last = ch
      if run <= keep || !ch.isLetter { out.append(ch) }
    }
    return out
  }

  /// Splits a hashtag: at case changes and digits (`iPhoneProblems` → iphone problems), then a
  /// lower-case run into known words when it divides cleanly (`textsnotsending` → texts not sending).
  public static func splitHashtag(_ tag: String, vocabulary: Set<String> = []) -> [String] {
    splitHashtag(tag, known: KnownWords(vocabulary))
  }

  static func splitHashtag(_ tag: String, known: KnownWords) -> [String] {
    var parts: [String] = []
    var current = ""
    let chars = Array(tag)
    for (i, ch) in chars.enumerated() {
      if ch == "_" || ch == "-" {
        if !current.isEmpty { parts.append(current) }
        current = ""
        continue
      }
      if !current.isEmpty, let prev = current.last {
        let next = i + 1 < chars.count ? chars[i + 1] : nil
        let boundary =
          (prev.isLowercase && ch.isUppercase)
          || (prev.isLetter && ch.isNumber) || (prev.isNumber && ch.isLetter)
          || (prev.isUppercase && ch.isUppercase && (next?.isLowercase ?? false))
        if boundary {
          parts.append(current)
          current = ""
        }
      }
      current.append(ch)
    }
    if !current.isEmpty { parts.append(current) }
    // "iPhone" splits into "i" + "Phone": glue a lone lower-case letter to what follows.
    var glued: [String] = []
    var i = 0
    while i < parts.count {
      if parts[i].count == 1, parts[i].first?.isLowercase == true, i + 1 < parts.count {
        glued.append(parts[i] + parts[i + 1])
        i += 2
      } else {
        glued.append(parts[i])
        i += 1
      }
    }
    var out: [String] = []
    for part in glued {
      let lower = part.lowercased()
      if lower.count > 5, !known.contains(lower), let words = segment(lower, known: known) {
        out.append(contentsOf: words)
      } else {
        out.append(lower)
      }
    }
    return out
  }

  /// The split of a lower-case run into the fewest known words, or nil when it does not split.
  static func segment(_ s: String, known: KnownWords) -> [String]? {
    let chars = Array(s)
    let n = chars.count
    guard n <= 40 else { return nil }
    var best: [[String]?] = Array(repeating: nil, count: n + 1)
    best[0] = []
    for end in 1...n {
      for start in max(0, end - 20)..<end {
        guard let prefix = best[start] else { continue }
        let word = String(chars[start..<end])
        guard known.contains(word), word.count > 1 || word == "a" || word == "i" else { continue }
        let candidate = prefix + [word]
        if best[end] == nil || candidate.count < best[end]!.count { best[end] = candidate }
      }
    }
    guard let words = best[n], words.count > 1 else { return nil }
    return words
  }

  static func asksQuestion(_ text: String) -> Bool {
    if text.contains("?") { return true }
    let lower = " " + tokens(text).joined(separator: " ") + " "
    let openings = [
      " how do ", " how can ", " how to ", " how come ", " what do ", " what should ", " why is ", " why does ",
      " why do ", " why won't ", " why cant ", " why can't ", " can you ", " could you ", " can someone ",
      " can anyone ", " is there ", " any idea", " anyone know", " help me ", " please help", " pls help",
      " what's the fix", " where is ", " where do ", " when will ", " is it possible",
    ]
    let first = tokens(text).first ?? ""
    let questionStarts: Set<String> = ["how", "what", "why", "when", "where", "which", "who", "can", "could", "is", "are", "does", "do", "should", "will", "would", "help"]
    return questionStarts.contains(first) || openings.contains { lower.containsBytes($0) }
  }

  // MARK: Emoji

  static func isEmoji(_ ch: Character) -> Bool {
    guard let first = ch.unicodeScalars.first else { return false }
    if first.properties.isEmojiPresentation { return true }
    if first.properties.isEmoji, first.value > 0x238C { return true }
    return ch.unicodeScalars.contains { $0.value == 0xFE0F } && first.properties.isEmoji && !first.isASCII
  }

  static func emojiSentiment(_ ch: Character) -> Int {
    let s = String(ch.unicodeScalars.filter { $0.value != 0xFE0F })
    if negativeEmoji.contains(s) { return -1 }
    if positiveEmoji.contains(s) { return 1 }
    return 0
  }

  static let negativeEmoji: Set<String> = [
    "😡", "🤬", "😠", "😤", "👎", "💔", "😭", "😢", "😞", "😩", "😫", "🙄", "😒", "😖", "😣", "🤦", "🤦‍♀", "🤦‍♂", "😑", "😾", "💩", "🖕",
  ]
  static let positiveEmoji: Set<String> = ["😀", "😃", "😄", "😊", "🙂", "😍", "👍", "❤", "🙏", "🎉", "💯", "🥰", "😁", "✅"]

  // MARK: Word lists

  /// Chat spellings and apostrophe-less contractions.
  static let slang: [String: String] = [
    "u": "you", "ur": "your", "ure": "you're", "r": "are", "pls": "please", "plz": "please",
    "plez": "please", "pleas": "please", "txt": "text", "txts": "texts", "txting": "texting", "msg": "message",
    "msgs": "messages", "thx": "thanks", "thnx": "thanks", "ty": "thank you", "b4": "before", "bc": "because",
    "cuz": "because", "coz": "because", "2day": "today", "2morrow": "tomorrow", "tmrw": "tomorrow",
    "ppl": "people", "acct": "account", "pw": "password", "pwd": "password", "idk": "i don't know",
    "dunno": "don't know", "wanna": "want to", "gonna": "going to", "gotta": "got to", "cant": "can't",
    "wont": "won't", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't",
    "arent": "aren't", "wasnt": "wasn't", "werent": "weren't", "havent": "haven't", "hasnt": "hasn't",
    "couldnt": "couldn't", "shouldnt": "shouldn't", "wouldnt": "wouldn't", "im": "i'm", "ive": "i've",
    "youre": "you're", "theyre": "they're", "thats": "that's", "whats": "what's", "aint": "ain't",
    "w/": "with", "w/o": "without", "abt": "about", "smth": "something", "sth": "something",
    "nvm": "never mind", "asap": "as soon as possible", "rn": "right now", "atm": "at the moment",
    "tho": "though", "thru": "through", "wat": "what", "wut": "what", "becuase": "because",
    "recieve": "receive", "recieved": "received", "recieving": "receiving", "cancelation": "cancellation",
    "definately": "definitely", "seperate": "separate", "accross": "across", "untill": "until",
    "adress": "address", "occured": "occurred", "payed": "paid", "wierd": "weird", "notifcation": "notification",
    "notifcations": "notifications", "pasword": "password", "passwrd": "password", "acount": "account",
    "accout": "account", "iphone's": "iphone", "fone": "phone", "luv": "love", "sry": "sorry", "srsly": "seriously",
    "pic": "picture", "pics": "pictures", "app's": "app", "info": "information", "addy": "address",
  ]

  /// Words used to split hashtags and to judge elongations, before the knowledge base's own.
  public static let commonWords: Set<String> = Set("""
    a about account after again all always am an and answer any app apple are as at back bad bank battery be
    been before best big bill billing blocked broken but by call calls can card cancel cant charge charged
    charging chat check code come connect connection could customer data day delete delivery did do does
    doesnt done dont down email error every ever fail failed fails fix fixed for free from get gets getting go
    going good great hacked happy has have help her here his home how i if in internet iphone is issue it
    its just keep keeps late locked log login long lost love mail me message messages money more my need
    net network never new no not nothing now of off on one online order out over password pay payment phone
    please problem problems refund repeat repeating reset same say send sending service signal sim slow
    so some still stop stopped stuck support sync text texts than thanks that the their them then there
    they this time to today too tv up update us very video wait want was way we week what when where why wifi
    will with wont work working works worst would wrong year yes you your monday friday fail fails sucks
    down outage travel flight bag bags hotel room ticket tickets night life weekend fun game games music
    win winning sunday morning coffee love mood vibes goals day motivation throwback trending
    """.split(whereSeparator: { $0.isWhitespace }).map(String.init))

  /// Function words left out of `terms` (display only).
  static let functionWords: Set<String> = Set("""
    a an the and or but if so to of in on at by for with from as is are was were be been being am it its
    it's this that these those i i'm i've me my we our us you your you're he she they them their his her
    do does did doing have has had will would can could should shall may might must just very really
    too also then than there here what when where which who whom how why all any some no not nor only own
    same such up down out over again further once about into through during before after above below
    off under get got getting keep keeps thing things please help hi hello hey thanks thank
    """.split(whereSeparator: { $0.isWhitespace }).map(String.init))
}

/// The built-in common words plus a knowledge base's vocabulary, without copying either.
struct KnownWords {
  let vocabulary: any WordSet
  init(_ vocabulary: any WordSet) { self.vocabulary = vocabulary }
  func contains(_ w: String) -> Bool { MentionText.commonWords.contains(w) || vocabulary.contains(w) }
}

/// A set of words to ask about: a `Set<String>`, or the knowledge base's vocabulary as the
/// suggestion model file stores it (``StringTable``, searched in place).
public protocol WordSet: Sendable {
  func contains(_ word: String) -> Bool
}

extension Set<String>: WordSet {}

extension String {
  var trimmingTrailingPunctuation: String {
    var s = self
    while let last = s.last, last.isPunctuation || last.isSymbol { s.removeLast() }
    return s
  }
}
