/// A line-level three-way merge in the manner of diff3 and `git merge-file --diff3`.
///
/// Both sides are diffed against the base (``LineDiff``). Base lines that both diffs keep are
/// stable anchors; between two anchors, a stretch changed on one side only takes that side, a
/// stretch changed the same way on both sides is taken once, and a stretch changed differently
/// on both sides is a conflict, written with both versions and the base between markers:
///
/// ```text
/// <<<<<<< ours
/// our lines
/// ||||||| base
/// the base lines
/// =======
/// their lines
/// >>>>>>> theirs
/// ```
///
/// Lines are compared byte for byte, including their line ending, so a side that did not change
/// anything is reproduced exactly. As in git, changes on adjacent lines (with no unchanged line
/// between them) conflict.
enum LineMerge {
  static let oursMarker = "<<<<<<< ours"
  static let baseMarker = "||||||| base"
  static let separator = "======="
  static let theirsMarker = ">>>>>>> theirs"

  static func merge(base: String, ours: String, theirs: String) -> (text: String, clean: Bool) {
    if ours.utf8.elementsEqual(theirs.utf8) { return (ours, true) }
    if base.utf8.elementsEqual(ours.utf8) { return (theirs, true) }
    if base.utf8.elementsEqual(theirs.utf8) { return (ours, true) }

    let z = lines(base)
    let a = lines(ours)
    let b = lines(theirs)
    var interner = Interner()
    let zi = z.map { interner.id($0) }
    let ai = a.map { interner.id($0) }
    let bi = b.map { interner.id($0) }

    var out = ""
    out.reserveCapacity(max(ours.utf8.count, theirs.utf8.count))
    var clean = true

    func emit(_ lines: ArraySlice<Substring>) {
      for line in lines { out += line }
    }
    func emitClosed(_ lines: ArraySlice<Substring>) {
      emit(lines)
      if let last = lines.last, !last.hasSuffix("\n") { out += "\n" }
    }

    var iz = 0, ia = 0, ib = 0
    for sync in syncRegions(zi, ai, bi) {
      let (zMatch, zEnd, aMatch, aEnd, bMatch, bEnd) = sync
      if aMatch > ia || bMatch > ib {
        let equalA = ai[ia..<aMatch].elementsEqual(zi[iz..<zMatch])
        let equalB = bi[ib..<bMatch].elementsEqual(zi[iz..<zMatch])
        let same = ai[ia..<aMatch].elementsEqual(bi[ib..<bMatch])
        if same {
          emit(a[ia..<aMatch])
        } else if equalA {
          emit(b[ib..<bMatch])
        } else if equalB {
          emit(a[ia..<aMatch])
        } else {
          clean = false
          out += oursMarker + "\n"
          emitClosed(a[ia..<aMatch])
          out += baseMarker + "\n"
          emitClosed(z[iz..<zMatch])
          out += separator + "\n"
          emitClosed(b[ib..<bMatch])
          out += theirsMarker + "\n"
        }
        ia = aMatch
        ib = bMatch
      }
      iz = zMatch
      if zEnd > zMatch {
        // Unchanged on both sides: the base's lines equal both sides' byte for byte.
        emit(a[aMatch..<aEnd])
        iz = zEnd
        ia = aEnd
        ib = bEnd
      }
    }
    return (out, clean)
  }

  /// Stretches of base lines matched in both sides, as (base, ours, theirs) ranges, ending with
  /// an empty sentinel at the end of all three.
  static func syncRegions(_ z: [Int], _ a: [Int], _ b: [Int]) -> [(Int, Int, Int, Int, Int, Int)] {
    let aBlocks = LineDiff.blocks(z, a)
    let bBlocks = LineDiff.blocks(z, b)
    var regions: [(Int, Int, Int, Int, Int, Int)] = []
    var i = 0, j = 0
    while i < aBlocks.count, j < bBlocks.count {
      let ab = aBlocks[i], bb = bBlocks[j]
      let start = max(ab.a, bb.a)
      let end = min(ab.a + ab.length, bb.a + bb.length)
      if start < end {
        let aSub = ab.b + (start - ab.a)
        let bSub = bb.b + (start - bb.a)
        regions.append((start, end, aSub, aSub + end - start, bSub, bSub + end - start))
      }
      if ab.a + ab.length < bb.a + bb.length { i += 1 } else { j += 1 }
    }
    regions.append((z.count, z.count, a.count, a.count, b.count, b.count))
    return regions
  }

  /// Splits `text` into lines, each keeping its `\n` (the last one may have none).
  static func lines(_ text: String) -> [Substring] {
    var result: [Substring] = []
    var start = text.startIndex
    let utf8 = text.utf8
    var index = utf8.startIndex
    while index < utf8.endIndex {
      if utf8[index] == UInt8(ascii: "\n") {
        let end = utf8.index(after: index)
        result.append(text[start..<end])
        start = end
      }
      index = utf8.index(after: index)
    }
    if start < text.endIndex { result.append(text[start...]) }
    return result
  }

  /// Maps each distinct line (by its bytes) to a small integer.
  struct Interner {
    private var ids: [[UInt8]: Int] = [:]
    mutating func id(_ line: Substring) -> Int {
      let key = Array(line.utf8)
      if let id = ids[key] { return id }
      let id = ids.count
      ids[key] = id
      return id
    }
  }
}
