/// A longest-common-subsequence diff of two sequences of lines.
///
/// Myers' O(ND) algorithm in linear space: common prefixes and suffixes are matched first, then
/// the middle is split at a point on an optimal path (the "bisect" of diff-match-patch) and both
/// halves are solved recursively. Lines are compared as interned integers.
enum LineDiff {
  /// Index pairs `(i, j)` with `a[i] == b[j]`, strictly increasing in both, forming a longest
  /// common subsequence of `a` and `b`.
  ///
  /// Where runs of repeated lines make several alignments equally short, change groups are
  /// moved as xdiff's `xdl_change_compact` moves them (without the indent heuristic, like
  /// libgit2's `git_merge_file` by default): slid down as far as they go, or to line up with a
  /// change in the other file. Two diffs against the same base then make the same choice, so a
  /// three-way merge sees the same deletion on both sides.
  static func matches(_ a: [Int], _ b: [Int]) -> [(Int, Int)] {
    var raw: [(Int, Int)] = []
    raw.reserveCapacity(min(a.count, b.count))
    lcs(a, 0, a.count, b, 0, b.count, &raw)
    var changedA = [Bool](repeating: true, count: a.count)
    var changedB = [Bool](repeating: true, count: b.count)
    for (i, j) in raw {
      changedA[i] = false
      changedB[j] = false
    }
    compact(a, &changedA, other: changedB)
    compact(b, &changedB, other: changedA)
    // Unchanged lines pair up in order; compaction keeps the k-th unchanged line's value.
    var out: [(Int, Int)] = []
    out.reserveCapacity(raw.count)
    var i = 0, j = 0
    while true {
      while i < a.count, changedA[i] { i += 1 }
      while j < b.count, changedB[j] { j += 1 }
      guard i < a.count, j < b.count else { break }
      out.append((i, j))
      i += 1
      j += 1
    }
    return out
  }

  /// A group of changed lines `[start, end)` (possibly empty) between two unchanged lines.
  private struct Group {
    var start = 0
    var end = 0
  }

  /// xdiff's change compaction for one file, keeping its groups in step with the other's.
  private static func compact(_ x: [Int], _ changed: inout [Bool], other: [Bool]) {
    let n = x.count, on = other.count
    func isChanged(_ flags: [Bool], _ i: Int) -> Bool { i >= 0 && i < flags.count && flags[i] }
    func next(_ g: inout Group, _ flags: [Bool], _ count: Int) -> Bool {
      guard g.end < count else { return false }
      g.start = g.end + 1
      g.end = g.start
      while isChanged(flags, g.end) { g.end += 1 }
      return true
    }
    func previous(_ g: inout Group, _ flags: [Bool]) -> Bool {
      guard g.start > 0 else { return false }
      g.end = g.start - 1
      g.start = g.end
      while isChanged(flags, g.start - 1) { g.start -= 1 }
      return true
    }
    func slideDown(_ g: inout Group) -> Bool {
      guard g.end < n, x[g.start] == x[g.end] else { return false }
      changed[g.start] = false
      changed[g.end] = true
      g.start += 1
      g.end += 1
      while isChanged(changed, g.end) { g.end += 1 }
      return true
    }
    func slideUp(_ g: inout Group) -> Bool {
      guard g.start > 0, x[g.start - 1] == x[g.end - 1] else { return false }
      g.start -= 1
      g.end -= 1
      changed[g.start] = true
      changed[g.end] = false
      while isChanged(changed, g.start - 1) { g.start -= 1 }
      return true
    }

    var g = Group()
    var go = Group()
    while isChanged(changed, g.end) { g.end += 1 }
    while isChanged(other, go.end) { go.end += 1 }
    while true {
      if g.end > g.start {
        var size = 0
        var earliestEnd = 0
        var endMatchingOther = -1
        repeat {
          size = g.end - g.start
          endMatchingOther = -1
          while slideUp(&g) {
            guard previous(&go, other) else { return }  // out of step: leave as is
          }
          earliestEnd = g.end
          if go.end > go.start { endMatchingOther = g.end }
          while slideDown(&g) {
            guard next(&go, other, on) else { return }
            if go.end > go.start { endMatchingOther = g.end }
          }
        } while size != g.end - g.start
        if g.end != earliestEnd, endMatchingOther != -1 {
          while go.end == go.start {
            guard slideUp(&g), previous(&go, other) else { return }
          }
        }
      }
      guard next(&g, changed, n) else { break }
      guard next(&go, other, on) else { break }
    }
  }

  /// Runs of consecutive matches: `(aStart, bStart, length)`, in order.
  static func blocks(_ a: [Int], _ b: [Int]) -> [(a: Int, b: Int, length: Int)] {
    var blocks: [(a: Int, b: Int, length: Int)] = []
    for (i, j) in matches(a, b) {
      if let last = blocks.last, last.a + last.length == i, last.b + last.length == j {
        blocks[blocks.count - 1].length += 1
      } else {
        blocks.append((i, j, 1))
      }
    }
    return blocks
  }

  private static func lcs(
    _ a: [Int], _ aStart: Int, _ aEnd: Int, _ b: [Int], _ bStart: Int, _ bEnd: Int,
    _ out: inout [(Int, Int)]
  ) {
    var aLo = aStart, aHi = aEnd, bLo = bStart, bHi = bEnd
    while aLo < aHi, bLo < bHi, a[aLo] == b[bLo] {
      out.append((aLo, bLo))
      aLo += 1
      bLo += 1
    }
    var suffix = 0
    while aLo < aHi, bLo < bHi, a[aHi - 1] == b[bHi - 1] {
      aHi -= 1
      bHi -= 1
      suffix += 1
    }
    if aLo < aHi, bLo < bHi, let (x, y) = bisect(a, aLo, aHi, b, bLo, bHi),
      !(x == aLo && y == bLo), !(x == aHi && y == bHi)
    {
      lcs(a, aLo, x, b, bLo, y, &out)
      lcs(a, x, aHi, b, y, bHi, &out)
    }
    // (A degenerate split cannot happen after trimming; if it did, the middle would simply be
    // reported as changed, which is still a correct, if not minimal, diff.)
    for s in 0..<suffix { out.append((aHi + s, bHi + s)) }
  }

  /// A point `(x, y)` on an optimal edit path through `a[aLo..<aHi]` and `b[bLo..<bHi]`, found
  /// where the forward and backward searches meet.
  private static func bisect(
    _ a: [Int], _ aLo: Int, _ aHi: Int, _ b: [Int], _ bLo: Int, _ bHi: Int
  ) -> (Int, Int)? {
    let n = aHi - aLo
    let m = bHi - bLo
    let maxD = (n + m + 1) / 2
    let offset = maxD
    let size = 2 * maxD + 2
    var v1 = [Int](repeating: -1, count: size)
    var v2 = [Int](repeating: -1, count: size)
    v1[offset + 1] = 0
    v2[offset + 1] = 0
    let delta = n - m
    let front = delta % 2 != 0
    var k1Start = 0, k1End = 0, k2Start = 0, k2End = 0
    for d in 0..<maxD {
      var k1 = -d + k1Start
      while k1 <= d - k1End {
        let k1Offset = offset + k1
        var x1 =
          (k1 == -d || (k1 != d && v1[k1Offset - 1] < v1[k1Offset + 1]))
          ? v1[k1Offset + 1] : v1[k1Offset - 1] + 1
        var y1 = x1 - k1
        while x1 < n, y1 < m, a[aLo + x1] == b[bLo + y1] {
          x1 += 1
          y1 += 1
        }
        v1[k1Offset] = x1
        if x1 > n {
          k1End += 2
        } else if y1 > m {
          k1Start += 2
        } else if front {
          let k2Offset = offset + delta - k1
          if k2Offset >= 0, k2Offset < size, v2[k2Offset] != -1, x1 >= n - v2[k2Offset] {
            return (aLo + x1, bLo + y1)
          }
        }
        k1 += 2
      }
      var k2 = -d + k2Start
      while k2 <= d - k2End {
        let k2Offset = offset + k2
        var x2 =
          (k2 == -d || (k2 != d && v2[k2Offset - 1] < v2[k2Offset + 1]))
          ? v2[k2Offset + 1] : v2[k2Offset - 1] + 1
        var y2 = x2 - k2
        while x2 < n, y2 < m, a[aHi - 1 - x2] == b[bHi - 1 - y2] {
          x2 += 1
          y2 += 1
        }
        v2[k2Offset] = x2
        if x2 > n {
          k2End += 2
        } else if y2 > m {
          k2Start += 2
        } else if !front {
          let k1Offset = offset + delta - k2
          if k1Offset >= 0, k1Offset < size, v1[k1Offset] != -1 {
            let x1 = v1[k1Offset]
            let y1 = offset + x1 - k1Offset
            if x1 >= n - x2 { return (aLo + x1, bLo + y1) }
          }
        }
        k2 += 2
      }
    }
    return nil
  }
}
