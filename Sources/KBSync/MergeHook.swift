import CLibgit2
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

/// A 3-way line merge with libgit2's `git_merge_file` (diff3-style markers on conflict), for
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
  _ = libgit2Initialized
  var options = git_merge_file_options()
  git_merge_file_options_init(&options, UInt32(GIT_MERGE_FILE_OPTIONS_VERSION))
  options.flags = GIT_MERGE_FILE_STYLE_DIFF3.rawValue
  var result = git_merge_file_result()
  let code: Int32 = base.withCString { b in
    ours.withCString { o in
      theirs.withCString { t in
        "base".withCString { bl in
          "ours".withCString { ol in
            "theirs".withCString { tl in
              path.withCString { p in
                var bi = git_merge_file_input(), oi = git_merge_file_input(), ti = git_merge_file_input()
                git_merge_file_input_init(&bi, UInt32(GIT_MERGE_FILE_INPUT_VERSION))
                git_merge_file_input_init(&oi, UInt32(GIT_MERGE_FILE_INPUT_VERSION))
                git_merge_file_input_init(&ti, UInt32(GIT_MERGE_FILE_INPUT_VERSION))
                bi.ptr = b; bi.size = strlen(b); bi.path = p; bi.mode = 0o100644
                oi.ptr = o; oi.size = strlen(o); oi.path = p; oi.mode = 0o100644
                ti.ptr = t; ti.size = strlen(t); ti.path = p; ti.mode = 0o100644
                options.ancestor_label = bl
                options.our_label = ol
                options.their_label = tl
                return git_merge_file(&result, &bi, &oi, &ti, &options)
              }
            }
          }
        }
      }
    }
  }
  defer { git_merge_file_result_free(&result) }
  guard code == 0, let ptr = result.ptr else {
    return ("<<<<<<< ours\n" + ours + "=======\n" + theirs + ">>>>>>> theirs\n", false)
  }
  let bytes = UnsafeRawBufferPointer(start: ptr, count: result.len)
  return (String(decoding: bytes, as: UTF8.self), result.automergeable != 0)
}

/// The domain merge of a document (`KBCore.DomainMerge`): front matter field by field, the
/// journal as a union ordered by time, the rest of the body line by line with libgit2's
/// `git_merge_file`. What still conflicts is kept from both sides in the file and reported.
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
