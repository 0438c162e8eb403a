import Foundation
import KBCore
internal import KBStore

/// A problem found by `kb check`, in compiler style: `path:line: error: message`.
public struct Diagnostic: Equatable, Sendable, Codable, CustomStringConvertible {
  public enum Severity: String, Sendable, Codable { case error, warning }
  public var path: String
  public var line: Int?
  public var severity: Severity
  public var message: String

  public init(path: String, line: Int?, severity: Severity, message: String) {
    self.path = path
    self.line = line
    self.severity = severity
    self.message = message
  }

  public var description: String {
    "\(path)\(line.map { ":\($0)" } ?? ""): \(severity.rawValue): \(message)"
  }
}

extension Workspace {
  /// Lints the knowledge base: files that cannot be indexed, front-matter errors, duplicate
  /// ids, links to missing answers, malformed journal lines. Refreshes the index first.
  public func check() throws -> [Diagnostic] {
    try verifyIndex()
    try refresh()
    var out: [Diagnostic] = []
    for problem in try store.problems() {
      out.append(Diagnostic(path: problem.path, line: problem.line, severity: .error, message: problem.message))
    }
    // Conflicts to settle fail the check like any other error (markers, a `conflicts:` field).
    out += try conflictDiagnostics()
    // Links that lead outside (templates, folders, any file): never followed, always reported.
    let reported = Set(out.map(\.path))
    for link in FolderScanner.linksLeadingOutside(root: root) where !reported.contains(link) {
      out.append(Diagnostic(
        path: link, line: nil, severity: .error,
        message: "symbolic link leading outside the knowledge base; kb does not follow it (remove it, or commit the file itself)"))
    }
    for (id, paths) in try store.duplicateIDs() {
      for path in paths {
        let others = paths.filter { $0 != path }.joined(separator: ", ")
        out.append(Diagnostic(
          path: path, line: nil, severity: .error, message: "duplicate id '\(id)' (also in \(others))"))
      }
    }
    for link in try store.brokenLinks() {
      out.append(Diagnostic(
        path: link.path, line: nil, severity: .error, message: "links to '\(link.target)', which no document has"))
    }
    // Per-document warnings need the parsed file: only cases carry them (journal lines).
    for summary in try store.list([.type(.case)]) {
      guard let document = try? readDocument(at: summary.path) else { continue }
      for warning in document.warnings {
        out.append(Diagnostic(path: summary.path, line: warning.line, severity: .warning, message: warning.message))
      }
      if let line = document.frontMatter.keyLines["answer"], let answer = document.answer,
        let index = out.firstIndex(where: { $0.path == summary.path && $0.line == nil && $0.message.contains("'\(answer)'") })
      {
        out[index].line = line
      }
    }
    return out.sorted { ($0.path, $0.line ?? 0) < ($1.path, $1.line ?? 0) }
  }
}
