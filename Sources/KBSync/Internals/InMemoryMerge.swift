import CLibgit2
import Foundation
import KBCore

/// The merge driver `kb`, registered once with libgit2. libgit2 calls it for every file changed
/// on both sides; it hands `*.md` files to the `DocumentMerger` of the merge running on this
/// thread and lets libgit2's text merge do the rest.
enum KBMergeDriver {
  final class Context {
    let merger: any DocumentMerger
    var files: [String: MergedFile] = [:]
    init(merger: any DocumentMerger) { self.merger = merger }
  }

  static let key = "kb.merge-driver.context"

  /// The context of the merge running on this thread (the driver has no payload of its own).
  static var current: Context? {
    get { Thread.current.threadDictionary[key] as? Context }
    set { Thread.current.threadDictionary[key] = newValue }
  }

  static let registered: Void = {
    _ = libgit2Initialized
    let driver = UnsafeMutablePointer<git_merge_driver>.allocate(capacity: 1)
    driver.initialize(to: git_merge_driver(version: UInt32(GIT_MERGE_DRIVER_VERSION), initialize: nil, shutdown: nil, apply: apply))
    git_merge_driver_register("kb", driver)
  }()

  static let apply: git_merge_driver_apply_fn = { _, pathOut, modeOut, mergedOut, _, source in
    guard let context = KBMergeDriver.current, let source,
      let ours = git_merge_driver_source_ours(source), let theirs = git_merge_driver_source_theirs(source),
      let repoPointer = git_merge_driver_source_repo(source), let oursPath = ours.pointee.path
    else { return GIT_PASSTHROUGH.rawValue }
    let path = String(cString: oursPath)
    guard path.hasSuffix(".md") else { return GIT_PASSTHROUGH.rawValue }
    func text(_ entry: UnsafePointer<git_index_entry>) -> String? {
      var blob: OpaquePointer?
      var id = entry.pointee.id
      guard git_blob_lookup(&blob, repoPointer, &id) == 0, let blob else { return nil }
      defer { git_blob_free(blob) }
      let size = Int(git_blob_rawsize(blob))
      guard size > 0, let content = git_blob_rawcontent(blob) else { return "" }
      return String(validating: UnsafeRawBufferPointer(start: content, count: size), as: UTF8.self)
    }
    let base = git_merge_driver_source_ancestor(source).flatMap { text($0) }
    guard let o = text(ours), let t = text(theirs) else { return GIT_PASSTHROUGH.rawValue }
    let result = context.merger.merge(base: base, ours: o, theirs: t, path: path)
    let bytes = Array(result.text.utf8)
    let code = bytes.withUnsafeBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { git_buf_set(mergedOut, $0, buffer.count) }
    }
    guard code == 0 else { return code }
    pathOut?.pointee = oursPath
    modeOut?.pointee = ours.pointee.mode
    context.files[path] = MergedFile(
      path: path, outcome: result.clean ? "merged" : "conflict", details: result.clean ? result.notes : result.conflicts + result.notes)
    return 0
  }
}

extension GitRepository {
  /// Merges two commits in memory (the work tree is untouched), resolving what libgit2 leaves
  /// conflicted so that nothing is dropped: edit against delete keeps the edit, add/add and
  /// leftovers go through the document merger with both sides kept on conflict.
  ///
  /// - Returns: the merged tree and what happened to each file merged from both sides.
  func mergeInMemory(ours: GitOID, theirs: GitOID, merger: any DocumentMerger) throws(GitError) -> (tree: GitOID, files: [MergedFile]) {
    _ = KBMergeDriver.registered
    let context = KBMergeDriver.Context(merger: merger)
    KBMergeDriver.current = context
    defer { KBMergeDriver.current = nil }
    let o = try commit(ours), t = try commit(theirs)
    var options = git_merge_options()
    git_merge_options_init(&options, UInt32(GIT_MERGE_OPTIONS_VERSION))
    // No rename detection: documents are identified by path, and templated documents look alike
    // (a delete here plus an add there became a "rename" that dropped the added file).
    options.flags = 0
    let driverName = strdup("kb")
    defer { free(driverName) }
    options.default_driver = UnsafePointer(driverName)
    let index = GitHandle(
      try make("git_merge_commits") { git_merge_commits(&$0, pointer, o.pointer, t.pointer, &options) }, free: git_index_free)
    if git_index_has_conflicts(index.pointer) == 1 {
      try resolveConflicts(index, merger: merger, context: context)
    }
    var tree = git_oid()
    try check("git_index_write_tree_to", git_index_write_tree_to(&tree, index.pointer, pointer))
    return (GitOID(tree), context.files.values.sorted { $0.path < $1.path })
  }

  private struct Side {
    var path: String
    var id: GitOID
    var mode: UInt32
    init?(_ entry: UnsafePointer<git_index_entry>?) {
      guard let entry, let p = entry.pointee.path else { return nil }
      path = String(cString: p)
      id = GitOID(entry.pointee.id)
      mode = entry.pointee.mode
    }
  }

  private func resolveConflicts(_ index: GitHandle, merger: any DocumentMerger, context: KBMergeDriver.Context) throws(GitError) {
    var conflicts: [(base: Side?, ours: Side?, theirs: Side?)] = []
    let iterator = GitHandle(
      try make("git_index_conflict_iterator_new") { git_index_conflict_iterator_new(&$0, index.pointer) },
      free: git_index_conflict_iterator_free)
    while true {
      var a: UnsafePointer<git_index_entry>?, o: UnsafePointer<git_index_entry>?, t: UnsafePointer<git_index_entry>?
      let code = git_index_conflict_next(&a, &o, &t, iterator.pointer)
      if code == GIT_ITEROVER.rawValue { break }
      try check("git_index_conflict_next", code)
      conflicts.append((Side(a), Side(o), Side(t)))
    }
    for c in conflicts {
      let path = (c.ours ?? c.theirs ?? c.base)!.path
      try check("git_index_conflict_remove", git_index_conflict_remove(index.pointer, path))
      switch (c.ours, c.theirs) {
      case (let ours?, let theirs?):
        let base = try c.base.map { (b) throws(GitError) in try blobText(b.id) }
        let o = try blobText(ours.id), t = try blobText(theirs.id)
        let r = merger.merge(base: base, ours: o, theirs: t, path: path)
        try add(index, path: ours.path, id: try createBlob(r.text), mode: ours.mode)
        context.files[path] = MergedFile(
          path: path, outcome: r.clean ? "merged" : "conflict",
          details: (r.clean ? [] : r.conflicts) + r.notes + (c.base == nil ? ["added on both sides"] : []))
      case (let kept?, nil), (nil, let kept?):
        let side = c.ours != nil ? "here" : "by a teammate"
        if let base = c.base, base.id == kept.id {
          context.files[path] = MergedFile(path: path, outcome: "deleted", details: ["deleted on one side, unchanged on the other"])
        } else {
          try add(index, path: kept.path, id: kept.id, mode: kept.mode)
          context.files[path] = MergedFile(
            path: path, outcome: "kept-edit", details: ["edited \(side) and deleted on the other side: the edit was kept"])
        }
      case (nil, nil):
        break
      }
    }
  }

  private func add(_ index: GitHandle, path: String, id: GitOID, mode: UInt32) throws(GitError) {
    var entry = git_index_entry()
    entry.id = id.raw
    entry.mode = mode
    let p = strdup(path)
    defer { free(p) }
    entry.path = UnsafePointer(p)
    try check("git_index_add", git_index_add(index.pointer, &entry))
  }
}
