/// Which host names and addresses are this machine's loopback: the only ones `kb serve` listens
/// on without a token, and the only `Host` names it answers to there (docs/WEB.md).
public enum Loopback {
  /// `localhost` (and `*.localhost`), `127.0.0.0/8` and `::1` (with or without brackets).
  public static func isLoopback(_ host: String) -> Bool {
    let h = host.lowercased()
    if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h == "[::1]" { return true }
    let parts = h.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
  }
}
