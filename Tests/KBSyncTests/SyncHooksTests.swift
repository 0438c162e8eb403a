import Foundation
import Testing

@testable import KBSync

/// The sync's test hooks are a value its caller hands in; the environment is read once, at the
/// edge (`Workspace.sync`), through `fromEnvironment`.
@Suite struct SyncHooksTests {
  @Test func noEnvironmentMeansNoHooks() {
    let hooks = SyncHooks.fromEnvironment([:])
    #expect(hooks.pauseAt == nil && hooks.pushAt == nil && !hooks.trace.isOn)
    #expect(SyncEngine(kbRoot: "/tmp").hooks.pauseAt == nil)
  }

  @Test(arguments: SyncHooks.PausePoint.allCases)
  func eachPausePointIsRead(point: SyncHooks.PausePoint) {
    let hooks = SyncHooks.fromEnvironment(["KB_SYNC_PAUSE_AT": point.rawValue, "KB_SYNC_PAUSE_SECONDS": "2.5"])
    #expect(hooks.pauseAt == point && hooks.pauseSeconds == 2.5)
  }

  @Test func otherValuesAreIgnored() {
    let hooks = SyncHooks.fromEnvironment(["KB_SYNC_PAUSE_AT": "checkout", "KB_SYNC_PAUSE_SECONDS": "soon", "KB_SYNC_PUSH_AT": "x"])
    #expect(hooks.pauseAt == nil && hooks.pauseSeconds == 60 && hooks.pushAt == nil)
  }

  @Test func pushInstantAndTrace() {
    let hooks = SyncHooks.fromEnvironment(["KB_SYNC_PUSH_AT": "1700000000.5", "KB_SYNC_TRACE": "1"])
    #expect(hooks.pushAt == 1_700_000_000.5 && hooks.trace.isOn)
    // An instant already past does not wait.
    let started = Date()
    hooks.waitForPushInstant()
    #expect(Date().timeIntervalSince(started) < 0.5)
  }

  @Test func aTraceThatIsOffBuildsNoLine() {
    var built = false
    SyncTrace.off({ built = true; return "step" }())
    #expect(!built)
  }

  @Test func theAttemptsAreAnOptionNotAHook() {
    #expect(SyncOptions.fromEnvironment(["KB_SYNC_ATTEMPTS": "3"]).maxAttempts == 3)
    #expect(SyncOptions.fromEnvironment(["KB_SYNC_ATTEMPTS": "0"]).maxAttempts == 12)
  }
}
