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
  /// Progress lines (the CLI shows them on a terminal only).
  public var progress: (@Sendable (String) -> Void)?
  /// When a `kb sync` that was killed (it left its record in kb's lock) had started: git lock
  /// files from then on are its leftovers and are removed (see `GitLocks`).
  public var deadSyncStarted: Date?

  public init() {}

  /// The options `environment` sets: `KB_SYNC_ATTEMPTS`. (Test hooks are ``SyncHooks``.)
  public static func fromEnvironment(_ environment: [String: String]) -> SyncOptions {
    var o = SyncOptions()
    if let n = environment["KB_SYNC_ATTEMPTS"].flatMap(Int.init), n > 0 { o.maxAttempts = n }
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
/// The steps (commit, fetch, integrate, push, finish) are ``SyncRun``'s; `run` calls them in
/// order. The caller holds the knowledge base's lock and hands in the test hooks (the engine
/// reads no environment). Not thread-safe: one engine per sync.
public struct SyncEngine {
  public let kbRoot: String
  public var merger: any DocumentMerger
  public var options: SyncOptions
  public var hooks: SyncHooks

  public init(
    kbRoot: String, merger: any DocumentMerger = SyncMerger.default, options: SyncOptions = SyncOptions(),
    hooks: SyncHooks = SyncHooks()
  ) {
    self.kbRoot = kbRoot
    self.merger = merger
    self.options = options
    self.hooks = hooks
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

  /// The steps in order: commit (beside the first fetch), then fetch, integrate and push until a
  /// push lands, the two sides agree, or the attempts run out; then finish.
  private func run(_ author: Signature) throws -> SyncResult {
    hooks.trace("start")
    let sync = try SyncRun(kbRoot: kbRoot, author: author, merger: merger, options: options, hooks: hooks)
    try sync.prepare()
    let firstFetchError = try sync.commitBesideFirstFetch()
    attempts: for attempt in 1...options.maxAttempts {
      sync.result.attempts = attempt
      if attempt == 1 {
        if let e = firstFetchError { throw sync.networkError(e) }
      } else {
        try sync.fetch()
      }
      switch try sync.integrate() {
      case .again:
        continue
      case .nothingAnywhere:
        break attempts
      case .inSync:
        sync.result.pushed = true  // nothing to push
        break attempts
      case .push(let head):
        switch try sync.push(head, attempt: attempt) {
        case .pushed:
          sync.result.pushed = true
          break attempts
        case .rejected(let reason):
          sync.backOff(after: reason, attempt: attempt)
        }
      }
    }
    return try sync.finish()
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
