/// Sorted 32-bit keys (the models' folded n-gram and term hashes) with a table of where each
/// top-bits prefix starts, so that finding a key's position costs one table read and a search
/// over a handful of neighbours instead of ~19 probes that mostly miss the cache.
///
/// ```swift
/// let index = SortedKeys([3, 70_000, 1 << 31])
/// index.position(of: 70_000)  // 1
/// index.position(of: 4)       // nil
/// ```
public struct SortedKeys: Sendable, Equatable {
  /// The keys, ascending; a key's position is its feature's (or term's) id.
  public let keys: Column<UInt32>
  package let shift: UInt32
  /// `start[p]`: the first position whose key has top bits ≥ p (one entry more than prefixes).
  package let start: Column<Int32>

  /// `keys` must be strictly ascending.
  public init(_ keys: [UInt32]) {
    self.keys = Column(keys)
    // About one key per prefix, at most 2^16 prefixes (a 256 KiB table).
    var bits: UInt32 = 1
    while bits < 16, (1 << bits) < keys.count { bits += 1 }
    shift = 32 - bits
    var start = [Int32](repeating: 0, count: (1 << Int(bits)) + 1)
    for k in keys { start[Int(k >> shift) + 1] += 1 }
    for p in 1..<start.count { start[p] += start[p - 1] }
    self.start = Column(start)
  }

  /// Keys and prefix table as stored (``start`` written by this type): nil when they do not
  /// fit together. Lookups stay inside the columns whatever the values.
  init?(keys: Column<UInt32>, start: Column<Int32>, shift: UInt32) {
    guard shift >= 16, shift < 32, start.count == (1 << (32 - Int(shift))) + 1,
      start.last.map({ Int($0) == keys.count }) ?? false
    else { return nil }
    self.keys = keys
    self.start = start
    self.shift = shift
  }

  public var count: Int { keys.count }

  @inline(__always)
  public func position(of key: UInt32) -> Int32? {
    let p = Int(key >> shift)
    var lo = Int(start[p])
    var hi = Int(start[p + 1])
    guard lo >= 0, hi <= keys.count else { return nil }
    while lo < hi {
      let mid = (lo + hi) >> 1
      if keys[mid] < key { lo = mid + 1 } else { hi = mid }
    }
    return lo < Int(start[p + 1]) && keys[lo] == key ? Int32(lo) : nil
  }
}

/// Keys in id order (a key's id is its position) with an open-addressing hash table from key
/// to id. The example model keeps its features in first-seen order, which puts the character
/// n-grams of one word next to each other, so that a query's posting lists are read from
/// neighbouring memory (key order cost 4% more CPU per suggestion at 10k documents).
public struct KeyTable: Sendable {
  public let keys: Column<UInt32>
  /// `key << 32 | (id + 1)`, 0 for an empty slot; a power of two ≥ 2 × keys.
  package let slots: Column<UInt64>
  let mask: Int

  /// Keys and slots as stored: nil when the sizes do not fit together. Lookups stay inside the
  /// columns and end whatever the values.
  init?(keys: Column<UInt32>, slots: Column<UInt64>) {
    guard slots.count >= 16, slots.count & (slots.count - 1) == 0, slots.count >= 2 * keys.count else { return nil }
    self.keys = keys
    self.slots = slots
    mask = slots.count - 1
  }

  /// Nil when a key is repeated.
  public init?(_ keys: [UInt32]) {
    struct Repeated: Error {}
    var size = 16
    while size < 2 * keys.count { size <<= 1 }
    let mask = size - 1
    // Filled in place (at 100k documents 8 million slots, 67 MB: no second copy).
    do {
      slots = try Column(count: size) { slots in
        slots.update(repeating: 0)
        for (id, key) in keys.enumerated() {
          var at = Self.slot(key, mask)
          while slots[at] != 0 {
            if UInt32(truncatingIfNeeded: slots[at] >> 32) == key { throw Repeated() }
            at = (at + 1) & mask
          }
          slots[at] = UInt64(key) << 32 | UInt64(id + 1)
        }
      }
    } catch {
      return nil
    }
    self.mask = mask
    self.keys = Column(keys)
  }

  @inline(__always)
  static func slot(_ key: UInt32, _ mask: Int) -> Int { Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask }

  public var count: Int { keys.count }

  @inline(__always)
  public func id(of key: UInt32) -> Int32? {
    var at = Self.slot(key, mask)
    for _ in 0..<slots.count {
      let s = slots[at]
      if s == 0 { return nil }
      if UInt32(truncatingIfNeeded: s >> 32) == key {
        let id = Int32(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
        return id >= 0 && Int(id) < keys.count ? id : nil
      }
      at = (at + 1) & mask
    }
    return nil
  }
}
