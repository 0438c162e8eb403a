import Foundation
import KBCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Formats output for people (color only on a terminal, never with `NO_COLOR`) and for
/// scripts (`--json`: stable keys, sorted, UTF-8).
package struct Output {
  package var json: Bool
  package var color: Bool

  package init(json: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.json = json
    color = !json && isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"].map(\.isEmpty) ?? true
      && environment["TERM"] != "dumb"
  }

  /// Prints a value as JSON.
  package func print<T: Encodable>(json value: T) throws {
    Swift.print(try Self.encode(value))
  }

  package static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    try JSONFormat.string(value, pretty: pretty)
  }

  package func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
  package func dim(_ s: String) -> String { color ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
  package func green(_ s: String) -> String { color ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
  package func yellow(_ s: String) -> String { color ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
  package func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
  package func cyan(_ s: String) -> String { color ? "\u{1B}[36m\(s)\u{1B}[0m" : s }

  /// A snippet with its highlight markers as bold yellow on a terminal, `**word**` otherwise.
  package func highlight(_ snippet: String) -> String {
    let (open, close) = color ? ("\u{1B}[1;33m", "\u{1B}[0m") : ("**", "**")
    return SearchHit.highlight(snippet, open: open, close: close)
  }

  /// Prints a line on stderr.
  package static func warn(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
  }
}

/// A progress line on stderr, shown only when stderr is a terminal and not for --json.
package final class Progress: @unchecked Sendable {
  package let label: String
  package let enabled: Bool
  private var shown = false
  private var last = Date.distantPast

  package init(label: String, enabled: Bool) {
    self.label = label
    self.enabled = enabled && isatty(STDERR_FILENO) == 1
  }

  /// Called as (done, total).
  package var callback: ((Int, Int) -> Void)? {
    guard enabled else { return nil }
    return { [self] done, total in
      guard total >= 500 else { return }
      let now = Date()
      guard now.timeIntervalSince(last) > 0.1 || done == total else { return }
      last = now
      shown = true
      FileHandle.standardError.write(Data("\r\(label) \(done)/\(total) files…\u{1B}[K".utf8))
    }
  }

  package func finish() {
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}

/// A one-line stage message on stderr ("Building the suggestion model: …"), shown only when
/// stderr is a terminal and not for --json; cleared when the work is done.
final class Stage: @unchecked Sendable {
  let enabled: Bool
  private var shown = false

  init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) == 1 }

  var callback: (@Sendable (String) -> Void)? {
    guard enabled else { return nil }
    return { [self] message in
      shown = true
      FileHandle.standardError.write(Data("\r\(message)\u{1B}[K".utf8))
    }
  }

  func finish() {
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
