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
          try repo.setHead("refs/heads/" + pick)
          TeamBranch.record(repo, local: pick, remote: "origin", branch: pick)
        } else if !branches.isEmpty {
          throw SyncError.secondBranch(local: "main", url: shown, existing: branches, head: nil)
        } else if branch != "refs/heads/main" {
          // An empty remote advertises no default branch: start on `main`, as `kb init` does.
          try repo.setHead("refs/heads/main")
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
        ahead = try repo.countCommits(from: head)
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

  /// One commit of the history (``CommitSummary``, in KBCore).
  public typealias Commit = CommitSummary

  /// The history of the knowledge base, or of one document (`path` relative to the KB root):
  /// the commits that changed it, newest first.
  public static func log(kbRoot: String, path: String? = nil, limit: Int = 50) throws(SyncError) -> [Commit] {
    do {
      let (repo, prefix) = try SyncEngine.open(kbRoot)
      guard let branch = try repo.headBranch(), let head = try repo.resolve(branch) else { return [] }
      let repoPath = path.map { prefix.isEmpty ? $0 : prefix + "/" + $0 } ?? prefix
      var out: [Commit] = []
      try repo.forEachCommit(from: head) { (id) throws(GitError) -> Bool in
        guard out.count < limit else { return false }
        if !repoPath.isEmpty, !(try repo.commitChanges(id, path: repoPath)) { return true }
        let info = try repo.commitInfo(id)
        out.append(Commit(commit: id.description, author: info.author, email: info.email, date: info.date, message: info.message))
        return out.count < limit
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
}
