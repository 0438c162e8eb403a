import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `kb watch status` and `kb status` report about the helper of one knowledge base.
public struct WatchHelperStatus: Codable, Equatable, Sendable {
  public var pid: Int
  public var instance: String
  /// Folders watched.
  public var folders: Int
  /// Seconds since the helper started.
  public var uptime: Double
  /// Seconds without a request; the helper stops itself after `idleLimit`.
  public var idle: Double
  public var idleLimit: Double
  /// Times events were lost (kernel queue overflow): each made the next command walk once.
  public var overflows: Int
}

/// The file-watcher helper (`kb watch run`) and its client.
///
/// One helper per knowledge base and user, started by the first command that finds none (in
/// its own session, standard streams on /dev/null), listening on an abstract Unix socket
/// named after the user and the folder (no file to leave behind; the kernel frees the name
/// when the process ends, and a second helper cannot bind it). It stops itself after
/// ``defaultIdle`` seconds without a request, when its folder is removed, or on `kb watch stop`.
///
/// Protocol (one request per connection, answered then closed):
/// - `SYNC <token|->\n` → `CHANGES <token> <n>\n` and n records `F<path>\0` or `D<path>\0`,
///   or `WALK <token|->\n`; then `END\n` (an answer without it is discarded);
/// - `STATUS\n` → one line of JSON (``WatchHelperStatus``) then `END\n`;
/// - `STOP\n` → `BYE\n`, and the helper exits.
public enum WatchService {
  /// Seconds a helper waits for a request before it stops itself.
  public static let defaultIdle: Double = 15 * 60

  // MARK: Socket

  static func socketAddress(root: String) -> (sockaddr_un, socklen_t) {
    let real = FolderScanner.realPath(root) ?? root
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in real.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let name = "kb-watch-v1-\(getuid())-\(String(h, radix: 16))"
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(name.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw[0] = 0  // abstract namespace
      for (i, b) in bytes.enumerated() where i + 1 < raw.count { raw[i + 1] = b }
    }
    let length = MemoryLayout<sa_family_t>.size + 1 + bytes.count
    return (address, socklen_t(length))
  }

  private static func setTimeout(_ fd: Int32, seconds: Double) {
    var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  }

  private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var done = 0
    while done < bytes.count {
      let n = bytes[done...].withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return false }
      done += n
    }
    return true
  }

  private static func readAll(_ fd: Int32, limit: Int = 1 << 28) -> [UInt8]? {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return nil }
      if n == 0 { return out }
      out.append(contentsOf: chunk[..<n])
      if out.count > limit { return nil }
    }
  }

  // MARK: Client

  /// Connects to the helper of `root`, or nil when none listens.
  static func connect(root: String, timeout: Double = 3) -> Int32? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    var (address, length) = socketAddress(root: root)
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
    }
    guard status == 0 else {
      close(fd)
      return nil
    }
    setTimeout(fd, seconds: timeout)
    return fd
  }

  /// One request and its whole answer (up to `END\n`), or nil.
  static func request(root: String, _ line: String, timeout: Double = 3) -> [UInt8]? {
    guard let fd = connect(root: root, timeout: timeout) else { return nil }
    defer { close(fd) }
    guard writeAll(fd, Array((line + "\n").utf8)) else { return nil }
    shutdown(fd, Int32(SHUT_WR))
    return readAll(fd)
  }

  /// Asks the helper what changed since `token`. Nil when no helper answered in full.
  public static func query(root: String, token: String?) -> WatchAnswer? {
    guard let bytes = request(root: root, "SYNC \(token ?? "-")") else { return nil }
    return parse(bytes)
  }

  static func parse(_ bytes: [UInt8]) -> WatchAnswer? {
    let end = Array("END\n".utf8)
    guard bytes.count >= end.count, Array(bytes.suffix(end.count)) == end,
      let newline = bytes.firstIndex(of: UInt8(ascii: "\n"))
    else { return nil }
    let header = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
    guard header.count >= 2 else { return nil }
    if header[0] == "WALK" {
      return .walk(token: header[1] == "-" ? nil : header[1])
    }
    guard header[0] == "CHANGES", header.count == 3, let count = Int(header[2]) else { return nil }
    var changes: [WatchChange] = []
    changes.reserveCapacity(count)
    var i = newline + 1
    let stop = bytes.count - end.count
    while i < stop {
      guard let zero = bytes[i..<stop].firstIndex(of: 0) else { return nil }
      let kind = bytes[i]
      let path = String(decoding: bytes[(i + 1)..<zero], as: UTF8.self)
      guard kind == UInt8(ascii: "F") || kind == UInt8(ascii: "D"), !path.isEmpty else { return nil }
      changes.append(WatchChange(path: path, isFolder: kind == UInt8(ascii: "D")))
      i = zero + 1
    }
    guard changes.count == count else { return nil }
    return .changes(changes, token: header[1])
  }

  /// The helper's state, or nil when none runs for `root`.
  public static func status(root: String) -> WatchHelperStatus? {
    guard let bytes = request(root: root, "STATUS", timeout: 2),
      let line = bytes.split(separator: UInt8(ascii: "\n")).first
    else { return nil }
    return try? JSONDecoder().decode(WatchHelperStatus.self, from: Data(line))
  }

  /// Asks the helper to stop; true when one was running. Waits until its socket is free.
  @discardableResult
  public static func stop(root: String) -> Bool {
    guard let bytes = request(root: root, "STOP", timeout: 2), bytes.starts(with: Array("BYE".utf8)) else {
      return false
    }
    for _ in 0..<200 {
      guard let fd = connect(root: root) else { return true }
      close(fd)
      usleep(10_000)
    }
    return true
  }

  /// Starts `helper watch run --kb root` in its own session with standard streams on
  /// /dev/null and no other inherited descriptor. True when it was started.
  public static func spawn(root: String, helper: String, idle: Double) -> Bool {
    spawnDetached(helper, ["watch", "run", "--kb", root, "--idle", String(Int(idle))])
  }

  /// Starts `executable arguments…` in its own session with standard streams on /dev/null and
  /// no other inherited descriptor, not waited for. True when it was started.
  public static func spawnDetached(_ executable: String, _ arguments: [String]) -> Bool {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for target in Int32(0)...2 {
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
    }
    closeOthers(&actions)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(0x80))  // POSIX_SPAWN_SETSID
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    return status == 0
  }

  /// glibc ≥ 2.34: the child closes everything else the parent had open without O_CLOEXEC (a
  /// test harness's pipe kept open by a helper would make its reader wait forever).
  private static func closeOthers(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
      _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }
  }

  /// Runs `executable arguments…` with `environment`, its standard input and error on
  /// /dev/null, and returns its standard output once it exits (nil when it could not start).
  static func output(of executable: String, _ arguments: [String], environment: [String: String]) -> Data? {
    var pipe: [Int32] = [0, 0]
    guard Glibc.pipe(&pipe) == 0 else { return nil }
    // Neither end may leak into other children this process starts meanwhile.
    _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    closeOthers(&actions)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for p in argv { free(p) }
      for p in envp { free(p) }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    close(pipe[1])
    guard status == 0 else {
      close(pipe[0])
      return nil
    }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(pipe[0], &buffer, buffer.count)
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { break }
      data.append(contentsOf: buffer[0..<n])
    }
    close(pipe[0])
    var code: Int32 = 0
    while waitpid(pid, &code, 0) < 0, errno == EINTR {}
    return data
  }

  /// The executable that runs the helper: `$KB_WATCH_HELPER`, else `kb` beside the running
  /// executable (also right for the test runner in `.build/debug`).
  public static func helperPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let path = environment["KB_WATCH_HELPER"], !path.isEmpty {
      return access(path, X_OK) == 0 ? path : nil
    }
    guard let exe = FolderScanner.realPath("/proc/self/exe") else { return nil }
    let candidate = (exe as NSString).deletingLastPathComponent + "/kb"
    return access(candidate, X_OK) == 0 ? candidate : nil
  }

  // MARK: Helper

  #if os(Linux)
    /// Runs the helper for `root` in the foreground until it is idle for `idle` seconds, is
    /// stopped, or its folder goes away. Returns why it stopped. Throws when it cannot start
    /// (another helper already serves this folder: ``AlreadyRunning``).
    public static func run(root: String, idle: Double = defaultIdle, log: (String) -> Void = { _ in }) throws -> String {
      let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard listener >= 0 else { throw FileWatcher.SetupError(description: "socket: \(String(cString: strerror(errno)))") }
      defer { close(listener) }
      var (address, length) = socketAddress(root: root)
      let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
      }
      guard bound == 0 else {
        if errno == EADDRINUSE { throw AlreadyRunning() }
        throw FileWatcher.SetupError(description: "bind: \(String(cString: strerror(errno)))")
      }
      // Watch before listening: a client that connects is answered only once every folder is
      // watched, so the first token it gets covers everything.
      let watcher = try FileWatcher(root: root)
      guard listen(listener, 64) == 0 else {
        throw FileWatcher.SetupError(description: "listen: \(String(cString: strerror(errno)))")
      }
      log("watching \(watcher.folders) folder(s) of \(root)")
      let started = Date()
      var lastRequest = Date()
      while true {
        if let failure = watcher.failure { return failure }
        let left = idle - Date().timeIntervalSince(lastRequest)
        if left <= 0 { return "idle for \(Int(idle)) s" }
        var fds = [pollfd(fd: watcher.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, 2, Int32(min(left, 60) * 1000))
        if ready < 0 && errno != EINTR { return "poll: \(String(cString: strerror(errno)))" }
        if fds[0].revents != 0 { watcher.pump() }
        guard fds[1].revents != 0 else { continue }
        let client = accept(listener, nil, nil)
        guard client >= 0 else { continue }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        defer { close(client) }
        setTimeout(client, seconds: 2)
        guard sameUser(client), let line = readLine(client) else { continue }
        if line.hasPrefix("SYNC ") {
          lastRequest = Date()
          let token = String(line.dropFirst(5))
          var answer: WatchAnswer = .walk(token: nil)
          if watcher.sync() { answer = watcher.changes(since: token == "-" ? nil : token) }
          _ = writeAll(client, encode(answer))
        } else if line == "STATUS" {
          let status = WatchHelperStatus(
            pid: Int(getpid()), instance: watcher.instance, folders: watcher.folders,
            uptime: Date().timeIntervalSince(started), idle: Date().timeIntervalSince(lastRequest), idleLimit: idle,
            overflows: watcher.overflows)
          var bytes = Array((try? JSONEncoder().encode(status)) ?? Data())
          bytes += Array("\nEND\n".utf8)
          _ = writeAll(client, bytes)
        } else if line == "STOP" {
          _ = writeAll(client, Array("BYE\n".utf8))
          return "stopped by 'kb watch stop'"
        }
      }
    }

    public struct AlreadyRunning: Error, CustomStringConvertible {
      public var description: String { "a watcher already serves this knowledge base" }
    }

    static func encode(_ answer: WatchAnswer) -> [UInt8] {
      var out: [UInt8] = []
      switch answer {
      case .walk(let token):
        out += Array("WALK \(token ?? "-")\n".utf8)
      case .changes(let changes, let token):
        out += Array("CHANGES \(token) \(changes.count)\n".utf8)
        for change in changes {
          out.append(change.isFolder ? UInt8(ascii: "D") : UInt8(ascii: "F"))
          out += Array(change.path.utf8)
          out.append(0)
        }
      }
      out += Array("END\n".utf8)
      return out
    }

    /// Only the user who runs the helper may ask it (an abstract socket has no file
    /// permissions).
    private static func sameUser(_ fd: Int32) -> Bool {
      var credentials = (pid: Int32(0), uid: UInt32(0), gid: UInt32(0))
      var size = socklen_t(MemoryLayout.size(ofValue: credentials))
      guard getsockopt(fd, SOL_SOCKET, 17 /* SO_PEERCRED */, &credentials, &size) == 0 else { return false }
      return credentials.uid == getuid()
    }

    private static func readLine(_ fd: Int32) -> String? {
      var bytes: [UInt8] = []
      var byte: UInt8 = 0
      while bytes.count < 4096 {
        let n = recv(fd, &byte, 1, 0)
        if n < 0 && errno == EINTR { continue }
        guard n == 1 else { break }
        if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
        bytes.append(byte)
      }
      return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
  #endif
}
