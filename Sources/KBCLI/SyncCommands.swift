import ArgumentParser
import Foundation
import KBStore
import KBSync
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Progress lines on stderr, only on a terminal and never with --json.
private func progressPrinter(enabled: Bool) -> (@Sendable (String) -> Void)? {
  guard enabled, isatty(STDERR_FILENO) == 1 else { return nil }
  return { line in FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8)) }
}

private func clearProgress(_ enabled: Bool) {
  if enabled, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

extension KBCommand {
  struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Commit local changes, merge the team's changes and push (see docs/SYNC.md).",
      discussion: """
        Commits every change under the knowledge base as you (git config user.name/email or \
        .kb/identity), fetches, merges documents changed on both sides with the domain merge, \
        pushes without force and retries with backoff when a teammate pushed first. When the \
        push keeps failing, the work stays committed locally and the command exits 1 with \
        "pending push". Conflicts that could not be merged keep both versions and are listed by \
        'kb conflicts'.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Seconds to wait for another kb sync on this knowledge base.") var wait: Double = 10

    func run() async throws {
      KBRepository.warmUp()  // libgit2 starts up while the index opens
      let workspace = try global.open(refresh: false)
      var options = SyncOptions.fromEnvironment()
      options.progress = progressPrinter(enabled: !global.json)
      let report: SyncReport
      do {
        report = try workspace.sync(options: options, lockTimeout: wait)
      } catch {
        clearProgress(!global.json)
        throw error
      }
      clearProgress(!global.json)
      let r = report.sync
      if global.json {
        struct JSON: Encodable {
          var remote: String; var branch: String; var committed: String?; var head: String?
          var incoming: [String]; var outgoing: [String]; var merged: [MergedFile]; var conflicts: [MergedFile]
          var reindexed: Int; var pushed: Bool; var pendingPush: Bool; var attempts: Int; var seconds: Double
          /// snake_case like every other command; `pendingPush` stays as an alias for one release.
          var pendingPushAlias: Bool { pendingPush }
          enum CodingKeys: String, CodingKey {
            case remote, branch, committed, head, incoming, outgoing, merged, conflicts, reindexed, pushed, attempts, seconds
            case pendingPush = "pending_push"
            case pendingPushAlias = "pendingPush"
          }
          func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(remote, forKey: .remote); try c.encode(branch, forKey: .branch)
            try c.encodeIfPresent(committed, forKey: .committed); try c.encodeIfPresent(head, forKey: .head)
            try c.encode(incoming, forKey: .incoming); try c.encode(outgoing, forKey: .outgoing)
            try c.encode(merged, forKey: .merged); try c.encode(conflicts, forKey: .conflicts)
            try c.encode(reindexed, forKey: .reindexed); try c.encode(pushed, forKey: .pushed)
            try c.encode(attempts, forKey: .attempts); try c.encode(seconds, forKey: .seconds)
            try c.encode(pendingPush, forKey: .pendingPush); try c.encode(pendingPush, forKey: .pendingPushAlias)
          }
        }
        try global.output.print(json: JSON(
          remote: r.remote, branch: r.branch, committed: r.committed, head: r.head, incoming: r.incoming,
          outgoing: r.outgoing, merged: r.merged, conflicts: r.conflicts, reindexed: report.reindexed, pushed: r.pushed,
          pendingPush: r.pendingPush, attempts: r.attempts, seconds: report.seconds))
      } else {
        let out = global.output
        print("\(r.incoming.count) in, \(r.outgoing.count) out, \(r.merged.count) merged, \(r.conflicts.count) conflict(s); re-indexed \(report.reindexed).")
        for f in r.merged where f.outcome != "conflict" {
          print("  \(f.outcome) \(f.path)\(f.details.isEmpty ? "" : ": " + f.details.joined(separator: "; "))")
        }
        for f in r.conflicts {
          print(out.yellow("  conflict \(f.path)") + (f.details.isEmpty ? "" : ": " + f.details.joined(separator: "; ")))
        }
        if !r.conflicts.isEmpty { print("Both versions are kept in the file between markers; see 'kb conflicts'.") }
        if r.pushed {
          print(out.green("Synced with \(r.remote) (\(r.branch))") + (r.attempts > 1 ? " after \(r.attempts) attempts." : "."))
        } else if r.pendingPush {
          print(out.red("Pending push:") + " your work is committed locally but the remote kept moving (\(r.attempts) attempts). Run 'kb sync' again.")
        } else {
          print("Nothing to sync yet: no commits here or on \(r.remote).")
        }
      }
      if r.pendingPush { throw ExitCode.failure }
    }
  }

  struct Clone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Clone a team's knowledge base from a git remote and index it.")
    @Argument(help: "The remote: a path, file://, git://, ssh:// or https:// URL.") var url: String
    @Argument(help: "The folder to create (default: from the URL).") var folder: String?
    @Flag(name: .long, help: "Print JSON for scripts.") var json = false

    func run() async throws {
      let target = folder ?? Self.defaultFolder(url)
      guard !FileManager.default.fileExists(atPath: target + "/.git") else {
        throw ValidationError("'\(target)' already holds a repository.")
      }
      let local = !url.contains("://") && !url.contains(":") ? URL(fileURLWithPath: url).standardizedFileURL.path : url
      if let path = Self.localPath(url), !FileManager.default.fileExists(atPath: path) {
        throw WorkspaceError.invalidInput(
          "'\(url)' does not exist. Give the path of a git repository, or a URL (https://, ssh://, git@host:path).")
      }
      try KBRepository.clone(url: local, into: target, progress: progressPrinter(enabled: !json))
      clearProgress(!json)
      var created: [String] = []
      if !FileManager.default.fileExists(atPath: target + "/kb.yml") {
        created = try Workspace.initialize(at: target)  // an empty remote: start a knowledge base
      }
      created += try Workspace.setUpGit(at: target)
      let workspace = try Workspace(root: target)
      let report = try workspace.refresh()
      let counts = try workspace.store.counts()
      if json {
        struct Result: Codable { var root: String; var documents: Int; var created: [String]; var indexed: Int }
        try Output(json: true).print(json: Result(root: workspace.root, documents: counts.documents, created: created, indexed: report.added))
      } else {
        print("Cloned \(url) into \(workspace.root): \(counts.answers) answers, \(counts.cases) cases.")
        for file in created { print("  created \(file)") }
      }
    }

    /// The folder a remote names when it is local: a plain path or a `file://` URL.
    static func localPath(_ url: String) -> String? {
      if url.hasPrefix("file://") { return URL(string: url)?.path }
      guard !url.contains("://"), !url.contains(":") else { return nil }
      return URL(fileURLWithPath: url).standardizedFileURL.path
    }

    static func defaultFolder(_ url: String) -> String {
      var name = url
      while name.hasSuffix("/") { name.removeLast() }
      name = String(name.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? "kb")
      if name.hasSuffix(".git") { name.removeLast(4) }
      return name.isEmpty ? "kb" : name
    }
  }

  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show local changes, commits ahead and behind the remote, and the last sync.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
      let workspace = try global.open(refresh: false)
      let status = try KBRepository.status(kbRoot: workspace.root)
      let last = workspace.lastSync()
      let conflicted = try workspace.store.conflictedPaths()
      if global.json {
        struct JSON: Encodable {
          var branch: String?; var remote: String?; var head: String?; var changes: [KBRepository.Change]
          var ahead: Int; var behind: Int; var lastSync: Date?; var pendingPush: Bool; var conflicts: [String]
          /// snake_case like every other command; `lastSync` and `pendingPush` stay as aliases for one release.
          enum CodingKeys: String, CodingKey {
            case branch, remote, head, changes, ahead, behind, conflicts
            case lastSync = "last_sync", pendingPush = "pending_push"
            case lastSyncAlias = "lastSync", pendingPushAlias = "pendingPush"
          }
          func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(branch, forKey: .branch); try c.encodeIfPresent(remote, forKey: .remote)
            try c.encodeIfPresent(head, forKey: .head); try c.encode(changes, forKey: .changes)
            try c.encode(ahead, forKey: .ahead); try c.encode(behind, forKey: .behind)
            try c.encode(conflicts, forKey: .conflicts)
            try c.encodeIfPresent(lastSync, forKey: .lastSync); try c.encodeIfPresent(lastSync, forKey: .lastSyncAlias)
            try c.encode(pendingPush, forKey: .pendingPush); try c.encode(pendingPush, forKey: .pendingPushAlias)
          }
        }
        try global.output.print(json: JSON(
          branch: status.branch, remote: status.remote, head: status.head, changes: status.changes, ahead: status.ahead,
          behind: status.behind, lastSync: last?.time, pendingPush: last?.pendingPush ?? false, conflicts: conflicted))
        return
      }
      print("On branch \(status.branch ?? "(detached)")" + (status.remote.map { ", remote \($0)" } ?? ", no remote"))
      print("\(status.ahead) commit(s) to push, \(status.behind) to merge (as of the last fetch).")
      if status.changes.isEmpty { print("No local changes.") } else {
        print("\(status.changes.count) local change(s), committed by the next 'kb sync':")
        for c in status.changes { print("  \(c.kind) \(c.path)") }
      }
      if let last {
        let f = ISO8601DateFormatter()
        print("Last sync: \(f.string(from: last.time))" + (last.pendingPush ? " (push pending)" : ""))
      } else {
        print("Never synced.")
      }
      if !conflicted.isEmpty { print("\(conflicted.count) document(s) with conflicts: see 'kb conflicts'.") }
    }
  }

  struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List documents with merge conflicts to settle, and what conflicts in each.",
      discussion: """
        A conflict keeps both versions in the file between <<<<<<< and >>>>>>> markers. Edit the \
        file to keep what is right, delete the markers, and run 'kb sync'. Exits 1 when there are \
        conflicts.
        """)
    @OptionGroup var global: GlobalOptions

    func run() async throws {
      let workspace = try global.open()
      var paths = try workspace.store.conflictedPaths()
      // A merge that broke a document's front matter leaves it unindexed: look there too.
      for problem in try workspace.store.problems() where !paths.contains(problem.path) {
        if let text = try? workspace.readText(problem.path), text.contains("\n<<<<<<< ") { paths.append(problem.path) }
      }
      let last = workspace.lastSync()
      struct Item: Encodable {
        var path: String; var id: String?; var details: [String]; var markerLines: [Int]
        /// snake_case like every other command; `markerLines` stays as an alias for one release.
        enum CodingKeys: String, CodingKey { case path, id, details, markerLines = "marker_lines", markerLinesAlias = "markerLines" }
        func encode(to encoder: Encoder) throws {
          var c = encoder.container(keyedBy: CodingKeys.self)
          try c.encode(path, forKey: .path); try c.encodeIfPresent(id, forKey: .id); try c.encode(details, forKey: .details)
          try c.encode(markerLines, forKey: .markerLines); try c.encode(markerLines, forKey: .markerLinesAlias)
        }
      }
      var items: [Item] = []
      for path in paths {
        let text = (try? workspace.readText(path)) ?? ""
        var lines: [Int] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.hasPrefix("<<<<<<<") { lines.append(i + 1) }
        let id = try? workspace.readDocument(at: path).id
        let details = last?.conflicts.first(where: { $0.path == path })?.details
          ?? (lines.isEmpty ? ["marked as conflicted in its front matter"] : ["both versions kept between markers"])
        items.append(Item(path: path, id: id, details: details, markerLines: lines))
      }
      if global.json {
        try global.output.print(json: items)
      } else if items.isEmpty {
        print("No conflicts.")
      } else {
        for item in items {
          print("\(item.path)" + (item.markerLines.isEmpty ? "" : ":\(item.markerLines[0])") + (item.id.map { "  (\($0))" } ?? ""))
          for d in item.details { print("  \(d)") }
        }
        print("Edit each file to keep what is right, remove the markers, then run 'kb sync'.")
      }
      if !items.isEmpty { throw ExitCode.failure }
    }
  }

  struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the history of the knowledge base or of one document.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A document's id or path (default: the whole knowledge base).") var id: String?
    @Option(name: .shortAndLong, help: "Maximum number of commits.") var limit = 20

    func validate() throws {
      guard limit > 0 else { throw ValidationError("'--limit' must be at least 1.") }
    }

    func run() async throws {
      let workspace = try global.open()
      var path: String?
      if let id {
        if id.hasSuffix(".md") {
          _ = try workspace.resolve(id)
          path = id
        } else {
          let paths = try workspace.store.paths(forID: try workspace.resolveID(id))
          guard let first = paths.first else { throw WorkspaceError.documentNotFound(id) }
          guard paths.count == 1 else { throw WorkspaceError.ambiguousID(id, paths: paths) }
          path = first
        }
      }
      let commits = try KBRepository.log(kbRoot: workspace.root, path: path, limit: limit)
      if global.json {
        try global.output.print(json: commits)
        return
      }
      if commits.isEmpty { print("No history" + (path.map { " for \($0)" } ?? "") + " yet."); return }
      let f = ISO8601DateFormatter()
      let out = global.output
      for c in commits {
        let subject = c.message.split(separator: "\n").first.map(String.init) ?? ""
        print("\(out.yellow(String(c.commit.prefix(8))))  \(f.string(from: c.date))  \(c.author) <\(c.email)>  \(subject)")
      }
    }
  }

  struct MergeDriver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge-driver",
      abstract: "git's merge driver for documents (merge.kb.driver = kb merge-driver %O %A %B %P).",
      discussion: "Writes the merge of BASE, OURS and THEIRS into OURS; exits 0 when clean, 1 when both versions were kept with markers.")
    @Argument(help: "The common ancestor's version (%O).") var base: String
    @Argument(help: "Our version, replaced by the result (%A).") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String
    @Argument(help: "The file's path in the repository (%P).") var path: String = ""

    func run() async throws {
      func read(_ p: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: p) else {
          throw ValidationError("Cannot read '\(p)'.")
        }
        return String(decoding: data, as: UTF8.self)
      }
      let b = try read(base), o = try read(ours), t = try read(theirs)
      let name = path.isEmpty ? ours : path
      let result = SyncMerger.default.merge(base: b.isEmpty ? nil : b, ours: o, theirs: t, path: name)
      do {
        try Data(result.text.utf8).write(to: URL(fileURLWithPath: ours), options: .atomic)
      } catch {
        throw ValidationError("Cannot write '\(ours)': \(error.localizedDescription)")
      }
      for note in result.notes { Output.warn("\(name): \(note)") }
      if !result.clean {
        for c in result.conflicts { Output.warn("\(name): conflict: \(c)") }
        throw ExitCode.failure
      }
    }
  }
}
