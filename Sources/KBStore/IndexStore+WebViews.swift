import Foundation
import GRDB
import KBCore

extension IndexStore {
  /// Channels that cases use, sorted.
  public func caseChannels() throws(IndexError) -> [String] {
    try read { db in
      try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM document WHERE type = 'case' AND channel IS NOT NULL ORDER BY channel")
    }
  }
}
