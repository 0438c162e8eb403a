import ArgumentParser
import Foundation
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#endif

extension KBCommand {
  /// `kb watch`: the file-watcher helper that tells commands what changed (docs/CLI.md).
  struct WatchGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "watch",
      abstract: "Show, stop or run the file watcher that keeps the index fresh without a walk.",
      discussion: """
        Commands start a watcher helper for knowledge bases of 2,000 files or more (setting \
        'watch = auto' in .kb/settings; 'on' for any size, 'off' never; or KB_WATCH=0/1/auto). \
        It stops itself after 15 minutes without a command (watch_idle_minutes, KB_WATCH_IDLE \
        in seconds). Without a watcher every command checks the files (one stat each).
        """,
      subcommands: [WatchStatus.self, WatchStop.self, WatchRun.self],
      defaultSubcommand: WatchStatus.self)
  }

  package struct WatchStatus: ParsableCommand {
    package static let configuration = CommandConfiguration(
      commandName: "status", abstract: "Say whether a watcher serves this knowledge base.")
    @OptionGroup var global: GlobalOptions

    package init() {}

    package func run() throws {
      let workspace = try global.open(refresh: false)
      let report = workspace.watchReport()
      if global.json {
        try global.output.print(json: report)
        return
      }
      print(Self.describe(report))
    }

    package static func describe(_ report: WatchReport) -> String {
      let setting = "watch = \(report.setting.rawValue) (\(report.settingFrom))"
      if let helper = report.helper {
        return "Watcher: serving (pid \(helper.pid), \(helper.folders) folder(s), idle \(Int(helper.idle)) s of \(Int(helper.idleLimit)) s); \(setting)."
      }
      if report.serving { return "Watcher: serving (in this process); \(setting)." }
      if report.setting == .off { return "Watcher: off; every command checks the files; \(setting)." }
      let why = report.note.map { " (last start failed: \($0))" } ?? ""
      let when = report.setting == .on ? "starts one" : "starts one if there are 2,000 files or more"
      return "Watcher: not running\(why); the next command checks the files and \(when) (\(setting))."
    }
  }

  struct WatchStop: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stop", abstract: "Stop this knowledge base's watcher helper (the next command may start it again).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
      let workspace = try global.open(refresh: false)
      let stopped = workspace.stopWatchHelper()
      if global.json {
        struct JSON: Codable { var stopped: Bool }
        try global.output.print(json: JSON(stopped: stopped))
      } else {
        print(stopped ? "Watcher stopped." : "No watcher was running.")
      }
    }
  }

  struct WatchRun: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run the watcher helper in the foreground (commands start it by themselves).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Stop after this many seconds without a command.") var idle: Double?

    func run() throws {
      #if os(Linux)
        let root = try Workspace.locate(explicit: global.kb)
        let workspace = try Workspace(root: root)
        do {
          let reason = try WatchService.run(root: workspace.root, idle: idle ?? WatchService.defaultIdle) { line in
            FileHandle.standardError.write(Data("kb watch: \(line)\n".utf8))
          }
          FileHandle.standardError.write(Data("kb watch: stopped: \(reason)\n".utf8))
        } catch is WatchService.AlreadyRunning {
          throw KBFailure("a watcher already serves \(workspace.root)")
        } catch {
          // Commands read this and do not start another helper for ten minutes.
          try? FileManager.default.createDirectory(atPath: workspace.root + "/.kb/watch", withIntermediateDirectories: true)
          try? "\(error)\n".write(toFile: workspace.root + "/.kb/watch/failed", atomically: true, encoding: .utf8)
          throw KBFailure("cannot watch \(workspace.root): \(error)")
        }
      #else
        throw KBFailure("the file watcher needs Linux (inotify)")
      #endif
    }
  }
}

