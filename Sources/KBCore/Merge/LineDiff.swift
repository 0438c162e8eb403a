/// A longest-common-subsequence diff of two sequences of lines.
///
/// Myers' O(ND) algorithm in linear space: common prefixes and suffixes are matched first, then
/// the middle is split at a point on an optimal path (the "bisect" of diff-match-patch) and both
/// halves are solved recursively. Lines are compared as interned integers.
enum LineDiff {
  /// Index pairs `(i, j)` with `a[i] == b[j]`, strictly increasing in both, forming a longest
  /// common subsequence of `a` and `b`.
  static func matches(_ a: [Int], _ b: [Int]) -> [(Int, Int)] {
    var out: [(Int, Int)] = []
    out.reserveCapacity(min(a.count, b.count))
    lcs(a, 0, a.count, b, 0, b.count, &out)
    return out
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
