import ArgumentParser
import Foundation
import KBCore
import KBCLI
import KBWorkspaceGit

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

extension ConflictSide: ExpressibleByArgument {}

extension KBGitCommand {
  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init",
      abstract: "Make a folder a knowledge base (kb.yml, answers/, cases/, .gitignore, a git repository).")

    @Argument(help: ArgumentHelp("The folder (default: the current one).", valueName: "folder"))
    var folder: String = "."
    @Option(help: "The team's name, for kb.yml.") var team = "Support"
    @Flag(name: .long, help: "Print JSON for scripts.") var json = false

    func run() async throws {
      let (_, result) = try Workspace.create(at: folder, team: team)
      if json {
        try Output(json: true).print(json: result)
      } else {
        print(result.created.isEmpty ? "\(result.root) is already a knowledge base." : "Initialized a knowledge base in \(result.root)")
        for file in result.created { print("  created \(file)") }
      }
    }
  }

  struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sync",
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
      Workspace.prepareForSync()  // libgit2 starts up while the index opens
      let workspace = try global.open(refresh: false)
      let r: SyncReport
      do {
        r = try workspace.sync(lockTimeout: wait, progress: progressPrinter(enabled: !global.json))
      } catch {
        clearProgress(!global.json)
        throw error
      }
      clearProgress(!global.json)
      for warning in r.warnings { Output.warn(warning) }
      if global.json {
        try global.output.print(json: r)
      } else {
        let out = global.output
        print("\(r.incoming.count) in, \(r.outgoing.count) out, \(r.merged.count) merged, \(r.conflicts.count) conflict(s); re-indexed \(r.reindexed).")
        for f in r.merged where f.outcome != "conflict" {
          print("  \(f.outcome) \(f.path)\(f.details.isEmpty ? "" : ": " + f.details.joined(separator: "; "))")
        }
        for f in r.conflicts {
          print(out.yellow("  conflict \(f.path)") + (f.details.isEmpty ? "" : ": " + f.details.joined(separator: "; ")))
        }
        if !r.conflicts.isEmpty { print("Both versions are kept in the file between markers; see 'kb conflicts'.") }
        // Every conflict in the tree, also the ones a teammate's merge brought in.
        let elsewhere = r.conflicted.filter { p in !r.conflicts.contains { $0.path == p } }
        if !elsewhere.isEmpty {
          print(out.yellow("\(r.conflicted.count) document(s) with conflicts to settle:"))
          for path in r.conflicted { print(out.yellow("  conflict \(path)")) }
          print("Settle each with 'kb conflicts ID --take ours|theirs|both', or edit it, then run 'kb sync'.")
        }
        switch r.outcome {
        case .pushed:
          print(out.green("Synced with \(r.remote) (\(r.branches))") + (r.attempts > 1 ? " after \(r.attempts) attempts." : "."))
        case .pendingPush:
          print(out.red("Pending push:") + " your work is committed locally but the remote kept moving (\(r.attempts) attempts). Run 'kb sync' again.")
        case .nothingYet:
          print(r.message)
        }
      }
      if r.pendingPush { throw ExitCode.failure }
    }
  }

  struct Clone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "clone",
      abstract: "Clone a team's knowledge base from a git remote and index it.")
    @Argument(help: "The remote: a path, file://, git://, ssh:// or https:// URL.") var url: String
    @Argument(help: "The folder to create (default: from the URL).") var folder: String?
    @Flag(name: .long, help: "Print JSON for scripts.") var json = false

    func run() async throws {
      let target = folder ?? Workspace.defaultCloneFolder(url)
      let (_, result): (Workspace, CloneReport)
      do {
        (_, result) = try Workspace.clone(url: url, into: target, progress: progressPrinter(enabled: !json))
      } catch let error as WorkspaceError {
        clearProgress(!json)
        if case .invalidInput(let message) = error { throw ValidationError(message) }
        throw error
      }
      clearProgress(!json)
      if json {
        try Output(json: true).print(json: result)
      } else {
        print("Cloned \(Workspace.redactedURL(url)) into \(result.root): \(result.answers) answers, \(result.cases) cases.")
        for file in result.created { print("  created \(file)") }
      }
    }
  }

  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "Show local changes, commits ahead and behind the remote, and the last sync.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
      let workspace = try global.open(refresh: false)
      let status = try workspace.status()
      if global.json {
        try global.output.print(json: status)
        return
      }
      let tracked = status.remoteBranch.map { "syncs with origin/\($0)" } ?? "not synced yet"
      print("On branch \(status.branch ?? "(detached)")" + (status.remote.map { ", \(tracked), remote \($0)" } ?? ", no remote"))
      print("\(status.ahead) commit(s) to push, \(status.behind) to merge (as of the last fetch).")
      if status.changes.isEmpty { print("No local changes.") } else {
        print("\(status.changes.count) local change(s), committed by the next 'kb sync':")
        for c in status.changes { print("  \(c.kind) \(c.path)") }
      }
      if let last = status.lastSync {
        let f = ISO8601DateFormatter()
        print("Last sync: \(f.string(from: last))" + (status.pendingPush ? " (push pending)" : ""))
      } else {
        print("Never synced.")
      }
      if !status.conflicts.isEmpty { print("\(status.conflicts.count) document(s) with conflicts: see 'kb conflicts'.") }
      print(KBCommand.WatchStatus.describe(status.watcher))
    }
  }

  struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "conflicts",
      abstract: "List documents with merge conflicts to settle, and what conflicts in each.",
      discussion: """
        A conflict keeps both versions in the file between <<<<<<< and >>>>>>> markers, and \
        values of a field two edits disagreed on in a 'conflicts:' field. Edit the file to keep \
        what is right, delete the markers and the 'conflicts:' field, and run 'kb sync'; or settle \
        one document with 'kb conflicts ID --take ours|theirs|both'. Exits 1 when there are \
        conflicts.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A document's id or path, to settle with --take.") var id: String?
    @Option(help: "Settle ID: 'ours' (this clone's version), 'theirs' (the teammate's) or 'both' (both texts, no markers).")
    var take: ConflictSide?
    @Option(name: .customLong("as"), help: ArgumentHelp("Who settles it, \"Name <email>\" (default: the agent identity).", valueName: "author"))
    var author: String?

    func validate() throws {
      if id != nil, take == nil { throw ValidationError("Say which side to keep: kb conflicts \(id!) --take ours|theirs|both") }
      if take != nil, id == nil { throw ValidationError("'--take' settles one document: kb conflicts ID --take \(take!.rawValue)") }
    }

    func run() async throws {
      let workspace = try global.open()
      if let id, let take {
        let settled = try workspace.settleConflicts(id, take: take, as: author.flatMap(Identity.init(parsing:)))
        if global.json { try global.output.print(json: settled); return }
        let what = [settled.blocks > 0 ? "\(settled.blocks) marked block(s)" : nil,
                    settled.fields.isEmpty ? nil : "field(s) \(settled.fields.joined(separator: ", "))"].compactMap { $0 }
        print("Settled \(settled.path) (\(what.joined(separator: " and "))): took \(take.rawValue), by \(settled.by). Run 'kb sync' to share it.")
        return
      }
      let items = try workspace.conflicts()
      if global.json {
        try global.output.print(json: items)
      } else if items.isEmpty {
        print("No conflicts.")
      } else {
        for item in items {
          print("\(item.path)" + (item.markerLines.isEmpty ? "" : ":\(item.markerLines[0])") + (item.id.map { "  (\($0))" } ?? ""))
          for d in item.details { print("  \(d)") }
        }
        print("Edit each file to keep what is right, remove the markers and the 'conflicts:' field, or run 'kb conflicts ID --take ours|theirs|both'; then 'kb sync'.")
      }
      if !items.isEmpty { throw ExitCode.failure }
    }
  }

  struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "log",
      abstract: "Show the history of the knowledge base or of one document.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A document's id or path (default: the whole knowledge base).") var id: String?
    @Option(name: .shortAndLong, help: "Maximum number of commits.") var limit = 20

    func validate() throws {
      guard limit > 0 else { throw ValidationError("'--limit' must be at least 1.") }
    }

    func run() async throws {
      let workspace = try global.open()
      let history = try workspace.history(of: id, limit: limit)
      let (path, commits) = (history.path, history.commits)
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
      let result = Workspace.mergeDocument(base: b.isEmpty ? nil : b, ours: o, theirs: t, path: name)
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
