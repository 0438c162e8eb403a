import Foundation

/// The one branch a team shares, whatever the local branch is called.
///
/// A folder `git init`-ed before `kb init` may be on `master` while the team's remote names
/// `main` in its HEAD; pushing `master` there would start a second branch beside the team's, and
/// nobody would be told. So `kb sync` syncs with the branch the remote's HEAD names (or, when the
/// remote says nothing, the only branch it has, else a branch named like the local one), records
/// that choice as the local branch's upstream (`branch.<name>.merge`, as `git clone` does), and
/// refuses to create a branch beside existing ones.
enum TeamBranch {
  /// What a remote advertises: the branch its HEAD names (when it says) and its branches (short names).
  struct Advertised: Equatable {
    var head: String?
    var branches: [String]
  }

  /// The remote branch (short name) the local branch `local` syncs with: the recorded upstream
  /// when there is one, else decided from what the remote advertises.
  static func resolve(
    repo: GitRepository, remote: GitRemote, local: String, localRemotePath: String?, state: CallbackState
  ) throws -> (branch: String, recorded: Bool) {
    if let recorded = upstream(repo, local: local, remote: remote.name) { return (recorded, true) }
    let advertised: Advertised
    if let localRemotePath {
      advertised = try localAdvertised(localRemotePath)
    } else {
      advertised = try remote.advertised(state)
    }
    return (try choose(local: local, advertised, url: remote.url), false)
  }

  /// The decision, without any I/O (tested on its own).
  static func choose(local: String, _ a: Advertised, url: String) throws(SyncError) -> String {
    if let head = a.head, a.branches.contains(head) { return head }
    if a.branches.isEmpty { return a.head ?? local }  // the first push creates the team's branch
    if a.branches.contains(local) { return local }
    if a.branches.count == 1 { return a.branches[0] }
    throw SyncError.secondBranch(local: local, url: KBRepository.redacted(url), existing: a.branches.sorted(), head: a.head)
  }

  /// `branch.<local>.merge` (short name) when `branch.<local>.remote` is `remote`.
  static func upstream(_ repo: GitRepository, local: String, remote: String) -> String? {
    guard repo.config("branch.\(local).remote") == remote, let merge = repo.config("branch.\(local).merge"),
      merge.hasPrefix("refs/heads/"), merge.count > 11
    else { return nil }
    return String(merge.dropFirst(11))
  }

  static func record(_ repo: GitRepository, local: String, remote: String, branch: String) {
    try? repo.setConfig("branch.\(local).remote", remote)
    try? repo.setConfig("branch.\(local).merge", "refs/heads/" + branch)
  }

  /// HEAD and branches of a bare repository on this machine.
  static func localAdvertised(_ path: String) throws(GitError) -> Advertised {
    let remote = try GitRepository(openingExactly: path)
    var head: String?
    if let target = try? remote.headBranch(), target.hasPrefix("refs/heads/") { head = String(target.dropFirst(11)) }
    return Advertised(head: head, branches: try remote.branchNames(under: "refs/heads/"))
  }
}

extension KBRepository {
  /// `url` without the password of its user part (`https://user:SECRET@host/x.git` →
  /// `https://user@host/x.git`). Everything kb prints, writes into JSON, logs or reflogs goes
  /// through this or ``scrubCredentials(in:)``.
  public static func redacted(_ url: String) -> String {
    guard let scheme = url.range(of: "://") else { return url }
    let authorityEnd = url[scheme.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? url.endIndex
    let authority = url[scheme.upperBound..<authorityEnd]
    guard let at = authority.lastIndex(of: "@") else { return url }
    let userinfo = authority[..<at]
    guard let colon = userinfo.firstIndex(of: ":") else { return url }
    return String(url[..<scheme.upperBound]) + userinfo[..<colon] + authority[at...] + url[authorityEnd...]
  }

  /// `text` with the password of every `scheme://user:password@` removed.
  public static func scrubCredentials(in text: String) -> String {
    guard text.contains("://"), text.contains("@") else { return text }
    var out = ""
    var rest = Substring(text)
    while let scheme = rest.range(of: "://") {
      out += rest[..<scheme.upperBound]
      rest = rest[scheme.upperBound...]
      // The authority ends at the first '/', whitespace or quote.
      let end = rest.firstIndex(where: { $0 == "/" || $0.isWhitespace || $0 == "'" || $0 == "\"" }) ?? rest.endIndex
      let authority = rest[..<end]
      if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
        out += authority[..<colon] + authority[at...]
      } else {
        out += authority
      }
      rest = rest[end...]
    }
    return out + rest
  }

  /// Rewrites the reflogs (and FETCH_HEAD) of the repository at `path`, replacing `url` by its
  /// redacted form: libgit2's clone writes "clone: from URL" with the password in it.
  static func scrubReflogs(gitDirectory: String, url: String) {
    let safe = redacted(url)
    guard safe != url else { return }
    var files = [gitDirectory + "/FETCH_HEAD"]
    if let walker = FileManager.default.enumerator(atPath: gitDirectory + "/logs") {
      for case let file as String in walker { files.append(gitDirectory + "/logs/" + file) }
    }
    for file in files {
      guard let text = try? String(contentsOfFile: file, encoding: .utf8), text.contains(url) else { continue }
      try? text.replacingOccurrences(of: url, with: safe).write(toFile: file, atomically: true, encoding: .utf8)
    }
  }
}
