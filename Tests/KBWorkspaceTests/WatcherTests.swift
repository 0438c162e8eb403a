import Foundation
import KBTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

import KBCore
@testable import KBStore
@testable import KBWorkspace

#if os(Linux)

  /// Freshness from a file watcher: the helper process (`kb watch run`, started by a refresh)
  /// and the in-process watcher of long-lived processes. Every change must be seen by the next
  /// refresh, and anything the watcher cannot vouch for must fall back to a walk.
  @Suite(.serialized) struct WatcherTests {
    static func makeRoot(watch: String = "on") throws -> String {
      let root = FileManager.default.temporaryDirectory.appendingPathComponent("kb-watch-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: root + "/.kb", withIntermediateDirectories: true)
      try "team: Test\n".write(toFile: root + "/kb.yml", atomically: true, encoding: .utf8)
      try "watch = \(watch)\nwatch_idle_minutes = 5\n".write(toFile: root + "/.kb/settings", atomically: true, encoding: .utf8)
      return root
    }

    static func write(_ root: String, _ path: String, id: String, words: String = "router firmware") throws {
      let full = root + "/" + path
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let text = "---\nid: \(id)\ntype: answer\ntitle: \"Title \(id)\"\n---\n# \(id)\n\n\(words)\n"
      try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    /// What a walk from scratch indexes: the truth every watcher-served index must equal.
    static func truth(_ root: String) throws -> [String: FileStamp] {
      var out: [String: FileStamp] = [:]
      for folder in FolderScanner(root: root).scan() {
        for file in folder.files {
          out[folder.path.isEmpty ? file.name : folder.path + "/" + file.name] = FileStamp(size: file.size, mtime: file.mtime)
        }
      }
      return out
    }

    static func indexed(_ ws: Workspace) throws -> [String: FileStamp] {
      var out = try ws.store.stamps(under: "answers")
      out.merge(try ws.store.stamps(under: "cases")) { a, _ in a }
      for path in try ws.store.allPaths() where !path.contains("/") {
        out.merge(try ws.store.stamps(ofPaths: [path])) { a, _ in a }
      }
      return out
    }

    /// A refresh served by the watcher, and an index equal to a walk's.
    static func expectWatcherFresh(_ ws: Workspace, _ root: String, sourceLocation: SourceLocation = #_sourceLocation) throws
      -> RefreshReport
    {
      let report = try ws.refresh()
      #expect(report.source == .watcher, sourceLocation: sourceLocation)
      #expect(try indexed(ws) == truth(root), sourceLocation: sourceLocation)
      return report
    }

    /// Many thousands of changes at once: `files` new documents in `folder` (which must exist
    /// and be watched), then `edits` appends alternating between two of them (inotify merges
    /// only identical consecutive events, so each is one more event in the kernel's queue).
    static func burst(_ root: String, folder: String, files: Int, edits: Int) {
      for i in 0..<files {
        let text = "---\nid: \(folder.replacingOccurrences(of: "/", with: "-"))-\(i)\ntype: answer\ntitle: \"Bulk \(i)\"\n---\nbulk words\n"
        let fd = open(root + "/" + folder + "/bulk-\(i).md", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
      }
      for i in 0..<edits {
        let fd = open(root + "/" + folder + "/bulk-\(i % 2).md", O_WRONLY | O_APPEND)
        _ = Glibc.write(fd, "x", 1)
        close(fd)
      }
    }

    static var queueLimit: Int {
      (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
        .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 16384
    }

    static func waitUntilGone(_ root: String) {
      for _ in 0..<300 where WatchService.status(root: root) != nil { usleep(10_000) }
    }

    @Test func helperSeesEditAddDeleteRenameAndEditorSaves() throws {
      let root = try Self.makeRoot()
      defer {
        WatchService.stop(root: root)
        try? FileManager.default.removeItem(atPath: root)
      }
      for i in 0..<5 { try Self.write(root, "answers/a\(i).md", id: "a\(i)") }
      try Self.write(root, "cases/2024/c0.md", id: "c0")
      let ws = try Workspace(root: root)
      let first = try ws.refresh()
      #expect(first.added == 6)
      #expect(WatchService.status(root: root) != nil, "the first refresh starts the helper (watch = on)")
      _ = try ws.refresh()  // a token from the helper, after a walk
      #expect(try Self.expectWatcherFresh(ws, root).changed == 0)

      // An edit that keeps the size (only the content and the time differ).
      usleep(20_000)
      try Self.write(root, "answers/a0.md", id: "a0", words: "modem firmware")
      var report = try Self.expectWatcherFresh(ws, root)
      #expect(report.updated == 1 && report.changedPaths == ["answers/a0.md"])
      #expect(try ws.search("modem", limit: 5).hits.map(\.id) == ["a0"])

      // An add, a delete, a rename.
      try Self.write(root, "answers/new.md", id: "new", words: "brand new printer")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 1 && report.changedPaths == ["answers/new.md"])
      try FileManager.default.removeItem(atPath: root + "/answers/a1.md")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.removed == 1)
      try FileManager.default.moveItem(atPath: root + "/answers/a2.md", toPath: root + "/cases/2024/a2.md")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 1 && report.removed == 1)

      // An editor's save: write a hidden temporary file, then rename it over the document.
      let temp = root + "/answers/.a3.md.swp"
      try "---\nid: a3\ntype: answer\ntitle: \"Saved by an editor\"\n---\n# a3\n\nsaved through rename\n"
        .write(toFile: temp, atomically: false, encoding: .utf8)
      #expect(rename(temp, root + "/answers/a3.md") == 0)
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.updated == 1 && report.changedPaths == ["answers/a3.md"])
      #expect(try ws.search("rename", limit: 5).hits.map(\.id) == ["a3"])

      // Folders: a new one with files, one moved, one moved out of the knowledge base.
      try Self.write(root, "answers/phones/p0.md", id: "p0")
      try Self.write(root, "answers/phones/old/p1.md", id: "p1")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 2)
      try FileManager.default.moveItem(atPath: root + "/answers/phones", toPath: root + "/answers/mobiles")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 2 && report.removed == 2)
      let outside = root + "-outside"
      defer { try? FileManager.default.removeItem(atPath: outside) }
      try FileManager.default.moveItem(atPath: root + "/answers/mobiles", toPath: outside)
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.removed == 2)
      try FileManager.default.moveItem(atPath: outside, toPath: root + "/cases/back")
      report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 2)
      // Not documents: README, hidden files, other names.
      try "x".write(toFile: root + "/answers/README.md", atomically: false, encoding: .utf8)
      try "x".write(toFile: root + "/answers/notes.txt", atomically: false, encoding: .utf8)
      #expect(try Self.expectWatcherFresh(ws, root).changed == 0)
    }

    @Test func changesWhileNoCommandRunsAndWhileNoWatcherRuns() throws {
      let root = try Self.makeRoot()
      defer {
        WatchService.stop(root: root)
        try? FileManager.default.removeItem(atPath: root)
      }
      for i in 0..<3 { try Self.write(root, "answers/a\(i).md", id: "a\(i)") }
      do {
        let ws = try Workspace(root: root)
        _ = try ws.refresh()
        _ = try ws.refresh()
      }
      // No process of ours runs now; another process (an editor, git) changes files.
      try Self.write(root, "answers/later.md", id: "later")
      try FileManager.default.removeItem(atPath: root + "/answers/a0.md")
      let ws = try Workspace(root: root)
      let report = try Self.expectWatcherFresh(ws, root)
      #expect(report.added == 1 && report.removed == 1)

      // The watcher stopped: changes meanwhile are found by a walk; a new helper takes over.
      #expect(ws.stopWatchHelper())
      #expect(WatchService.status(root: root) == nil)
      try Self.write(root, "answers/while-stopped.md", id: "while-stopped")
      let walked = try ws.refresh()
      #expect(walked.source == .walk && walked.added == 1)
      #expect(try Self.indexed(ws) == Self.truth(root))
      try Self.write(root, "answers/after.md", id: "after")
      #expect(try Self.expectWatcherFresh(ws, root).added == 1)
    }

    /// `kb index --rebuild` with a helper running indexes every file, not only those changed
    /// since the last command (it used to leave an index of just those).
    @Test func aRebuildWithAWatcherIndexesEveryFile() throws {
      let root = try Self.makeRoot()
      defer {
        WatchService.stop(root: root)
        try? FileManager.default.removeItem(atPath: root)
      }
      for i in 0..<5 { try Self.write(root, "answers/a\(i).md", id: "a\(i)") }
      let ws = try Workspace(root: root)
      _ = try ws.refresh()
      _ = try Self.expectWatcherFresh(ws, root)
      try Self.write(root, "answers/a0.md", id: "a0", words: "edited since")
      let report = try ws.rebuild()
      #expect(report.added == 5)
      #expect(try Self.indexed(ws) == Self.truth(root))
      // The watcher still serves the next command.
      try Self.write(root, "answers/a1.md", id: "a1", words: "edited after")
      #expect(try Self.expectWatcherFresh(ws, root).changed == 1)
    }

    @Test func killedWatcherFallsBackToTheWalk() throws {
      let root = try Self.makeRoot()
      defer {
        WatchService.stop(root: root)
        try? FileManager.default.removeItem(atPath: root)
      }
      try Self.write(root, "answers/a.md", id: "a")
      let ws = try Workspace(root: root)
      _ = try ws.refresh()
      _ = try Self.expectWatcherFresh(ws, root)
      let pid = try #require(WatchService.status(root: root)?.pid)
      #expect(kill(pid_t(pid), SIGKILL) == 0)
      Self.waitUntilGone(root)
      try Self.write(root, "answers/b.md", id: "b")
      // The new helper has another instance: the stored token is refused, the files walked.
      let report = try ws.refresh()
      #expect(report.source == .walk && report.added == 1)
      let newPID = WatchService.status(root: root)?.pid
      #expect(newPID != nil && newPID != pid)
      try FileManager.default.removeItem(atPath: root + "/answers/a.md")
      #expect(try Self.expectWatcherFresh(ws, root).removed == 1)
    }

    @Test func kernelQueueOverflowFallsBackAndLosesNothing() throws {
      let root = try Self.makeRoot()
      defer {
        WatchService.stop(root: root)
        try? FileManager.default.removeItem(atPath: root)
      }
      try Self.write(root, "answers/a.md", id: "a")
      let ws = try Workspace(root: root)
      _ = try ws.refresh()
      _ = try Self.expectWatcherFresh(ws, root)
      try FileManager.default.createDirectory(atPath: root + "/cases/bulk", withIntermediateDirectories: true)
      _ = try Self.expectWatcherFresh(ws, root)  // the new folder is watched
      let status = try #require(WatchService.status(root: root))
      // Freeze the helper so that the kernel's queue (16,384 events by default) overflows.
      #expect(kill(pid_t(status.pid), SIGSTOP) == 0)
      let count = 2000
      Self.burst(root, folder: "cases/bulk", files: count, edits: Self.queueLimit)
      try FileManager.default.removeItem(atPath: root + "/answers/a.md")
      #expect(kill(pid_t(status.pid), SIGCONT) == 0)
      let report = try ws.refresh()
      #expect(report.source == .walk, "an overflow refuses every earlier token")
      #expect(report.added == count && report.removed == 1)
      #expect(WatchService.status(root: root)?.overflows ?? 0 >= 1)
      #expect(try Self.indexed(ws) == Self.truth(root))
      try Self.write(root, "cases/bulk/bulk-7.md", id: "c7", words: "edited after the overflow")
      #expect(try Self.expectWatcherFresh(ws, root).updated == 1)
    }

    @Test func directWatcherOfALongLivedProcess() throws {
      let root = try Self.makeRoot(watch: "auto")
      defer { try? FileManager.default.removeItem(atPath: root) }
      try Self.write(root, "answers/a.md", id: "a")
      let ws = try Workspace(root: root)
      #expect(ws.watchDirectly())
      #expect(ws.watchReport().serving)
      #expect(try ws.refresh().source == .walk)  // the first answer: no token yet
      try Self.write(root, "answers/b.md", id: "b")
      #expect(try Self.expectWatcherFresh(ws, root).added == 1)
      try Self.write(root, "answers/a.md", id: "a", words: "longer words than before")
      #expect(try Self.expectWatcherFresh(ws, root).updated == 1)
      // Overflow in process: nothing reads the queue between two calls.
      try FileManager.default.createDirectory(atPath: root + "/cases", withIntermediateDirectories: true)
      _ = try Self.expectWatcherFresh(ws, root)
      Self.burst(root, folder: "cases", files: 1000, edits: Self.queueLimit)
      let report = try ws.refresh()
      #expect(report.source == .walk && report.added == 1000)
      #expect(try Self.indexed(ws) == Self.truth(root))
      try FileManager.default.removeItem(atPath: root + "/cases/bulk-5.md")
      #expect(try Self.expectWatcherFresh(ws, root).removed == 1)
      #expect(WatchService.status(root: root) == nil, "a process that watches directly starts no helper")
    }

    @Test func offAndAutoStartNoHelper() throws {
      for setting in ["off", "auto"] {
        let root = try Self.makeRoot(watch: setting)
        defer {
          WatchService.stop(root: root)
          try? FileManager.default.removeItem(atPath: root)
        }
        try Self.write(root, "answers/a.md", id: "a")
        let ws = try Workspace(root: root)
        #expect(try ws.refresh().source == .walk)
        #expect(try ws.refresh().source == .walk)
        #expect(WatchService.status(root: root) == nil, "watch = \(setting) on a small knowledge base")
        #expect(ws.watchReport().serving == false)
        #expect(ws.watchReport().setting.rawValue == setting)
      }
      let root = try Self.makeRoot(watch: "on")
      defer { try? FileManager.default.removeItem(atPath: root) }
      let ws = try Workspace(root: root)
      #expect(ws.watchSetting(environment: ["KB_WATCH": "0"]) == (.off, "KB_WATCH"))
      #expect(ws.watchSetting(environment: ["KB_WATCH": "auto"]) == (.auto, "KB_WATCH"))
      #expect(ws.watchSetting(environment: [:]) == (.on, ".kb/settings"))
      try FileManager.default.removeItem(atPath: root + "/.kb/settings")
      #expect(ws.watchSetting(environment: [:]) == (.auto, "default"))
    }

    @Test func helperStopsWhenItsFolderIsRemoved() throws {
      let root = try Self.makeRoot()
      try Self.write(root, "answers/a.md", id: "a")
      let ws = try Workspace(root: root)
      _ = try ws.refresh()
      let pid = try #require(WatchService.status(root: root)?.pid)
      try FileManager.default.removeItem(atPath: root)
      for _ in 0..<300 where kill(pid_t(pid), 0) == 0 {
        var status: Int32 = 0
        _ = waitpid(pid_t(pid), &status, WNOHANG)
        usleep(10_000)
      }
      #expect(kill(pid_t(pid), 0) != 0, "the helper exits when its knowledge base is removed")
    }

    @Test func walkRemovesAFolderWrittenSinceTheLastWalk() throws {
      let root = try Self.makeRoot(watch: "off")
      defer { try? FileManager.default.removeItem(atPath: root) }
      try Self.write(root, "answers/a.md", id: "a")
      let ws = try Workspace(root: root)
      _ = try ws.refresh()
      try ws.write(try Document(path: "answers/new/b.md", text: "---\nid: b\ntype: answer\ntitle: B\n---\nbody\n"), creating: true)
      try FileManager.default.removeItem(atPath: root + "/answers/new")
      let report = try ws.refresh()
      #expect(report.removed == 1)
      #expect(try ws.store.allPaths() == ["answers/a.md"])
    }
  }

#endif
