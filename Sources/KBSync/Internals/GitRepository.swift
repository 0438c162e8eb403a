import CLibgit2
import Foundation

/// An open repository. Owns its `git_repository` handle. Not `Sendable`: confine it to one
/// thread (libgit2's error state is per thread, and a handle must not be shared).
final class GitRepository {
  let handle: GitHandle
  var pointer: OpaquePointer { handle.pointer }

  /// Opens the repository containing `path` (searching upwards, like git).
  init(discovering path: String) throws(GitError) {
    _ = libgit2Initialized
    handle = GitHandle(try make("git_repository_open_ext") { git_repository_open_ext(&$0, path, 0, nil) }, free: git_repository_free)
  }

  /// Opens exactly `path` (a bare repository for a local remote, or a work tree).
  init(openingExactly path: String) throws(GitError) {
    _ = libgit2Initialized
    handle = GitHandle(
      try make("git_repository_open_ext") {
        git_repository_open_ext(&$0, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
      }, free: git_repository_free)
  }

  private init(pointer: OpaquePointer) {
    handle = GitHandle(pointer, free: git_repository_free)
  }

  /// `git init` with `main` as the first branch.
  static func initialize(at path: String, bare: Bool = false) throws(GitError) -> GitRepository {
    _ = libgit2Initialized
    var options = git_repository_init_options()
    git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION))
    options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
    let head = strdup("main")
    defer { free(head) }
    options.initial_head = UnsafePointer(head)
    let pointer = try make("git_repository_init_ext") { git_repository_init_ext(&$0, path, &options) }
    return GitRepository(pointer: pointer)
  }

  /// `git clone`.
  static func clone(url: String, into path: String, state: CallbackState) throws(GitError) -> GitRepository {
    _ = libgit2Initialized
    var options = git_clone_options()
    git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION))
    state.install(&options.fetch_opts.callbacks)
    let pointer = try withExtendedLifetime(state) { () throws(GitError) -> OpaquePointer in
      try make("git_clone") { git_clone(&$0, url, path, &options) }
    }
    return GitRepository(pointer: pointer)
  }

  /// The work tree's absolute path without the trailing slash, `nil` for a bare repository.
  var workdir: String? {
    guard let p = git_repository_workdir(pointer) else { return nil }
    var s = String(cString: p)
    while s.count > 1, s.hasSuffix("/") { s.removeLast() }
    return s
  }

  var gitDirectory: String {
    var s = String(cString: git_repository_path(pointer))
    while s.count > 1, s.hasSuffix("/") { s.removeLast() }
    return s
  }

  // MARK: References

  /// The branch HEAD points at (`refs/heads/main`), also when it has no commit yet; `nil` when
  /// HEAD is detached.
  func headBranch() throws(GitError) -> String? {
    let ref = GitHandle(try make("git_reference_lookup") { git_reference_lookup(&$0, pointer, "HEAD") }, free: git_reference_free)
    guard let target = git_reference_symbolic_target(ref.pointer) else { return nil }
    return String(cString: target)
  }

  /// The commit a reference points at, `nil` when it does not exist.
  func resolve(_ name: String) throws(GitError) -> GitOID? {
    var oid = git_oid()
    let code = git_reference_name_to_id(&oid, pointer, name)
    if code == GitError.notFound || code == GitError.unbornBranch { return nil }
    try check("git_reference_name_to_id", code)
    return GitOID(oid)
  }

  /// Loads the ref database without libgit2's fsync, which syncs each ref update's reflogs and
  /// their folders too (six fsyncs for one ref; libgit2 fixes the choice when the database is
  /// loaded). kb then makes durable the one ref that matters, its branch, after each move
  /// (`syncRef`). Call it before anything reads a ref.
  func loadRefsWithoutFsync() {
    guard fsyncEnabled else { return }
    kb_git_enable_fsync_gitdir(0)
    defer { kb_git_enable_fsync_gitdir(1) }
    var refdb: OpaquePointer?
    if git_repository_refdb(&refdb, pointer) == 0 { git_refdb_free(refdb) }
  }

  /// Opens the object database now (libgit2 fixes its fsync choice when it opens it).
  func loadObjectDatabase() {
    var odb: OpaquePointer?
    if git_repository_odb(&odb, pointer) == 0 { git_odb_free(odb) }
  }

  /// fsync of a ref's file and folder (or of `packed-refs` when it is packed).
  func syncRef(_ name: String) {
    guard fsyncEnabled else { return }
    let gitdir = String(cString: git_repository_path(pointer))
    var file = gitdir + name
    if access(file, F_OK) != 0 { file = gitdir + "packed-refs" }
    for path in [file, (file as NSString).deletingLastPathComponent] {
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      if fd >= 0 { fsync(fd); close(fd) }
    }
  }

  /// Moves `name` from `old` to `new` only if it still points at `old` (compare-and-swap);
  /// creates it only if it does not exist when `old` is nil. Returns false when it lost.
  func compareAndSwap(_ name: String, to new: GitOID, from old: GitOID?, message: String) throws(GitError) -> Bool {
    var newRaw = new.raw
    var out: OpaquePointer?
    let code: Int32
    if var oldRaw = old?.raw {
      code = git_reference_create_matching(&out, pointer, name, &newRaw, 1, &oldRaw, message)
    } else {
      code = git_reference_create(&out, pointer, name, &newRaw, 0, message)
    }
    if let out { git_reference_free(out) }
    if code == GitError.modified || code == GitError.locked || code == GitError.exists { return false }
    try check("git_reference_create_matching", code)
    syncRef(name)
    return true
  }

  func setReference(_ name: String, to oid: GitOID, message: String) throws(GitError) {
    var raw = oid.raw
    var out: OpaquePointer?
    try check("git_reference_create", git_reference_create(&out, pointer, name, &raw, 1, message))
    if let out { git_reference_free(out) }
  }

  // MARK: Objects

  func commit(_ oid: GitOID) throws(GitError) -> GitHandle {
    var raw = oid.raw
    return GitHandle(try make("git_commit_lookup") { git_commit_lookup(&$0, pointer, &raw) }, free: git_commit_free)
  }

  func tree(ofCommit oid: GitOID) throws(GitError) -> GitHandle {
    let c = try commit(oid)
    return GitHandle(try make("git_commit_tree") { git_commit_tree(&$0, c.pointer) }, free: git_tree_free)
  }

  func tree(_ oid: GitOID) throws(GitError) -> GitHandle {
    var raw = oid.raw
    return GitHandle(try make("git_tree_lookup") { git_tree_lookup(&$0, pointer, &raw) }, free: git_tree_free)
  }

  func treeID(ofCommit oid: GitOID) throws(GitError) -> GitOID {
    let c = try commit(oid)
    return GitOID(git_commit_tree_id(c.pointer).pointee)
  }

  func blobText(_ oid: GitOID) throws(GitError) -> String {
    var raw = oid.raw
    let blob = GitHandle(try make("git_blob_lookup") { git_blob_lookup(&$0, pointer, &raw) }, free: git_blob_free)
    let size = Int(git_blob_rawsize(blob.pointer))
    guard size > 0, let content = git_blob_rawcontent(blob.pointer) else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: content, count: size), as: UTF8.self)
  }

  func createBlob(_ text: String) throws(GitError) -> GitOID {
    var oid = git_oid()
    let bytes = Array(text.utf8)
    try check("git_blob_create_from_buffer", bytes.withUnsafeBytes { git_blob_create_from_buffer(&oid, pointer, $0.baseAddress, $0.count) })
    return GitOID(oid)
  }

  func hasObject(_ oid: GitOID) -> Bool {
    var odb: OpaquePointer?
    guard git_repository_odb(&odb, pointer) == 0, let odb else { return false }
    defer { git_odb_free(odb) }
    var raw = oid.raw
    return git_odb_exists(odb, &raw) == 1
  }

  /// Whether `commit` has `ancestor` in its history (strictly).
  func isDescendant(_ commit: GitOID, of ancestor: GitOID) -> Bool {
    var c = commit.raw, a = ancestor.raw
    return git_graph_descendant_of(pointer, &c, &a) == 1
  }

  func mergeBase(_ a: GitOID, _ b: GitOID) -> GitOID? {
    var out = git_oid(), x = a.raw, y = b.raw
    return git_merge_base(&out, pointer, &x, &y) == 0 ? GitOID(out) : nil
  }

  func aheadBehind(_ local: GitOID, _ upstream: GitOID) throws(GitError) -> (ahead: Int, behind: Int) {
    var ahead = 0, behind = 0
    var l = local.raw, u = upstream.raw
    try check("git_graph_ahead_behind", git_graph_ahead_behind(&ahead, &behind, pointer, &l, &u))
    return (ahead, behind)
  }

  // MARK: Index, commits

  /// Commits the index on HEAD (a compare-and-swap on HEAD) when its tree differs from HEAD's.
  /// Returns the new commit, or `nil` when there was nothing to commit.
  ///
  /// With a `prefix` (a knowledge base in a sub-folder), only the index's entries under it are
  /// committed; whatever else is staged stays staged, untouched.
  func commitIndex(prefix: String = "", message: (_ changes: [TreeChange]) -> String, author: Signature) throws(GitError) -> GitOID? {
    let index = GitHandle(try make("git_repository_index") { git_repository_index(&$0, pointer) }, free: git_index_free)
    let head = try resolve("HEAD")
    var treeRaw = git_oid()
    if prefix.isEmpty {
      try check("git_index_write_tree", git_index_write_tree(&treeRaw, index.pointer))
    } else {
      // HEAD's tree outside the prefix, the index inside it.
      let scratch = GitHandle(try make("git_index_new") { git_index_new(&$0) }, free: git_index_free)
      if let head {
        let headTree = try tree(ofCommit: head)
        try check("git_index_read_tree", git_index_read_tree(scratch.pointer, headTree.pointer))
        try check("git_index_remove_directory", git_index_remove_directory(scratch.pointer, prefix, 0))
      }
      for i in 0..<git_index_entrycount(index.pointer) {
        guard let entry = git_index_get_byindex(index.pointer, i), let p = entry.pointee.path else { continue }
        let path = String(cString: p)
        guard path.hasPrefix(prefix + "/"), (entry.pointee.flags >> 12) & 0x3 == 0 else { continue }
        try check("git_index_add", git_index_add(scratch.pointer, entry))
      }
      try check("git_index_write_tree_to", git_index_write_tree_to(&treeRaw, scratch.pointer, pointer))
    }
    let treeOID = GitOID(treeRaw)
    if let head, try treeID(ofCommit: head) == treeOID { return nil }
    let changes = try diff(from: head.map { (oid) throws(GitError) in try treeID(ofCommit: oid) }, to: treeOID)
    return try createCommit(
      updating: "HEAD", message: message(changes), tree: treeOID, parents: head.map { [$0] } ?? [], author: author)
  }

  func createCommit(updating ref: String?, message: String, tree: GitOID, parents: [GitOID], author: Signature) throws(GitError) -> GitOID {
    let sig = try author.make()
    defer { git_signature_free(sig) }
    let treeHandle = try self.tree(tree)
    let parentHandles = try parents.map { (p) throws(GitError) in try commit(p) }
    var parentPointers: [OpaquePointer?] = parentHandles.map { $0.pointer }
    var oid = git_oid()
    let code = parentPointers.withUnsafeMutableBufferPointer { buffer in
      git_commit_create(&oid, pointer, ref, sig, sig, nil, message, treeHandle.pointer, parents.count, buffer.baseAddress)
    }
    try check("git_commit_create", code)
    if let ref { syncRef(ref == "HEAD" ? (try headBranch() ?? ref) : ref) }
    return GitOID(oid)
  }

  // MARK: Diff

  struct TreeChange: Equatable {
    enum Kind: String { case added, modified, deleted }
    var path: String
    var kind: Kind
    /// The file on each side (`nil` where it is absent).
    var old: TreeFile? = nil
    var new: TreeFile? = nil
  }

  /// A file of a tree: its mode (0o100644, 0o100755, 0o120000 or 0o160000) and object.
  struct TreeFile: Equatable {
    var mode: UInt32
    var id: GitOID
  }

  /// The paths that differ between two trees (`nil`: the empty tree), sorted.
  ///
  /// Sub-trees with the same id on both sides are skipped without being read, so the cost follows
  /// the size of the change, not of the knowledge base (`git_diff_tree_to_tree` walks every entry:
  /// 9 ms for two trees of 10,000 documents that differ in ten). Renames are not detected
  /// (a rename is a deletion and an addition), as everywhere in kb's sync.
  func diff(from old: GitOID?, to new: GitOID?) throws(GitError) -> [TreeChange] {
    var out: [TreeChange] = []
    let odb = try objectDatabase()
    try diffTrees(old, new, prefix: "", odb: odb.pointer, into: &out)
    return out.sorted { $0.path < $1.path }
  }

  /// Appends the differences between two trees (`nil`: absent) under `prefix`, walking their raw
  /// entries side by side (`RawTree`), so unchanged entries cost no string.
  func diffTrees(
    _ old: GitOID?, _ new: GitOID?, prefix: String, odb: OpaquePointer, into out: inout [TreeChange]
  ) throws(GitError) {
    if old == new { return }
    let a = try old.map { (o) throws(GitError) in try RawTree(o, in: odb) }
    let b = try new.map { (o) throws(GitError) in try RawTree(o, in: odb) }
    try RawTree.differences(a, b) { (x, y) throws(GitError) in
      let path = prefix + (x ?? y)!.nameString
      let old = x.map { TreeFile(mode: $0.mode, id: $0.oid) }, new = y.map { TreeFile(mode: $0.mode, id: $0.oid) }
      switch (x, y) {
      case (let x?, let y?) where x.isTree: try diffTrees(x.oid, y.oid, prefix: path + "/", odb: odb, into: &out)
      case (_?, _?): out.append(TreeChange(path: path, kind: .modified, old: old, new: new))
      case (let x?, nil) where x.isTree: try diffTrees(x.oid, nil, prefix: path + "/", odb: odb, into: &out)
      case (_?, nil): out.append(TreeChange(path: path, kind: .deleted, old: old))
      case (nil, let y?) where y.isTree: try diffTrees(nil, y.oid, prefix: path + "/", odb: odb, into: &out)
      default: out.append(TreeChange(path: path, kind: .added, new: new))
      }
    }
  }

  /// This repository's object database (a new reference to it).
  func objectDatabase() throws(GitError) -> GitHandle {
    GitHandle(try make("git_repository_odb") { git_repository_odb(&$0, pointer) }, free: git_odb_free)
  }

  func diff(fromCommit old: GitOID?, toCommit new: GitOID?) throws(GitError) -> [TreeChange] {
    try diff(
      from: old.map { (o) throws(GitError) in try treeID(ofCommit: o) },
      to: new.map { (o) throws(GitError) in try treeID(ofCommit: o) })
  }

  // MARK: Checkout

  /// Updates the work tree and index to `tree` for exactly `paths`, refusing as a whole
  /// (`GIT_ECONFLICT`) when a file there was changed since HEAD.
  func checkoutSafely(tree: GitOID, paths: [String]) throws(GitError) {
    guard !paths.isEmpty else { return }
    let treeHandle = try self.tree(tree)
    var options = git_checkout_options()
    git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
    // NO_REFRESH: libgit2 would otherwise read the whole index from disk again (the one this
    // sync staged moments ago, under kb's lock): 90 ms at 100,000 documents.
    options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
      | GIT_CHECKOUT_NO_REFRESH.rawValue
    try withStrArray(paths) { (array) throws(GitError) in
      options.paths = array.pointee
      try check("git_checkout_tree", git_checkout_tree(pointer, treeHandle.pointer, &options))
    }
  }

  // MARK: Status

  struct StatusEntry: Equatable {
    var path: String
    var kind: String
  }

  /// Work-tree and index changes under `prefix`, refreshing the index's stat cache on the way
  /// (`GIT_STATUS_OPT_UPDATE_INDEX`), so that a fresh clone is hashed once, not on every call.
  ///
  /// With `paths` (relative to the work tree), only those files, matched literally: libgit2 then
  /// reads only the folders leading to them, not the whole work tree. The index is not
  /// rewritten then, and renames are not looked for.
  func status(prefix: String, paths: [String]? = nil) throws(GitError) -> [StatusEntry] {
    var options = git_status_options()
    git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
    options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
    if paths == nil {
      options.flags |= GIT_STATUS_OPT_UPDATE_INDEX.rawValue | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX.rawValue
    } else {
      options.flags |= GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue
    }
    let spec = paths ?? (prefix.isEmpty ? [] : [prefix])
    if let paths, paths.isEmpty { return [] }
    let list = try withStrArray(spec) { (array) throws(GitError) -> GitHandle in
      if !spec.isEmpty { options.pathspec = array.pointee }
      return GitHandle(try make("git_status_list_new") { git_status_list_new(&$0, pointer, &options) }, free: git_status_list_free)
    }
    var out: [StatusEntry] = []
    for i in 0..<git_status_list_entrycount(list.pointer) {
      guard let e = git_status_byindex(list.pointer, i)?.pointee else { continue }
      let flags = e.status.rawValue
      guard let delta = (e.index_to_workdir ?? e.head_to_index)?.pointee else { continue }
      let path = String(cString: delta.new_file.path ?? delta.old_file.path)
      if path.hasPrefix(".kb/") || path.contains("/.kb/") { continue }
      let kind: String
      if flags & GIT_STATUS_CONFLICTED.rawValue != 0 { kind = "conflicted" }
      else if flags & (GIT_STATUS_WT_NEW.rawValue | GIT_STATUS_INDEX_NEW.rawValue) != 0 { kind = "added" }
      else if flags & (GIT_STATUS_WT_DELETED.rawValue | GIT_STATUS_INDEX_DELETED.rawValue) != 0 { kind = "deleted" }
      else if flags & (GIT_STATUS_WT_RENAMED.rawValue | GIT_STATUS_INDEX_RENAMED.rawValue) != 0 { kind = "renamed" }
      else { kind = "modified" }
      out.append(StatusEntry(path: path, kind: kind))
    }
    return out
  }

  // MARK: Config

  func setConfig(_ key: String, _ value: String) throws(GitError) {
    let config = GitHandle(try make("git_repository_config") { git_repository_config(&$0, pointer) }, free: git_config_free)
    try check("git_config_set_string", git_config_set_string(config.pointer, key, value))
  }

  func config(_ key: String) -> String? {
    var config: OpaquePointer?
    guard git_repository_config_snapshot(&config, pointer) == 0, let config else { return nil }
    defer { git_config_free(config) }
    var value: UnsafePointer<CChar>?
    guard git_config_get_string(&value, config, key) == 0, let value else { return nil }
    return String(cString: value)
  }
}

/// Who signs a commit.
struct Signature {
  var name: String
  var email: String

  func make() throws(GitError) -> UnsafeMutablePointer<git_signature> {
    var sig: UnsafeMutablePointer<git_signature>?
    try check("git_signature_now", git_signature_now(&sig, name, email))
    return sig!
  }
}
