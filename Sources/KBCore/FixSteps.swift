import Foundation

/// Fix steps written as instructions: the journal says what an agent did ("Suggested powering
/// off for a few minutes", "Restarted the hub"); an answer says what to do ("Power off for a few
/// minutes", "Restart the hub"). `kb case promote` writes its steps through here.
public enum FixSteps {
  /// Words that introduce what the customer was told to do; dropped.
  static let leads: [String] = [
    "asked the customer to ", "asked them to ", "asked him to ", "asked her to ", "told the customer to ",
    "told them to ", "told him to ", "told her to ", "suggested the customer ", "suggested that they ",
    "suggested they ", "suggested that the customer ", "recommended they ", "advised them to ",
    "advised the customer to ", "had the customer ", "had them ", "got them to ", "walked them through ",
    "walked the customer through ", "suggested ", "recommended ", "advised ", "tried ",
  ]

  static let irregular: [String: String] = [
    "sent": "send", "told": "tell", "gave": "give", "made": "make", "took": "take", "ran": "run", "set": "set",
    "reset": "reset", "put": "put", "got": "get", "found": "find", "left": "leave", "went": "go", "did": "do",
    "had": "have", "re-sent": "re-send", "resent": "resend", "kept": "keep", "paid": "pay", "shut": "shut",
    "rebuilt": "rebuild", "built": "build", "held": "hold", "brought": "bring", "wrote": "write", "rewrote": "rewrite",
    "restored": "restore", "monitored": "monitor", "offered": "offer", "ordered": "order", "entered": "enter",
    "powered": "power", "swapped": "swap", "unplugged": "unplug", "plugged": "plug", "stopped": "stop",
    "dropped": "drop", "logged": "log", "tapped": "tap", "topped": "top", "added": "add", "re-added": "re-add",
    "installed": "install", "reinstalled": "reinstall", "called": "call", "refilled": "refill",
  ]

  /// A step in the imperative: leading subjects and "suggested …"-style leads dropped, a
  /// past-tense or -ing verb made a bare verb, the first letter capitalized.
  ///
  /// ```swift
  /// FixSteps.imperative("Suggested powering off for a few minutes.") // "Power off for a few minutes."
  /// FixSteps.imperative("I restarted the hub remotely")              // "Restart the hub remotely"
  /// ```
  public static func imperative(_ step: String) -> String {
    var text = step.trimmingCharacters(in: .whitespacesAndNewlines)
    for subject in ["i ", "we ", "agent "] where text.lowercased().hasPrefix(subject) {
      text = String(text.dropFirst(subject.count))
    }
    var led = false
    for lead in leads where text.lowercased().hasPrefix(lead) {
      text = String(text.dropFirst(lead.count))
      led = true
      break
    }
    if text.lowercased().hasPrefix("to ") { text = String(text.dropFirst(3)) }
    guard let space = text.firstIndex(where: { $0 == " " || $0 == "," || $0 == "." }) ?? Optional(text.endIndex) else { return text }
    let first = String(text[..<space])
    let rest = text[space...]
    let base = led ? bareVerb(fromGerund: first) ?? bareVerb(fromPast: first) : bareVerb(fromPast: first)
    text = (base ?? first) + rest
    return text.prefix(1).uppercased() + text.dropFirst()
  }

  /// `powering` → `power`, `resetting` → `reset`, `restoring` → `restore`; `nil` when not -ing.
  static func bareVerb(fromGerund word: String) -> String? {
    let w = word.lowercased()
    guard w.hasSuffix("ing"), w.count > 5 else { return nil }
    var stem = String(w.dropLast(3))
    if let last = stem.last, stem.count >= 3, stem.dropLast().last == last, !"lsfz".contains(last) {
      stem.removeLast()  // resetting → reset, unplugging → unplug
    } else if needsE(stem) {
      stem += "e"
    }
    return stem
  }

  /// `restarted` → `restart`, `updated` → `update`, `sent` → `send`; `nil` when not past tense.
  static func bareVerb(fromPast word: String) -> String? {
    let w = word.lowercased()
    if let known = irregular[w] { return known }
    guard w.hasSuffix("ed"), w.count > 4 else { return nil }
    if w.hasSuffix("ied") { return String(w.dropLast(3)) + "y" }
    var stem = String(w.dropLast(2))
    if let last = stem.last, stem.count >= 3, stem.dropLast().last == last, !"lsfz".contains(last) {
      stem.removeLast()
    } else if needsE(stem) {
      stem += "e"
    }
    return stem
  }

  /// Whether a stem lost a final `e` (`updat` → `update`, `enabl` → `enable`, `remov` → `remove`).
  static func needsE(_ stem: String) -> Bool {
    if ["eat", "oat", "ait"].contains(where: stem.hasSuffix) { return false }
    if ["writ", "quir", "ang"].contains(where: stem.hasSuffix) { return true }
    return ["bl", "pl", "gl", "kl", "tl", "dl", "c", "v", "u", "z", "at", "ur", "ag", "as", "os", "us", "ok"].contains(where: stem.hasSuffix)
      && !stem.hasSuffix("ook")
  }
}
