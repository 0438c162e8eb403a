import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

// Shell completion of ids, view names and journal kinds: the generated scripts
// (`kb --generate-completion-script bash|zsh|fish`) call `kb` back for the values, which
// come from the knowledge base the command line names (--kb, KB_DIR, the current folder).

/// The knowledge base named by the words being completed, without indexing or warnings.
func completionWorkspace(_ words: [String]) -> Workspace? {
  var explicit: String?
  for (i, w) in words.enumerated() {
    if w == "--kb", i + 1 < words.count { explicit = words[i + 1] }
    if w.hasPrefix("--kb=") { explicit = String(w.dropFirst(5)) }
  }
  guard let root = try? Workspace.locate(explicit: explicit) else { return nil }
  return try? Workspace(root: root)
}

/// Document ids (answers and cases) starting with the word under the cursor.
@Sendable func completeIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  (try? completionWorkspace(words)?.completions(forID: prefix)) ?? []
}

/// Case ids starting with the word under the cursor.
@Sendable func completeCaseIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  (try? completionWorkspace(words)?.completions(forID: prefix, type: .case)) ?? []
}

/// Answer ids starting with the word under the cursor.
@Sendable func completeAnswerIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  (try? completionWorkspace(words)?.completions(forID: prefix, type: .answer)) ?? []
}

/// The saved views of kb.yml.
@Sendable func completeViews(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  (completionWorkspace(words)?.viewNames ?? []).filter { $0.hasPrefix(prefix) }
}

/// The journal kinds `kb case log --kind` accepts.
let journalKindNames: [String] = JournalEntry.Kind.known.filter { $0 != .merge }.map(\.rawValue)
