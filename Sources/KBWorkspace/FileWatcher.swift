import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One change a watcher saw, relative to the root: a Markdown file (re-stat it) or a folder
/// created, deleted or moved (rescan its whole subtree).
public struct WatchChange: Hashable, Sendable, Codable {
  public var path: String
  public var isFolder: Bool
  public init(path: String, isFolder: Bool) {
    self.path = path
    self.isFolder = isFolder
  }
}

/// What a watcher answers to "what changed since this token?".
public enum WatchAnswer: Equatable, Sendable {
  /// Exactly these changed since the token; `token` is the new one, valid once they are applied.
  case changes([WatchChange], token: String)
  /// The watcher cannot say (unknown token: another watcher, a restart, another boot, an
  /// overflow since): walk the files. `token` is valid once the walk is done (nil: keep none).
  case walk(token: String?)
}

#if os(Linux)

  /// A knowledge base's folders watched with inotify, and a log of what changed.
  ///
  /// Passive: nothing happens until ``sync(timeout:)`` (or ``pump()``) reads the queued events,
  /// so one object serves both the helper process (`kb watch run`, a poll loop) and long-lived
  /// processes that watch directly (`kb mcp`, which syncs before each call).
  ///
  /// Correctness rests on three things:
  /// - **a cookie** (as Watchman and git's fsmonitor daemon do): ``sync(timeout:)`` creates a file
  ///   in `.kb/watch/` and reads events until the kernel reports it. Events of one inotify
  ///   queue arrive in order, so every change finished before the call has then been read;
  /// - **tokens** `<instance>-<sequence>`, where the instance is random per watcher: a token
  ///   from another watcher (restarted, another boot) is never answered with changes;
  /// - **overflow**: when the kernel drops events (`IN_Q_OVERFLOW`) or the log grows past
  ///   ``maxLog``, every earlier token is refused (the caller walks), and folders are watched
  ///   again from the top.
  public final class FileWatcher: @unchecked Sendable {
    public let root: String
    public let instance: String
    /// The inotify descriptor (for a poll loop).
    public let fd: Int32
    /// The number of folders watched.
    public var folders: Int { folderOf.count }
    /// Set when the watcher can no longer serve (its root vanished): callers walk.
    public private(set) var failure: String?
    /// How many entries the change log keeps before it counts as an overflow.
    public var maxLog = 200_000
    /// Overflows seen (kernel queue or log size).
    public private(set) var overflows = 0

    private var folderOf: [Int32: String] = [:]
    private var watchOf: [String: Int32] = [:]
    private var cookieWatch: Int32 = -1
    private let cookieFolder: String
    private var cookieCount = 0
    private var cookiesSeen = Set<String>()
    private var sequence: UInt64 = 0
    /// Tokens below this are refused (set at start and by every overflow).
    private var floor: UInt64 = 0
    private var log: [WatchChange: UInt64] = [:]
    /// Symbolic links to Markdown files: what they index changes with their target, which may
    /// be anywhere in the tree, so every answer lists them (one stat each).
    private var links = Set<String>()
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    static let folderMask: UInt32 = UInt32(
      IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    public struct SetupError: Error, CustomStringConvertible {
      public let description: String
    }

    /// Watches every folder under `root` (hidden ones excepted, as the index skips them).
    public init(root: String) throws {
      self.root = root
      var bytes = [UInt8](repeating: 0, count: 8)
      let file = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
      if file >= 0 {
        _ = read(file, &bytes, 8)
        close(file)
      }
      var random = UInt64(UInt32(truncatingIfNeeded: getpid())) << 32 ^ UInt64(UInt(bitPattern: time(nil)))
      for b in bytes { random = random << 8 ^ UInt64(b) ^ (random >> 56) }
      instance = String(random, radix: 16)
      fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
      guard fd >= 0 else { throw SetupError(description: "inotify: \(String(cString: strerror(errno)))") }
      cookieFolder = root + "/.kb/watch"
      mkdir(root + "/.kb", 0o755)
      mkdir(cookieFolder, 0o755)
      cookieWatch = inotify_add_watch(fd, cookieFolder, UInt32(IN_CREATE | IN_ONLYDIR))
      guard cookieWatch >= 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw SetupError(description: "cannot watch \(cookieFolder): \(reason)")
      }
      do {
        try addTree("")
      } catch {
        close(fd)
        throw error
      }
      sequence = 1
      floor = 1
    }

    deinit { close(fd) }

    /// The current token: what a caller stores once it is up to date with everything so far.
    public var token: String { "\(instance)-\(sequence)" }

    // MARK: Watching folders

    private func addTree(_ folder: String) throws {
      var pending = [folder]
      while let next = pending.popLast() {
        let absolute = next.isEmpty ? root : root + "/" + next
        let wd = inotify_add_watch(fd, absolute, Self.folderMask)
        if wd < 0 {
          if errno == ENOSPC {
            throw SetupError(
              description: "the inotify watch limit is reached (fs.inotify.max_user_watches); folders: \(folderOf.count)")
          }
          if next.isEmpty { throw SetupError(description: "cannot watch \(root): \(String(cString: strerror(errno)))") }
          continue  // gone meanwhile, or not a folder any more: its parent's event says so
        }
        if let old = folderOf[wd], old != next { watchOf[old] = nil }
        folderOf[wd] = next
        watchOf[next] = wd
        guard let dir = opendir(absolute) else { continue }
        defer { closedir(dir) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
          let name = String(cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
          if name.hasPrefix(".") { continue }
          let path = next.isEmpty ? name : next + "/" + name
          var type = entry.pointee.d_type
          if type == UInt8(DT_UNKNOWN) {
            var st = stat()
            guard lstat(root + "/" + path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: type = UInt8(DT_DIR)
            case S_IFLNK: type = UInt8(DT_LNK)
            default: type = UInt8(DT_REG)
            }
          }
          if type == UInt8(DT_DIR) {
            pending.append(path)
          } else if type == UInt8(DT_LNK), Self.isDocumentName(name) {
            links.insert(path)
          }
        }
      }
    }

    private func forgetTree(_ folder: String) {
      let prefix = folder + "/"
      for (path, wd) in watchOf where path == folder || path.hasPrefix(prefix) {
        inotify_rm_watch(fd, wd)
        watchOf[path] = nil
        folderOf[wd] = nil
      }
      for link in links where link.hasPrefix(prefix) { links.remove(link) }
    }

    static func isDocumentName(_ name: String) -> Bool {
      name.hasSuffix(".md") && name.lowercased() != "readme.md" && !name.hasPrefix(".")
    }

    // MARK: Events

    /// Reads every queued event (never blocks).
    public func pump() {
      while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        buffer.withUnsafeBytes { raw in
          var offset = 0
          let header = MemoryLayout<inotify_event>.size
          while offset + header <= n {
            let base = raw.baseAddress! + offset
            let wd = base.loadUnaligned(fromByteOffset: 0, as: Int32.self)
            let mask = base.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let length = Int(base.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            var name = ""
            if length > 0 {
              let bytes = UnsafeRawBufferPointer(start: base + header, count: length)
              let end = bytes.firstIndex(of: 0) ?? length
              name = String(decoding: bytes[..<end], as: UTF8.self)
            }
            handle(wd: wd, mask: mask, name: name)
            offset += header + length
          }
        }
      }
    }

    private func handle(wd: Int32, mask: UInt32, name: String) {
      if mask & UInt32(IN_Q_OVERFLOW) != 0 {
        overflow()
        return
      }
      if wd == cookieWatch {
        if mask & UInt32(IN_IGNORED) != 0 {
          failure = "\(cookieFolder) was removed"
        } else if !name.isEmpty {
          cookiesSeen.insert(name)
        }
        return
      }
      guard let folder = folderOf[wd] else { return }
      if mask & UInt32(IN_IGNORED) != 0 {
        folderOf[wd] = nil
        if watchOf[folder] == wd { watchOf[folder] = nil }
        if folder.isEmpty { failure = "the knowledge base folder was removed" }
        return
      }
      if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT) != 0 {
        if folder.isEmpty { failure = "the knowledge base folder was moved or removed" }
        return
      }
      guard !name.isEmpty, !name.hasPrefix(".") else { return }
      let path = folder.isEmpty ? name : folder + "/" + name
      if mask & UInt32(IN_ISDIR) != 0 {
        if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
          do {
            try addTree(path)
          } catch {
            failure = "\(error)"
          }
          record(WatchChange(path: path, isFolder: true))
        } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
          forgetTree(path)
          record(WatchChange(path: path, isFolder: true))
        }
        return
      }
      guard Self.isDocumentName(name) else { return }
      if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
        var st = stat()
        if lstat(root + "/" + path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK { links.insert(path) }
      } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
        links.remove(path)
      }
      record(WatchChange(path: path, isFolder: false))
    }

    private func record(_ change: WatchChange) {
      sequence += 1
      log[change] = sequence
      if log.count > maxLog { overflow() }
    }

    /// Events were lost: refuse every earlier token and watch every folder again (folders
    /// created meanwhile were missed).
    private func overflow() {
      overflows += 1
      sequence += 1
      floor = sequence
      log.removeAll()
      do {
        try addTree("")
      } catch {
        failure = "\(error)"
      }
    }

    // MARK: Answering

    /// Reads events until every change made before this call has been seen (a cookie file
    /// round trip). False when the kernel did not report the cookie in time.
    public func sync(timeout: Double = 2) -> Bool {
      let deadline = Date().addingTimeInterval(timeout)
      // A cookie created while the kernel's queue is full is dropped with the rest: after an
      // overflow, try again with a new one.
      for _ in 0..<4 {
        guard failure == nil else { return false }
        let before = overflows
        switch syncOnce(deadline: deadline) {
        case true: return failure == nil
        case false where overflows > before: continue
        default: return false
        }
      }
      return false
    }

    private func syncOnce(deadline: Date) -> Bool {
      cookieCount += 1
      let name = "cookie-\(getpid())-\(cookieCount)"
      let path = cookieFolder + "/" + name
      let file = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
      guard file >= 0 else {
        if errno == ENOENT { failure = "\(cookieFolder) was removed" }
        return false
      }
      close(file)
      defer {
        unlink(path)
        cookiesSeen.remove(name)
      }
      let before = overflows
      while true {
        pump()
        if cookiesSeen.contains(name) { return true }
        if failure != nil || overflows > before { return false }
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, Int32(max(1, left * 1000)))
      }
    }

    /// What changed since `token`. Call ``sync(timeout:)`` first.
    public func changes(since token: String?) -> WatchAnswer {
      guard failure == nil else { return .walk(token: nil) }
      guard let token, let dash = token.lastIndex(of: "-"), token[..<dash] == instance,
        let seen = UInt64(token[token.index(after: dash)...]), seen >= floor, seen <= sequence
      else { return .walk(token: self.token) }
      var out = log.compactMap { $0.value > seen ? $0.key : nil }
      for link in links { out.append(WatchChange(path: link, isFolder: false)) }
      return .changes(Array(Set(out)).sorted { $0.path < $1.path }, token: self.token)
    }

    /// Entries in the change log (bounded by ``maxLog``).
    public var logSize: Int { log.count }
  }

#endif
