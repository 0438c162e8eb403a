import Foundation
import KBCore
internal import KBStore

/// The built ``Suggester`` saved in `.kb/suggest-model.bin`, so that a new process (each
/// `kb suggest`) loads it in milliseconds instead of rebuilding the example model and bm25
/// tables from the index (seconds at 10,000 documents).
///
/// The file is keyed by the index's content state (``IndexStore/contentState()``) and the
/// ranker's build parameters: any added, changed or removed answer or case changes the state,
/// and the file is then rebuilt. A file that is stale, truncated, damaged (checksum) or
/// inconsistent is ignored and rewritten; the cache never makes `kb suggest` fail. It is
/// written to a temporary file and renamed into place, so readers see the old or the new file.
///
/// Layout (little-endian): magic `KBSUGGM1`, format version (UInt32), key (length-prefixed
/// UTF-8), payload length (UInt64), payload checksum (UInt64), payload: the answers without
/// their bodies (read from the index when an answer is shown), the problem of each answer,
/// evidence, vocabulary, then ``ExampleModel`` and ``WordBM25`` in their compact coding
/// (varint gaps and counts; see `ModelCoding.swift`), then the semantic model (problem
/// centroids of word vectors, as halves) when built, and the product names (``ProductNames``).
///
/// `KB_SUGGEST_CACHE=0` in the environment turns it off (to measure the cold path).
struct SuggestModelCache {
  static let magic: [UInt8] = Array("KBSUGGM1".utf8)
  static let version: UInt32 = 7
  let path: String

  var enabled: Bool { ProcessInfo.processInfo.environment["KB_SUGGEST_CACHE"] != "0" }

  /// The key: index state plus everything fixed at build time that changes the model.
  static func key(state: String) -> String {
    let p = Suggester.parameters
    let w = p.suggestFields
    return "\(state)|top=\(p.exampleModel.top)|words=\(p.exampleModel.maxWords)|bm25=\(w.title),\(w.symptoms),\(w.tags),\(w.body)"
      + "|vectors=\(WordVectors.builtIn.map { "\($0.count)x\($0.dimensions):\($0.fingerprint)" } ?? "none")"
  }

  /// The saved suggester for `state`, or nil when there is none or it cannot be trusted.
  func load(state: String, store: IndexStore) -> Suggester? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return data.withUnsafeBytes { raw -> Suggester? in
      var r = ByteReader(raw)
      do {
        let magic = try r.take(Self.magic.count)
        guard magic.elementsEqual(Self.magic), try r.read(UInt32.self) == Self.version,
          try r.readString() == Self.key(state: state)
        else { return nil }
        let length = try r.read(UInt64.self)
        let checksum = try r.read(UInt64.self)
        guard length == UInt64(r.remaining) else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: raw[r.offset...])
        guard modelChecksum(payload) == checksum else { return nil }
        return try Self.decode(payload, state: state, store: store)
      } catch {
        return nil
      }
    }
  }

  static func decode(_ payload: UnsafeRawBufferPointer, state: String, store: IndexStore) throws -> Suggester {
    var r = ByteReader(payload)
    let count = try r.readCount()
    var answers: [SuggestAnswer] = []
    answers.reserveCapacity(count)
    for _ in 0..<count {
      let rowid = try r.read(Int64.self)
      answers.append(SuggestAnswer(
        rowid: rowid, id: try r.readString(), path: try r.readString(), title: try r.readString(),
        symptoms: try r.readStrings(), tags: try r.readString(), body: ""))
    }
    let classes: [Int32] = try r.readArray()
    let evidenceCounts: [Int32] = try r.readArray()
    let vocabulary = try r.readStrings()
    let model = try ExampleModel(reading: &r)
    let words = try WordBM25(reading: &r)
    var semantic: SemanticModel?
    if try r.read(UInt8.self) == 1 {
      guard let vectors = WordVectors.builtIn else { throw ModelDecodingError() }
      semantic = try SemanticModel(reading: &r, vectors: vectors)
    }
    let products = try r.readStrings()
    guard r.remaining == 0, classes.count == count, evidenceCounts.count == 3 * count, words.documentCount == count,
      (semantic == nil) == (WordVectors.builtIn == nil), semantic.map({ $0.classCount == model.classCount }) ?? true
    else { throw ModelDecodingError() }
    for c in classes where c < 0 || Int(c) >= model.classCount { throw ModelDecodingError() }
    var evidence: [Suggester.Evidence] = []
    evidence.reserveCapacity(count)
    for i in 0..<count {
      evidence.append(Suggester.Evidence(
        cases: Int(evidenceCounts[3 * i]), held: Int(evidenceCounts[3 * i + 1]), failed: Int(evidenceCounts[3 * i + 2])))
    }
    return Suggester(
      store: store, state: state, answers: answers, model: model, semantic: semantic, words: words,
      problemOfAnswer: classes.map(Int.init), products: Set(products), evidence: evidence, vocabulary: Set(vocabulary))
  }

  static func encode(_ s: Suggester) -> [UInt8] {
    var w = ByteWriter()
    w.append(UInt64(s.answers.count))
    for a in s.answers {
      w.append(a.rowid)
      w.append(a.id)
      w.append(a.path)
      w.append(a.title)
      w.append(strings: a.symptoms)
      w.append(a.tags)
    }
    w.append(array: s.problemOfAnswer.map { Int32($0) })
    w.append(array: s.evidence.flatMap { [Int32($0.cases), Int32($0.held), Int32($0.failed)] })
    w.append(strings: s.vocabulary.sorted())
    s.model.write(to: &w)
    s.words.write(to: &w)
    if let semantic = s.semantic {
      w.append(UInt8(1))
      semantic.write(to: &w)
    } else {
      w.append(UInt8(0))
    }
    w.append(strings: s.products.sorted())
    return w.bytes
  }

  /// Saves the suggester atomically (temporary file, then rename); errors are ignored.
  func save(_ s: Suggester) {
    let payload = Self.encode(s)
    var header = ByteWriter()
    for b in Self.magic { header.append(b) }
    header.append(Self.version)
    header.append(Self.key(state: s.state))
    header.append(UInt64(payload.count))
    header.append(payload.withUnsafeBytes { modelChecksum($0) })
    var file = Data(header.bytes)
    file.append(contentsOf: payload)
    let temp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    guard FileManager.default.createFile(atPath: temp, contents: file) else { return }
    if rename(temp, path) != 0 { unlink(temp) }
  }
}

extension Workspace {
  /// Where the built ranker is saved between processes.
  public var suggestModelPath: String { root + "/\(Self.privateFolder)/suggest-model.bin" }
}
