import CLibgit2
import Foundation

/// An error reported by libgit2, with the name of the C function that failed.
///
/// `description` is for people; `function` and `code` are for logs and `--verbose`.
public struct GitError: Error, Equatable, Sendable, CustomStringConvertible {
  /// libgit2's return code (`git_error_code`, negative).
  public var code: Int32
  /// libgit2's error class (`git_error_t`), 0 when none was set.
  public var klass: Int32
  /// The C function that failed.
  public var function: String
  /// libgit2's message.
  public var message: String

  public init(code: Int32, klass: Int32 = 0, function: String, message: String) {
    self.code = code
    self.klass = klass
    self.function = function
    self.message = message
  }

  public var description: String { message }
  public var debugDescription: String { "\(function) failed (\(code)/\(klass)): \(message)" }

  static let notFound: Int32 = GIT_ENOTFOUND.rawValue
  static let modified: Int32 = GIT_EMODIFIED.rawValue
  static let locked: Int32 = GIT_ELOCKED.rawValue
  static let exists: Int32 = GIT_EEXISTS.rawValue
  static let nonFastForward: Int32 = GIT_ENONFASTFORWARD.rawValue
  static let conflict: Int32 = GIT_ECONFLICT.rawValue
  static let unbornBranch: Int32 = GIT_EUNBORNBRANCH.rawValue
  static let auth: Int32 = GIT_EAUTH.rawValue
  static let certificate: Int32 = GIT_ECERTIFICATE.rawValue
  static let user: Int32 = GIT_EUSER.rawValue
}

/// libgit2 is initialised once per process, with fsync of objects, refs and the index on
/// ("never lose an edit" includes a power cut).
let libgit2Initialized: Void = {
  git_libgit2_init()
  // KB_GIT_FSYNC=0 trades durability on power loss for speed (benchmarks against git's CLI,
  // which does not fsync loose objects by default).
  kb_git_enable_fsync_gitdir(fsyncEnabled ? 1 : 0)
  // Strict object creation makes libgit2 look up every object a new tree or commit names, one
  // by one (30 ms to write a tree of 10,000 entries); every object kb names was just read from or
  // written to this repository, so the check buys nothing. (git itself does not check either.)
  kb_git_enable_strict_object_creation(0)
  _ = sslCAFileProblem
}()

/// Whether libgit2 fsyncs what it writes (`KB_GIT_FSYNC=0` turns it off).
let fsyncEnabled = ProcessInfo.processInfo.environment["KB_GIT_FSYNC"] != "0"

/// Runs a fetch with libgit2's file-by-file fsync off (pack, index, each ref and reflog and
/// their folders: about ten fsyncs), then makes what matters durable with three: the new pack
/// and index files, then their folder. The branch is moved onto fetched commits only afterwards,
/// with fsync back on. The remote-tracking ref itself may be lost in a power cut: the next
/// fetch writes it again.
func withBatchedFsync(packFolder: String, _ body: () throws(GitError) -> Void) throws(GitError) {
  guard fsyncEnabled else { return try body() }
  let before = Set((try? FileManager.default.contentsOfDirectory(atPath: packFolder)) ?? [])
  kb_git_enable_fsync_gitdir(0)
  defer { kb_git_enable_fsync_gitdir(1) }
  try body()
  let after = (try? FileManager.default.contentsOfDirectory(atPath: packFolder)) ?? []
  let new = after.filter { !before.contains($0) && ($0.hasSuffix(".pack") || $0.hasSuffix(".idx")) }
  guard !new.isEmpty else { return }
  for name in new {
    let fd = open(packFolder + "/" + name, O_RDONLY | O_CLOEXEC)
    if fd >= 0 { fsync(fd); close(fd) }
  }
  let dir = open(packFolder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  if dir >= 0 { fsync(dir); close(dir) }
}

/// Loads `KB_SSL_CA_FILE` (the CAs trusted for https instead of the system bundle) once, right
/// after `git_libgit2_init`; why it could not be loaded, for the untrusted-certificate message.
let sslCAFileProblem: String? = {
  guard let file = ProcessInfo.processInfo.environment["KB_SSL_CA_FILE"], !file.isEmpty else { return nil }
  guard kb_git_set_ssl_cert_locations(file, nil) == 0 else {
    return "KB_SSL_CA_FILE=\(file) could not be loaded: \(lastError("git_libgit2_opts", -1).message)"
  }
  return nil
}()

/// Turns a negative libgit2 return code into `GitError`. Call it right after the C call:
/// libgit2's last error is per thread.
func check(_ function: String, _ code: Int32) throws(GitError) {
  guard code < 0 else { return }
  throw lastError(function, code)
}

func lastError(_ function: String, _ code: Int32) -> GitError {
  if let e = git_error_last(), let m = e.pointee.message {
    return GitError(code: code, klass: e.pointee.klass, function: function, message: String(cString: m))
  }
  return GitError(code: code, function: function, message: "libgit2 error \(code)")
}

/// Calls a libgit2 constructor `fn(&out, …)` and returns the object it made.
func make(_ function: String, _ body: (inout OpaquePointer?) -> Int32) throws(GitError) -> OpaquePointer {
  var out: OpaquePointer?
  try check(function, body(&out))
  guard let out else { throw GitError(code: -1, function: function, message: "\(function) returned nothing") }
  return out
}

/// An owned libgit2 object, freed when the last reference goes away.
final class GitHandle {
  let pointer: OpaquePointer
  private let free: (OpaquePointer) -> Void

  init(_ pointer: OpaquePointer, free: @escaping (OpaquePointer) -> Void) {
    self.pointer = pointer
    self.free = free
  }

  deinit { free(pointer) }
}

/// A 20-byte object id as a value.
public struct GitOID: Hashable, Sendable, CustomStringConvertible {
  var raw: git_oid

  init(_ raw: git_oid) { self.raw = raw }

  init?(pointer: UnsafePointer<git_oid>?) {
    guard let pointer else { return nil }
    raw = pointer.pointee
  }

  public init?(hex: String) {
    var oid = git_oid()
    guard git_oid_fromstr(&oid, hex) == 0 else { return nil }
    raw = oid
  }

  public var description: String {
    var copy = raw
    return String(cString: git_oid_tostr_s(&copy))
  }

  public var short: String { String(description.prefix(8)) }

  public static func == (a: GitOID, b: GitOID) -> Bool {
    var x = a.raw, y = b.raw
    return git_oid_equal(&x, &y) == 1
  }

  public func hash(into hasher: inout Hasher) {
    withUnsafeBytes(of: raw) { hasher.combine(bytes: $0) }
  }
}

/// A `git_strarray` over Swift strings, alive for the duration of `body`.
func withStrArray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws(GitError) -> T) throws(GitError) -> T {
  let cStrings = strings.map { strdup($0) }
  defer { cStrings.forEach { free($0) } }
  let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: max(cStrings.count, 1))
  defer { array.deallocate() }
  for (i, s) in cStrings.enumerated() { array[i] = s }
  var strarray = git_strarray(strings: array, count: cStrings.count)
  return try body(&strarray)
}
