import CLibgit2
import Foundation

/// A commit's author, time and message, as Swift values.
struct CommitInfo {
  var id: GitOID
  var author: String
  var email: String
  var date: Date
  var message: String
}

extension GitRepository {
  /// Sets HEAD to the branch `ref` (`refs/heads/…`), which need not exist yet. Wraps
  /// `git_repository_set_head`.
  func setHead(_ ref: String) throws(GitError) {
    try check("git_repository_set_head", git_repository_set_head(pointer, ref))
  }

  /// The number of commits reachable from `head`, `head` included. Wraps `git_revwalk_next`.
  func countCommits(from head: GitOID) throws(GitError) -> Int {
    let walk = try revisionWalk(from: head, newestFirst: false)
    var n = 0
    var oid = git_oid()
    while git_revwalk_next(&oid, walk.pointer) == 0 { n += 1 }
    return n
  }

  /// Calls `body` with each commit reachable from `head`, newest first (time, then topological
  /// order, as `git log`), until it returns false. Wraps `git_revwalk`.
  func forEachCommit(from head: GitOID, _ body: (GitOID) throws(GitError) -> Bool) throws(GitError) {
    let walk = try revisionWalk(from: head, newestFirst: true)
    var oid = git_oid()
    while git_revwalk_next(&oid, walk.pointer) == 0 {
      guard try body(GitOID(oid)) else { return }
    }
  }

  private func revisionWalk(from head: GitOID, newestFirst: Bool) throws(GitError) -> GitHandle {
    let walk = GitHandle(try make("git_revwalk_new") { git_revwalk_new(&$0, pointer) }, free: git_revwalk_free)
    if newestFirst { git_revwalk_sorting(walk.pointer, GIT_SORT_TIME.rawValue | GIT_SORT_TOPOLOGICAL.rawValue) }
    var raw = head.raw
    try check("git_revwalk_push", git_revwalk_push(walk.pointer, &raw))
    return walk
  }

  /// The author, time and message of commit `id`. Wraps `git_commit_author` and `git_commit_message`.
  func commitInfo(_ id: GitOID) throws(GitError) -> CommitInfo {
    let commit = try self.commit(id)
    let sig = git_commit_author(commit.pointer)!.pointee
    return CommitInfo(
      id: id, author: String(cString: sig.name), email: String(cString: sig.email),
      date: Date(timeIntervalSince1970: TimeInterval(sig.when.time)),
      message: git_commit_message(commit.pointer).map { String(cString: $0) }?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
  }

  /// Whether commit `id` changed `path` compared with every parent (git log's TREESAME rule).
  func commitChanges(_ id: GitOID, path: String) throws(GitError) -> Bool {
    func entryID(_ c: OpaquePointer) throws(GitError) -> GitOID? {
      let tree = GitHandle(try make("git_commit_tree") { git_commit_tree(&$0, c) }, free: git_tree_free)
      var entry: OpaquePointer?
      guard git_tree_entry_bypath(&entry, tree.pointer, path) == 0, let entry else { return nil }
      defer { git_tree_entry_free(entry) }
      return GitOID(git_tree_entry_id(entry).pointee)
    }
    let commit = try self.commit(id)
    let mine = try entryID(commit.pointer)
    let count = git_commit_parentcount(commit.pointer)
    if count == 0 { return mine != nil }
    for i in 0..<count {
      let parent = GitHandle(try make("git_commit_parent") { git_commit_parent(&$0, commit.pointer, i) }, free: git_commit_free)
      if try entryID(parent.pointer) == mine { return false }
    }
    return true
  }

  /// The names (without `prefix`) of the references under `prefix`, sorted. Wraps
  /// `git_reference_iterator_glob_new`.
  func branchNames(under prefix: String) throws(GitError) -> [String] {
    let iterator = GitHandle(
      try make("git_reference_iterator_glob_new") { git_reference_iterator_glob_new(&$0, pointer, prefix + "*") },
      free: git_reference_iterator_free)
    var names: [String] = []
    var name: UnsafePointer<CChar>?
    while git_reference_next_name(&name, iterator.pointer) == 0, let name {
      let full = String(cString: name)
      let short = String(full.dropFirst(prefix.count))
      if short != "HEAD" { names.append(short) }
    }
    return names.sorted()
  }
}
