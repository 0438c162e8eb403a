import Foundation
import KBCore

/// One `kb sync`, in the steps docs/SYNC.md describes: **commit** local edits, **fetch**,
/// **integrate** (up to date, fast-forward or merge; the branch moves last, with a
/// compare-and-swap), **push** without force, and **finish**. ``SyncEngine`` calls the steps in
/// order and loops over fetch, integrate and push until a push lands or the attempts run out.
///
/// Each step reads the sync's fixed facts (repository, branch, remote, hooks) and adds what it
/// did to `result`. Not thread-safe: one run per sync, on one thread (the first fetch takes a
/// handle of its own, see ``commitBesideFirstFetch()``).
final class SyncRun {
  // What the sync works on, fixed once it is open.
  let repo: GitRepository
  /// The knowledge base's folder relative to the work tree ("" at its top).
  let prefix: String
  /// The local branch (`refs/heads/…`) and its short name.
  let branch: String
  let shortBranch: String
  let remote: GitRemote
  /// The remote's URL without a password: the only form that reaches a message.
  let displayURL: String
  /// The remote's folder when it is on this machine (a path or `file://`): kb's own transfers.
  let localRemotePath: String?
  /// libgit2's callbacks (credentials, host keys, progress) and what they saw.
  let state: CallbackState
  let kbRoot: String
  let author: Signature
  let merger: any DocumentMerger
  let options: SyncOptions
  let hooks: SyncHooks

  /// The remote branch this one syncs with (see ``chooseTeamBranch()``), and whether it was
  /// already recorded as the local branch's upstream.
  private(set) var remoteBranch: String
  private(set) var teamBranchRecorded = false
  var remoteRef: String { "refs/heads/" + remoteBranch }
  var tracking: String { "refs/remotes/\(remote.name)/\(remoteBranch)" }

  /// What the sync did so far.
  var result: SyncResult
  /// HEAD before the local commit: the re-index covers local edits made outside kb too.
  private(set) var startHead: GitOID?
  /// The same pair of commits is often diffed twice or three times (a fast-forward's incoming
  /// paths, its checkout, the re-index list): once is enough.
  private var diffs: [[GitOID?]: [GitRepository.TreeChange]] = [:]
  /// Checkouts refused because a file changed meanwhile, in a row.
  private var blocked = 0

  /// Opens the repository holding the knowledge base, its branch and its remote.
  /// - Throws: `SyncError.notARepository`, `.detachedHead`, `.noRemote`.
  init(kbRoot: String, author: Signature, merger: any DocumentMerger, options: SyncOptions, hooks: SyncHooks) throws {
    self.kbRoot = kbRoot
    self.author = author
    self.merger = merger
    self.options = options
    self.hooks = hooks
    (repo, prefix) = try SyncEngine.open(kbRoot)
    hooks.trace("opened")
    guard let branch = try repo.headBranch() else { throw SyncError.detachedHead }
    self.branch = branch
    do { remote = try GitRemote(repo, name: options.remoteName) } catch { throw SyncError.noRemote(name: options.remoteName) }
    shortBranch = branch.hasPrefix("refs/heads/") ? String(branch.dropFirst("refs/heads/".count)) : branch
    // Never the password of a URL in a message, JSON or log.
    displayURL = KBRepository.redacted(remote.url)
    result = SyncResult(remote: displayURL, branch: shortBranch)
    state = CallbackState(credentialFile: options.credentialFile, progress: options.progress)
    localRemotePath = GitRemote.localPath(of: remote.url, relativeTo: repo.workdir ?? kbRoot)
    remoteBranch = shortBranch
  }

  // MARK: Before the first step

  /// Waits for a `git gc` an earlier sync started (see ``Housekeeping``), removes the git lock
  /// files a killed `kb sync` left behind (kb's own lock tells which ones: `result.warnings`),
  /// notes HEAD before the local commit and chooses the team branch.
  func prepare() throws {
    // Before the first object is written: the gc an earlier sync started may still be pruning.
    if Housekeeping.waitForCollection(repo, waiting: { options.progress?("Waiting for git gc (started by the last sync)…") }) {
      hooks.trace("waited for git gc")
    }
    result.warnings += try GitLocks.clearStale(gitDirectory: repo.gitDirectory, since: options.deadSyncStarted)
    hooks.pause(.commit)
    startHead = try repo.resolve(branch)
    try chooseTeamBranch()
  }

  /// The remote branch this one syncs with (see `TeamBranch`): recorded after the first sync;
  /// before it, asked of the remote once the local edits are committed (so that a refusal
  /// leaves them safe). Sets `remoteBranch` and `result.remoteBranch`.
  func chooseTeamBranch() throws {
    if let recorded = TeamBranch.upstream(repo, local: shortBranch, remote: remote.name) {
      remoteBranch = recorded
      teamBranchRecorded = true
    } else {
      try commit()
      state.reset()
      do {
        remoteBranch = try TeamBranch.resolve(
          repo: repo, remote: remote, local: shortBranch, localRemotePath: localRemotePath, state: state
        ).branch
      } catch let e as GitError {
        throw networkError(e)
      }
    }
    result.remoteBranch = remoteBranch
  }

  // MARK: 1. Commit

  /// Makes local edits durable first: stages every change under the knowledge base and commits
  /// it as the author. Sets `result.committed` when there was something to commit.
  func commit() throws {
    // The last sync left the index equal to HEAD and nothing but stat data changed since:
    // nothing to commit, and no tree of every document to write to find that out.
    let head = try repo.resolve(branch)
    let wasClean = head.map { repo.isIndexRecordedClean(head: $0, prefix: prefix) } ?? false
    let staged = try repo.stageAll(prefix: prefix, trace: hooks.trace)
    hooks.trace(
      "staged (\(staged.rehashed.count) re-hashed, \(staged.modified.count) modified, \(staged.added.count) new, \(staged.removed.count) gone)")
    if wasClean, !staged.changesContent, let head {
      if !staged.isEmpty { repo.recordCleanIndex(head: head, prefix: prefix) }
      return
    }
    if let c = try repo.commitIndex(prefix: prefix, message: { SyncEngine.commitMessage($0, prefix: prefix, author: author) }, author: author) {
      result.committed = c.description
    }
  }

  // MARK: 2. Fetch

  /// One fetch of the team branch into a repository handle.
  struct Fetcher {
    let localRemotePath: String?
    let remoteName: String
    let remoteRef: String
    let tracking: String
    let state: CallbackState
    let trace: SyncTrace

    /// In process from a path or `file://` remote, else libgit2's (with its per-file fsyncs
    /// batched, which changes a global libgit2 option, so only when nothing runs beside it).
    /// Returns, when a local fetch brought one commit on top of `base`, the files it changes.
    @discardableResult
    func fetch(into handle: GitRepository, batchFsync: Bool, base: GitOID? = nil) throws(GitError) -> [GitRepository.TreeChange]? {
      if let localRemotePath {
        return try LocalFetch.fetch(
          into: handle, from: localRemotePath, branch: remoteRef, tracking: tracking, base: base, trace: trace
        ).changes
      }
      let remote = try GitRemote(handle, name: remoteName)
      guard batchFsync else { try remote.fetch(state); return nil }
      try withBatchedFsync(packFolder: handle.gitDirectory + "/objects/pack") { () throws(GitError) in try remote.fetch(state) }
      return nil
    }
  }

  var fetcher: Fetcher {
    Fetcher(
      localRemotePath: localRemotePath, remoteName: remote.name, remoteRef: remoteRef, tracking: tracking, state: state,
      trace: hooks.trace)
  }

  /// Steps 1 and 2 of the first attempt, side by side: the fetch runs on a thread of its own
  /// while this one commits. The fetch only adds objects and moves
  /// `refs/remotes/<remote>/<branch>`, which the commit does not touch, and both end before the
  /// merge. It has its own handle on the repository (a libgit2 handle must not be shared between
  /// threads), opened here, before the thread starts, like this handle's object database, so that
  /// no global libgit2 option changes while the two run.
  ///
  /// Also beside the commit: what came in relative to HEAD, which is also what a fast-forward
  /// checks out and re-indexes when there was nothing to commit (20 ms at 100k documents).
  ///
  /// - Returns: the fetch's error, which the first attempt throws (after the commit, so that the
  ///   message can say the work is committed).
  func commitBesideFirstFetch() throws -> GitError? {
    let fetchHandle = try SyncEngine.open(kbRoot).0
    repo.loadObjectDatabase()
    options.progress?("Fetching from \(remote.name)…")
    state.reset()
    final class Incoming: @unchecked Sendable { var diff: (GitOID, GitOID, [GitRepository.TreeChange])? }
    let incoming = Incoming()
    let firstFetch = BackgroundTask { [fetcher, hooks, startHead, tracking] () throws(GitError) in
      hooks.pause(.fetch)
      let walked = try fetcher.fetch(into: fetchHandle, batchFsync: false, base: startHead)
      hooks.trace("fetched (beside the commit)")
      // Best effort: the integrate step computes it again if this did not work out.
      if let startHead, let theirs = try? fetchHandle.resolve(tracking), theirs != startHead,
        let changes = walked ?? (try? fetchHandle.diff(fromCommit: startHead, toCommit: theirs))
      {
        incoming.diff = (startHead, theirs, changes)
        hooks.trace("incoming diff (beside the commit)")
      }
    }
    let committed = Result { try commit() }
    let fetchError = firstFetch.wait()
    if let (old, new, changes) = incoming.diff { diffs[[old, new]] = changes }
    try committed.get()
    if !teamBranchRecorded, fetchError == nil {
      TeamBranch.record(repo, local: shortBranch, remote: remote.name, branch: remoteBranch)
    }
    hooks.trace("committed")
    return fetchError
  }

  /// Step 2 of a later attempt: fetch the team branch again (a teammate pushed first).
  func fetch() throws {
    hooks.pause(.fetch)
    options.progress?("Fetching from \(remote.name)…")
    state.reset()
    if let e = SyncEngine.attempt({ () throws(GitError) in try fetcher.fetch(into: repo, batchFsync: true) }) { throw networkError(e) }
    hooks.trace("fetched")
  }

  // MARK: 3. Integrate

  /// What integrating the fetched branch leaves to do.
  enum Integration: Equatable {
    /// Go round again (a file changed during the checkout and is committed now, the branch
    /// moved under the compare-and-swap, or theirs was taken onto an unborn branch).
    case again
    /// Nothing here and nothing there.
    case nothingAnywhere
    /// Both sides are the same commit: nothing to push.
    case inSync
    /// `head` has commits the remote lacks.
    case push(GitOID)
  }

  /// Brings the local branch up to date with the fetched one: up to date, fast-forward or a
  /// merge in memory, checked out safely, the branch moved last with a compare-and-swap. Adds to
  /// `result.incoming`, `.merged` and `.outgoing`.
  /// - Throws: `SyncError.blockedByLocalChange` when files keep changing during the checkout.
  func integrate() throws -> Integration {
    let theirs = try repo.resolve(tracking)
    var ours = try repo.resolve(branch)
    if let theirs {
      if let current = ours, current != theirs, !repo.isDescendant(current, of: theirs) {
        guard let newHead = try bringIn(theirs, onto: current) else { return .again }
        ours = newHead
      }
    } else if ours == nil {
      return .nothingAnywhere
    }
    guard let head = ours else {
      guard let theirs else { return .nothingAnywhere }
      try takeTheirs(theirs)
      return .again
    }
    let base = theirs.flatMap { repo.mergeBase(head, $0) }
    hooks.trace("merged")
    result.outgoing = SyncEngine.union(result.outgoing, try changedPaths(base, head))
    return head == theirs ? .inSync : .push(head)
  }

  /// Fast-forwards to `theirs` or merges it into `current`, checks the result out and moves the
  /// branch. Returns the new HEAD, `nil` when the sync must go round again.
  private func bringIn(_ theirs: GitOID, onto current: GitOID) throws -> GitOID? {
    let base = repo.mergeBase(current, theirs)
    hooks.trace("graph")
    result.incoming = SyncEngine.union(result.incoming, try changedPaths(base, theirs))
    hooks.trace("incoming diff")
    let newHead: GitOID
    let message: String
    if repo.isDescendant(theirs, of: current) {
      newHead = theirs
      message = "kb sync: fast-forward"
    } else {
      options.progress?("Merging…")
      let merge = try repo.mergeInMemory(ours: current, theirs: theirs, merger: merger)
      for f in merge.files where !result.merged.contains(where: { $0.path == f.path }) { result.merged.append(f) }
      newHead = try repo.createCommit(
        updating: nil, message: "kb sync: merge \(remote.name)/\(remoteBranch)\n\n" + SyncEngine.mergeSummary(merge.files),
        tree: merge.tree, parents: [current, theirs], author: author)
      message = "kb sync: merge"
    }
    let update = try changes(current, newHead)
    hooks.trace("diffed")
    let checkoutError = SyncEngine.attempt { () throws(GitError) in
      // File by file when it can be done safely that way, else libgit2's safe checkout.
      if try !repo.checkoutChanges(update) {
        try repo.checkoutSafely(tree: try repo.treeID(ofCommit: newHead), paths: update.map(\.path))
      }
    }
    if let checkoutError {
      guard checkoutError.code == GitError.conflict else { throw checkoutError }
      // Someone edited an affected file meanwhile: commit that too and start over.
      blocked += 1
      if blocked > 3 { throw SyncError.blockedByLocalChange(reason: checkoutError.message) }
      try commit()
      return nil
    }
    hooks.trace("checked out")
    hooks.pause(.merge)
    guard try repo.compareAndSwap(branch, to: newHead, from: current, message: message) else { return nil }
    return newHead
  }

  /// Unborn here, a branch there: takes theirs.
  private func takeTheirs(_ theirs: GitOID) throws {
    let paths = try changedPaths(nil, theirs)
    result.incoming = SyncEngine.union(result.incoming, paths)
    try repo.checkoutSafely(tree: try repo.treeID(ofCommit: theirs), paths: paths)
    _ = try repo.compareAndSwap(branch, to: theirs, from: nil, message: "kb sync: first fetch")
  }

  // MARK: 4. Push

  enum PushOutcome: Equatable {
    case pushed
    /// A teammate pushed first (the reason, for `result.rejections`).
    case rejected(String)
  }

  /// Pushes `head` to the team branch, never forced: kb's compare-and-swap push for a remote on
  /// this machine, libgit2's otherwise.
  /// - Throws: the network error (`SyncError.unreachable`, `.authenticationFailed`, …).
  func push(_ head: GitOID, attempt: Int) throws -> PushOutcome {
    if attempt == 1 { hooks.waitForPushInstant() }
    options.progress?("Pushing to \(remote.name)…")
    if let localRemotePath {
      var outcome = LocalPush.Outcome.pushed
      if let e = SyncEngine.attempt({ () throws(GitError) in
        outcome = try LocalPush.push(from: repo, commit: head, to: localRemotePath, branch: remoteRef) { hooks.pause(.push) }
      }) { throw networkError(e) }
      if case .rejected(let reason) = outcome { return .rejected(reason) }
      try repo.setReference(tracking, to: head, message: "kb sync: push")
      return .pushed
    }
    hooks.pause(.push)
    state.reset()
    var reason: String?
    if let e = SyncEngine.attempt({ () throws(GitError) in reason = try remote.push("\(branch):\(remoteRef)", state) }) {
      throw networkError(e)
    }
    return reason.map(PushOutcome.rejected) ?? .pushed
  }

  /// After a lost race: records the rejection and waits, exponentially longer with each attempt,
  /// with jitter.
  func backOff(after rejection: String, attempt: Int) {
    result.rejections.append(rejection)
    // Capped at 640 ms. A cap of 2.56 s did not help 20 agents pushing at once on a loaded
    // machine (more pending pushes, longer waits; docs/SYNC.md, "A team under load").
    let backoff = min(0.005 * pow(2.0, Double(attempt - 1)), 0.64) * Double.random(in: 0.5...1.5)
    Thread.sleep(forTimeInterval: backoff)
  }

  // MARK: 5. Finish

  /// git's `gc --auto` where packs pile up, the clean-index record for the next sync, and the
  /// result in paths relative to the knowledge base: HEAD, pending push, the paths to re-index.
  func finish() throws -> SyncResult {
    hooks.trace("pushed")
    // In the background, once packs pile up (here, and in a remote on a path this sync wrote a
    // pack into).
    Housekeeping.collectIfNeeded(repo)
    if let localRemotePath, result.pushed, !result.outgoing.isEmpty, let remote = try? GitRepository(openingExactly: localRemotePath) {
      Housekeeping.collectIfNeeded(remote)
    }
    let finalHead = try repo.resolve(branch)
    if let finalHead { repo.recordCleanIndex(head: finalHead, prefix: prefix) }
    var result = self.result
    result.head = finalHead?.description
    result.pendingPush = !result.pushed && finalHead != nil
    result.changedPaths = try changedPaths(startHead, finalHead).compactMap { SyncEngine.relative($0, prefix: prefix) }
    result.incoming = result.incoming.compactMap { SyncEngine.relative($0, prefix: prefix) }
    result.outgoing = result.outgoing.compactMap { SyncEngine.relative($0, prefix: prefix) }
    result.merged = result.merged.compactMap { f in SyncEngine.relative(f.path, prefix: prefix).map { var g = f; g.path = $0; return g } }
    result.conflicts = result.merged.filter { $0.outcome == "conflict" }
    return result
  }

  // MARK: Helpers

  /// The files that differ between two commits (`nil`: none), each pair diffed once.
  private func changes(_ old: GitOID?, _ new: GitOID?) throws(GitError) -> [GitRepository.TreeChange] {
    if let known = diffs[[old, new]] { return known }
    let changes = try repo.diff(fromCommit: old, toCommit: new)
    diffs[[old, new]] = changes
    return changes
  }

  private func changedPaths(_ old: GitOID?, _ new: GitOID?) throws(GitError) -> [String] { try changes(old, new).map(\.path) }

  /// What a failed fetch or push means for the user: unknown host, untrusted certificate,
  /// authentication, or an unreachable remote, with the local commit that keeps the work safe.
  func networkError(_ e: GitError) -> SyncError {
    let committed = result.committed
    if let host = state.unknownHost { return .unknownHost(host: host, url: displayURL, committed: committed) }
    if let host = state.untrustedCertificate {
      return .untrustedCertificate(host: host, url: displayURL, committed: committed)
    }
    if let problem = state.credentialProblem {
      return .authenticationFailed(url: displayURL, reason: problem, committed: committed)
    }
    // libgit2 says "unexpected http status code: 401"; a bare "401" would also match a path
    // (a temporary folder named …5CE27401 once made an unreachable path an auth failure).
    let message = e.message.lowercased()
    if e.code == GitError.auth || message.contains("authentication") || message.contains("status code: 401") {
      return .authenticationFailed(url: displayURL, reason: e.message, committed: committed)
    }
    if e.code == GitError.certificate {
      if displayURL.hasPrefix("https://") {
        return .untrustedCertificate(host: URL(string: displayURL)?.host ?? displayURL, url: displayURL, committed: committed)
      }
      return .unknownHost(host: displayURL, url: displayURL, committed: committed)
    }
    return .unreachable(url: displayURL, reason: e.message, committed: committed)
  }
}
