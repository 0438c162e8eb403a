import CLibgit2
import Foundation

/// git's configuration read in process, in git's order of levels.
enum GitConfig {
  /// A value as `git config --get KEY` run in `path` would print it: the repository's config,
  /// then global (`$GIT_CONFIG_GLOBAL`, or ~/.gitconfig and the XDG file), then system (unless
  /// `$GIT_CONFIG_NOSYSTEM`). `include` and `includeIf` work as in git. Wraps `git_config_new`,
  /// `git_config_add_file_ondisk` and `git_config_get_string_buf`.
  static func value(_ key: String, at path: String, environment: [String: String]) -> String? {
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
    if let repo { add(repo.gitDirectory + "/config", GIT_CONFIG_LEVEL_LOCAL) }
    var buf = git_buf()
    defer { git_buf_dispose(&buf) }
    guard git_config_get_string_buf(&buf, config.pointer, key) == 0, let p = buf.ptr else { return nil }
    let value = String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
    return value.isEmpty ? nil : value
  }
}
