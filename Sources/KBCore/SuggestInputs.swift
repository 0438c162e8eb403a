import Foundation

/// What `kb suggest`'s model learns from, document by document, so that the index can tell
/// which changes reach the model: an answer's texts, and the complaint of a resolved or closed
/// case that names the answer it used. A journal line, a check back (trust is counted apart,
/// ``CheckBack/outcome(of:)``) or an open case's edit changes none of it, and leaves the built model valid.
///
/// ```swift
/// SuggestInputs.complaint(inBody: "> my router blinks\n\n## Journal\n") // "my router blinks"
/// ```
public enum SuggestInputs {
  /// Case statuses whose complaint becomes an example of the answer the case names.
  public static let teachingStatuses: Set<String> = ["resolved", "closed"]

  /// The block quote at the top of a case's body (the customer's words).
  public static func complaint(inBody body: String) -> String? {
    var quoted: [Substring] = []
    for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix(">") {
        quoted.append(line.dropFirst().drop(while: { $0 == " " }))
      } else if !quoted.isEmpty {
        break
      } else if line.hasPrefix("#"), line.lowercased().contains("journal") || line.lowercased().contains("timeline") {
        break  // A heading such as "## Complaint" may come first; the journal may not.
      }
    }
    let text = quoted.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    return text.isEmpty ? nil : text
  }

  /// A stable 64-bit hash (FNV-1a, fields separated by a byte no text has) of a document's
  /// model inputs: the same in every process and build, unlike Swift's seeded `Hasher`.
  public static func hash(_ fields: [String]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for field in fields {
      for b in field.utf8 {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
      }
      h ^= 0x1F
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// The model inputs of an answer (conflicted ones too: they are suggested, marked), or of a
  /// case (only a resolved or closed one with a complaint and an answer teaches), as the fields
  /// to hash; nil when the document teaches the model nothing.
  public static func fields(
    type: String, path: String, id: String, title: String, symptoms: String, tags: String, body: String,
    status: String?, answer: String?
  ) -> [String]? {
    switch type {
    case "answer":
      return ["answer", path, id, title, symptoms, tags, body]
    case "case":
      guard let answer, !answer.isEmpty, let status, teachingStatuses.contains(status),
        let complaint = complaint(inBody: body)
      else { return nil }
      return ["case", path, answer, complaint]
    default:
      return nil
    }
  }
}
