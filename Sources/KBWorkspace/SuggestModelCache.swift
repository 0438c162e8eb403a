import Foundation
import KBCore
internal import KBStore

/// The built ``Suggester`` saved in `.kb/suggest-model.bin`, so that a new process (each
/// `kb suggest`) maps it instead of rebuilding the example model and bm25 tables from the
/// index (seconds at 10,000 documents, half a minute at 100,000).
///
/// The file is a base: it names the model's inputs it was built from (``IndexStore/suggestState()``)
/// and the position of the index's change log then; a process whose index has moved on applies
/// the documents changed since (``Suggester/overlaid(base:changes:snapshot:state:position:)``)
/// instead of rebuilding it. Its key is the ranker's build parameters (another binary's ranker
/// builds it anew). A file that is truncated or inconsistent is ignored and rewritten; the cache
/// never makes `kb suggest` fail. It is written to a temporary file, flushed to disk and renamed
/// into place, so readers (and a process killed mid-write) see the old or the new file, never a
/// partial one.
///
/// Layout (little-endian): magic `KBSUGGM1`, format version (UInt32), key, state, log name
/// (length-prefixed UTF-8) and log position (Int64), payload length (UInt64), a checksum of
/// everything before the payload, padding to 64 bytes; payload: the answers without their bodies
/// (read from the index when an answer is shown), the problem of each answer, the vocabulary
/// with its counts, each problem's product names, the problem keys, the product names' counts,
/// then the example model, the bm25 tables and the semantic model (with its examples' word rows)
/// as columns: raw arrays aligned to 64 bytes (``Column``), which the reader maps in place
/// instead of decoding, so that a suggestion reads only the pages it needs (its words' posting
/// lists), not the whole model. Version 9: the example model stores counts (feature
/// frequencies, one-byte term counts, fixed-point norm sums), its idf and norms are derived at
/// load and query time (version 8 stored idf-baked weights; versions 1–7 were decoded whole: 0.9
/// GB and 1.3 s at 100,000 documents). Version 10: the bm25 tables store the exact total
/// document length (Int64) instead of a float average, so that a delta keeps it exact. Versions
/// 11–12: a base for deltas (the log position, counts, problem keys, word rows).
///
/// `KB_SUGGEST_CACHE=0` in the environment turns it off (to measure the cold path).
struct SuggestModelCache {
  static let magic: [UInt8] = Array("KBSUGGM1".utf8)
  static let version: UInt32 = 12
  let path: String

  var enabled: Bool { ProcessInfo.processInfo.environment["KB_SUGGEST_CACHE"] != "0" }

  /// The key: everything fixed at build time that changes the model (the model's inputs, its
  /// state, are stored beside it: a saved model of another state is a base for an overlay).
  static var key: String {
    let p = Suggester.parameters
    let w = p.suggestFields
    return "top=\(p.exampleModel.top)|words=\(p.exampleModel.maxWords)|bm25=\(w.title),\(w.symptoms),\(w.tags),\(w.body)"
      + "|vectors=\(WordVectors.builtIn.map { "\($0.count)x\($0.dimensions):\($0.fingerprint)" } ?? "none")"
  }

  /// The saved suggester (of whatever state it was saved for: ``Suggester/state``), or nil when
  /// there is none or it cannot be trusted.
  func load(store: IndexStore) -> Suggester? {
    guard let file = MappedFile(path: path) else { return nil }
    var r = ByteReader(file.bytes)
    do {
      let magic = try r.take(Self.magic.count)
      guard magic.elementsEqual(Self.magic), try r.read(UInt32.self) == Self.version, try r.readString() == Self.key
      else { return nil }
      let state = try r.readString()
      let position = SuggestLogPosition(log: try r.readString(), seq: try r.read(Int64.self))
      let length = try r.read(UInt64.self)
      let payloadChecksum = try r.read(UInt64.self)
      let headerEnd = r.offset
      let checksum = try r.read(UInt64.self)
      guard modelChecksum(UnsafeRawBufferPointer(rebasing: file.bytes[0..<headerEnd])) == checksum else { return nil }
      try r.skipPadding(to: 64)
      guard length == UInt64(r.remaining) else { return nil }
      let payload = UnsafeRawBufferPointer(rebasing: file.bytes[r.offset...])
      // The whole file is checked once (by its writer, or by the first reader of a file no kb
      // wrote here): `.ok` beside it names the file (inode, size, time) that passed. A file
      // rewritten, replaced or damaged by anything else does not match and is checked again, so
      // a damaged model is never used, and a good one costs no read of all its pages.
      let verified = "\(file.identity) \(payloadChecksum)"
      if (try? String(contentsOfFile: okPath, encoding: .utf8)) != verified {
        guard StreamChecksum.of(payload) == payloadChecksum else { return nil }
        Self.writeAtomically(verified, to: okPath)
      }
      return try Self.decode(payload, file: file, state: state, position: position, store: store)
    } catch {
      return nil
    }
  }

  static func decode(
    _ payload: UnsafeRawBufferPointer, file: MappedFile?, state: String, position: SuggestLogPosition, store: IndexStore
  ) throws -> Suggester {
    var r = ByteReader(payload)
    let rowids: Column<Int64> = try r.readColumn(file: file)
    guard let table = try readStrings(&r, file: file), let answers = AnswerList(table: table, rowids: rowids) else {
      throw ModelDecodingError()
    }
    let count = answers.count
    let firstOfID: Column<UInt8> = try r.readColumn(file: file)
    let classes: Column<Int32> = try r.readColumn(file: file)
    guard let vocabulary = try readStrings(&r, file: file), let productsByClass = try readStrings(&r, file: file),
      firstOfID.count == count
    else { throw ModelDecodingError() }
    let vocabularyCounts: Column<Int32> = try r.readColumn(file: file)
    guard let keyTable = try readStrings(&r, file: file), let problemKeys = ProblemKeys(keys: keyTable, classes: try r.readColumn(file: file)),
      let productTitles = try readStrings(&r, file: file)
    else { throw ModelDecodingError() }
    let titleCounts: Column<Int32> = try r.readColumn(file: file)
    guard let productWords = try readStrings(&r, file: file) else { throw ModelDecodingError() }
    let productColumns = (
      titleCounts: titleCounts, words: productWords, titleWords: try r.readColumn(Int32.self, file: file),
      capital: try r.readColumn(Int32.self, file: file), all: try r.readColumn(Int32.self, file: file))
    let model = try readExampleModel(&r, file: file)
    let words = try readBM25(&r, file: file)
    var semantic: SemanticModel?
    if try r.read(UInt8.self) == 1 {
      guard let vectors = WordVectors.builtIn else { throw ModelDecodingError() }
      let classCount = Int(try r.read(Int64.self))
      let idfClasses = Int(try r.read(Int64.self))
      let centroids = try r.readColumn(UInt16.self, file: file)
      let frequency = try r.readColumn(Int32.self, file: file)
      guard let s = SemanticModel(
        classCount: classCount, idfClasses: idfClasses, centroids: centroids, classFrequency: frequency,
        classStart: try r.readColumn(file: file), exampleStart: try r.readColumn(file: file), rows: try r.readColumn(file: file),
        vectors: vectors)
      else { throw ModelDecodingError() }
      semantic = s
    }
    let products = Set(try r.readStrings())
    guard r.remaining == 0, productsByClass.count == (products.isEmpty ? 0 : model.classCount), classes.count == count, words.documentCount == count,
      vocabularyCounts.count == vocabulary.count, problemKeys.classes.allSatisfy({ $0 >= 0 && Int($0) < model.classCount }),
      (semantic == nil) == (WordVectors.builtIn == nil), semantic.map({ $0.classCount == model.classCount }) ?? true
    else { throw ModelDecodingError() }
    for c in classes where c < 0 || Int(c) >= model.classCount { throw ModelDecodingError() }
    return Suggester(
      store: store, state: state, answers: answers, isFirstOfID: firstOfID, examples: .built(model), semantic: semantic,
      words: .built(words), problemOfAnswer: classes.map(Int.init), products: products,
      problemProducts: products.isEmpty
        ? Array(repeating: [], count: model.classCount)
        : productsByClass.map { Set($0.split(separator: " ").map(String.init)) },
      vocabulary: vocabulary,
      counts: SuggestCounts(
        problemKeys: problemKeys, vocabularyWords: vocabulary, vocabularyCounts: vocabularyCounts, productTitles: productTitles,
        productColumns: productColumns),
      position: position)
  }

  static func readStrings(_ r: inout ByteReader, file: MappedFile?) throws -> StringTable? {
    let offsets: Column<UInt64> = try r.readColumn(file: file)
    let bytes: Column<UInt8> = try r.readColumn(file: file)
    return StringTable(offsets: offsets, bytes: bytes)
  }

  static func writeStrings(_ t: StringTable, _ w: inout ModelFileWriter) throws {
    try w.append(column: t.offsets)
    try w.append(column: t.bytes)
  }

  static func readExampleModel(_ r: inout ByteReader, file: MappedFile?) throws -> ExampleModel {
    var config = ExampleModel.Config()
    config.top = Int(try r.read(Int64.self))
    config.maxWords = Int(try r.read(Int64.self))
    config.idfOverClasses = try r.read(UInt8.self) == 1
    let classCount = Int(try r.read(Int64.self))
    guard config.top >= 0, config.top < 1 << 20, classCount >= 0, classCount < 1 << 31 else { throw ModelDecodingError() }
    guard let model = ExampleModel(
      config: config, classCount: classCount, keys: try r.readColumn(file: file), slots: try r.readColumn(file: file),
      frequency: try r.readColumn(file: file), postingStart: try r.readColumn(file: file),
      postingExample: try r.readColumn(file: file), postingCount: try r.readColumn(file: file),
      exampleClass: try r.readColumn(file: file), normSums: try r.readColumn(file: file))
    else { throw ModelDecodingError() }
    return model
  }

  static func writeExampleModel(_ m: ExampleModel, _ w: inout ModelFileWriter) throws {
    w.buffer.append(Int64(m.config.top))
    w.buffer.append(Int64(m.config.maxWords))
    w.buffer.append(UInt8(m.config.idfOverClasses ? 1 : 0))
    w.buffer.append(Int64(m.classCount))
    try w.append(column: m.index.keys)
    try w.append(column: m.index.slots)
    try w.append(column: m.frequency)
    try w.append(column: m.postingStart)
    try w.append(column: m.postingExample)
    try w.append(column: m.postingCount)
    try w.append(column: m.exampleClass)
    try w.append(column: m.normSums)
  }

  static func readBM25(_ r: inout ByteReader, file: MappedFile?) throws -> WordBM25 {
    guard let kind = WordBM25.Terms(rawValue: try r.read(UInt8.self)) else { throw ModelDecodingError() }
    let shift = try r.read(UInt32.self)
    let totalLength = try r.read(Int64.self)
    guard let bm25 = WordBM25(
      kind: kind, keys: try r.readColumn(file: file), prefixStart: try r.readColumn(file: file), prefixShift: shift,
      postingStart: try r.readColumn(file: file), postingDoc: try r.readColumn(file: file),
      postingTF: try r.readColumn(file: file), documentLength: try r.readColumn(file: file), totalLength: totalLength)
    else { throw ModelDecodingError() }
    return bm25
  }

  static func writeBM25(_ b: WordBM25, _ w: inout ModelFileWriter) throws {
    w.buffer.append(b.kind.rawValue)
    w.buffer.append(b.index.shift)
    w.buffer.append(b.totalLength)
    try w.append(column: b.index.keys)
    try w.append(column: b.index.start)
    try w.append(column: b.postingStart)
    try w.append(column: b.postingDoc)
    try w.append(column: b.postingTF)
    try w.append(column: b.documentLength)
  }

  static func encode(_ s: Suggester, _ w: inout ModelFileWriter) throws {
    guard case .built(let model) = s.examples, case .built(let words) = s.words, let counts = s.counts else {
      throw ModelFileWriter.Failed()  // An overlay is never saved: its base is.
    }
    try w.append(column: s.answers.rowids)
    try writeStrings(s.answers.asTable, &w)
    try w.append(column: s.isFirstOfID)
    try w.append(column: Column(s.problemOfAnswer.map { Int32($0) }))
    try writeStrings(counts.vocabularyWords, &w)
    try writeStrings(
      StringTable(s.products.isEmpty ? [] : s.problemProducts.map { $0.sorted().joined(separator: " ") }), &w)
    try w.append(column: counts.vocabularyCounts)
    try writeStrings(counts.problemKeys.keys, &w)
    try w.append(column: counts.problemKeys.classes)
    try writeStrings(counts.productTitles, &w)
    try w.append(column: counts.productColumns.titleCounts)
    try writeStrings(counts.productColumns.words, &w)
    try w.append(column: counts.productColumns.titleWords)
    try w.append(column: counts.productColumns.capital)
    try w.append(column: counts.productColumns.all)
    try writeExampleModel(model, &w)
    try writeBM25(words, &w)
    if let semantic = s.semantic {
      w.buffer.append(UInt8(1))
      w.buffer.append(Int64(semantic.classCount))
      w.buffer.append(Int64(semantic.idfClasses))
      try w.append(column: semantic.centroids)
      try w.append(column: semantic.classFrequency)
      try w.append(column: semantic.classStart)
      try w.append(column: semantic.exampleStart)
      try w.append(column: semantic.rows)
    } else {
      w.buffer.append(UInt8(0))
    }
    w.buffer.append(strings: s.products.sorted())
  }

  /// Saves the suggester atomically (temporary file flushed to disk, then renamed over the old
  /// one); whether it was saved (errors are not reported: a read-only `.kb/` only costs the
  /// next start-up a build).
  @discardableResult
  func save(_ s: Suggester) -> Bool {
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    // Left-overs of writers that were killed (their process is gone).
    if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
      for n in names {
        let prefix = n.hasPrefix(name + ".tmp-") ? name + ".tmp-" : n.hasPrefix(name + ".ok.tmp-") ? name + ".ok.tmp-" : nil
        guard let prefix else { continue }
        let pid = n.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
        if let pid, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink(folder + "/" + n) }
      }
    }
    let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    do {
      // The payload first (into the temporary file, after room for the header), then the header.
        var header = ByteWriter()
      for b in Self.magic { header.append(b) }
      header.append(Self.version)
      header.append(Self.key)
      header.append(s.state)
      header.append(s.position.log)
      header.append(s.position.seq)
      let headerLength = header.count + 8 + 8
      let payloadStart = (headerLength + 63) / 64 * 64
      var w = try ModelFileWriter(path: temp, at: payloadStart)
      try Self.encode(s, &w)
      let payloadLength = try w.finish()
      let payloadChecksum = w.checksum
      header.append(UInt64(payloadLength))
      header.append(payloadChecksum)
      header.append(header.bytes.withUnsafeBytes { modelChecksum($0) })
      header.appendPadding(to: 64)
      guard header.count <= payloadStart else { throw ModelFileWriter.Failed() }
      try w.write(header.bytes, at: 0)
      try w.sync()
      w.close()
      guard rename(temp, path) == 0 else { throw ModelFileWriter.Failed() }
      // What was written is what was checked: the next reader need not read it all again.
      if let file = MappedFile(path: path) { Self.writeAtomically("\(file.identity) \(payloadChecksum)", to: okPath) }
      return true
    } catch {
      unlink(temp)
      return false
    }
  }

  /// Beside the model: which file (inode, size, time) passed the whole-file check.
  var okPath: String { path + ".ok" }

  static func writeAtomically(_ text: String, to path: String) {
    let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard FileManager.default.createFile(atPath: temp, contents: Data(text.utf8)) else { return }
    if rename(temp, path) != 0 { unlink(temp) }
  }
}

/// Writes a model file: small values through a buffer, columns straight from their memory (a
/// model of hundreds of megabytes is never copied into one buffer), aligned as
/// ``ByteReader/readColumn(_:file:)`` expects.
struct ModelFileWriter: ~Copyable {
  struct Failed: Error {}
  var buffer = ByteWriter()
  private var fd: Int32
  /// File offset where the payload starts, and how many payload bytes are written so far.
  private let start: Int
  private var written = 0
  /// Of every payload byte written.
  private var checksumState = StreamChecksum()

  init(path: String, at start: Int) throws {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failed() }
    self.start = start
  }

  deinit { if fd >= 0 { Glibc.close(fd) } }

  mutating func close() {
    if fd >= 0 { Glibc.close(fd) }
    fd = -1
  }

  private mutating func flush() throws {
    guard buffer.count > 0 else { return }
    try buffer.bytes.withUnsafeBytes {
      checksumState.update($0)
      try writeAll($0, at: start + written)
    }
    written += buffer.count
    buffer = ByteWriter()
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
    var done = 0
    while done < bytes.count {
      let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { throw Failed() }
      done += n
    }
  }

  func write(_ bytes: [UInt8], at offset: Int) throws {
    try bytes.withUnsafeBytes { try writeAll($0, at: offset) }
  }

  mutating func append<T: BitwiseCopyable>(column: Column<T>) throws {
    buffer.append(UInt64(column.count))
    // Pad to 64 bytes from the payload's start (itself at a multiple of 64 in the file).
    while (written + buffer.count) % 64 != 0 { buffer.append(UInt8(0)) }
    try flush()
    try column.withUnsafeBufferPointer { c in
      let raw = UnsafeRawBufferPointer(c)
      checksumState.update(raw)
      if raw.count > 0 { try writeAll(raw, at: start + written) }
      written += raw.count
    }
  }

  /// Writes what is buffered; the payload's length.
  mutating func finish() throws -> Int {
    try flush()
    return written
  }

  var checksum: UInt64 { checksumState.value }

  func sync() throws { guard fsync(fd) == 0 else { throw Failed() } }
}

extension Workspace {
  /// Where the built ranker is saved between processes.
  public var suggestModelPath: String { root + "/\(Self.privateFolder)/suggest-model.bin" }
}

/// The answers a ``Suggester`` ranks: in memory when it was built in this process, or read one
/// at a time from the mapped model file (five strings an answer: id, path, title, symptoms
/// joined by newlines, tags), so that a process that shows three answers decodes three, not
/// all of them. Bodies are never here (``Suggester/answer(_:)`` reads a shown one's body).
struct AnswerList: RandomAccessCollection, Sendable {
  private let memory: [SuggestAnswer]?
  private let table: StringTable
  private let tableRowids: Column<Int64>
  /// An overlay's list: `refs[i]` is a row of `table` (the base's answers), or −1 − an index
  /// into `added`.
  private let refs: [Int32]?
  private let added: [SuggestAnswer]

  init(_ answers: [SuggestAnswer]) {
    memory = answers
    table = StringTable([])
    tableRowids = Column(answers.map(\.rowid))
    refs = nil
    added = []
  }

  /// From the model file; nil when the columns do not hold five strings per row id.
  init?(table: StringTable, rowids: Column<Int64>) {
    guard table.count == 5 * rowids.count else { return nil }
    memory = nil
    self.table = table
    tableRowids = rowids
    refs = nil
    added = []
  }

  /// A saved list's answers (`base`, read from the model file) less and plus some: `refs` as
  /// ``Suggester/overlaid(base:changes:snapshot:state:position:)`` makes them.
  init(base: AnswerList, refs: [Int32], added: [SuggestAnswer]) {
    precondition(base.refs == nil, "an overlay's list is made of a saved list")
    memory = base.memory
    table = base.table
    tableRowids = base.tableRowids
    self.refs = refs
    self.added = added
  }

  var startIndex: Int { 0 }
  var endIndex: Int { refs?.count ?? memory?.count ?? tableRowids.count }

  /// The row ids, in order (what the model file stores).
  var rowids: Column<Int64> {
    guard refs != nil else { return tableRowids }
    return Column(indices.map { self[$0].rowid })
  }

  /// The base's answer an answer is (nil: it is a new version, ``newVersion(_:)``).
  @inline(__always)
  private func row(_ i: Int) -> Int? {
    guard let refs else { return i }
    let r = refs[i]
    return r >= 0 ? Int(r) : nil
  }

  @inline(__always)
  private func newVersion(_ i: Int) -> SuggestAnswer { added[Int(-1 - refs![i])] }

  subscript(i: Int) -> SuggestAnswer {
    guard let r = row(i) else { return newVersion(i) }
    if let memory { return memory[r] }
    let symptoms = table[5 * r + 3]
    return SuggestAnswer(
      rowid: tableRowids[r], id: table[5 * r], path: table[5 * r + 1], title: table[5 * r + 2],
      symptoms: symptoms.isEmpty ? [] : symptoms.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
      tags: table[5 * r + 4], body: "")
  }

  /// Field `k` of five (id, path, title, symptoms, tags) of answer `i`.
  @inline(__always)
  private func field(_ i: Int, _ k: Int, _ value: (SuggestAnswer) -> String) -> String {
    guard let r = row(i) else { return value(newVersion(i)) }
    if let memory { return value(memory[r]) }
    return table[5 * r + k]
  }

  func id(_ i: Int) -> String { field(i, 0, \.id) }
  func path(_ i: Int) -> String { field(i, 1, \.path) }
  func title(_ i: Int) -> String { field(i, 2, \.title) }

  /// As the model file stores them.
  var asTable: StringTable {
    if memory == nil, refs == nil { return table }
    return StringTable(indices.flatMap { i -> [String] in
      let a = self[i]
      return [a.id, a.path, a.title, a.symptoms.joined(separator: "\n"), a.tags]
    })
  }
}
