import CLibgit2
import Foundation

/// libgit2's 3-way line merge of three texts.
enum LineMerge {
  /// Merges with diff3-style markers labelled `base`, `ours` and `theirs`; `nil` when libgit2
  /// fails. Wraps `git_merge_file`.
  static func merge(base: String, ours: String, theirs: String, path: String) -> (text: String, clean: Bool)? {
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
    guard code == 0, let ptr = result.ptr else { return nil }
    let bytes = UnsafeRawBufferPointer(start: ptr, count: result.len)
    return (String(decoding: bytes, as: UTF8.self), result.automergeable != 0)
  }
}
