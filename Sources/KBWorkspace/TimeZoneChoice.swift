import Foundation
import KBCore

/// The time zone for follow-up days and "today": one rule for every front end.
///
/// The zone given (`--tz`, MCP `time_zone`) when there is one, and it must name a zone; else
/// `$TZ` when it names a zone (`Europe/Berlin`, `UTC+2`); else UTC. A `$TZ` that is not a zone
/// name (a POSIX rule such as `CET-1CEST`) means UTC, with a ``warning`` for the front end to
/// show (the CLI and the MCP server print it on standard error).
public struct TimeZoneChoice: Sendable {
  public var zone: TimeZone
  /// The name results show: `UTC` for UTC, else the zone's identifier.
  public var name: String
  /// Set when `$TZ` was ignored.
  public var warning: String?

  /// - Throws: ``CaseError`` when `explicit` is not a time zone.
  public init(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(CaseError) {
    var text = "UTC"
    if let explicit {
      text = explicit
    } else if let env = environment["TZ"], !env.isEmpty {
      if (try? FollowUp.timeZone(env)) != nil {
        text = env
      } else {
        warning = "warning: TZ='\(env)' is not a time zone name; using UTC. Pass --tz (MCP: time_zone) to choose one."
      }
    }
    zone = try FollowUp.timeZone(text)
    name = zone.secondsFromGMT() == 0 && ["GMT", "UTC"].contains(zone.identifier) ? "UTC" : zone.identifier
  }
}
