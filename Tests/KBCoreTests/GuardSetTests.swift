import Foundation
import Testing

@testable import KBCore

/// The guards measured on a labelled set of realistic posts (Tests/Fixtures/guards/
/// labelled-posts.jsonl: 216 posts written for this test, each guard covered both ways: thanks
/// that is not venting, idioms that are not threats, order numbers that are not personal data,
/// …). docs/RANKING.md ("Guards") reports the figures this test prints.
@Suite struct GuardSetTests {
  struct Post: Decodable {
    var text: String
    var guards: [String]
    var asks_for_help: Bool
  }

  static var settings: Settings {
    var s = Settings()
    s.team = "Northwind Support"
    s.handles = ["@NorthwindHelp", "@northwind@mastodon.social"]
    s.products = ["Northwind Mobile", "iPhone", "Northwind Fibre broadband", "Northwind Hub router", "Northwind TV", "Northwind Roam Pass"]
    s.competitors = ["Globex Telecom", "Initech Mobile", "Acme Wireless"]
    return s
  }

  static func posts() throws -> [Post] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/guards/labelled-posts.jsonl")
    let text = try String(contentsOf: url, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(Post.self, from: Data($0.utf8)) }
  }

  struct Figures { var tp = 0, fp = 0, fn = 0, positives = 0
    var precision: Double { tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp) }
    var recall: Double { tp + fn == 0 ? 1 : Double(tp) / Double(tp + fn) }
  }

  @Test func eachGuardsPrecisionAndRecall() throws {
    let posts = try Self.posts()
    #expect(posts.count >= 200)
    var figures: [String: Figures] = [:]
    var misses: [String] = []
    for post in posts {
      let m = MentionText(normalizing: post.text)
      let found = Set(MentionGuard.check(m, settings: Self.settings, onTopic: false).map(\.kind.rawValue))
      var got = found
      if m.asksForHelp { got.insert("asks-for-help") }
      var want = Set(post.guards)
      if post.asks_for_help { want.insert("asks-for-help") }
      for kind in MentionGuard.Kind.allCases.map(\.rawValue) + ["asks-for-help"] {
        var f = figures[kind, default: Figures()]
        let w = want.contains(kind), g = got.contains(kind)
        if w { f.positives += 1 }
        if w && g { f.tp += 1 } else if g { f.fp += 1 } else if w { f.fn += 1 }
        figures[kind] = f
      }
      if got != want { misses.append("  \(post.text)  want \(want.sorted()) got \(got.sorted())") }
    }
    var table = "guard | posts labelled | precision | recall\n"
    for kind in MentionGuard.Kind.allCases.map(\.rawValue) + ["asks-for-help"] {
      let f = figures[kind]!
      table += "\(kind) | \(f.positives) | \(String(format: "%.2f", f.precision)) (\(f.tp)/\(f.tp + f.fp)) | \(String(format: "%.2f", f.recall)) (\(f.tp)/\(f.tp + f.fn))\n"
      // Each guard is covered both ways, and holds up.
      #expect(f.positives >= 8, "\(kind) has too few labelled posts")
      #expect(f.precision >= 0.85, "\(kind) precision \(f.precision)")
      #expect(f.recall >= 0.8, "\(kind) recall \(f.recall)")
    }
    print("Guards on \(posts.count) labelled posts:\n" + table + "Posts not labelled exactly as expected (\(misses.count)):\n" + misses.joined(separator: "\n"))
  }

  /// Numbers are named by what they look like; only phone, e-mail, card and account numbers are
  /// personal data.
  @Test(arguments: [
    ("order #123456789012 still not delivered", "order number", false),
    ("ticket 55512345 has been open for a week", "ticket number", false),
    ("booking reference 4472910 for my flight", "reference number", false),
    ("call me on +44 7700 900123 please", "phone number ending 23", true),
    ("my account number is 40012345, please check", "account number ending 45", true),
    ("charged twice on 4111-1111-1111-1111", "card number ending 1111", true),
  ])
  func numbersAreNamedByWhatTheyLookLike(text: String, name: String, personal: Bool) {
    let numbers = MentionGuard.numbers(in: text)
    #expect(numbers.first?.kind == name)
    #expect(numbers.first?.personal == personal)
    #expect(MentionGuard.personalData(in: text).isEmpty == !personal)
  }
}
