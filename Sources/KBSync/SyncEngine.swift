import Foundation
import KBCore

/// Why a sync (or another repository command) failed. `description` is for people.
public enum SyncError: Error, Equatable, CustomStringConvertible {
  case notARepository(path: String)
  case detachedHead
  case noRemote(name: String)
  case noIdentity
  /// The remote could not be reached. `committed` is the local commit that keeps the work safe.
  case unreachable(url: String, reason: String, committed: String?)
  case authenticationFailed(url: String, reason: String, committed: String?)
  case unknownHost(host: String, url: String, committed: String?)
  /// https: the server's TLS certificate is not signed by a trusted CA (or names another host).
  case untrustedCertificate(host: String, url: String, committed: String?)
  /// A file changed in the work tree while sync was merging, more than once in a row.
  case blockedByLocalChange(reason: String)
  case locked(waited: Double)
  /// Syncing would create a branch on the remote beside the ones it has (the team would split).
  case secondBranch(local: String, url: String, existing: [String], head: String?)
  /// A git lock file (such as `.git/index.lock`) that no killed `kb sync` left: git may be running.
  case gitLocked(path: String)
  case git(GitError)

  public var description: String { KBRepository.scrubCredentials(in: rawDescription) }

  private var rawDescription: String {
    func safe(_ c: String?) -> String {
      c.map { " Your changes are committed locally (\($0.prefix(8))) and nothing was lost; run 'kb sync' again later." }
        ?? " Nothing was lost."
    }
    switch self {
    case .notARepository(let path):
      return "'\(path)' is not inside a git repository. Run 'kb init' there, or 'kb clone URL' to start from a team's remote."
    case .detachedHead:
      return "The repository is not on a branch (detached HEAD). Check out a branch, e.g. 'git switch main', then run 'kb sync'."
    case .noRemote(let name):
      return "No remote '\(name)' is configured. Add the team's remote with 'git remote add \(name) URL', then run 'kb sync'."
    case .noIdentity:
      return "No identity configured: set 'git config user.name \"Your Name\"' and 'git config user.email you@example.com', or write 'name = …' and 'email = …' in .kb/identity. Commits are signed by the person who made them, never by a shared account."
    case .unreachable(let url, let reason, let committed):
      return "Could not reach the remote \(url): \(reason).\(safe(committed))"
    case .authenticationFailed(let url, let reason, let committed):
      let ssh = "kb offers KB_SSH_KEY if set, else ssh-agent's keys (SSH_AUTH_SOCK), then ~/.ssh/id_ed25519; use ed25519 keys."
      let https = "kb takes the token from KB_GIT_TOKEN, else from 'token = …' in .kb/credentials."
      let scpLike = !url.contains("://") && GitRemote.localPath(of: url, relativeTo: "/") == nil
      let isSSH = scpLike || ["ssh://", "ssh+git://", "git+ssh://"].contains { url.hasPrefix($0) }
      let hint = url.hasPrefix("https://") || url.hasPrefix("http://") ? https
        : isSSH ? ssh : "For ssh use an ed25519 key in ssh-agent or KB_SSH_KEY; for https set KB_GIT_TOKEN or .kb/credentials."
      return "Authentication to \(url) failed: \(reason). \(hint)\(safe(committed))"
    case .unknownHost(let host, let url, let committed):
      return "The host key of \(host) (\(url)) is not in ~/.ssh/known_hosts, so kb will not connect. Check the key with your administrator, then add it: ssh-keyscan -t ed25519 \(host) >> ~/.ssh/known_hosts.\(safe(committed))"
    case .untrustedCertificate(let host, let url, let committed):
      let ip = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
      let hint = ip
        ? "Use the server's DNS name, not an IP address (the certificate check of this libgit2 build fails on IP addresses)."
        : "If your team's server uses a private CA or a self-signed certificate, set KB_SSL_CA_FILE to its PEM file."
      let loadProblem = sslCAFileProblem.map { " (\($0))" } ?? ""
      return "The TLS certificate of \(host) (\(url)) is not trusted, so kb will not connect. \(hint)\(loadProblem)\(safe(committed))"
    case .blockedByLocalChange(let reason):
      return "Files changed while kb sync was merging (\(reason)). Your changes are committed locally; run 'kb sync' again."
    case .locked(let waited):
      return "Another kb sync is running on this knowledge base (waited \(Int(waited.rounded())) s). Try again when it has finished."
    case .secondBranch(let local, let url, let existing, let head):
      let list = existing.map { "'\($0)'" }.joined(separator: ", ")
      let headNote = head.map { " and its HEAD names '\($0)', which does not exist" } ?? " and its HEAD names none of them"
      return "The remote \(url) has the branches \(list) but none named '\(local)'\(headNote). kb will not create a second branch beside them: the team would be split in two without anyone being told. Choose the team's branch and sync with it: 'git config branch.\(local).remote origin' and 'git config branch.\(local).merge refs/heads/BRANCH' (or, on the remote, 'git symbolic-ref HEAD refs/heads/BRANCH'), then run 'kb sync' again. Your changes are committed locally and nothing was pushed or lost."
    case .gitLocked(let path):
      return "\(path) exists: another git command is running in this repository, or one crashed. kb did not remove it because no killed kb sync left it. If no git command is running, remove it ('rm \(path)') and run 'kb sync' again. Nothing was lost."
    case .git(let e):
      return "git: \(e.message)"
    }
  }
}

/// Settings of one sync.
public struct SyncOptions: Sendable {
  /// Push attempts before giving up and leaving the work committed locally ("pending push").
  public var maxAttempts = 12
  public var remoteName = "origin"
  /// Where an https token may be kept (`token = …`), e.g. `.kb/credentials`.
  public var credentialFile: String?
  /// Where to pause for crash tests (`KB_SYNC_PAUSE_AT`): commit, fetch, merge or push.
  public var pauseAt: String?
  public var pauseSeconds: Double = 60
  /// For race tests (`KB_SYNC_PUSH_AT`, seconds since 1970): the first push waits for this
  /// instant, so that several processes push at once.
  public var pushAt: Double?
  /// Progress lines (the CLI shows them on a terminal only).
  public var progress: (@Sendable (String) -> Void)?
  /// When a `kb sync` that was killed (it left its record in kb's lock) had started: git lock
  /// files from then on are its leftovers and are removed (see `GitLocks`).
  public var deadSyncStarted: Date?

  public init() {}

  /// Options from the environment: `KB_SYNC_ATTEMPTS`, `KB_SYNC_PAUSE_AT`, `KB_SYNC_PAUSE_SECONDS`.
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> SyncOptions {
    var o = SyncOptions()
    if let n = env["KB_SYNC_ATTEMPTS"].flatMap(Int.init), n > 0 { o.maxAttempts = n }
    o.pauseAt = env["KB_SYNC_PAUSE_AT"].flatMap { $0.isEmpty ? nil : $0 }
    if let s = env["KB_SYNC_PAUSE_SECONDS"].flatMap(Double.init) { o.pauseSeconds = s }
    o.pushAt = env["KB_SYNC_PUSH_AT"].flatMap(Double.init)
    return o
  }
}

/// What a sync did. Paths are relative to the knowledge base root.
public struct SyncResult: Codable, Equatable, Sendable {
  /// The remote's URL, without a password.
  public var remote: String
  /// The local branch.
  public var branch: String
  /// The remote's branch this one syncs with (the one its HEAD names, see `TeamBranch`).
  public var remoteBranch: String?
  /// The commit made from local changes, if there were any.
  public var committed: String?
  /// Paths changed by teammates that came in.
  public var incoming: [String] = []
  /// Paths changed here that went out (or wait to go out).
  public var outgoing: [String] = []
  /// Files changed on both sides and merged.
  public var merged: [MergedFile] = []
  /// Files where both versions were kept with markers (also in `merged`).
  public var conflicts: [MergedFile] = []
  public var pushed: Bool = false
  /// True when the work is committed locally but could not be pushed after every attempt.
  public var pendingPush: Bool = false
  public var attempts: Int = 0
  /// Push rejections seen on the way (lost races), for the curious.
  public var rejections: [String] = []
  public var head: String?
  /// Paths under the knowledge base that differ between HEAD before the sync (before the local
  /// commit) and after it: the tree diff to re-index.
  public var changedPaths: [String] = []
  /// What the user should know besides (a stale git lock removed, …).
  public var warnings: [String] = []
}

/// `kb sync`: commit local changes, fetch, merge in memory, check out safely, move the branch with
/// a compare-and-swap, push without force, retry with backoff and jitter.
///
/// The caller holds the knowledge base's lock. Not thread-safe: one engine per sync.
public struct SyncEngine {
  public let kbRoot: String
  public var merger: any DocumentMerger
  public var options: SyncOptions

  public init(kbRoot: String, merger: any DocumentMerger = SyncMerger.default, options: SyncOptions = SyncOptions()) {
    self.kbRoot = kbRoot
    self.merger = merger
    self.options = options
  }

  public func sync(name: String, email: String) throws(SyncError) -> SyncResult {
    do {
      return try run(Signature(name: name, email: email))
    } catch let e as SyncError {
      throw e
    } catch let e as GitError {
      throw .git(e)
    } catch {
      throw .git(GitError(code: -1, function: "sync", message: "\(error)"))
    }
  }

  /// `KB_SYNC_TRACE=1`: each step's time (wall since the first step; CPU of the process and of
  /// the thread that took the step, since they started) on stderr.
  private static let traceStart: Date? = ProcessInfo.processInfo.environment["KB_SYNC_TRACE"] == nil ? nil : Date()
  public static func trace(_ step: @autoclosure () -> String) {
    guard let start = traceStart else { return }
    func ms(_ clock: clockid_t) -> Int {
      var t = timespec()
      clock_gettime(clock, &t)
      return t.tv_sec * 1000 + t.tv_nsec / 1_000_000
    }
    FileHandle.standardError.write(
      Data(
        "kb sync: \(Int(Date().timeIntervalSince(start) * 1000)) ms (cpu \(ms(CLOCK_PROCESS_CPUTIME_ID)) ms, this thread \(ms(CLOCK_THREAD_CPUTIME_ID)) ms) \(step())\n"
          .utf8))
  }

  private func pause(_ point: String) {
    guard options.pauseAt == point else { return }
    FileHandle.standardError.write(Data("kb sync: paused at \(point)\n".utf8))
    Thread.sleep(forTimeInterval: options.pauseSeconds)
  }

  private func run(_ author: Signature) throws -> SyncResult {
    Self.trace("start")
    let (repo, prefix) = try Self.open(kbRoot)
    Self.trace("opened")
    guard let branch = try repo.headBranch() else { throw SyncError.detachedHead }
    let remote: GitRemote
    do { remote = try GitRemote(repo, name: options.remoteName) } catch { throw SyncError.noRemote(name: options.remoteName) }
    let shortBranch = branch.hasPrefix("refs/heads/") ? String(branch.dropFirst("refs/heads/".count)) : branch
    // Never the password of a URL in a message, JSON or log.
    let displayURL = KBRepository.redacted(remote.url)
    var result = SyncResult(remote: displayURL, branch: shortBranch)
    let state = CallbackState(credentialFile: options.credentialFile, progress: options.progress)
    func networkError(_ e: GitError) -> SyncError {
      if let host = state.unknownHost { return .unknownHost(host: host, url: displayURL, committed: result.committed) }
      if let host = state.untrustedCertificate {
        return .untrustedCertificate(host: host, url: displayURL, committed: result.committed)
      }
      if let problem = state.credentialProblem {
        return .authenticationFailed(url: displayURL, reason: problem, committed: result.committed)
      }
      // libgit2 says "unexpected http status code: 401"; a bare "401" would also match a path
      // (a temporary folder named …5CE27401 once made an unreachable path an auth failure).
      let message = e.message.lowercased()
      if e.code == GitError.auth || message.contains("authentication") || message.contains("status code: 401") {
        return .authenticationFailed(url: displayURL, reason: e.message, committed: result.committed)
      }
      if e.code == GitError.certificate {
        if displayURL.hasPrefix("https://") {
          return .untrustedCertificate(host: URL(string: displayURL)?.host ?? displayURL, url: displayURL, committed: result.committed)
        }
        return .unknownHost(host: displayURL, url: displayURL, committed: result.committed)
      }
      return .unreachable(url: displayURL, reason: e.message, committed: result.committed)
    }

    let localRemotePath = GitRemote.localPath(of: remote.url, relativeTo: repo.workdir ?? kbRoot)
    // Git lock files a killed kb sync left behind (kb's own lock tells which ones).
    result.warnings += try GitLocks.clearStale(gitDirectory: repo.gitDirectory, since: options.deadSyncStarted)

    // 1. Make local edits durable first.
    let commitLocal = { () throws -> GitOID? in
      // The last sync left the index equal to HEAD and nothing but stat data changed since:
      // nothing to commit, and no tree of every document to write to find that out.
      let head = try repo.resolve(branch)
      let wasClean = head.map { repo.isIndexRecordedClean(head: $0, prefix: prefix) } ?? false
      let staged = try repo.stageAll(prefix: prefix)
      Self.trace("staged (\(staged.rehashed.count) re-hashed, \(staged.modified.count) modified, \(staged.added.count) new, \(staged.removed.count) gone)")
      if wasClean, !staged.changesContent, let head {
        if !staged.isEmpty { repo.recordCleanIndex(head: head, prefix: prefix) }
        return nil
      }
      return try repo.commitIndex(prefix: prefix, message: { Self.commitMessage($0, prefix: prefix, author: author) }, author: author)
    }
    // The same pair of commits is often diffed twice or three times (a fast-forward's incoming
    // paths, its checkout, the re-index list): once is enough.
    var diffs: [[GitOID?]: [GitRepository.TreeChange]] = [:]
    func changes(_ old: GitOID?, _ new: GitOID?) throws(GitError) -> [GitRepository.TreeChange] {
      if let known = diffs[[old, new]] { return known }
      let changes = try repo.diff(fromCommit: old, toCommit: new)
      diffs[[old, new]] = changes
      return changes
    }
    func changedPaths(_ old: GitOID?, _ new: GitOID?) throws(GitError) -> [String] { try changes(old, new).map(\.path) }

    pause("commit")
    // HEAD before the local commit: the re-index covers local edits made outside kb too.
    let startHead = try repo.resolve(branch)
    // The remote branch this one syncs with (see TeamBranch): recorded after the first sync;
    // before it, asked of the remote once the local edits are committed.
    var teamBranch = TeamBranch.upstream(repo, local: shortBranch, remote: remote.name)
    let recordedTeamBranch = teamBranch != nil
    if teamBranch == nil {
      if let c = try commitLocal() { result.committed = c.description }
      state.reset()
      do {
        teamBranch = try TeamBranch.resolve(
          repo: repo, remote: remote, local: shortBranch, localRemotePath: localRemotePath, state: state).branch
      } catch let e as GitError {
        throw networkError(e)
      }
    }
    let remoteBranch = teamBranch ?? shortBranch
    let remoteRef = "refs/heads/" + remoteBranch
    let tracking = "refs/remotes/\(remote.name)/\(remoteBranch)"
    result.remoteBranch = remoteBranch
    /// One fetch into `handle`: in process from a path or `file://` remote, else libgit2's
    /// (with its per-file fsyncs batched, which changes a global libgit2 option, so only when
    /// nothing runs beside it).
    /// Returns, when a local fetch brought one commit on top of `base`, the files it changes.
    @discardableResult
    func fetch(into handle: GitRepository, batchFsync: Bool, base: GitOID? = nil) throws(GitError) -> [GitRepository.TreeChange]? {
      if let localRemotePath {
        return try LocalFetch.fetch(into: handle, from: localRemotePath, branch: remoteRef, tracking: tracking, base: base).changes
      }
      let remote = try GitRemote(handle, name: options.remoteName)
      guard batchFsync else { try remote.fetch(state); return nil }
      try withBatchedFsync(packFolder: handle.gitDirectory + "/objects/pack") { () throws(GitError) in try remote.fetch(state) }
      return nil
    }

    // The first fetch runs beside the local commit: it only adds objects and moves
    // refs/remotes/<remote>/<branch>, which the commit does not touch, and both end before the
    // merge. It has its own handle on the repository (a libgit2 handle must not be shared between
    // threads), opened here, before the thread starts, like this handle's object database, so that
    // no global libgit2 option changes while the two run.
    let fetchHandle = try Self.open(kbRoot).0
    repo.loadObjectDatabase()
    options.progress?("Fetching from \(remote.name)…")
    state.reset()
    // Beside the commit too: what came in relative to HEAD, which is also what a fast-forward
    // checks out and re-indexes when there was nothing to commit (20 ms at 100k documents).
    final class Incoming: @unchecked Sendable { var diff: (GitOID, GitOID, [GitRepository.TreeChange])? }
    let incoming = Incoming()
    let firstFetch = BackgroundTask { () throws(GitError) in
      pause("fetch")
      let walked = try fetch(into: fetchHandle, batchFsync: false, base: startHead)
      Self.trace("fetched (beside the commit)")
      // Best effort: the merge step computes it again if this did not work out.
      if let startHead, let theirs = try? fetchHandle.resolve(tracking), theirs != startHead,
        let changes = walked ?? (try? fetchHandle.diff(fromCommit: startHead, toCommit: theirs))
      {
        incoming.diff = (startHead, theirs, changes)
        Self.trace("incoming diff (beside the commit)")
      }
    }
    let committed = Result { try commitLocal() }
    let firstFetchError = firstFetch.wait()
    if let (old, new, changes) = incoming.diff { diffs[[old, new]] = changes }
    if let c = try committed.get() { result.committed = c.description }
    if !recordedTeamBranch, firstFetchError == nil {
      TeamBranch.record(repo, local: shortBranch, remote: remote.name, branch: remoteBranch)
    }
    Self.trace("committed")

    var blocked = 0
    for attempt in 1...options.maxAttempts {
      result.attempts = attempt
      // 2. Fetch (the first one ran beside the commit).
      if attempt == 1 {
        if let e = firstFetchError { throw networkError(e) }
      } else {
        pause("fetch")
        options.progress?("Fetching from \(remote.name)…")
        state.reset()
        if let e = Self.attempt({ () throws(GitError) in try fetch(into: repo, batchFsync: true) }) { throw networkError(e) }
        Self.trace("fetched")
      }
      let theirs = try repo.resolve(tracking)
      var ours = try repo.resolve(branch)

      // 3. Up to date, fast-forward or merge; the branch moves last, with a CAS.
      if let theirs {
        let base = ours.flatMap { repo.mergeBase($0, theirs) }
        if let current = ours, current != theirs, !repo.isDescendant(current, of: theirs) {
          Self.trace("graph")
          result.incoming = Self.union(result.incoming, try changedPaths(base, theirs))
          Self.trace("incoming diff")
          var newHead: GitOID
          var message: String
          if repo.isDescendant(theirs, of: current) {
            newHead = theirs
            message = "kb sync: fast-forward"
          } else {
            options.progress?("Merging…")
            let merge = try repo.mergeInMemory(ours: current, theirs: theirs, merger: merger)
            for f in merge.files where !result.merged.contains(where: { $0.path == f.path }) { result.merged.append(f) }
            newHead = try repo.createCommit(
              updating: nil, message: "kb sync: merge \(remote.name)/\(remoteBranch)\n\n" + Self.mergeSummary(merge.files),
              tree: merge.tree, parents: [current, theirs], author: author)
            message = "kb sync: merge"
          }
          let update = try changes(current, newHead)
          Self.trace("diffed")
          let checkoutError = Self.attempt { () throws(GitError) in
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
            if let c = try commitLocal() { result.committed = c.description }
            continue
          }
          Self.trace("checked out")
          pause("merge")
          guard try repo.compareAndSwap(branch, to: newHead, from: current, message: message) else { continue }
          ours = newHead
        }
      } else if ours == nil {
        break  // nothing here, nothing there
      }
      guard let head = ours else {
        // Unborn here, a branch there: take theirs.
        guard let theirs else { break }
        let paths = try changedPaths(nil, theirs)
        result.incoming = Self.union(result.incoming, paths)
        try repo.checkoutSafely(tree: try repo.treeID(ofCommit: theirs), paths: paths)
        _ = try repo.compareAndSwap(branch, to: theirs, from: nil, message: "kb sync: first fetch")
        continue
      }
      let base = theirs.flatMap { repo.mergeBase(head, $0) }
      Self.trace("merged")
      result.outgoing = Self.union(result.outgoing, try changedPaths(base, head))
      if head == theirs { result.pushed = true; break }  // nothing to push

      // 4. Push, never forced.
      if attempt == 1, let at = options.pushAt {
        let wait = at - Date().timeIntervalSince1970
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
      }
      options.progress?("Pushing to \(remote.name)…")
      let rejection: String?
      if let localRemotePath {
        var outcome = LocalPush.Outcome.pushed
        if let e = Self.attempt({ () throws(GitError) in
          outcome = try LocalPush.push(from: repo, commit: head, to: localRemotePath, branch: remoteRef) { pause("push") }
        }) { throw networkError(e) }
        if case .rejected(let r) = outcome { rejection = r } else {
          rejection = nil
          try repo.setReference(tracking, to: head, message: "kb sync: push")
        }
      } else {
        pause("push")
        state.reset()
        var reason: String?
        if let e = Self.attempt({ () throws(GitError) in reason = try remote.push("\(branch):\(remoteRef)", state) }) {
          throw networkError(e)
        }
        rejection = reason
      }
      if let rejection {
        result.rejections.append(rejection)
        // Capped at 640 ms. A cap of 2.56 s did not help 20 agents pushing at once on a loaded
        // machine (more pending pushes, longer waits; docs/SYNC.md, "A team under load").
        let backoff = min(0.005 * pow(2.0, Double(attempt - 1)), 0.64) * Double.random(in: 0.5...1.5)
        Thread.sleep(forTimeInterval: backoff)
        continue
      }
      result.pushed = true
      break
    }
    Self.trace("pushed")
    // git's `gc --auto`, in the background, once packs pile up (here, and in a remote on a path
    // this sync wrote a pack into).
    Housekeeping.collectIfNeeded(repo)
    if let localRemotePath, result.pushed, !result.outgoing.isEmpty, let remote = try? GitRepository(openingExactly: localRemotePath) {
      Housekeeping.collectIfNeeded(remote)
    }
    let finalHead = try repo.resolve(branch)
    if let finalHead { repo.recordCleanIndex(head: finalHead, prefix: prefix) }
    result.head = finalHead?.description
    result.pendingPush = !result.pushed && finalHead != nil
    result.changedPaths = try changedPaths(startHead, finalHead).compactMap { Self.relative($0, prefix: prefix) }
    result.incoming = result.incoming.compactMap { Self.relative($0, prefix: prefix) }
    result.outgoing = result.outgoing.compactMap { Self.relative($0, prefix: prefix) }
    result.merged = result.merged.compactMap { f in Self.relative(f.path, prefix: prefix).map { var g = f; g.path = $0; return g } }
    result.conflicts = result.merged.filter { $0.outcome == "conflict" }
    return result
  }

  /// Runs `body` and returns its error instead of throwing it.
  static func attempt(_ body: () throws(GitError) -> Void) -> GitError? {
    do { try body(); return nil } catch { return error }
  }

  static func union(_ a: [String], _ b: [String]) -> [String] { Array(Set(a).union(b)).sorted() }

  /// A repository path relative to the KB root, `nil` when outside it.
  static func relative(_ path: String, prefix: String) -> String? {
    if prefix.isEmpty { return path }
    return path.hasPrefix(prefix + "/") ? String(path.dropFirst(prefix.count + 1)) : nil
  }

  /// Opens the repository that holds `kbRoot` and returns the KB's folder relative to its work tree.
  static func open(_ kbRoot: String) throws -> (GitRepository, String) {
    let repo: GitRepository
    do { repo = try GitRepository(discovering: kbRoot) } catch { throw SyncError.notARepository(path: kbRoot) }
    repo.loadRefsWithoutFsync()
    guard let workdir = repo.workdir else { throw SyncError.notARepository(path: kbRoot) }
    let real = { (p: String) in URL(fileURLWithPath: p).resolvingSymlinksInPath().path }
    let w = real(workdir), k = real(kbRoot)
    let prefix = k == w ? "" : (k.hasPrefix(w + "/") ? String(k.dropFirst(w.count + 1)) : "")
    return (repo, prefix)
  }

  static func commitMessage(_ changes: [GitRepository.TreeChange], prefix: String, author: Signature) -> String {
    let n = changes.count
    var lines = ["kb: \(n) document\(n == 1 ? "" : "s") changed by \(author.name)", ""]
    for c in changes.prefix(50) { lines.append("- \(c.kind.rawValue) \(relative(c.path, prefix: prefix) ?? c.path)") }
    if n > 50 { lines.append("- … and \(n - 50) more") }
    return lines.joined(separator: "\n") + "\n"
  }

  static func mergeSummary(_ files: [MergedFile]) -> String {
    files.map { "- \($0.outcome) \($0.path)" + ($0.details.isEmpty ? "" : ": " + $0.details.joined(separator: "; ")) }
      .joined(separator: "\n") + "\n"
  }
}

/// Runs `body` on a thread of its own; `wait()` returns its error.
final class BackgroundTask: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var error: GitError?

  init(_ body: @escaping () throws(GitError) -> Void) {
    final class Body: @unchecked Sendable {
      let run: () throws(GitError) -> Void
      init(_ run: @escaping () throws(GitError) -> Void) { self.run = run }
    }
    let work = Body(body)
    let thread = Thread { [self] in
      self.error = SyncEngine.attempt(work.run)
      self.done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// Waits for the end of `body` (once).
  func wait() -> GitError? {
    done.wait()
    return error
  }
}
