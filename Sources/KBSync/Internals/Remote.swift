import CLibgit2
import Foundation

/// What the remote callbacks need and what they report. One instance per network operation,
/// passed to libgit2 as the callbacks' payload.
final class CallbackState {
  var credentialAttempts = 0
  var rejections: [(ref: String, status: String)] = []
  /// The host whose key did not verify against known_hosts.
  var unknownHost: String?
  /// The https host whose TLS certificate did not verify against the trusted CAs.
  var untrustedCertificate: String?
  var credentialProblem: String?
  /// The ssh key sources offered so far in this operation, in order.
  var sshTried: [SSHKeySource] = []
  let environment: [String: String]
  let credentialFile: String?
  let progress: ((String) -> Void)?
  var lastProgress = Date.distantPast

  init(environment: [String: String] = ProcessInfo.processInfo.environment, credentialFile: String? = nil,
       progress: ((String) -> Void)? = nil) {
    self.environment = environment
    self.credentialFile = credentialFile
    self.progress = progress
  }

  func reset() {
    credentialAttempts = 0
    rejections = []
    unknownHost = nil
    untrustedCertificate = nil
    credentialProblem = nil
    sshTried = []
  }

  /// Sets libgit2's callbacks with `self` as payload. Keep `self` alive during the operation.
  func install(_ callbacks: inout git_remote_callbacks) {
    callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
    callbacks.credentials = Self.credentials
    callbacks.certificate_check = Self.certificateCheck
    callbacks.push_update_reference = Self.pushUpdateReference
    callbacks.transfer_progress = Self.transferProgress
  }

  static func from(_ payload: UnsafeMutableRawPointer?) -> CallbackState {
    Unmanaged<CallbackState>.fromOpaque(payload!).takeUnretainedValue()
  }

  /// ssh: the key file in `KB_SSH_KEY` when set (and only that); else the keys in ssh-agent
  /// when `SSH_AUTH_SOCK` names a live agent, then `~/.ssh/id_ed25519` (see `SSHKeySource`);
  /// https: a token from `KB_GIT_TOKEN` or the credential file. libgit2 asks again after every
  /// refusal (with the agent it would offer the same keys forever), so each ssh source is
  /// offered once, and there are at most three requests in all.
  static let credentials: git_credential_acquire_cb = { out, url, userFromURL, allowed, payload in
    let state = CallbackState.from(payload)
    state.credentialAttempts += 1
    guard state.credentialAttempts <= 3 else {
      state.credentialProblem = state.sshTried.isEmpty ? "the remote refused the credentials" : state.sshRefused()
      git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication failed")
      return GIT_EAUTH.rawValue
    }
    let user = userFromURL.map { String(cString: $0) } ?? state.token().user ?? "git"
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
      guard let source = state.sshSources().first(where: { !state.sshTried.contains($0) }) else {
        state.credentialProblem = state.sshTried.isEmpty ? state.noSSHKey() : state.sshRefused()
        git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), "no ssh key available")
        return GIT_EAUTH.rawValue
      }
      state.sshTried.append(source)
      switch source {
      case .agent:
        return git_credential_ssh_key_from_agent(out, user)
      case .explicitFile(let path), .defaultFile(let path):
        return git_credential_ssh_key_new(out, user, nil, path, state.environment["KB_SSH_PASSPHRASE"])
      }
    }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
      let (tokenUser, token) = state.token()
      if token != nil, let problem = tokenRefusal(url: url.map { String(cString: $0) } ?? "", environment: state.environment) {
        state.credentialProblem = problem
        git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "token not sent over plain http")
        return GIT_EAUTH.rawValue
      }
      guard let token else {
        state.credentialProblem = "no token: set KB_GIT_TOKEN, or put 'token = …' in .kb/credentials"
        git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "no https token available")
        return GIT_EAUTH.rawValue
      }
      return git_credential_userpass_plaintext_new(out, tokenUser ?? userFromURL.map { String(cString: $0) } ?? "x-access-token", token)
    }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
      return git_credential_username_new(out, user)
    }
    return GIT_PASSTHROUGH.rawValue
  }

  /// Why a token must not be sent to `url`, `nil` when it may: only over https, or to this
  /// machine (tests), unless `KB_GIT_ALLOW_HTTP=1` says the user accepts sending it in clear.
  static func tokenRefusal(url: String, environment: [String: String]) -> String? {
    let lower = url.lowercased()
    guard lower.hasPrefix("http://") else { return nil }
    if environment["KB_GIT_ALLOW_HTTP"] == "1" { return nil }
    let host = URL(string: url)?.host?.lowercased() ?? ""
    if ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host) || host.hasPrefix("127.") { return nil }
    return "kb sends a token only over https (this remote is plain http://\(host), where anyone on the way could read it); use an https URL, or set KB_GIT_ALLOW_HTTP=1 to send it anyway"
  }

  /// Where an ssh key may come from, in the order they are offered.
  enum SSHKeySource: Equatable {
    /// `KB_SSH_KEY`: the user chose this file, so nothing else is offered.
    case explicitFile(String)
    /// The keys held by the ssh-agent at `SSH_AUTH_SOCK` (libssh2 offers each in turn).
    case agent
    /// `~/.ssh/id_ed25519`.
    case defaultFile(String)
  }

  /// `KB_SSH_KEY` if set; else the agent (when `SSH_AUTH_SOCK` accepts a connection), then
  /// `~/.ssh/id_ed25519` if it exists.
  func sshSources() -> [SSHKeySource] {
    if let file = environment["KB_SSH_KEY"], !file.isEmpty {
      return FileManager.default.fileExists(atPath: file) ? [.explicitFile(file)] : []
    }
    var sources: [SSHKeySource] = []
    if let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty, Self.agentAnswers(at: socket) { sources.append(.agent) }
    let file = (environment["HOME"] ?? NSHomeDirectory()) + "/.ssh/id_ed25519"
    if FileManager.default.fileExists(atPath: file) { sources.append(.defaultFile(file)) }
    return sources
  }

  /// Why no key could be offered. Names variables and the standard file, never a socket path.
  func noSSHKey() -> String {
    if let file = environment["KB_SSH_KEY"], !file.isEmpty {
      return "KB_SSH_KEY names a key file that does not exist"
    }
    let socket = environment["SSH_AUTH_SOCK"].map { !$0.isEmpty } ?? false
    return socket
      ? "no ssh key: no ssh-agent answers at SSH_AUTH_SOCK and there is no ~/.ssh/id_ed25519; start ssh-agent and add your key (ssh-add), or set KB_SSH_KEY to an ed25519 key file"
      : "no ssh key: start ssh-agent and add your key (ssh-add), or set KB_SSH_KEY to an ed25519 key file"
  }

  /// What was offered and refused.
  func sshRefused() -> String {
    let names = sshTried.map { source -> String in
      switch source {
      case .explicitFile: return "the key file in KB_SSH_KEY"
      case .agent: return "the keys in ssh-agent (see 'ssh-add -l')"
      case .defaultFile: return "~/.ssh/id_ed25519"
      }
    }
    return "the server accepted none of the ssh keys offered: " + names.joined(separator: ", then ")
  }

  /// Whether something accepts connections on the agent's Unix socket (a stale SSH_AUTH_SOCK
  /// would otherwise end the connection with libssh2's "failed connecting with agent").
  static func agentAnswers(at path: String) -> Bool {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
      }
    }
  }

  /// `KB_GIT_TOKEN` (and `KB_GIT_USER`), else `token = …` / `username = …` lines in the
  /// credential file. Never printed.
  func token() -> (user: String?, token: String?) {
    if let t = environment["KB_GIT_TOKEN"], !t.isEmpty { return (environment["KB_GIT_USER"], t) }
    var st = stat()
    // Never through a symbolic link (one planted or committed could lead anywhere).
    guard let file = credentialFile, lstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
      let text = try? String(contentsOfFile: file, encoding: .utf8)
    else { return (nil, nil) }
    var user: String?, token: String?
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2 else { continue }
      if parts[0] == "token" { token = parts[1] }
      if parts[0] == "username" { user = parts[1] }
    }
    return (user, token)
  }

  /// Keeps libgit2's verdict (known_hosts for ssh, the CA bundle for https) and remembers an
  /// unknown host or an untrusted certificate for the error message. Never accepts an
  /// unverified host.
  static let certificateCheck: git_transport_certificate_check_cb = { cert, valid, host, payload in
    let state = CallbackState.from(payload)
    if valid == 0 {
      let name = host.map { String(cString: $0) } ?? "the remote host"
      if cert?.pointee.cert_type == GIT_CERT_X509 { state.untrustedCertificate = name } else { state.unknownHost = name }
    }
    return GIT_PASSTHROUGH.rawValue
  }

  /// A server-side rejection arrives here while `git_remote_push` returns 0.
  static let pushUpdateReference: git_push_update_reference_cb = { refname, status, payload in
    let state = CallbackState.from(payload)
    if let status {
      state.rejections.append((refname.map { String(cString: $0) } ?? "?", String(cString: status)))
    }
    return 0
  }

  static let transferProgress: git_indexer_progress_cb = { stats, payload in
    let state = CallbackState.from(payload)
    guard let progress = state.progress, let stats = stats?.pointee, stats.total_objects > 200 else { return 0 }
    let now = Date()
    if now.timeIntervalSince(state.lastProgress) > 0.2 || stats.received_objects == stats.total_objects {
      state.lastProgress = now
      progress("Receiving objects \(stats.received_objects)/\(stats.total_objects)")
    }
    return 0
  }
}

/// The remote `origin` of a repository.
final class GitRemote {
  let handle: GitHandle
  let name: String
  let url: String

  init(_ repository: GitRepository, name: String) throws(GitError) {
    handle = GitHandle(try make("git_remote_lookup") { git_remote_lookup(&$0, repository.pointer, name) }, free: git_remote_free)
    self.name = name
    url = git_remote_url(handle.pointer).map { String(cString: $0) } ?? ""
  }

  func fetch(_ state: CallbackState) throws(GitError) {
    var options = git_fetch_options()
    git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
    // No FETCH_HEAD: kb does not read it, and libgit2 writes the remote's URL into it.
    options.update_fetchhead = 0
    state.install(&options.callbacks)
    try withExtendedLifetime(state) { () throws(GitError) in
      try check("git_remote_fetch", git_remote_fetch(handle.pointer, nil, &options, "kb sync: fetch"))
    }
  }

  /// `git push` of `refspec` without `+`. Returns the rejection reason, `nil` when accepted.
  func push(_ refspec: String, _ state: CallbackState) throws(GitError) -> String? {
    var options = git_push_options()
    git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION))
    state.install(&options.callbacks)
    let code = withExtendedLifetime(state) { () -> Int32 in
      (try? withStrArray([refspec]) { (array) throws(GitError) -> Int32 in git_remote_push(handle.pointer, array, &options) }) ?? -1
    }
    if code == GitError.nonFastForward { return lastError("git_remote_push", code).message }
    try check("git_remote_push", code)
    if let r = state.rejections.first { return "\(r.ref): \(r.status)" }
    return nil
  }

  /// The local file-system path of a path or `file://` remote, `nil` for network remotes.
  static func localPath(of url: String, relativeTo base: String) -> String? {
    if url.hasPrefix("file://") {
      let rest = String(url.dropFirst("file://".count))
      return rest.removingPercentEncoding ?? rest
    }
    if url.contains("://") { return nil }
    // scp-like ssh: user@host:path or host:path (a colon before any slash)
    if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") { return nil }
    return url.hasPrefix("/") ? url : URL(fileURLWithPath: base).appendingPathComponent(url).standardizedFileURL.path
  }
}

/// A push to a bare repository on this machine that moves the remote branch with a
/// compare-and-swap, which libgit2 1.5's local transport does not do (it overwrites the branch
/// with whatever it saw at connect time; see SYNC-NOTES §0.4 and §1.10).
enum LocalPush {
  enum Outcome: Equatable { case pushed, rejected(String) }

  static func push(from local: GitRepository, commit: GitOID, to remotePath: String, branch: String,
                   pauseBeforeUpdate: () -> Void) throws(GitError) -> Outcome {
    let remote = try GitRepository(openingExactly: remotePath)
    guard git_repository_is_bare(remote.pointer) == 1 else {
      throw GitError(code: -1, function: "local push", message: "'\(remotePath)' is not a bare repository; a shared remote must be bare (git init --bare)")
    }
    let old = try remote.resolve(branch)
    if let old {
      if old == commit { return .pushed }
      guard local.hasObject(old), local.isDescendant(commit, of: old) else {
        return .rejected("the remote branch moved (non-fast-forward)")
      }
    }
    // Pack exactly the objects the remote lacks, straight into its object store.
    let objects = try local.newObjects(tips: [commit], hiding: old.map { [$0] } ?? [])
    try local.writePack(of: objects, into: remote.gitDirectory + "/objects", durable: fsyncEnabled)
    pauseBeforeUpdate()
    // The objects are there; a fresh handle sees the new pack.
    let fresh = try GitRepository(openingExactly: remotePath)
    guard try fresh.compareAndSwap(branch, to: commit, from: old, message: "push (kb sync)") else {
      return .rejected("failed to update ref: the remote branch moved")
    }
    return .pushed
  }
}

extension GitRemote {
  /// Connects and lists what the remote advertises (no objects are transferred).
  func advertised(_ state: CallbackState) throws(GitError) -> TeamBranch.Advertised {
    var callbacks = git_remote_callbacks()
    git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
    state.install(&callbacks)
    return try withExtendedLifetime(state) { () throws(GitError) -> TeamBranch.Advertised in
      try check("git_remote_connect", git_remote_connect(handle.pointer, GIT_DIRECTION_FETCH, &callbacks, nil, nil))
      defer { git_remote_disconnect(handle.pointer) }
      var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
      var count = 0
      try check("git_remote_ls", git_remote_ls(&heads, &count, handle.pointer))
      var result = TeamBranch.Advertised(head: nil, branches: [])
      for i in 0..<count {
        guard let head = heads?[i]?.pointee, let cName = head.name else { continue }
        let name = String(cString: cName)
        if name == "HEAD", let target = head.symref_target.map({ String(cString: $0) }), target.hasPrefix("refs/heads/") {
          result.head = String(target.dropFirst(11))
        } else if name.hasPrefix("refs/heads/") {
          result.branches.append(String(name.dropFirst(11)))
        }
      }
      result.branches.sort()
      return result
    }
  }
}
