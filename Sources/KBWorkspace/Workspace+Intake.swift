import Foundation
import KBCore
internal import KBStore

/// What opening cases from a batch of mentions did (`kb case open -`, `POST /api/mentions`).
public struct CaseIntake: Sendable {
  /// A mention that opened no case, and why.
  public struct Skipped: Codable, Equatable, Sendable {
    /// `already-opened` (the same post is case `id`) or `own-account` (posted by one of
    /// kb.yml's `handles`).
    public var reason: String
    public var message: String
    /// The case already opened from it.
    public var id: String?
    /// Its link, or its platform id as ``Mention/sourceKey`` writes it ("" without either).
    public var source: String
    public var author: String?

    public init(reason: String, message: String, id: String? = nil, source: String?, author: String? = nil) {
      self.reason = reason
      self.message = message
      self.id = id
      self.source = source ?? ""
      self.author = author
    }
  }
  public var opened: [OpenedCase]
  /// Mentions not opened: posts by our own accounts, and posts already opened (the same link or
  /// platform id), so the same input run twice opens nothing new.
  public var skipped: [Skipped]
}
