import Foundation

/// The test and diagnostic hooks of one sync, handed to ``SyncEngine`` by its caller: the engine
/// itself reads no environment. `kb sync` reads them once, from `KB_SYNC_*` variables, in the
/// application layer's `Workspace.sync` (``fromEnvironment(_:)``); a sync made without them
/// neither pauses, waits nor traces.
public struct SyncHooks: Sendable {
  /// A point where a sync can be made to pause: before the step of that name.
  public enum PausePoint: String, Sendable, CaseIterable {
    /// Before HEAD is read and local edits are committed.
    case commit
    /// Before the fetch.
    case fetch
    /// After the merge is checked out, before the branch moves.
    case merge
    /// Before the push updates the remote's branch.
    case push
  }

  /// For crash tests (`KB_SYNC_PAUSE_AT`): the sync prints `kb sync: paused at <point>` on
  /// stderr and sleeps `pauseSeconds` there, so that a test can kill it at that point.
  public var pauseAt: PausePoint?
  public var pauseSeconds: Double = 60
  /// For race tests (`KB_SYNC_PUSH_AT`, seconds since 1970): the first push waits for this
  /// instant, so that several processes push at once.
  public var pushAt: Double?
  /// Each step's time on stderr (`KB_SYNC_TRACE=1`).
  public var trace = SyncTrace.off

  public init() {}

  /// The hooks `KB_SYNC_PAUSE_AT`, `KB_SYNC_PAUSE_SECONDS`, `KB_SYNC_PUSH_AT` and `KB_SYNC_TRACE`
  /// ask for in `environment` (a pause point that names no step is ignored).
  public static func fromEnvironment(_ environment: [String: String]) -> SyncHooks {
    var hooks = SyncHooks()
    hooks.pauseAt = environment["KB_SYNC_PAUSE_AT"].flatMap(PausePoint.init(rawValue:))
    if let s = environment["KB_SYNC_PAUSE_SECONDS"].flatMap(Double.init) { hooks.pauseSeconds = s }
    hooks.pushAt = environment["KB_SYNC_PUSH_AT"].flatMap(Double.init)
    if environment["KB_SYNC_TRACE"] != nil { hooks.trace = SyncTrace(start: Date()) }
    return hooks
  }

  /// Pauses when `pauseAt` is `point`.
  func pause(_ point: PausePoint) {
    guard pauseAt == point else { return }
    FileHandle.standardError.write(Data("kb sync: paused at \(point.rawValue)\n".utf8))
    Thread.sleep(forTimeInterval: pauseSeconds)
  }

  /// Waits for `pushAt`, if it is still to come.
  func waitForPushInstant() {
    guard let pushAt else { return }
    let wait = pushAt - Date().timeIntervalSince1970
    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
  }
}

/// Each step's time on stderr: wall time since the trace started; CPU time of the process and of
/// the thread that took the step, since they started. Off unless made with a start.
public struct SyncTrace: Sendable {
  /// When the trace started, `nil` when it is off.
  public let start: Date?

  public static let off = SyncTrace(start: nil)

  public init(start: Date?) { self.start = start }

  public var isOn: Bool { start != nil }

  /// Prints `kb sync: <ms> ms (cpu …) <step>` when on; `step` is not even built when off.
  public func callAsFunction(_ step: @autoclosure () -> String) {
    guard let start else { return }
    func ms(_ clock: clockid_t) -> Int {
      var t = timespec()
      clock_gettime(clock, &t)
      return t.tv_sec * 1000 + t.tv_nsec / 1_000_000
    }
    FileHandle.standardError.write(
      Data(
        "kb sync: \(Int(Date().timeIntervalSince(start) * 1000)) ms (cpu \(ms(CLOCK_PROCESS_CPUTIME_ID)) ms, this thread \(ms(CLOCK_THREAD_CPUTIME_ID)) ms) \(step())\n"
          .utf8))
  }
}
