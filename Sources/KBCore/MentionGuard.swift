import Foundation

/// A reason to take care with a mention rather than pitch a fix: a competitor's customer,
/// venting, a trend that is not ours, abuse, threats, self-harm, or personal data in public.
///
/// ```swift
/// let text = MentionText(normalizing: "Acme Mobile dropped my calls again, worst network ever")
/// let guards = MentionGuard.check(text, settings: settings, onTopic: false)
/// guards.map(\.kind)  // [.competitor, .venting]
/// ```
public struct MentionGuard: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case competitor
    case venting
    case unrelatedTrend = "unrelated-trend"
    case abusive
    case threat
    case selfHarm = "self-harm"
    case personalData = "personal-data"

    /// Whether the mention should get no public reply draft at all (``ReplyDraft/write``).
    public var blocksReply: Bool { self == .threat || self == .unrelatedTrend }
  }

  public var kind: Kind
  /// What to do, for the agent.
  public var advice: String
  /// What in the mention raised it (a name, a hashtag, a word; personal data is masked).
  public var evidence: [String]

  public init(kind: Kind, advice: String, evidence: [String]) {
    self.kind = kind
    self.advice = advice
    self.evidence = evidence
  }

  /// The guards that apply. `onTopic` says whether the ranking found a known fix, or the text
  /// names one of the team's products or handles.
  public static func check(_ m: MentionText, settings: Settings, onTopic: Bool) -> [MentionGuard] {
    var out: [MentionGuard] = []
    let padded = m.words
    func mentions(_ name: String) -> Bool {
      let words = MentionText.tokens(name)
      guard !words.isEmpty else { return false }
      if containsSequence(m.words, words) { return true }
      let squashed = words.joined()
      return m.handles.contains { $0.lowercased().dropFirst().hasPrefix(squashed) }
        || m.hashtags.contains { $0.lowercased().containsBytes(squashed) }
    }

    // Self-harm, threats and abuse come first: they change everything else.
    // "killing myself laughing" is a figure of speech.
    let selfHarm = phrases(in: padded, selfHarmPhrases).filter { phrase in
      !(phrase.hasPrefix("killing myself") && containsSequence(padded, ["killing", "myself", "laughing"]))
    }
    if !selfHarm.isEmpty {
      out.append(MentionGuard(
        kind: .selfHarm,
        advice: "Possible self-harm: reply with care, no product talk; share crisis resources and escalate to a lead now.",
        evidence: selfHarm))
    }
    let threats = phrases(in: padded, threatPhrases).filter { phrase in
      // Idioms: "shoot me a DM", "shoot us an email" are requests, not threats.
      !(phrase.hasPrefix("shoot") && idiomaticShoot(padded))
    }
    if !threats.isEmpty {
      out.append(MentionGuard(
        kind: .threat, advice: "A threat: do not reply in public; escalate to a lead (and security if it is about people).",
        evidence: threats))
    }
    // Abuse is name-calling aimed at people; swearing at a broken phone is frustration (venting).
    let abuse = abusiveEvidence(padded)
    if !abuse.isEmpty {
      out.append(MentionGuard(
        kind: .abusive,
        advice: "Abusive language: stay calm and do not mirror it; acknowledge once and offer a private channel.",
        evidence: abuse))
    }
    let personal = personalData(in: m.original)
    if !personal.isEmpty {
      out.append(MentionGuard(
        kind: .personalData,
        advice: "Personal data posted in public: never repeat it; ask them to delete the post and continue in a private channel.",
        evidence: personal))
    }

    // A competitor's unhappy customer.
    // The team's brand: its name without words such as "Support" ("Northwind Support" → northwind).
    let brand = MentionText.tokens(settings.team).filter {
      !["support", "help", "team", "care", "customer", "customers", "service", "services", "desk", "the"].contains($0)
    }.joined(separator: " ")
    let ours = settings.products.contains(where: mentions) || settings.handles.contains(where: mentions)
      || (!brand.isEmpty && mentions(brand))
      || (!settings.team.isEmpty && settings.team != "Support" && mentions(settings.team))
    let rivals = settings.competitors.filter(mentions)
    if !rivals.isEmpty, !ours {
      out.append(MentionGuard(
        kind: .competitor,
        advice: "About a competitor (\(rivals.joined(separator: ", "))): empathize; do not pitch, compare or poach.",
        evidence: rivals))
    }

    // Venting: frustration, anger or insults, even in question form ("is this the worst
    // service?"). Gratitude and praise are not venting, however many exclamation marks.
    let venting = ventingEvidence(m)
    if !venting.isEmpty {
      out.append(MentionGuard(
        kind: .venting,
        advice: m.asksForHelp
          ? "Frustrated, and asks for help: acknowledge the frustration first, then give the fix."
          : "Venting, no question asked: listen and acknowledge first; offer help, do not push a fix.",
        evidence: venting))
    }

    // A trending hashtag that has nothing to do with us.
    if !m.hashtags.isEmpty, !ours, !onTopic {
      out.append(MentionGuard(
        kind: .unrelatedTrend,
        advice: "Hashtags unrelated to our products (\(m.hashtags.map { "#" + $0 }.joined(separator: " "))): do not join the trend to promote anything.",
        evidence: m.hashtags.map { "#" + $0 }))
    }
    return out
  }

  /// What makes a mention venting: venting words and phrases, profanity, insults, negative
  /// emoji, or shouting (mostly capitals) or "!!" together with one of those. Nothing when the
  /// post is thanks or praise with no negative word.
  static func ventingEvidence(_ m: MentionText) -> [String] {
    let words = m.words
    var evidence = phrases(in: words, ventingPhrases).filter { !negated($0, in: words) && !benign($0, in: words) }
    evidence += words.filter { isVentingWord($0) && !evidence.contains($0) }
    evidence += abusiveEvidence(words).filter { !evidence.contains($0) }
    let negativeEmoji = m.emoji.filter { MentionText.emojiSentiment(Character($0)) < 0 }
    evidence += negativeEmoji
    let letters = m.original.filter(\.isLetter)
    let shouting = letters.count >= 12 && letters.filter(\.isUppercase).count * 4 >= letters.count * 3
    if shouting, evidence.isEmpty, !isGrateful(words), m.emojiSentiment <= 0 { evidence.append("shouting") }
    return evidence
  }

  /// "hate to bother you", "stupid question", "no joke": the word is not a complaint here.
  static func benign(_ phrase: String, in words: [String]) -> Bool {
    let uses = words.indices.filter { words[$0] == phrase }
    guard !uses.isEmpty else { return false }
    return uses.allSatisfy { i in
      let next = i + 1 < words.count ? words[i + 1] : ""
      let prev = i > 0 ? words[i - 1] : ""
      switch phrase {
      case "hate": return next == "to" || prev == "would"
      case "stupid": return next == "question"
      case "joke": return prev == "no" || prev == "a" && i > 1 && words[i - 2] == "not"
      case "worst": return next == "case"
      default: return false
      }
    }
  }

  /// Thanks or praise.
  public static func isGrateful(_ words: [String]) -> Bool {
    !phrases(in: words, gratitudePhrases).isEmpty
  }

  /// "not bad", "no complaints", "never been so happy": the venting word is negated.
  static func negated(_ phrase: String, in words: [String]) -> Bool {
    guard let first = phrase.split(separator: " ").first.map(String.init) else { return false }
    for (i, w) in words.enumerated() where w == first && i > 0 {
      if ["not", "no", "never", "isn't", "wasn't", "nothing"].contains(words[i - 1]) { return true }
    }
    return false
  }

  /// Profanity: a sign of frustration, not abuse by itself.
  static func isVentingWord(_ word: String) -> Bool {
    swearing.contains(word) || word.hasPrefix("fuck") || word.hasPrefix("shit")
  }

  /// Insults aimed at people ("you idiots", "fuck you", "morons").
  static func abusiveEvidence(_ words: [String]) -> [String] {
    var out = Set(words.filter { insults.contains($0) })
    out.formUnion(phrases(in: words, insultPhrases))
    return out.sorted()
  }

  /// "shoot me a DM", "shoot us an email", "shoot me a message": a request.
  static func idiomaticShoot(_ words: [String]) -> Bool {
    for (i, w) in words.enumerated() where w == "shoot" || w == "shooting" {
      let next = words.dropFirst(i + 1).prefix(4)
      if let object = next.first, ["me", "us", "them", "him", "her", "a", "an", "over"].contains(object),
        next.contains(where: { ["dm", "dms", "message", "msg", "email", "mail", "e-mail", "text", "line", "note", "pm", "reply", "link", "number", "details", "message"].contains($0) })
      {
        continue
      }
      if next.first == "me" || next.first == "us" {
        // "shoot me a …" with anything else is still an idiom unless it is a person.
        if next.dropFirst().first == "a" || next.dropFirst().first == "an" { continue }
      }
      return false
    }
    return true
  }

  static func phrases(in words: [String], _ list: [String]) -> [String] {
    let set = Set(words)
    return list.filter { phrase in
      let parts = phrase.split(separator: " ").map(String.init)
      return parts.count == 1 ? set.contains(parts[0]) : containsSequence(words, parts)
    }
  }

  /// Whether `words` has `phrase` as consecutive words.
  static func containsSequence(_ words: [String], _ phrase: [String]) -> Bool {
    guard !phrase.isEmpty, words.count >= phrase.count else { return false }
    for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
      var k = 1
      while k < phrase.count, words[start + k] == phrase[k] { k += 1 }
      if k == phrase.count { return true }
    }
    return false
  }

  /// Numbers named by what they look like: a number after "order", "ticket", "case",
  /// "reference", "tracking", "invoice", "booking" or "confirmation" is that kind of number (not
  /// personal data); after "account" it is an account number; a Luhn-valid 13–19-digit number
  /// (or one after "card") is a card number; 10–15 digits (or 7 or more after "call", "phone",
  /// "mobile", "number", "text me", or starting with +) a phone number. Only phone, e-mail,
  /// card and account numbers (and SSN-shaped numbers, passwords and PINs) are personal data.
  public static func numbers(in text: String) -> [(kind: String, personal: Bool, evidence: String)] {
    var out: [(String, Bool, String)] = []
    var run = ""
    var digits = ""
    var before = ""  // the text before the current run
    func flush() {
      defer { run = ""; digits = "" }
      guard digits.count >= 4 else { return }
      let context = MentionText.tokens(String(before.suffix(40))).suffix(3)
      let last = context.last ?? ""
      let near = Set(context)
      let label: (String, Bool)?
      if !near.isDisjoint(with: ["order", "ticket", "case", "ref", "reference", "tracking", "invoice", "booking", "confirmation", "incident", "complaint", "claim", "parcel", "shipment", "pnr", "flight", "model", "serial", "imei"]) {
        let kind = ["ref": "reference", "pnr": "booking", "incident": "ticket", "complaint": "ticket", "parcel": "tracking", "shipment": "tracking", "imei": "serial", "model": "model"]
        let word = context.last(where: { ["order", "ticket", "case", "ref", "reference", "tracking", "invoice", "booking", "confirmation", "incident", "complaint", "claim", "parcel", "shipment", "pnr", "flight", "model", "serial", "imei"].contains($0) }) ?? last
        label = ("\(kind[word] ?? word) number", false)
      } else if near.contains("account") || near.contains("acct") || near.contains("iban") || near.contains("sort") {
        label = ("account number ending \(digits.suffix(2))", true)
      } else if (13...19).contains(digits.count) && luhn(digits) || (near.contains("card") && (12...19).contains(digits.count)) {
        label = ("card number ending \(digits.suffix(4))", true)
      } else if run.range(of: #"^\d{3}-\d{2}-\d{4}$"#, options: .regularExpression) != nil {
        label = ("social security number", true)
      } else if (10...15).contains(digits.count)
        || (digits.count >= 7 && (run.hasPrefix("+") || run.hasPrefix("(") || !near.isDisjoint(with: ["call", "phone", "mobile", "cell", "number", "landline", "tel", "whatsapp", "me", "on"])))
      {
        label = ("phone number ending \(digits.suffix(2))", true)
      } else {
        label = nil
      }
      if let label { out.append((label.0, label.1, label.0)) }
    }
    var consumed = ""
    for ch in text {
      if ch.isASCII, ch.isNumber {
        if digits.isEmpty && run.isEmpty { before = consumed }
        run.append(ch)
        digits.append(ch)
      } else if (ch == " " || ch == "-" || ch == "." || ch == "(" || ch == ")" || ch == "+"), !digits.isEmpty || ch == "+" || ch == "(" {
        if digits.isEmpty && run.isEmpty { before = consumed }
        run.append(ch)
      } else if !run.isEmpty {
        run = run.trimmingCharacters(in: CharacterSet(charactersIn: " -.()"))
        flush()
      }
      consumed.append(ch)
    }
    run = run.trimmingCharacters(in: CharacterSet(charactersIn: " -.()"))
    flush()
    return out
  }

  /// Personal data in a post, masked: card, account and phone numbers, SSN-shaped numbers
  /// (``numbers(in:)``), e-mail addresses, passwords and PINs.
  public static func personalData(in text: String) -> [String] {
    var out = numbers(in: text).filter(\.personal).map(\.evidence)
    if text.utf8.contains(UInt8(ascii: "@")),
      text.range(of: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, options: .regularExpression) != nil
    {
      out.append("e-mail address")
    }
    let lower = text.lowercased()
    if lower.containsBytes("my password is") || lower.containsBytes("password:") || lower.containsBytes("pin is")
      || lower.containsBytes("password is ") || lower.containsBytes("pin:") || lower.containsBytes("passcode is")
    {
      out.append("password or PIN")
    }
    return out
  }

  static func luhn(_ digits: String) -> Bool {
    var sum = 0
    for (i, ch) in digits.reversed().enumerated() {
      guard var d = ch.wholeNumberValue else { return false }
      if i % 2 == 1 {
        d *= 2
        if d > 9 { d -= 9 }
      }
      sum += d
    }
    return sum % 10 == 0
  }

  static let selfHarmPhrases = [
    "kms", "end it all", "take my own life", "not worth living", "unalive myself",
    "kill myself", "killing myself", "end my life", "ending my life", "want to die", "wanna die",
    "suicide", "suicidal", "hurt myself", "hurting myself", "self harm", "don't want to live",
    "dont want to live", "no reason to live", "better off dead",
  ]
  static let threatPhrases = [
    "kill you", "kill u", "kill all of you", "i will find you", "i'll find you", "find where you live",
    "i know where you", "burn down", "burn your", "burn the place", "blow up your", "blow you up", "blow the place",
    "bomb your", "bomb threat", "plant a bomb", "shoot you", "shoot u", "shoot up", "shoot your", "shoot everyone",
    "hurt you", "beat you", "beat the crap out", "punch you", "smash your face", "stab you", "stab your",
    "you'll regret", "you will regret", "coming for you", "watch your back", "know where your", "where you live",
    "a bomb in", "bomb in your", "bomb at your",
  ]
  static let ventingPhrases = [
    "worst", "hate", "hated", "terrible", "awful", "useless", "ridiculous", "pathetic", "joke", "fed up",
    "sick of", "tired of", "ugh", "unbelievable", "disgusting", "never again", "annoying", "annoyed", "furious",
    "angry", "fuming", "rubbish", "garbage", "trash", "scam", "scammers", "disappointed", "disappointing",
    "frustrated", "frustrating", "nightmare", "horrible", "sucks", "suck", "unacceptable", "done with",
    "incompetent", "shambles", "thanks for nothing", "waste of", "livid", "appalling", "ripped off", "rip off",
    "ripoff", "robbed", "clowns", "fed up", "beyond a joke", "absolute joke", "shocking service", "enough is enough",
    "third time", "fourth time", "still waiting", "still not fixed", "ignoring me", "ignored", "lied", "liars",
    "lying", "con artists", "hopeless", "abysmal", "atrocious", "dreadful", "infuriating", "outraged", "outrageous",
    "stupid", "crap", "are you kidding", "you kidding me", "too much to ask", "kidding me",
  ]
  static let gratitudePhrases = [
    "thanks", "thank", "thx", "appreciate", "appreciated", "grateful", "love", "loving", "great", "awesome",
    "amazing", "brilliant", "kudos", "legend", "legends", "well done", "shout out", "shoutout", "perfect",
    "excellent", "fantastic", "helpful", "superb", "wonderful", "cheers", "good job", "nice one",
    "sorted",
  ]
  /// Swearing: frustration, not abuse by itself ("wtf", "this shitty phone").
  static let swearing: Set<String> = [
    "fuck", "fucking", "fucked", "fck", "fkn", "f*ck", "shit", "shitty", "bullshit", "wtf", "ffs", "crap",
    "crappy", "damn", "goddamn", "piss", "pissed", "bloody", "hell", "omfg", "effing", "frigging", "freaking",
  ]
  /// Name-calling: abusive wherever it appears.
  static let insults: Set<String> = [
    "asshole", "assholes", "arsehole", "arseholes", "bastard", "bastards", "cunt", "cunts", "dickhead",
    "dickheads", "motherfucker", "motherfuckers", "bitch", "bitches", "retard", "retards", "retarded", "idiot",
    "idiots", "moron", "morons", "imbecile", "imbeciles", "scumbag", "scumbags", "scum", "dumbass", "dumbasses",
    "wanker", "wankers", "twat", "twats", "fucker", "fuckers", "stfu", "prick", "pricks",
  ]
  static let insultPhrases = [
    "fuck you", "fuck u", "fuck off", "screw you", "screw u", "shut up", "go to hell", "go die", "piss off",
  ]
}
