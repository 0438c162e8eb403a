import Foundation
import KBTestSupport
import Testing
@testable import KBCore


@Suite struct LineDiffTests {
  /// The LCS length by dynamic programming, as a reference.
  static func lcsLength(_ a: [Int], _ b: [Int]) -> Int {
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
      }
    }
    return table[0][0]
  }

  @Test func matchesAreALongestCommonSubsequence() {
    var rng = SeededGenerator(seed: 42)
    for _ in 0..<3000 {
      let alphabet = Int.random(in: 1...6, using: &rng)
      let a = (0..<Int.random(in: 0...14, using: &rng)).map { _ in Int.random(in: 0..<alphabet, using: &rng) }
      let b = (0..<Int.random(in: 0...14, using: &rng)).map { _ in Int.random(in: 0..<alphabet, using: &rng) }
      let matches = LineDiff.matches(a, b)
      for (index, (i, j)) in matches.enumerated() {
        #expect(a[i] == b[j])
        if index > 0 {
          #expect(i > matches[index - 1].0 && j > matches[index - 1].1)
        }
      }
      #expect(matches.count == Self.lcsLength(a, b), "a=\(a) b=\(b)")
    }
  }

  @Test func largeInputsStayFast() {
    var rng = SeededGenerator(seed: 7)
    let a = (0..<20_000).map { _ in Int.random(in: 0..<5_000, using: &rng) }
    var b = a
    for _ in 0..<200 { b[Int.random(in: 0..<b.count, using: &rng)] = Int.random(in: 5_000..<6_000, using: &rng) }
    let clock = ContinuousClock()
    let start = clock.now
    let matches = LineDiff.matches(a, b)
    #expect(matches.count >= a.count - 200)
    #expect(clock.now - start < .seconds(5))
    // Completely different inputs: no common line at all.
    let c = (0..<3_000).map { $0 }
    let d = (0..<3_000).map { $0 + 10_000 }
    #expect(LineDiff.matches(c, d).isEmpty)
  }
}

@Suite struct LineMergeTests {
  let merge = DomainMerge.lineMerge

  @Test func unchangedSideTakesTheOtherByteForByte() {
    let base = "a\nb\nc\n"
    let changed = "a\nB\nc\nd"
    #expect(merge(base, base, changed) == (changed, true))
    #expect(merge(base, changed, base) == (changed, true))
    #expect(merge(base, changed, changed) == (changed, true))
  }

  @Test func nonOverlappingChangesMergeCleanly() {
    let base = "one\ntwo\nthree\nfour\nfive\nsix\n"
    let ours = "ONE\ntwo\nthree\nfour\nfive\nsix\n"
    let theirs = "one\ntwo\nthree\nfour\nfive\nSIX\nseven\n"
    let result = merge(base, ours, theirs)
    #expect(result.clean)
    #expect(result.text == "ONE\ntwo\nthree\nfour\nfive\nSIX\nseven\n")
  }

  @Test func sameChangeOnBothSidesIsTakenOnce() {
    let base = "a\nb\nc\nd\n"
    let ours = "a\nX\nc\nd\ne\n"
    let theirs = "a\nX\nc\nd\n"
    let result = merge(base, ours, theirs)
    #expect(result.clean)
    #expect(result.text == "a\nX\nc\nd\ne\n")
  }

  @Test func deletionAgainstUnchangedIsApplied() {
    let result = merge("a\nb\nc\nd\ne\n", "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n")
    #expect(result == ("a\nc\nd\nE\n", true))
  }

  @Test func overlappingChangesConflictWithDiff3Markers() {
    let base = "intro\nRestart the phone.\noutro\n"
    let ours = "intro\nRestart the iPhone.\noutro\n"
    let theirs = "intro\nReboot the phone twice.\noutro\n"
    let result = merge(base, ours, theirs)
    #expect(!result.clean)
    #expect(result.text == """
      intro
      <<<<<<< ours
      Restart the iPhone.
      ||||||| base
      Restart the phone.
      =======
      Reboot the phone twice.
      >>>>>>> theirs
      outro

      """)
  }

  @Test func adjacentChangesConflictLikeGit() {
    let result = merge("a\nb\nc\n", "a\nB\nc\n", "a\nb\nC\n")
    #expect(!result.clean)
    #expect(result.text.contains("<<<<<<< ours\nB\nc\n||||||| base\nb\nc\n=======\nb\nC\n>>>>>>> theirs\n"))
  }

  @Test func missingFinalNewlineIsClosedBeforeAMarker() {
    let result = merge("x\n", "x\nours", "x\ntheirs")
    #expect(!result.clean)
    #expect(result.text == "x\n<<<<<<< ours\nours\n||||||| base\n=======\ntheirs\n>>>>>>> theirs\n")
  }

  @Test func bothSidesAddTheSameFile() {
    #expect(merge("", "same\n", "same\n") == ("same\n", true))
    let result = merge("", "mine\n", "yours\n")
    #expect(!result.clean)
    #expect(result.text.contains("mine\n") && result.text.contains("yours\n"))
  }

  @Test func randomMergesKeepEverySideChangeOrConflict() {
    // Property: with changes on disjoint, well-separated lines, the merge is clean and equals
    // applying both edits; merge(base, X, X) == X; merge is never lossy for added lines.
    var rng = SeededGenerator(seed: 2024)
    for round in 0..<300 {
      let count = Int.random(in: 8...40, using: &rng)
      let base = (0..<count).map { "line \($0)" }
      var ours = base
      var theirs = base
      for i in stride(from: 0, to: count, by: 4) {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: ours[i] = "ours \(round) \(i)"
        case 1: theirs[i] = "theirs \(round) \(i)"
        default: break
        }
      }
      let text = { (lines: [String]) in lines.joined(separator: "\n") + "\n" }
      let result = merge(text(base), text(ours), text(theirs))
      var expected = base
      for i in 0..<count {
        if ours[i] != base[i] { expected[i] = ours[i] }
        if theirs[i] != base[i] { expected[i] = theirs[i] }
      }
      #expect(result.clean)
      #expect(result.text == text(expected))
      #expect(merge(text(base), text(ours), text(ours)) == (text(ours), true))
    }
  }
}

/// The built-in line merge against `git merge-file --diff3` (the same xdiff that libgit2's
/// `git_merge_file` uses), on random small files with many repeated lines.
@Suite struct LineMergeGitParityTests {
  static let git = "/usr/bin/git"

  @Test func agreesWithGitMergeFile() throws {
    try #require(FileManager.default.isExecutableFile(atPath: Self.git), "needs git (scripts/setup installs it)")
    let seed = UInt64(ProcessInfo.processInfo.environment["KB_MERGE_SEED"] ?? "") ?? 5
    let rounds = Int(ProcessInfo.processInfo.environment["KB_GIT_PARITY_ROUNDS"] ?? "") ?? 200
    var rng = SeededGenerator(seed: seed)
    let box = try Sandbox("merge-parity")
    let dir = URL(fileURLWithPath: box.dir)
    var identical = 0, sameStatus = 0, cleanButDifferent = 0
    for _ in 0..<rounds {
      let base = (0..<Int.random(in: 3...25, using: &rng)).map { _ in "l\(Int.random(in: 0..<8, using: &rng))\n" }
      func mutate(_ lines: [String]) -> [String] {
        var lines = lines
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
          let i = Int.random(in: 0...lines.count, using: &rng)
          switch Int.random(in: 0..<3, using: &rng) {
          case 0: lines.insert("n\(Int.random(in: 0..<4, using: &rng))\n", at: i)
          case 1: if i < lines.count { lines.remove(at: i) }
          default: if i < lines.count { lines[i] = "c\(Int.random(in: 0..<4, using: &rng))\n" }
          }
        }
        return lines
      }
      let (b, o, t) = (base.joined(), mutate(base).joined(), mutate(base).joined())
      for (name, text) in [("base", b), ("ours", o), ("theirs", t)] {
        try text.write(to: dir.appendingPathComponent(name), atomically: false, encoding: .utf8)
      }
      let run = try box.run(
        Self.git, ["merge-file", "-p", "--diff3", "-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs"],
        cwd: box.dir)
      let output = run.stdout
      let gitClean = run.ok
      let mine = DomainMerge.lineMerge(b, o, t)
      if mine.clean == gitClean { sameStatus += 1 }
      if mine.text == output { identical += 1 }
      if mine.clean, gitClean, mine.text != output { cleanButDifferent += 1 }
    }
    // Both are valid diff3 merges; where heavy repetition allows several equally short diffs,
    // xdiff and LineDiff occasionally align differently (about 1 in 1,000 of these adversarial
    // inputs).
    #expect(sameStatus * 1000 >= rounds * 995, "same clean/conflict status: \(sameStatus)/\(rounds)")
    #expect(identical * 100 >= rounds * 97, "byte-identical: \(identical)/\(rounds)")
    #expect(cleanButDifferent * 1000 <= rounds * 2, "clean on both sides but different: \(cleanButDifferent)")
  }
}
