import Foundation
import Yams

/// The result of merging one Markdown document three ways.
public struct MergeOutcome: Equatable, Sendable {
  /// The merged file. Whatever could not be settled is kept from both sides and marked: a
  /// `conflicts:` front-matter field for fields, `<<<<<<< ours` … `>>>>>>> theirs` markers in
  /// the body.
  public var text: String
  /// What still needs a person, human-readable ("title changed on both sides",
  /// "body: lines 12-18, both versions kept between markers"). Empty when the merge is clean.
  public var conflicts: [String]
  /// Automatic decisions worth telling the user ("tags: merged as a set", "kept the edit; the
  /// other side deleted the file").
  public var notes: [String]

  public var isClean: Bool { conflicts.isEmpty }

  public init(text: String, conflicts: [String] = [], notes: [String] = []) {
    self.text = text
    self.conflicts = conflicts
    self.notes = notes
  }
}

/// A line-level three-way text merge of `base`, `ours` and `theirs`. It returns the merged text
/// and whether it is free of conflicts; a conflicted result keeps both sides between
/// `<<<<<<< ours`, `||||||| base`, `=======` and `>>>>>>> theirs` lines. `KBSync` supplies one
/// backed by libgit2's `git_merge_file`; ``DomainMerge/lineMerge`` is the pure-Swift default.
public typealias TextMerge = @Sendable (_ base: String, _ ours: String, _ theirs: String) -> (
  text: String, clean: Bool
)

/// The domain-aware three-way merge of a knowledge-base document (an answer or a case).
///
/// - The front matter is merged field by field: a field changed on one side only takes that
///   side; list fields are merged as sets with deletions respected; `updated` and other
///   timestamps take the later value; a case's `status` takes the later lifecycle state
///   (consistent with the journal); `assignee` follows the later handoff. Any other field
///   changed two ways keeps our value and records both values in a `conflicts:` field.
/// - The case journal (`## Journal`) is append-only: the entries of both sides are united,
///   without duplicates, in time order.
/// - The rest of the body is merged line by line; what conflicts is kept from both sides
///   between markers.
///
/// The merge is pure: it reads three texts and returns one. It never drops content: when a
/// version's front matter cannot be read, the whole file is merged line by line instead.
/// See `docs/MERGE.md` for the rules with examples.
public enum DomainMerge {
  /// A pure-Swift diff3 line merge (used when no `textMerge` is given, and by tests).
  public static let lineMerge: TextMerge = { base, ours, theirs in
    LineMerge.merge(base: base, ours: ours, theirs: theirs)
  }

  /// Merges one document changed on both sides.
  ///
  /// - Parameters:
  ///   - base: The common ancestor's text, or `nil` when both sides added the file.
  ///   - ours: Our version (the local branch).
  ///   - theirs: Their version (the incoming branch).
  ///   - path: The document's path relative to the knowledge base (used in notes, and to tell
  ///     a case from an answer when the front matter has no `type`).
  ///   - textMerge: The line merge for the free body text; ``lineMerge`` when `nil`.
  public static func merge(
    base: String?, ours: String, theirs: String, path: String, textMerge: TextMerge? = nil
  ) -> MergeOutcome {
    let textMerge = textMerge ?? lineMerge
    if same(ours, theirs) { return MergeOutcome(text: ours) }
    if let base {
      if same(base, ours) { return MergeOutcome(text: theirs) }
      if same(base, theirs) { return MergeOutcome(text: ours) }
    }
    let merger = DocumentMerger(path: path, textMerge: textMerge)
    if let outcome = merger.merge(base: base, ours: ours, theirs: theirs) {
      return outcome
    }
    return wholeFile(base: base, ours: ours, theirs: theirs, path: path, textMerge: textMerge)
  }

  /// Resolves an edit against a delete: the edit is kept, and the outcome says so.
  ///
  /// Call it when one side deleted the document and the other changed it. (A document that one
  /// side deleted and the other left unchanged is simply deleted, as git does; there is no
  /// conflict to resolve.)
  ///
  /// - Parameters:
  ///   - base: The common ancestor's text, when known.
  ///   - surviving: The text of the side that kept (and edited) the document.
  ///   - path: The document's path, for the note.
  ///   - deletedByUs: Whether our side is the one that deleted it (the note says which).
  public static func mergeDeleted(
    base: String?, surviving: String, path: String = "", deletedByUs: Bool = false
  ) -> MergeOutcome {
    let name = path.isEmpty ? "the document" : path
    let who = deletedByUs ? "we deleted it and they edited it" : "they deleted it and we edited it"
    return MergeOutcome(
      text: surviving, conflicts: [],
      notes: ["kept the edit of \(name): \(who)"])
  }

  /// Line merge of the whole file, for documents whose front matter cannot be read.
  static func wholeFile(
    base: String?, ours: String, theirs: String, path: String, textMerge: TextMerge
  ) -> MergeOutcome {
    let result = textMerge(base ?? "", ours, theirs)
    let name = path.isEmpty ? "the document" : path
    var outcome = MergeOutcome(
      text: result.text,
      notes: ["\(name): a front matter could not be read; merged the whole file line by line"])
    if !result.clean {
      let ranges = markerRanges(in: result.text, startLine: 1)
      outcome.conflicts =
        ranges.isEmpty
        ? ["file: both versions kept between markers"]
        : ranges.map { "file: lines \($0.lowerBound)-\($0.upperBound), both versions kept between markers" }
    }
    return outcome
  }

  static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

  /// The 1-based line ranges of `<<<<<<<` … `>>>>>>>` blocks in `text`, whose first line is
  /// line `startLine` of the file.
  static func markerRanges(in text: String, startLine: Int) -> [ClosedRange<Int>] {
    var ranges: [ClosedRange<Int>] = []
    var open: Int?
    for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let number = startLine + offset
      if line.hasPrefix("<<<<<<<"), open == nil {
        open = number
      } else if line.hasPrefix(">>>>>>>"), let start = open {
        ranges.append(start...number)
        open = nil
      }
    }
    return ranges
  }
}
