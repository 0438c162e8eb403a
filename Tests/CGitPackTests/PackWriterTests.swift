import CGitPack
import Foundation
import KBTestSupport
import Testing

/// `kbpack_write` on its own: the packs it writes are read by git's own tools (`verify-pack`,
/// `index-pack`, `cat-file`, `fsck`), the objects come back byte for byte, and a failure leaves
/// nothing behind.
@Suite struct PackWriterTests {
  /// One object: its type, content and id (from `git hash-object`, so git names it, not us).
  struct Object {
    var type: String
    var data: [UInt8]
    var id: String

    var code: Int32 {
      switch type {
      case "commit": Int32(KBPACK_COMMIT)
      case "tree": Int32(KBPACK_TREE)
      case "tag": Int32(KBPACK_TAG)
      default: Int32(KBPACK_BLOB)
      }
    }
  }

  /// What the reader callback hands over, and what it saw.
  final class Source {
    var objects: [Object]
    /// The reader fails (with -7) at this position.
    var failAt: Int?
    /// A type code to hand over instead of the object's own.
    var typeOverride: Int32?
    var reads: [Int] = []
    var releases: [Int] = []
    init(_ objects: [Object]) { self.objects = objects }

    static func from(_ payload: UnsafeMutableRawPointer?) -> Source {
      Unmanaged<Source>.fromOpaque(payload!).takeUnretainedValue()
    }
  }

  /// The result of one call.
  struct Written {
    var code: Int32
    var name: String
    var message: String
  }

  /// A scratch folder with a work repository (for `git hash-object`) and a bare receiver.
  final class Scratch {
    let box: Sandbox
    var work: String { box.dir + "/work" }
    var receiver: String { box.dir + "/receiver.git" }
    var packFolder: String { receiver + "/objects/pack" }

    init() throws {
      box = try Sandbox("pack")
      try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
      #expect(try box.git(["init", "-q", work], in: box.dir).ok)
      #expect(try box.git(["init", "-q", "--bare", receiver], in: box.dir).ok)
    }

    /// Names `data` as git would, without storing it anywhere.
    func object(_ type: String, _ data: [UInt8]) throws -> Object {
      let file = box.dir + "/object-\(UUID().uuidString)"
      try Data(data).write(to: URL(fileURLWithPath: file))
      defer { try? FileManager.default.removeItem(atPath: file) }
      let r = try box.git(["hash-object", "-t", type, "--no-filters", file], in: work)
      #expect(r.ok, "\(r.stderr)")
      return Object(type: type, data: data, id: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func blob(_ text: String) throws -> Object { try object("blob", Array(text.utf8)) }

    /// A tree of blobs (`name` → blob), entries in git's order.
    func tree(_ entries: [(String, Object)]) throws -> Object {
      var data: [UInt8] = []
      for (name, blob) in entries.sorted(by: { $0.0 < $1.0 }) {
        data += Array("100644 \(name)".utf8) + [0] + hexBytes(blob.id)
      }
      return try object("tree", data)
    }

    /// Writes `objects` (or `ids` for them) with `kbpack_write` into `folder` (default: the receiver's packs).
    func write(
      _ source: Source, ids: [String]? = nil, into folder: String? = nil, durable: Bool = false
    ) -> Written {
      let idBytes = (ids ?? source.objects.map(\.id)).flatMap(hexBytes)
      var name = [CChar](repeating: 0, count: 41)
      var error = kbpack_error()
      let code = withExtendedLifetime(source) {
        kbpack_write(
          idBytes, source.objects.count,
          { payload, index, out in
            let source = Source.from(payload)
            source.reads.append(index)
            if source.failAt == index { return -7 }
            let object = source.objects[index]
            out!.pointee.type = source.typeOverride ?? object.code
            out!.pointee.size = object.data.count
            // The bytes stay put: the array is not touched while the writer runs.
            out!.pointee.data = object.data.withUnsafeBytes { UnsafeRawPointer($0.baseAddress) }
            return 0
          },
          { payload, index in Source.from(payload).releases.append(index) },
          Unmanaged.passUnretained(source).toOpaque(), folder ?? packFolder, durable ? 1 : 0, &name, &error)
      }
      let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      return Written(code: code, name: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), message: message)
    }

    func files(in folder: String? = nil) -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: folder ?? packFolder)) ?? []).sorted()
    }

    /// An object's content as the receiver's git reads it back.
    func readBack(_ object: Object) throws -> [UInt8] {
      let out = box.dir + "/read-\(UUID().uuidString)"
      defer { try? FileManager.default.removeItem(atPath: out) }
      let status = try box.start("/usr/bin/git", ["--git-dir", receiver, "cat-file", object.type, object.id], cwd: box.dir, stdout: out)
        .wait()
      #expect(status == 0, "cat-file \(object.type) \(object.id)")
      return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// Checks a written pack with git's tools and reads every object back.
    func expectReadable(_ objects: [Object], _ written: Written) throws {
      #expect(written.code == 0, "\(written.message)")
      #expect(written.name.count == 40 && written.name.allSatisfy(\.isHexDigit))
      let pack = packFolder + "/pack-\(written.name).pack", index = packFolder + "/pack-\(written.name).idx"
      #expect(files() == ["pack-\(written.name).idx", "pack-\(written.name).pack"])
      // Read-only, as git leaves its packs.
      let mode = try FileManager.default.attributesOfItem(atPath: pack)[.posixPermissions] as? Int
      #expect(mode == 0o444)
      // git checks every object's CRC, size and position against the index.
      let verify = try box.git(["verify-pack", "-v", index], in: box.dir)
      #expect(verify.ok, "\(verify.stdout.suffix(400))\(verify.stderr)")
      if !objects.isEmpty {
        #expect(verify.stdout.contains("non delta: \(objects.count) object"), "\(verify.stdout.suffix(400))")
      }
      // git's own indexer, from the pack alone, finds the same pack sum and writes the same index.
      let own = box.dir + "/git-own.idx"
      let indexed = try box.git(["index-pack", "-o", own, pack], in: work)
      #expect(indexed.ok, "\(indexed.stderr)")
      #expect(indexed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == written.name)
      #expect(try Data(contentsOf: URL(fileURLWithPath: own)) == Data(contentsOf: URL(fileURLWithPath: index)))
      try? FileManager.default.removeItem(atPath: own)
      for object in objects {
        #expect(try readBack(object) == object.data, "\(object.type) \(object.id)")
      }
      // Every object hashes to its id.
      let fsck = try box.git(["--git-dir", receiver, "fsck", "--full", "--strict", "--no-dangling"], in: box.dir)
      #expect(fsck.ok && fsck.stdout.isEmpty, "\(fsck.stdout)\(fsck.stderr)")
    }
  }

  static func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
      let j = hex.index(i, offsetBy: 2)
      out.append(UInt8(hex[i..<j], radix: 16)!)
      i = j
    }
    return out
  }

  @Test func objectsOfEveryTypeComeBackByteForByte() throws {
    let s = try Scratch()
    let readme = try s.blob("# Answers\n\nPower the phone off for a few minutes.\n")
    let empty = try s.blob("")
    let binary = try s.object("blob", (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) })
    let tree = try s.tree([("README.md", readme), ("empty", empty), ("bytes.bin", binary)])
    let commit = try s.object(
      "commit",
      Array("tree \(tree.id)\nauthor Tina <t@example.com> 1700000000 +0000\ncommitter Tina <t@example.com> 1700000000 +0000\n\nkb: 3 documents\n".utf8))
    let tag = try s.object(
      "tag",
      Array("object \(commit.id)\ntype commit\ntag v1\ntagger Tina <t@example.com> 1700000000 +0000\n\nfirst\n".utf8))
    let objects = [commit, tag, tree, readme, empty, binary]
    let source = Source(objects)
    let written = s.write(source, durable: true)
    try s.expectReadable(objects, written)
    // Each object was read once and handed back once, in order.
    #expect(source.reads == Array(0..<objects.count) && source.releases == source.reads)
    // The receiver can use them: its branch points at the commit.
    #expect(try s.box.git(["--git-dir", s.receiver, "update-ref", "refs/heads/main", commit.id], in: s.box.dir).ok)
    let files = try s.box.git(["--git-dir", s.receiver, "ls-tree", "--name-only", "main"], in: s.box.dir)
    #expect(files.stdout == "README.md\nbytes.bin\nempty\n")
  }

  @Test func manyObjectsFillTheFanOut() throws {
    let s = try Scratch()
    let objects = try (0..<300).map { try s.blob("answer \($0)\n") }
    // Ids spread over the first byte, so the fan-out table has many steps.
    #expect(Set(objects.map { $0.id.prefix(2) }).count > 150)
    try s.expectReadable(objects, s.write(Source(objects)))
  }

  @Test func aLargeObject() throws {
    let s = try Scratch()
    var random = SeededGenerator(seed: 12)
    // 3 MiB that zlib cannot shrink (the size takes four bytes of the entry header).
    let data = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }
    let large = try s.object("blob", data)
    let small = try s.blob("after the large one\n")
    try s.expectReadable([large, small], s.write(Source([large, small])))
  }

  @Test func anEmptyPackIsAValidPack() throws {
    let s = try Scratch()
    let written = s.write(Source([]))
    #expect(written.code == 0, "\(written.message)")
    try s.expectReadable([], written)
  }

  @Test func aFailingReaderStopsTheWriteAndLeavesNothing() throws {
    let s = try Scratch()
    let objects = try (0..<5).map { try s.blob("document \($0)\n") }
    let source = Source(objects)
    source.failAt = 2
    let written = s.write(source)
    #expect(written.code == -7)
    #expect(written.message == "could not read object 2")
    #expect(written.name.isEmpty)
    // What was read was handed back; the failed read was not.
    #expect(source.reads == [0, 1, 2] && source.releases == [0, 1])
    #expect(s.files().isEmpty, "\(s.files())")
  }

  @Test func anObjectOfNoTypeIsRefused() throws {
    let s = try Scratch()
    let source = Source([try s.blob("one\n")])
    source.typeOverride = 7
    let written = s.write(source)
    #expect(written.code == -1 && written.message == "an object with no git type or no content")
    #expect(source.releases == [0])
    #expect(s.files().isEmpty, "\(s.files())")
  }

  @Test func anIdGivenTwiceIsRefused() throws {
    let s = try Scratch()
    let a = try s.blob("a\n"), b = try s.blob("b\n")
    let written = s.write(Source([a, b]), ids: [a.id, a.id])
    #expect(written.code == -1 && written.message == "an object id is given twice")
    #expect(s.files().isEmpty, "\(s.files())")
  }

  @Test func aMissingFolderIsAClearError() throws {
    let s = try Scratch()
    let written = s.write(Source([try s.blob("a\n")]), into: s.box.dir + "/no/such/folder")
    #expect(written.code == -1 && written.message == "could not create the pack")
    #expect(!FileManager.default.fileExists(atPath: s.box.dir + "/no"))
    let long = s.write(Source([]), into: "/" + String(repeating: "x", count: 5000))
    #expect(long.code == -1 && long.message == "the pack folder's path is too long")
  }
}
