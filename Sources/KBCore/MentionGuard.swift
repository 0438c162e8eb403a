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
    let lowerOriginal = m.original.lowercased()
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
    let selfHarm = phrases(in: padded, selfHarmPhrases)
    if !selfHarm.isEmpty {
      out.append(MentionGuard(
        kind: .selfHarm,
        advice: "Possible self-harm: reply with care, no product talk; share crisis resources and escalate to a lead now.",
        evidence: selfHarm))
    }
    let threats = phrases(in: padded, threatPhrases)
    if !threats.isEmpty {
      out.append(MentionGuard(
        kind: .threat, advice: "A threat: do not reply in public; escalate to a lead (and security if it is about people).",
        evidence: threats))
    }
    let abuse = m.words.filter { word in profanity.contains(word) || ["fuck", "shit"].contains { word.hasPrefix($0) } }
    if !abuse.isEmpty {
      out.append(MentionGuard(
        kind: .abusive,
        advice: "Abusive language: stay calm and do not mirror it; acknowledge once and offer a private channel.",
        evidence: Array(Set(abuse)).sorted()))
    }
    let personal = personalData(in: m.original)
    if !personal.isEmpty {
      out.append(MentionGuard(
        kind: .personalData,
        advice: "Personal data posted in public: never repeat it; ask them to delete the post and continue in a private channel.",
        evidence: personal))
    }

    // A competitor's unhappy customer.
    let ours = settings.products.contains(where: mentions) || settings.handles.contains(where: mentions)
      || (!settings.team.isEmpty && settings.team != "Support" && mentions(settings.team))
    let rivals = settings.competitors.filter(mentions)
    if !rivals.isEmpty, !ours {
      out.append(MentionGuard(
        kind: .competitor,
        advice: "About a competitor (\(rivals.joined(separator: ", "))): empathize; do not pitch, compare or poach.",
        evidence: rivals))
    }

    // Venting with no question.
    let negative = m.emojiSentiment < 0 || !phrases(in: padded, ventingPhrases).isEmpty || !abuse.isEmpty
      || lowerOriginal.containsBytes("!!") || m.original.filter(\.isUppercase).count > max(12, m.original.count / 2)
    if negative, !m.asksQuestion {
      out.append(MentionGuard(
        kind: .venting, advice: "Venting, no question asked: listen and acknowledge first; offer help, do not push a fix.",
        evidence: phrases(in: padded, ventingPhrases) + m.emoji.filter { MentionText.emojiSentiment(Character($0)) < 0 }))
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

  /// Card numbers (Luhn-valid, 13–19 digits), e-mail addresses, phone numbers, and SSN-shaped
  /// numbers, masked.
  public static func personalData(in text: String) -> [String] {
    var out: [String] = []
    // Digit runs that may contain spaces or dashes.
    var run = ""
    var digits = ""
    func flush() {
      defer { run = ""; digits = "" }
      guard digits.count >= 9 else { return }
      if (13...19).contains(digits.count), luhn(digits) {
        out.append("card number ending \(digits.suffix(4))")
      } else if run.range(of: #"^\d{3}-\d{2}-\d{4}$"#, options: .regularExpression) != nil {
        out.append("social security number")
      } else if (10...15).contains(digits.count) {
        out.append("phone number ending \(digits.suffix(2))")
      }
    }
    for ch in text {
      if ch.isASCII, ch.isNumber {
        run.append(ch)
        digits.append(ch)
      } else if (ch == " " || ch == "-" || ch == "." || ch == "(" || ch == ")" || ch == "+"), !digits.isEmpty || ch == "+" || ch == "(" {
        run.append(ch)
      } else if !run.isEmpty {
        run = run.trimmingCharacters(in: CharacterSet(charactersIn: " -.()+"))
        flush()
      }
    }
    run = run.trimmingCharacters(in: CharacterSet(charactersIn: " -.()+"))
    flush()
    if text.utf8.contains(UInt8(ascii: "@")),
      text.range(of: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, options: .regularExpression) != nil
    {
      out.append("e-mail address")
    }
    let lower = text.lowercased()
    if lower.containsBytes("my password is") || lower.containsBytes("password:") || lower.containsBytes("pin is") {
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
    "kill myself", "killing myself", "end my life", "ending my life", "want to die", "wanna die",
    "suicide", "suicidal", "hurt myself", "hurting myself", "self harm", "don't want to live",
    "dont want to live", "no reason to live", "better off dead",
  ]
  static let threatPhrases = [
    "kill you", "i will find you", "i'll find you", "burn down", "burn your", "blow up", "bomb",
    "shoot", "hurt you", "you'll regret", "you will regret", "coming for you", "watch your back",
    "beat you", "i know where you",
  ]
  static let ventingPhrases = [
    "worst", "hate", "terrible", "awful", "useless", "ridiculous", "pathetic", "joke", "fed up",
    "sick of", "tired of", "ugh", "unbelievable", "disgusting", "never again", "so annoying",
    "annoyed", "furious", "angry", "fuming", "rubbish", "garbage", "trash", "scam", "disappointed",
    "frustrated", "frustrating", "nightmare", "horrible", "sucks", "unacceptable", "done with",
  ]
  static let profanity: Set<String> = [
    "fuck", "fucking", "fucked", "fucker", "fck", "fkn", "f*ck", "shit", "shitty", "bullshit", "bitch",
    "asshole", "arsehole", "bastard", "dick", "dickhead", "cunt", "motherfucker", "wtf", "stfu", "crap",
    "piss", "pissed", "idiot", "idiots", "moron", "morons", "stupid", "dumbass", "retard", "retarded",
  ]
}
