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

/// What the mentions of one batch share while their cases are opened (``Workspace/openCases(from:related:assignee:tags:id:title:now:)``),
/// so that each mention costs the same however long the batch is.
final class IntakeBatch {
  /// Every case's `source`, when some mention has neither an author nor a time.
  var sources: [String: String]?
  /// Every case's customer and opening time, for a batch of at least ``directoryFrom`` mentions.
  var directory: CaseDirectory?
  /// From this many mentions, reading every case's customer and time once costs less than
  /// looking at every case for each mention.
  static let directoryFrom = 8
  /// The stems and customer of each indexed case the similar-case look-up has read.
  var indexedCases: [String: (stems: Set<String>, customer: String?)] = [:]
  /// The next free suffix of each id base the batch used (`…-dropping-7`).
  var nextSuffix: [String: Int] = [:]
  /// The index rows of the cases written, indexed together when the batch ends.
  private var changes = IndexChanges()
  /// The cases the batch opened, with their stems, and the cases of each stem (in order).
  private var cases: [(similar: SimilarCase, stems: Set<String>)] = []
  private var byStem: [String: [Int]] = [:]

  /// How many of the latest cases sharing each stem are looked at.
  static let recentPerStem = 64

  func add(_ written: IndexChanges?, similar: SimilarCase, stems: Set<String>) {
    if let written {
      changes.upserts += written.upserts
      changes.directories.merge(written.directories) { $1 }
    }
    for stem in stems { byStem[stem, default: []].append(cases.count) }
    cases.append((similar, stems))
  }

  /// The batch's cases sharing at least `needed` of `stems`, latest first, among the latest
  /// ``recentPerStem`` of each stem (a bounded look).
  func similar(to stems: Set<String>, needed: Int) -> [SimilarCase] {
    var candidates = Set<Int>()
    for stem in stems {
      guard let list = byStem[stem] else { continue }
      candidates.formUnion(list.suffix(Self.recentPerStem))
    }
    return candidates.sorted(by: >).compactMap { i in
      let shared = stems.intersection(cases[i].stems)
      guard shared.count >= needed else { return nil }
      var c = cases[i].similar
      c.shared = shared.sorted()
      return c
    }
  }

  /// The changes to index, once (the batch then holds none).
  func takeChanges() -> IndexChanges {
    defer { changes = IndexChanges() }
    return changes
  }
}

/// Every case's path by customer and by opening time, read once for a batch: the answers of
/// ``IndexStore`` 's case queries by customer (`customer = ? COLLATE NOCASE`, with or without
/// the `@`) and by a time window (`opened >= ? AND opened < ?`, compared as bytes), in their
/// order (opening time, then id).
struct CaseDirectory {
  private var byCustomer: [String: [String]] = [:]
  private var byOpened: [(opened: [UInt8], path: String)] = []

  init(_ cases: [CaseSummary]) {
    for c in cases {
      if let customer = c.customer { byCustomer[Self.fold(customer), default: []].append(c.path) }
      if let opened = c.opened { byOpened.append((Array(opened.utf8), c.path)) }
    }
    byOpened.sort { $0.opened.lexicographicallyPrecedes($1.opened) }
  }

  /// SQLite's NOCASE: ASCII letters folded, nothing else.
  static func fold(_ s: String) -> String {
    String(decoding: s.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
  }

  func cases(of customer: String) -> [String] {
    SearchQuery.Filter.customerSpellings(customer).flatMap { byCustomer[Self.fold($0)] ?? [] }
  }

  func opened(since: String, before: String) -> [String] {
    let low = Array(since.utf8), high = Array(before.utf8)
    // The first at or after `low` (binary search), then on while before `high`.
    var lo = 0, hi = byOpened.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if byOpened[mid].opened.lexicographicallyPrecedes(low) { lo = mid + 1 } else { hi = mid }
    }
    var out: [String] = []
    while lo < byOpened.count, byOpened[lo].opened.lexicographicallyPrecedes(high) {
      out.append(byOpened[lo].path)
      lo += 1
    }
    return out
  }
}
