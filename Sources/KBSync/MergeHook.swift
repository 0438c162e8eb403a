import KBCore
import Foundation

/// Merges the three versions of one Markdown document. The sync engine calls it, through
/// libgit2's merge driver `kb`, for every document changed on both sides, and `kb merge-driver`
/// calls it for git's command line.
///
/// ``DomainDocumentMerger`` (front matter field by field, journal as a union by time, body line
/// by line: `KBCore.DomainMerge`) is the one `kb` uses; tests plug in others.
public protocol DocumentMerger: Sendable {
  /// - Parameters:
  ///   - base: the common ancestor's text, `nil` when both sides added the file.
  ///   - path: the file's path in the repository.
  /// - Returns: the merged text; `clean` is false when both sides are kept with markers;
  ///   `conflicts` says what conflicts (one line each); `notes` records automatic decisions.
  func merge(base: String?, ours: String, theirs: String, path: String)
    -> (text: String, clean: Bool, conflicts: [String], notes: [String])
}

/// A 3-way line merge with libgit2's (`LineMerge`: diff3-style markers on conflict), for
/// `DomainMerge`'s `textMerge` parameter.
///
/// ```swift
/// let r = gitTextMerge("a\nb\n", "a\nB\n", "a\nb\nc\n")  // ("a\nB\nc\n", true)
/// ```
public let gitTextMerge: @Sendable (_ base: String, _ ours: String, _ theirs: String) -> (text: String, clean: Bool) = {
  base, ours, theirs in
  textMerge(base: base, ours: ours, theirs: theirs, path: "file")
}

/// The same merge with labels naming the file. Falls back to keeping both sides when libgit2
/// fails (it does not for text), so nothing is ever dropped.
public func textMerge(base: String, ours: String, theirs: String, path: String) -> (text: String, clean: Bool) {
  LineMerge.merge(base: base, ours: ours, theirs: theirs, path: path)
    ?? ("<<<<<<< ours\n" + ours + "=======\n" + theirs + ">>>>>>> theirs\n", false)
}

/// The domain merge of a document (`KBCore.DomainMerge`): front matter field by field, the
/// journal as a union ordered by time, the rest of the body line by line with libgit2's
/// merge (`LineMerge`). What still conflicts is kept from both sides in the file and reported.
public struct DomainDocumentMerger: DocumentMerger {
  public init() {}

  public func merge(base: String?, ours: String, theirs: String, path: String)
    -> (text: String, clean: Bool, conflicts: [String], notes: [String])
  {
    let outcome = DomainMerge.merge(base: base, ours: ours, theirs: theirs, path: path, textMerge: gitTextMerge)
    return (outcome.text, outcome.isClean, outcome.conflicts, outcome.notes)
  }
}

/// The merger the `kb` executable uses.
public enum SyncMerger {
  public static let `default`: any DocumentMerger = DomainDocumentMerger()
}
