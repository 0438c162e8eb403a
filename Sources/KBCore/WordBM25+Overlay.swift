extension WordBM25 {
  /// A built (or mapped) ``WordBM25`` plus a delta: base documents removed and documents
  /// added. It scores every current document with the very bits a ``WordBM25`` rebuilt from
  /// the current documents gives it, in whatever order the rebuild takes them.
  ///
  /// That holds because a document's score depends only on its own term frequencies and
  /// length and on three statistics, each exact under deltas: the number of documents, a
  /// term's document frequency (the base's postings, less the removed documents among them,
  /// counted as the postings are read, plus the added documents having the term) and the total
  /// length (an integer: the base's, less the removed lengths, plus the added ones).
  ///
  /// Building it reads only the added text and the removed documents' lengths; a query reads
  /// each of its terms' base postings once, plus the added documents' postings.
  ///
  /// ```swift
  /// let base = WordBM25(documents: [[("Router light", 3)], [("Battery drains", 3)]])
  /// let now = WordBM25.Overlay(base: base, removed: [1], added: [[("Battery dies", 3)]])
  /// now.scores(for: "battery")  // [0, 0, 0.28…]: base 0, base 1 (removed), added 0
  /// ```
  public struct Overlay: Sendable {
    public let base: WordBM25
    /// The removed base documents, ascending.
    public let removed: [Int32]
    /// How many documents were added (they follow the base's in ``scores(for:)``).
    public let addedCount: Int
    /// The current number of documents: the base's, less the removed, plus the added.
    public let documentCount: Int
    /// The current documents' total length (terms), exact.
    public let totalLength: Int64
    public let averageLength: Float
    /// The added documents' postings by term key (document numbers ascending) and lengths.
    let added: [UInt32: [(doc: Int32, tf: Float)]]
    let addedLength: [Float]

    /// `removed`: indices of base documents (each in `0..<base.documentCount`); `added`: the
    /// new documents, each a list of (text, weight) fields as ``WordBM25/init(documents:terms:)``
    /// takes them. A changed document is removed and added.
    public init(base: WordBM25, removed: Set<Int>, added: [[(text: String, weight: Double)]]) {
      precondition(removed.allSatisfy { $0 >= 0 && $0 < base.documentCount }, "a removed document is not in the base")
      self.base = base
      self.removed = removed.sorted().map { Int32($0) }
      var total = base.totalLength
      for r in removed { total -= Int64(base.documentLength[r]) }
      var postings: [UInt32: [(doc: Int32, tf: Float)]] = [:]
      var lengths: [Float] = []
      lengths.reserveCapacity(added.count)
      for (i, fields) in added.enumerated() {
        let (tf, length) = WordBM25.termFrequencies(of: fields, base.kind)
        for (key, f) in tf { postings[key, default: []].append((Int32(i), f)) }
        lengths.append(Float(length))
        total += Int64(length)
      }
      self.added = postings
      addedLength = lengths
      addedCount = added.count
      documentCount = base.documentCount - removed.count + added.count
      totalLength = total
      averageLength = WordBM25.averageLength(total: total, count: documentCount)
    }

    /// bm25 of every document for the query's distinct words: the base's documents first
    /// (removed ones 0), then the added ones in order. Each current document's score is,
    /// bit for bit, its score in `WordBM25(documents: current documents)`.
    public func scores(for query: String) -> [Double] {
      let baseCount = base.documentCount
      var out = [Double](repeating: 0, count: baseCount + addedCount)
      let n = Float(documentCount)
      var seen: Set<UInt32> = []
      var keys: [UInt32] = []
      WordBM25.forEachTerm(of: query, base.kind) { hash in
        let key = ExampleModel.key(hash)
        if seen.insert(key).inserted { keys.append(key) }
      }
      for key in keys {
        // The term's base postings (those of removed documents still listed) and added ones.
        var s = 0
        var e = 0
        if let id = base.termID(key) {
          s = Int(base.postingStart[Int(id)])
          e = Int(base.postingStart[Int(id) + 1])
          if s < 0 || s > e || e > base.postingDoc.count { (s, e) = (0, 0) }  // (a damaged file)
        }
        let fresh = added[key] ?? []
        let df = e - s - removedCount(in: s..<e) + fresh.count
        guard df > 0 else { continue }  // only in removed documents: not a term of the rebuild
        let idf = WordBM25.idf(documents: n, having: Float(df))
        for k in s..<e {
          let doc = Int(base.postingDoc[k])
          guard doc >= 0, doc < baseCount else { continue }
          out[doc] += WordBM25.score(
            idf: idf, tf: base.postingTF[k], length: base.documentLength[doc], averageLength: averageLength)
        }
        for (doc, tf) in fresh {
          out[baseCount + Int(doc)] += WordBM25.score(
            idf: idf, tf: tf, length: addedLength[Int(doc)], averageLength: averageLength)
        }
      }
      for r in removed { out[Int(r)] = 0 }
      return out
    }

    /// The tables a model built from the current documents has (the kept base documents in
    /// order, then the added ones), column for column, made from the base's postings and the
    /// added ones without any text: a new base to save, in O(postings).
    public func merged() -> WordBM25 {
      let baseCount = base.documentCount
      // Base document numbers after the removals (-1 for a removed one).
      var renumbered = [Int32](repeating: -1, count: baseCount)
      var lengths: [Float] = []
      lengths.reserveCapacity(documentCount)
      var next = 0
      var r = 0  // the next removed document (they are ascending)
      for d in 0..<baseCount {
        if r < removed.count, Int(removed[r]) == d {
          r += 1
          continue
        }
        renumbered[d] = Int32(next)
        lengths.append(base.documentLength[d])
        next += 1
      }
      let kept = next
      lengths += addedLength
      let addedKeys = added.keys.sorted()
      var keys: [UInt32] = []
      var start: [Int32] = [0]
      var docs: [Int32] = []
      var tfs: [Float] = []
      docs.reserveCapacity(base.postingDoc.count)
      tfs.reserveCapacity(base.postingDoc.count)
      var t = 0
      var a = 0
      let termCount = base.keys.count
      while t < termCount || a < addedKeys.count {
        let key = t < termCount && (a == addedKeys.count || base.keys[t] <= addedKeys[a]) ? base.keys[t] : addedKeys[a]
        if t < termCount, base.keys[t] == key {
          let s = Int(base.postingStart[t])
          let e = Int(base.postingStart[t + 1])
          if s >= 0, s <= e, e <= base.postingDoc.count {
            for k in s..<e {
              let d = Int(base.postingDoc[k])
              guard d >= 0, d < baseCount, renumbered[d] >= 0 else { continue }
              docs.append(renumbered[d])
              tfs.append(base.postingTF[k])
            }
          }
          t += 1
        }
        if a < addedKeys.count, addedKeys[a] == key {
          for (d, tf) in added[key]! {
            docs.append(Int32(kept) + d)
            tfs.append(tf)
          }
          a += 1
        }
        // A term whose every document was removed is not a term of the current documents.
        if docs.count > Int(start.last!) {
          keys.append(key)
          start.append(Int32(docs.count))
        }
      }
      return WordBM25(
        kind: base.kind, index: SortedKeys(keys), postingStart: Column(start), postingDoc: Column(docs),
        postingTF: Column(tfs), documentLength: Column(lengths), totalLength: totalLength)
    }

    /// How many removed documents the base postings `range` list (they are in document
    /// order): a binary search per removed document when they are few beside the postings,
    /// else one merged walk.
    func removedCount(in range: Range<Int>) -> Int {
      guard !removed.isEmpty, !range.isEmpty else { return 0 }
      let docs = base.postingDoc
      var count = 0
      if removed.count * 16 < range.count {
        for r in removed {
          var lo = range.lowerBound
          var hi = range.upperBound
          while lo < hi {
            let mid = (lo + hi) >> 1
            if docs[mid] < r { lo = mid + 1 } else { hi = mid }
          }
          if lo < range.upperBound, docs[lo] == r { count += 1 }
        }
      } else {
        var i = 0
        for k in range {
          let d = docs[k]
          while i < removed.count, removed[i] < d { i += 1 }
          if i == removed.count { break }
          if removed[i] == d { count += 1 }
        }
      }
      return count
    }
  }
}
