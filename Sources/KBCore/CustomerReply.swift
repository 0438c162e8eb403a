import Foundation
import Yams

/// A guess at the language of a short post, from its function words. Good enough to tell a
/// Spanish complaint from an English one; it says `nil` when it cannot tell.
///
/// ```swift
/// Language.detect("mi teléfono no recibe mensajes desde ayer")  // "es"
/// Language.detect("my phone stopped getting texts")              // "en"
/// ```
public enum Language {
  static let markers: [String: Set<String>] = [
    "en": ["the", "my", "is", "and", "not", "to", "it", "you", "i", "of", "your", "this", "can", "with", "have", "why", "how", "what", "don't", "can't", "again", "still", "for", "on", "me", "phone", "help", "please"],
    "es": ["el", "la", "los", "las", "mi", "es", "y", "no", "de", "que", "por", "para", "con", "me", "mis", "una", "un", "está", "esta", "funciona", "hola", "ayuda", "desde", "qué", "cómo", "porque", "pero", "teléfono", "mensajes", "gracias", "ya", "nada", "puedo"],
    "fr": ["le", "la", "les", "mon", "ma", "mes", "est", "et", "pas", "de", "que", "pour", "avec", "je", "ne", "une", "un", "depuis", "bonjour", "merci", "aide", "fonctionne", "marche", "toujours", "pourquoi", "comment", "ça", "mais"],
    "de": ["der", "die", "das", "mein", "meine", "ist", "und", "nicht", "zu", "ich", "mit", "für", "seit", "kein", "keine", "hallo", "danke", "hilfe", "funktioniert", "warum", "wie", "immer", "noch", "aber", "schon", "handy"],
    "pt": ["o", "a", "os", "as", "meu", "minha", "é", "e", "não", "de", "que", "para", "com", "um", "uma", "desde", "olá", "obrigado", "obrigada", "ajuda", "funciona", "porque", "como", "mas", "já", "celular", "está"],
    "it": ["il", "lo", "la", "gli", "mio", "mia", "è", "e", "non", "di", "che", "per", "con", "un", "una", "da", "ciao", "grazie", "aiuto", "funziona", "perché", "come", "ma", "ancora", "telefono"],
    "nl": ["de", "het", "mijn", "is", "en", "niet", "van", "dat", "voor", "met", "ik", "een", "geen", "sinds", "hallo", "bedankt", "hulp", "werkt", "waarom", "hoe", "nog", "maar", "telefoon"],
  ]

  /// The most likely language (ISO 639-1), or `nil` for fewer than three words or no clear winner.
  public static func detect(_ text: String) -> String? {
    let words = MentionText.tokens(text)
    guard words.count >= 3 else { return nil }
    var best: (String, Int) = ("", 0)
    var second = 0
    for (lang, set) in markers.sorted(by: { $0.key < $1.key }) {
      let n = words.filter { set.contains($0) }.count
      if n > best.1 {
        second = best.1
        best = (lang, n)
      } else if n > second {
        second = n
      }
    }
    guard best.1 >= 2, best.1 > second else { return best.1 >= 1 && second == 0 && words.count <= 4 ? best.0 : nil }
    return best.0
  }

  /// The language of a mention: what the platform says (`lang`), else a guess; `nil` when unknown.
  public static func of(_ mention: Mention) -> String? {
    if let l = mention.language?.lowercased().prefix(2), l.count == 2, l != "un", l != "qm", l != "zx" { return String(l) }
    return detect(mention.text)
  }

  public static func name(_ code: String) -> String {
    let names = [
      "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
      "nl": "Dutch", "ja": "Japanese", "ar": "Arabic", "tr": "Turkish", "pl": "Polish", "sv": "Swedish",
    ]
    return names[code] ?? "'\(code)'"
  }
}

/// What an answer says to the customer, as opposed to the steps for the agent.
///
/// An answer carries its customer-facing words in a `reply:` front-matter field (a text, or a
/// mapping of language code to text: `reply: {en: "…", es: "…"}`; `reply_es:` also works) or a
/// `## Reply` section (`## Reply (es)` for another language). Without one, a draft may quote a
/// fix step, but never one addressed to the agent ("Ask the customer…", "Tell them…", "Check the
/// CRM…") or one written as a report ("Suggested powering off…").
public enum CustomerReply {
  /// The answer's replies by language code (English is `en`), from its front matter and body.
  public static func replies(frontMatter fm: FrontMatter, body: String) -> [String: String] {
    var out: [String: String] = [:]
    func clean(_ s: String) -> String? {
      let t = s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: " ")
      return t.isEmpty ? nil : t
    }
    for key in fm.keys {
      let k = key.lowercased()
      if k == "reply" {
        if case .mapping(let map)? = fm[key] {
          for (lang, text) in map {
            if let l = lang.string, let t = text.string.flatMap(clean) { out[l.lowercased()] = t }
          }
        } else if let t = fm.string(key).flatMap(clean) {
          out["en"] = t
        }
      } else if k.hasPrefix("reply_"), k.count == 8, let t = fm.string(key).flatMap(clean) {
        out[String(k.dropFirst(6))] = t
      }
    }
    for (lang, text) in sections(body) where out[lang] == nil { out[lang] = text }
    return out
  }

  /// `## Reply` and `## Reply (es)` sections of a body, by language.
  static func sections(_ body: String) -> [String: String] {
    var out: [String: String] = [:]
    var current: String?
    var lines: [String] = []
    func finish() {
      if let lang = current {
        let text = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        if !text.isEmpty { out[lang] = text }
      }
      lines = []
    }
    for raw in body.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("#") {
        finish()
        current = nil
        let heading = line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces).lowercased()
        if heading == "reply" || heading == "customer reply" {
          current = "en"
        } else if heading.hasPrefix("reply") {
          let rest = heading.dropFirst(5).trimmingCharacters(in: CharacterSet(charactersIn: " ()[]:-"))
          if rest.count == 2, rest.allSatisfy(\.isLetter) { current = rest }
        }
        continue
      }
      if current != nil { lines.append(String(line.hasPrefix("> ") ? line.dropFirst(2) : Substring(line))) }
    }
    finish()
    return out
  }

  /// Whether a sentence is meant for the agent, not the customer: it talks about "the
  /// customer", tells the agent to ask, tell, check, log or escalate, names internal tools, or
  /// reports what was done ("Suggested …", "Refunded …").
  public static func isAgentAddressed(_ sentence: String) -> Bool {
    let words = MentionText.tokens(sentence)
    guard let first = words.first else { return false }
    let text = " " + words.joined(separator: " ") + " "
    let aboutCustomer = [
      " the customer ", " the customer's ", " customers ", " customer's ", " the caller ", " the user ", " them to ",
      " tell them ", " ask them ", " their account ", " on their ", " crm ", " admin ", " back office ", " internal ",
      " ticket system ", " escalate ", " escalation ", " hand over ", " hand off ", " the agent ", " agents ",
      " the account's ", " billing system ", " our tools ", " the tool ",
    ]
    if aboutCustomer.contains(where: { text.containsBytes($0) }) { return true }
    let agentVerbs: Set<String> = [
      "ask", "tell", "check", "verify", "confirm", "log", "note", "escalate", "raise", "file", "open", "refund",
      "credit", "waive", "look", "search", "flag", "assign", "offer", "apologize", "apologise", "acknowledge",
      "advise", "explain", "remind", "book", "schedule", "send", "issue", "request", "reassure", "find",
    ]
    if agentVerbs.contains(first) {
      // "Check that Wi-Fi is on" is for anyone; "Check the account's …" is for the agent.
      let second = words.dropFirst().first ?? ""
      if ["the", "their", "whether", "if", "them", "for", "in", "a", "an", "which", "that", "up"].contains(second) {
        return ["ask", "tell", "escalate", "raise", "file", "log", "note", "flag", "assign", "offer", "apologize", "apologise",
                "acknowledge", "advise", "explain", "remind", "reassure", "refund", "credit", "waive", "issue", "request"].contains(first)
          || ["whether", "their", "them", "up"].contains(second) || text.containsBytes(" account ") || text.containsBytes(" history ")
          || text.containsBytes(" system ") || text.containsBytes(" records ") || text.containsBytes(" order ")
      }
      return ["ask", "tell", "escalate", "apologize", "apologise", "acknowledge", "reassure", "remind", "advise"].contains(first)
    }
    // A report of what was done: "Suggested powering off", "Asked them to restart".
    let original = sentence.trimmingCharacters(in: .whitespaces)
    if let w = original.split(separator: " ").first, w.first?.isUppercase == true, w.count > 4, w.lowercased().hasSuffix("ed"),
      !["Need", "Speed", "Bed", "Red", "Connected", "Locked", "Blocked", "Used", "Based", "Limited", "Unlimited", "Advanced"].contains(String(w))
    {
      return true
    }
    return false
  }

  /// The first of `steps` a customer can be sent, or nil when every one is for the agent.
  public static func customerStep(_ steps: [String]) -> String? {
    steps.first { step in
      let sentences = step.split(whereSeparator: { $0 == "." || $0 == "!" || $0 == ";" }).map(String.init)
      return !sentences.contains(where: isAgentAddressed)
    }
  }
}
