import CLibgit2
import Foundation
import KBCore

/// Repository operations besides sync: init, clone, status, history. Swift values only.
public enum KBRepository {
  /// The merge driver line for git's config: git's command line then merges documents exactly
  /// as `kb sync` does.
  public static let mergeDriverCommand = "kb merge-driver %O %A %B %P"
  public static let attributesLine = "*.md merge=kb"

  /// Initialises libgit2 on a background thread (it reads the system's CA certificates, about
  /// 5 ms), so that it overlaps with other start-up work; the first libgit2 call waits for it.
  public static func warmUp() {
    Thread.detachNewThread { _ = libgit2Initialized }
  }

  /// `git init` (branch `main`) unless `path` is already inside a repository; then configures
  /// the merge driver. Returns true when a repository was created.
  @discardableResult
  public static func initialize(at path: String) throws(SyncError) -> Bool {
    do {
      if let repo = try? GitRepository(discovering: path) {
        try configureMergeDriver(repo)
        return false
      }
      let repo = try GitRepository.initialize(at: path)
      try configureMergeDriver(repo)
      return true
    } catch {
      throw .git(error)
    }
  }

  static func configureMergeDriver(_ repo: GitRepository) throws(GitError) {
    try repo.setConfig("merge.kb.name", "Casebook document merge")
    try repo.setConfig("merge.kb.driver", mergeDriverCommand)
  }

  /// `git clone URL DIR`, then the merge driver config and one status pass that records every
  /// file's stat data in the index (so later status calls do not re-hash the whole tree).
  public static func clone(url: String, into path: String, credentialFile: String? = nil,
                           progress: (@Sendable (String) -> Void)? = nil) throws(SyncError) {
    let state = CallbackState(credentialFile: credentialFile, progress: progress)
    let repo: GitRepository
    let shown = redacted(url)
    do {
      repo = try GitRepository.clone(url: url, into: path, state: state)
    } catch {
      if let host = state.unknownHost { throw .unknownHost(host: host, url: shown, committed: nil) }
      if let host = state.untrustedCertificate { throw .untrustedCertificate(host: host, url: shown, committed: nil) }
      if let problem = state.credentialProblem { throw .authenticationFailed(url: shown, reason: problem, committed: nil) }
      if error.code == GitError.auth { throw .authenticationFailed(url: shown, reason: error.message, committed: nil) }
      if error.code == GitError.certificate, url.hasPrefix("https://") {
        throw .untrustedCertificate(host: URL(string: url)?.host ?? shown, url: shown, committed: nil)
      }
      throw .unreachable(url: shown, reason: scrubCredentials(in: error.message), committed: nil)
    }
    // libgit2 writes "clone: from URL" into the reflogs, password included (git does not).
    scrubReflogs(gitDirectory: repo.gitDirectory, url: url)
    do {
      try configureMergeDriver(repo)
      if let branch = try repo.headBranch(), try repo.resolve(branch) == nil {
        // The remote's HEAD names no branch that exists (libgit2 then leaves an unborn branch):
        // take the only branch there is, or `main` among several, rather than starting an
        // empty knowledge base beside the team's.
        let branches = try repo.branchNames(under: "refs/remotes/origin/")
        let pick = branches.count == 1 ? branches[0] : branches.contains("main") ? "main" : nil
        if let pick, let tip = try repo.resolve("refs/remotes/origin/" + pick) {
          let paths = try repo.diff(fromCommit: nil, toCommit: tip).map(\.path)
          try repo.checkoutSafely(tree: try repo.treeID(ofCommit: tip), paths: paths)
          try repo.setReference("refs/heads/" + pick, to: tip, message: "clone: the only branch of \(shown)")
          try check("git_repository_set_head", git_repository_set_head(repo.pointer, "refs/heads/" + pick))
          TeamBranch.record(repo, local: pick, remote: "origin", branch: pick)
        } else if !branches.isEmpty {
          throw SyncError.secondBranch(local: "main", url: shown, existing: branches, head: nil)
        } else if branch != "refs/heads/main" {
          // An empty remote advertises no default branch: start on `main`, as `kb init` does.
          try check("git_repository_set_head", git_repository_set_head(repo.pointer, "refs/heads/main"))
        }
      }
      _ = try repo.status(prefix: "")
    } catch let e as SyncError {
      throw e
    } catch let e as GitError {
      throw .git(e)
    } catch {
      throw .git(GitError(code: -1, function: "clone", message: "\(error)"))
    }
  }

  /// A local change under the knowledge base (``RepositoryChange``, in KBCore).
  public typealias Change = RepositoryChange
  /// ``RepositoryStatus``, in KBCore.
  public typealias Status = RepositoryStatus

  /// Local changes and ahead/behind against the last fetched remote branch. Offline.
  ///
  /// - Parameter paths: with paths (relative to `kbRoot`), `changes` holds only those files'
  ///   changes, found without walking the work tree (``KBWorkspaceGit``'s status tracker applies
  ///   them to an earlier full status); `[]` skips the work tree altogether.
  public static func status(kbRoot: String, remoteName: String = "origin", paths: [String]? = nil) throws(SyncError) -> Status {
    do {
      let (repo, prefix) = try SyncEngine.open(kbRoot)
      let branch = try repo.headBranch()
      let short = branch.map { $0.hasPrefix("refs/heads/") ? String($0.dropFirst(11)) : $0 }
      let head = try branch.flatMap { (b) throws(GitError) in try repo.resolve(b) }
      let remoteURL = ((try? GitRemote(repo, name: remoteName))?.url).map { redacted($0) }
      let remoteBranch = short.flatMap { TeamBranch.upstream(repo, local: $0, remote: remoteName) }
      var ahead = 0, behind = 0
      if let head, let tracked = remoteBranch ?? short, let upstream = try repo.resolve("refs/remotes/\(remoteName)/\(tracked)") {
        (ahead, behind) = try repo.aheadBehind(head, upstream)
      } else if let head {
        ahead = try countCommits(repo, from: head)
      }
      let inRepository = paths.map { $0.map { prefix.isEmpty ? $0 : prefix + "/" + $0 } }
      let changes = try repo.status(prefix: prefix, paths: inRepository).compactMap { e in
        SyncEngine.relative(e.path, prefix: prefix).map { Change(path: $0, kind: e.kind) }
      }
      return Status(branch: short, remoteBranch: remoteBranch, remote: remoteURL, head: head?.description, changes: changes, ahead: ahead, behind: behind)
    } catch let e as SyncError {
      throw e
    } catch let e as GitError {
      throw .git(e)
    } catch {
      throw .git(GitError(code: -1, function: "status", message: "\(error)"))
    }
  }

  static func countCommits(_ repo: GitRepository, from head: GitOID) throws(GitError) -> Int {
    let walk = GitHandle(try make("git_revwalk_new") { git_revwalk_new(&$0, repo.pointer) }, free: git_revwalk_free)
    var raw = head.raw
    try check("git_revwalk_push", git_revwalk_push(walk.pointer, &raw))
    var n = 0
    var oid = git_oid()
    while git_revwalk_next(&oid, walk.pointer) == 0 { n += 1 }
    return n
  }

  /// One commit of the history (``CommitSummary``, in KBCore).
  public typealias Commit = CommitSummary

  /// The history of the knowledge base, or of one document (`path` relative to the KB root):
  /// the commits that changed it, newest first.
  public static func log(kbRoot: String, path: String? = nil, limit: Int = 50) throws(SyncError) -> [Commit] {
    do {
      let (repo, prefix) = try SyncEngine.open(kbRoot)
      guard let branch = try repo.headBranch(), let head = try repo.resolve(branch) else { return [] }
      let walk = GitHandle(try make("git_revwalk_new") { git_revwalk_new(&$0, repo.pointer) }, free: git_revwalk_free)
      git_revwalk_sorting(walk.pointer, GIT_SORT_TIME.rawValue | GIT_SORT_TOPOLOGICAL.rawValue)
      var raw = head.raw
      try check("git_revwalk_push", git_revwalk_push(walk.pointer, &raw))
      let repoPath = path.map { prefix.isEmpty ? $0 : prefix + "/" + $0 } ?? prefix
      var out: [Commit] = []
      var oid = git_oid()
      while out.count < limit, git_revwalk_next(&oid, walk.pointer) == 0 {
        let commit = try repo.commit(GitOID(oid))
        if !repoPath.isEmpty, !(try touches(repo, commit, repoPath)) { continue }
        let sig = git_commit_author(commit.pointer)!.pointee
        out.append(Commit(
          commit: GitOID(oid).description,
          author: String(cString: sig.name), email: String(cString: sig.email),
          date: Date(timeIntervalSince1970: TimeInterval(sig.when.time)),
          message: git_commit_message(commit.pointer).map { String(cString: $0) }?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
      }
      return out
    } catch let e as SyncError {
      throw e
    } catch let e as GitError {
      throw .git(e)
    } catch {
      throw .git(GitError(code: -1, function: "log", message: "\(error)"))
    }
  }

  /// Whether `commit` changed `path` compared with every parent (git log's TREESAME rule).
  static func touches(_ repo: GitRepository, _ commit: GitHandle, _ path: String) throws(GitError) -> Bool {
    func entryID(_ c: OpaquePointer) throws(GitError) -> GitOID? {
      let tree = GitHandle(try make("git_commit_tree") { git_commit_tree(&$0, c) }, free: git_tree_free)
      var entry: OpaquePointer?
      guard git_tree_entry_bypath(&entry, tree.pointer, path) == 0, let entry else { return nil }
      defer { git_tree_entry_free(entry) }
      return GitOID(git_tree_entry_id(entry).pointee)
    }
    let mine = try entryID(commit.pointer)
    let count = git_commit_parentcount(commit.pointer)
    if count == 0 { return mine != nil }
    for i in 0..<count {
      let parent = GitHandle(try make("git_commit_parent") { git_commit_parent(&$0, commit.pointer, i) }, free: git_commit_free)
      if try entryID(parent.pointer) == mine { return false }
    }
    return true
  }
}

extension KBRepository {
  /// A git config value as `git config --get KEY` run in `path` would print it, read in process
  /// (spawning git twice for the identity cost more than the rest of a small sync): the
  /// repository's config, then global (`$GIT_CONFIG_GLOBAL`, or ~/.gitconfig and the XDG file), then
  /// system (unless `$GIT_CONFIG_NOSYSTEM`). `include` and `includeIf` work as in git.
  public static func configValue(
    _ key: String, at path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String? {
    _ = libgit2Initialized
    guard let config = try? GitHandle(make("git_config_new") { git_config_new(&$0) }, free: git_config_free) else {
      return nil
    }
    let repo = try? GitRepository(discovering: path)
    func add(_ file: String, _ level: git_config_level_t) {
      guard FileManager.default.fileExists(atPath: file) else { return }
      _ = git_config_add_file_ondisk(config.pointer, file, level, repo?.pointer, 0)
    }
    func found(_ find: (UnsafeMutablePointer<git_buf>) -> Int32) -> String? {
      var buf = git_buf()
      defer { git_buf_dispose(&buf) }
      guard find(&buf) == 0, let p = buf.ptr else { return nil }
      return String(cString: p)
    }
    let truthy = { (v: String?) in v.map { ["1", "true", "yes", "on"].contains($0.lowercased()) } ?? false }
    if !truthy(environment["GIT_CONFIG_NOSYSTEM"]), let f = found({ git_config_find_system($0) }) {
      add(f, GIT_CONFIG_LEVEL_SYSTEM)
    }
    if let global = environment["GIT_CONFIG_GLOBAL"], !global.isEmpty {
      add(global, GIT_CONFIG_LEVEL_GLOBAL)
    } else {
      if let f = found({ git_config_find_xdg($0) }) { add(f, GIT_CONFIG_LEVEL_XDG) }
      if let f = found({ git_config_find_global($0) }) { add(f, GIT_CONFIG_LEVEL_GLOBAL) }
    }
    if let repo { add(String(cString: git_repository_path(repo.pointer)) + "config", GIT_CONFIG_LEVEL_LOCAL) }
    var buf = git_buf()
    defer { git_buf_dispose(&buf) }
    guard git_config_get_string_buf(&buf, config.pointer, key) == 0, let p = buf.ptr else { return nil }
    let value = String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
    return value.isEmpty ? nil : value
  }
}
