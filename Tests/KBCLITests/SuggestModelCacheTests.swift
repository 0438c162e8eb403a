import Foundation
import KBTestSupport
import Testing

/// The on-disk model cache (`.kb/suggest-model.bin`) seen from outside: separate `kb` processes
/// on a real knowledge base folder, their full JSON outputs compared with and without the cache.
private final class CacheKB {
  let kb: TempKB
  let box: Sandbox
  var root: String { kb.root }
  var cacheFile: String { root + "/.kb/suggest-model.bin" }

  static let mentions = [
    "my iphone keeps getting the same text over and over, how do I stop it??",
    "zyxel box flashing amber again, no internet",
    "where is my money back, ordered 2 weeks ago",
    "battery dies by lunch since the update",
    "what time does the parade start on saturday?",
  ].map { #"{"text": "\#($0)", "author": "@ana", "channel": "twitter"}"# }.joined(separator: "\n") + "\n"

  init() throws {
    kb = try TempKB("suggest-cache", settings: nil)
    box = try Sandbox("suggest-cache")
    let answers: [(String, String, String, String)] = [
      ("iphone-sms-repeats", "iPhone shows the same text message again and again", "the same SMS keeps arriving over and over",
       "1. Turn the iPhone off for two minutes, then on again.\n2. Turn iMessage off and on."),
      ("router-orange-light", "Router light blinking orange", "no internet and the hub blinks orange",
       "1. Check the cable.\n2. Restart the router."),
      ("router-restart", "Router light blinking orange", "wifi down after a power cut", "1. Hold reset for 10 seconds."),
      ("refund-not-showing", "Refund not showing on my account", "where is my refund", "1. Check the refund date in the app."),
      ("iphone-battery-drain", "iPhone battery drains fast after an update", "phone gets hot and the battery drops",
       "1. Check Battery Health.\n2. Turn off Background App Refresh."),
    ]
    for (id, title, symptom, steps) in answers { try answer(id, title: title, symptom: symptom, steps: steps) }
    // An open case with a customer's own words for the router fix: it teaches nothing until resolved.
    try write("cases/2024/10/c1.md", """
      ---
      id: c1
      type: case
      status: open
      channel: twitter
      customer: "@someone"
      opened: 2024-10-20T16:05:00Z
      answer: router-orange-light
      ---

      > my zyxel box is flashing amber since the storm

      ## Journal

      - 2024-10-20T16:05:00Z · Jason Reyes · opened · From twitter.

      """)
  }

  func write(_ relative: String, _ text: String) throws { try kb.write(relative, text) }

  func answer(_ id: String, title: String, symptom: String, steps: String) throws {
    try write("answers/\(id).md", """
      ---
      id: \(id)
      type: answer
      title: "\(title)"
      symptoms:
        - "\(symptom)"
      ---

      ## Fix

      \(steps)
      """)
  }

  func run(_ arguments: [String], stdin: String = "", cache: Bool = true, environment: [String: String] = [:]) throws -> ProcessResult {
    var env = ["GIT_AUTHOR_NAME": "Tina Park"].merging(environment) { $1 }
    if !cache { env["KB_SUGGEST_CACHE"] = "0" }
    // Same dictionary order in every process, so that separate builds of the model are byte-equal.
    env["SWIFT_DETERMINISTIC_HASHING"] = "1"
    return try box.kb(arguments, environment: env, stdin: stdin)
  }

  /// `kb suggest --jsonl --limit 5` over the mentions: the full JSON output.
  func suggest(cache: Bool = true, environment: [String: String] = [:]) throws -> String {
    let r = try run(
      ["suggest", "--kb", root, "--jsonl", "--limit", "5", "--as", "Jason Reyes"], stdin: Self.mentions, cache: cache,
      environment: environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.split(separator: "\n").count == 5)
    return r.stdout
  }

  /// The cache file's inode: a rewrite (temporary file renamed into place) changes it.
  func cacheInode() -> UInt64? {
    var st = stat()
    guard stat(cacheFile, &st) == 0 else { return nil }
    return UInt64(st.st_ino)
  }

  func cacheBytes() -> Data? { FileManager.default.contents(atPath: cacheFile) }

  func firstIDs(_ output: String) throws -> [String] {
    try output.split(separator: "\n").map { line in
      let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let suggestions = try #require(json["suggestions"] as? [[String: Any]])
      return suggestions.first?["id"] as? String ?? ""
    }
  }
}

@Suite struct SuggestModelCacheTests {
  @Test func cacheIsUsedWhenTheIndexIsUnchangedAndRankingsAreIdentical() throws {
    let kb = try CacheKB()
    let cold = try kb.suggest(cache: false)
    #expect(kb.cacheInode() == nil, "KB_SUGGEST_CACHE=0 writes no cache")
    let built = try kb.suggest()
    let inode = try #require(kb.cacheInode(), "the first run saves the model")
    let bytes = kb.cacheBytes()
    let loaded = try kb.suggest()
    #expect(kb.cacheInode() == inode, "an unchanged index reuses the file, not rebuilds it")
    #expect(kb.cacheBytes() == bytes)
    #expect(built == cold)
    #expect(loaded == cold)
    #expect(try kb.firstIDs(loaded).first == "iphone-sms-repeats")
    // Bodies are not in the file: the loaded ranker reads a shown answer's body (its fix
    // steps) from the index.
    #expect(loaded.contains("Turn iMessage off and on."))
    let file = try #require(bytes)
    #expect(file.range(of: Data("Turn iMessage off and on".utf8)) == nil)
  }

  /// A changed answer does not rebuild the saved model: each process brings it up to date by
  /// the documents changed since (``Suggester/overlaid``), and ranks as a model built without it.
  @Test func changingAnAnswerKeepsTheSavedModelAndRanksAsARebuild() throws {
    let kb = try CacheKB()
    let before = try kb.suggest()
    let inode = try #require(kb.cacheInode())
    // The refund answer learns the customers' words for a late refund.
    try kb.answer(
      "refund-not-showing", title: "Refund not showing on my account",
      symptom: "ordered two weeks ago and still no money back", steps: "1. Check the refund date in the app.")
    let after = try kb.suggest()
    #expect(kb.cacheInode() == inode, "the changed answer did not rebuild the saved model")
    #expect(after == (try kb.suggest(cache: false)))
    // The new symptom is the refund answer's snippet now, its words in bold.
    #expect(after.contains("**ordered** two **weeks** **ago** and still no **money** **back**"))
    #expect(!before.contains("still no"))
    #expect(try kb.suggest() == after)
  }

  @Test func resolvingACaseKeepsTheSavedModelAndRanksAsARebuild() throws {
    let kb = try CacheKB()
    let before = try kb.suggest()
    #expect(before.contains(#""evidence":{"cases":1,"failed":0,"held":0}"#))
    let inode = try #require(kb.cacheInode())
    let bytes = try #require(kb.cacheBytes())
    let r = try kb.run(["case", "resolve", "--kb", kb.root, "c1", "--answer", "router-orange-light", "--as", "Jason Reyes"])
    #expect(r.status == 0, "\(r.stderr)")
    let after = try kb.suggest()
    #expect(kb.cacheInode() == inode)
    #expect(kb.cacheBytes() == bytes, "the resolved case's complaint is an example of the overlay, not of the file")
    #expect(after == (try kb.suggest(cache: false)))
    #expect(after != before)
    // `kb index --rebuild` saves a model of today's documents.
    #expect(try kb.run(["index", "--rebuild", "--kb", kb.root]).status == 0)
    #expect(kb.cacheBytes() != bytes, "the saved model learnt the complaint")
    #expect(try kb.suggest() == after)
  }

  /// Past `KB_MODEL_SAVE_AFTER` changes since the saved model, a suggestion starts a background
  /// `kb index --model` that saves one of today's documents; `kb index --model` does it on demand.
  @Test func manyChangesSaveANewModelInTheBackground() throws {
    let kb = try CacheKB()
    _ = try kb.suggest()
    let bytes = try #require(kb.cacheBytes())
    try kb.answer(
      "refund-not-showing", title: "Refund not showing on my account",
      symptom: "ordered two weeks ago and still no money back", steps: "1. Check the refund date in the app.")
    let after = try kb.suggest(environment: ["KB_MODEL_SAVE_AFTER": "1"])
    var saved = kb.cacheBytes()
    let deadline = Date().addingTimeInterval(60)
    while saved == bytes, Date() < deadline {
      Thread.sleep(forTimeInterval: 0.1)
      saved = kb.cacheBytes()
    }
    #expect(saved != bytes, "the background build saved a model of today's documents")
    #expect(try kb.suggest() == after)
    // On demand.
    try kb.answer(
      "router-orange-light", title: "Router light blinking orange", symptom: "hub flashing amber after the storm",
      steps: "1. Restart the router.")
    let before = kb.cacheBytes()
    let r = try kb.run(["index", "--model", "--kb", kb.root])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(kb.cacheBytes() != before)
    #expect(try kb.suggest() == (try kb.suggest(cache: false)))
  }

  @Test func aCorruptOrTruncatedCacheFileIsIgnoredAndRebuilt() throws {
    let kb = try CacheKB()
    let cold = try kb.suggest(cache: false)
    _ = try kb.suggest()
    let good = try #require(kb.cacheBytes())
    #expect(good.count > 64)
    var flipped = good
    flipped[good.count / 2] ^= 0x5A
    var tail = good
    tail.replaceSubrange((good.count - 12)..<good.count, with: [UInt8](repeating: 0xFF, count: 12))
    let damaged: [(String, Data)] = [
      ("truncated in the payload", good.prefix(good.count / 2)),
      ("truncated in the header", good.prefix(10)),
      ("empty", Data()),
      ("one byte flipped", flipped),
      ("tail overwritten", tail),
      ("not a model", Data("hello, world\n".utf8)),
    ]
    for (what, data) in damaged {
      try data.write(to: URL(fileURLWithPath: kb.cacheFile))
      let out = try kb.suggest()
      #expect(out == cold, "\(what)")
      #expect(kb.cacheBytes() == good, "\(what): rebuilt and rewritten")
    }
    // A directory where the file should be: suggest still works, just without a cache.
    try FileManager.default.removeItem(atPath: kb.cacheFile)
    try FileManager.default.createDirectory(atPath: kb.cacheFile, withIntermediateDirectories: false)
    #expect(try kb.suggest() == cold)
  }
}

@Suite struct SuggestModelCrashTests {
  /// A `kb` killed with SIGKILL while it builds and writes the model (and while it rebuilds the
  /// index) leaves nothing the next process uses: it answers exactly as without any cache, and
  /// what it saves is whole.
  @Test func killedMidWriteNeverLeavesAModelThatIsUsed() throws {
    let kb = try CacheKB()
    try Self.addAnswers(kb)
    let cold = try kb.suggest(cache: false)
    for delay in [0.05, 0.15, 0.3, 0.6, 1.0, 1.6] {
      try? FileManager.default.removeItem(atPath: kb.cacheFile)
      let p = try kb.box.start(
        BuiltBinary.kb,
        delay > 1.2 ? ["index", "--rebuild", "--kb", kb.root] : ["suggest", "--kb", kb.root, "router blinking orange"],
        cwd: kb.root)
      Thread.sleep(forTimeInterval: delay)
      p.kill(SIGKILL)
      p.wait()
      // Whatever was left (nothing, a temporary file, a whole model): the answers are the same.
      #expect(try kb.suggest() == cold, "killed after \(delay) s")
      let saved = try #require(kb.cacheInode(), "the next run saved a model")
      #expect(try kb.suggest() == cold)
      #expect(kb.cacheInode() == saved, "the saved model is whole: used, not rebuilt")
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: kb.root + "/.kb").filter { $0.contains(".tmp-") }
      #expect(leftovers.isEmpty, "a killed writer's temporary file is removed: \(leftovers)")
    }
  }

  /// Enough answers that building and writing the model takes a while to hit.
  private static func addAnswers(_ kb: CacheKB) throws {
    let words = ["router", "orange", "refund", "battery", "iphone", "text", "wifi", "password", "card", "order", "late", "screen"]
    for i in 0..<1500 {
      let w = (0..<8).map { words[($0 * 7 + i * 13 + $0 * i) % words.count] }.joined(separator: " ")
      try kb.answer("gen-\(i)", title: "Problem \(i % 400) with \(words[i % words.count])", symptom: w, steps: "1. \(w).")
    }
  }

  /// `kb index --model` killed while it builds and saves a model over an older one (with
  /// changes since, which the next processes apply): the next suggestion answers as a model
  /// built from every document, whatever was left.
  @Test func killedWhileSavingOverAnOlderModelLosesNothing() throws {
    let kb = try CacheKB()
    try Self.addAnswers(kb)
    _ = try kb.suggest()
    for (i, delay) in [0.05, 0.2, 0.5, 1.0].enumerated() {
      try kb.answer("gen-\(i * 7)", title: "Problem changed \(i)", symptom: "changed words \(i)", steps: "1. Restart.")
      let cold = try kb.suggest(cache: false)
      let p = try kb.box.start(BuiltBinary.kb, ["index", "--model", "--kb", kb.root], cwd: kb.root)
      Thread.sleep(forTimeInterval: delay)
      p.kill(SIGKILL)
      p.wait()
      #expect(try kb.suggest() == cold, "killed after \(delay) s")
    }
  }
}
