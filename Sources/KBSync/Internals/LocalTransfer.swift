import CGitPack
import CLibgit2
import Foundation

/// The objects one repository has to send another, found from the changes themselves.
///
/// libgit2's `git_packbuilder_insert_walk` (behind its local fetch and behind `LocalPush`) marks
/// every tree and blob of the boundary commits as uninteresting, reading the whole tree of the
/// knowledge base on every transfer: 15-20 ms at 10,000 documents, ten times that at 100,000.
/// Here each new commit is compared with its first parent and only the sub-trees that differ are
/// read, so the cost follows the size of the change.
extension GitRepository {
  /// Every object reachable from `tips` and not from `hiding` (commits this repository has).
  ///
  /// Each new commit adds its tree's objects that differ from its first parent's tree: an object
  /// equal to the parent's is in the parent, which the receiver has (a hidden commit) or which
  /// this walk visits too. Trees already collected are not read again. Content that moved to a
  /// new path (a renamed folder, a copied file) is sent again: more than needed, never less.
  func newObjects(tips: [GitOID], hiding: [GitOID]) throws(GitError) -> [GitOID] {
    try newObjects(tips: tips, hiding: hiding, changesFrom: nil).objects
  }

  /// `newObjects`, and when the only new commit is a child of `base`, the files it changes
  /// (what `diff(fromCommit: base, toCommit:)` returns), found on the same walk of its trees: a
  /// fast-forward checks them out and re-indexes them without reading the trees again.
  func newObjects(
    tips: [GitOID], hiding: [GitOID], changesFrom base: GitOID?
  ) throws(GitError) -> (objects: [GitOID], changes: [TreeChange]?) {
    let walk = GitHandle(try make("git_revwalk_new") { git_revwalk_new(&$0, pointer) }, free: git_revwalk_free)
    for tip in tips {
      var raw = tip.raw
      try check("git_revwalk_push", git_revwalk_push(walk.pointer, &raw))
    }
    for commit in hiding where hasObject(commit) {
      var raw = commit.raw
      try check("git_revwalk_hide", git_revwalk_hide(walk.pointer, &raw))
    }
    var objects = Set<GitOID>()
    let odb = try objectDatabase()
    var commits = 0
    var changes: ChangeList?
    var raw = git_oid()
    while git_revwalk_next(&raw, walk.pointer) == 0 {
      let id = GitOID(raw)
      objects.insert(id)
      commits += 1
      let c = try commit(id)
      let tree = GitOID(git_commit_tree_id(c.pointer).pointee)
      let parent = git_commit_parentcount(c.pointer) > 0 ? GitOID(git_commit_parent_id(c.pointer, 0).pointee) : nil
      let parentTree = try parent.map { (p) throws(GitError) in try treeID(ofCommit: p) }
      let recording = base != nil && parent == base ? ChangeList() : nil
      try collectNewObjects(old: parentTree, new: tree, prefix: "", odb: odb.pointer, into: &objects, recording: recording)
      if recording != nil { changes = recording }
    }
    return (Array(objects), commits == 1 ? changes?.changes.sorted { $0.path < $1.path } : nil)
  }

  /// The changes one walk finds (a class, so that the recursion can share it optionally).
  private final class ChangeList {
    var changes: [TreeChange] = []
  }

  private func collectNewObjects(
    old: GitOID?, new: GitOID, prefix: String, odb: OpaquePointer, into objects: inout Set<GitOID>, recording: ChangeList?
  ) throws(GitError) {
    guard old != new else { return }
    // A tree already collected holds nothing new (unless its changes are being listed).
    guard objects.insert(new).inserted || recording != nil else { return }
    let b = try RawTree(new, in: odb)
    let a = try old.map { (o) throws(GitError) in try RawTree(o, in: odb) }
    try RawTree.differences(a, b) { (x, y) throws(GitError) in
      let path = recording == nil ? "" : prefix + (x ?? y)!.nameString
      let before = x.map { TreeFile(mode: $0.mode, id: $0.oid) }
      guard let y else {  // only in the old tree: nothing to send
        guard let recording, let x else { return }
        if x.isTree {
          try diffTrees(x.oid, nil, prefix: path + "/", odb: odb, into: &recording.changes)
        } else {
          recording.changes.append(TreeChange(path: path, kind: .deleted, old: before))
        }
        return
      }
      if y.isTree {
        try collectNewObjects(old: x?.oid, new: y.oid, prefix: path + "/", odb: odb, into: &objects, recording: recording)
        return
      }
      if y.mode & 0o170000 != 0o160000 { objects.insert(y.oid) }  // a submodule's commit lives elsewhere
      recording?.changes.append(
        TreeChange(path: path, kind: x == nil ? .added : .modified, old: before, new: TreeFile(mode: y.mode, id: y.oid)))
    }
  }

  /// Packs `objects` (of this repository) into the object store at `objectsFolder` (another
  /// repository's `objects`), without libgit2's delta search and with kb's own pack index
  /// (`kbpack_write` in the CGitPack target says why), synced when `durable`. Each object is read
  /// from the object database, which checks it against its id.
  func writePack(of objects: [GitOID], into objectsFolder: String, durable: Bool) throws(GitError) {
    guard !objects.isEmpty else { return }
    let source = PackSource(odb: try objectDatabase(), ids: objects)
    var ids = [UInt8]()
    ids.reserveCapacity(objects.count * 20)
    for id in objects { withUnsafeBytes(of: id.raw.id) { ids.append(contentsOf: $0) } }
    var error = kbpack_error()
    let code = withExtendedLifetime(source) {
      kbpack_write(
        ids, objects.count,
        { payload, index, out in PackSource.from(payload).read(index, into: out!) },
        { payload, _ in PackSource.from(payload).release() },
        Unmanaged.passUnretained(source).toOpaque(), objectsFolder + "/pack", durable ? 1 : 0, nil, &error)
    }
    guard code < 0 else { return }
    if let failure = source.error { throw failure }
    let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    throw GitError(code: code, function: "kbpack_write", message: message)
  }
}

/// Hands `kbpack_write` the objects of one object database, one at a time.
private final class PackSource {
  let odb: GitHandle
  let ids: [GitOID]
  /// The object the writer is compressing.
  var current: OpaquePointer?
  /// Why an object could not be read (libgit2's error, taken right after the call).
  var error: GitError?

  init(odb: GitHandle, ids: [GitOID]) {
    self.odb = odb
    self.ids = ids
  }

  static func from(_ payload: UnsafeMutableRawPointer?) -> PackSource {
    Unmanaged<PackSource>.fromOpaque(payload!).takeUnretainedValue()
  }

  /// Wraps `git_odb_read`.
  func read(_ index: Int, into out: UnsafeMutablePointer<kbpack_object>) -> Int32 {
    var raw = ids[index].raw
    let code = git_odb_read(&current, odb.pointer, &raw)
    guard code >= 0, let current else {
      error = lastError("git_odb_read", code < 0 ? code : -1)
      return code < 0 ? code : -1
    }
    out.pointee.type = Int32(git_odb_object_type(current).rawValue)
    out.pointee.data = git_odb_object_data(current)
    out.pointee.size = git_odb_object_size(current)
    return 0
  }

  func release() {
    if let current { git_odb_object_free(current) }
    current = nil
  }
}

/// `git fetch` of one branch from a repository on this machine (a path or `file://` remote),
/// in process: the objects the branch has and this clone lacks are packed straight into this
/// clone's object store, then the remote-tracking ref is set.
enum LocalFetch {
  /// Returns the remote branch's commit, `nil` when the remote has no such branch (yet).
  /// `changes`: when what came in is one commit on top of `base`, the files it changes.
  static func fetch(
    into local: GitRepository, from remotePath: String, branch: String, tracking: String, base: GitOID? = nil,
    trace: SyncTrace = .off
  ) throws(GitError) -> (tip: GitOID?, changes: [GitRepository.TreeChange]?) {
    let remote = try GitRepository(openingExactly: remotePath)
    guard let theirs = try remote.resolve(branch) else { return (nil, nil) }
    trace("fetch: remote opened")
    var changes: [GitRepository.TreeChange]?
    if !local.hasObject(theirs) {
      let known = [try local.resolve(tracking), try local.headBranch().flatMap { (b) throws(GitError) in try local.resolve(b) }]
      let found = try remote.newObjects(tips: [theirs], hiding: known.compactMap { $0 }, changesFrom: base)
      let objects = found.objects
      changes = found.changes
      trace("fetch: \(objects.count) objects to copy")
      try remote.writePack(of: objects, into: local.gitDirectory + "/objects", durable: fsyncEnabled)
      trace("fetch: packed")
      // The branch will be moved onto these objects: check they arrived.
      guard local.hasObject(theirs) else {
        throw GitError(code: -1, function: "local fetch", message: "the fetched pack does not hold \(theirs)")
      }
    }
    try local.setReference(tracking, to: theirs, message: "fetch (kb sync)")
    return (theirs, changes)
  }
}
