internal import CGit2
internal import CGit2Certificates
import Foundation

/// What a libgit2 setup call that runs once per process returned, as the error every later call throws again.
private func setupFailure(_ status: Int32, _ action: String) -> LedgerError? {
  do {
    try check(status, action, ledger: "(no ledger yet)")
    return nil
  } catch {
    return error as? LedgerError ?? LedgerError(.git, "\(action) failed: \(error)")
  }
}

// libgit2 keeps global state (thread-local error slots, caches) that must be set up once per process before any
// call and must not be torn down while a Ledger may still exist, so it is initialised lazily and never shut down.
private let libgit2Failure = setupFailure(airlock_git_init_deferring_certificates(), "initialising libgit2")

/// Initialises libgit2 on first use; throws the initialisation failure on every call if it failed.
func requireLibgit2() throws {
  if let libgit2Failure { throw libgit2Failure }
}

/// The CA bundle libgit2's initialisation skipped (see CGit2Certificates), loaded once before the first transport
/// that may speak https, so libgit2 verifies servers against it exactly as if it had loaded it at initialisation.
private let deferredCertificatesFailure: LedgerError? = airlock_git_deferred_certificate_file().flatMap { file in
  setupFailure(airlock_git_set_certificate_file(file), "loading the CA bundle \(String(cString: file))")
}

/// Loads the CA bundle libgit2's initialisation skipped, if it skipped one; throws the load failure every time.
func requireTransportCertificates() throws {
  try requireLibgit2()
  if let deferredCertificatesFailure { throw deferredCertificatesFailure }
}

/// Checks one libgit2 status: the single place where a failing `git_*` call becomes a `LedgerError`.
///
/// `git_error_last()` is thread-local and overwritten by the next libgit2 call, so it is read first, before
/// anything else runs. `code` overrides the code derived from libgit2's status when the caller knows better
/// (a rejected tree entry name is the artifact's fault, not git's).
@discardableResult
func check(_ status: Int32, _ action: @autoclosure () -> String, ledger: String, as code: LedgerError.Code? = nil)
  throws -> Int32
{
  guard status < 0 else { return status }
  let last = git_error_last()
  let detail = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "no detail from libgit2"
  let errorClass = last?.pointee.klass
  let code = code ?? LedgerError.Code(status: status, errorClass: errorClass)
  throw LedgerError(code, "\(action()) failed in ledger \(ledger): \(detail); \(code.advice(ledger: ledger))")
}

/// Like `check`, but answers false instead of throwing when libgit2 reports that the thing is not there.
func checkFound(_ status: Int32, _ action: @autoclosure () -> String, ledger: String) throws -> Bool {
  if status == GIT_ENOTFOUND.rawValue {
    git_error_clear()
    return false
  }
  try check(status, action(), ledger: ledger)
  return true
}

extension LedgerError.Code {
  fileprivate init(status: Int32, errorClass: Int32?) {
    switch status {
    case GIT_ENOTFOUND.rawValue: self = .notFound
    case GIT_EEXISTS.rawValue: self = .alreadyExists
    case GIT_EMODIFIED.rawValue, GIT_ELOCKED.rawValue: self = .concurrentUpdate
    case GIT_EMISMATCH.rawValue: self = .corrupt
    default:
      switch errorClass {
      case Int32(GIT_ERROR_OS.rawValue): self = .io
      case Int32(GIT_ERROR_ZLIB.rawValue): self = .corrupt
      default: self = .git
      }
    }
  }
}

extension ObjectID {
  /// Converts libgit2's raw 20-byte id without a libgit2 call, so the conversion cannot fail.
  init(_ oid: git_oid) {
    let digits = Array("0123456789abcdef".utf8)
    let hex = withUnsafeBytes(of: oid.id) { raw in
      String(unsafeUninitializedCapacity: 40) { buffer in
        for (index, byte) in raw.enumerated() {
          buffer[2 * index] = digits[Int(byte >> 4)]
          buffer[2 * index + 1] = digits[Int(byte & 0x0f)]
        }
        return 40
      }
    }
    self.init(hex: hex)!
  }

  /// Borrowed pointers returned by libgit2 (`git_commit_id` and friends) are copied at once.
  init(_ pointer: UnsafePointer<git_oid>) {
    self.init(pointer.pointee)
  }

  /// The raw id libgit2 expects; `hex` is validated on construction, so every pair of digits parses.
  var oid: git_oid {
    var oid = git_oid()
    let utf8 = Array(hex.utf8)
    withUnsafeMutableBytes(of: &oid.id) { raw in
      for index in 0..<raw.count {
        raw[index] = UInt8(hexDigit: utf8[2 * index]) << 4 | UInt8(hexDigit: utf8[2 * index + 1])
      }
    }
    return oid
  }
}

extension UInt8 {
  fileprivate init(hexDigit: UInt8) {
    switch hexDigit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): self = hexDigit - UInt8(ascii: "0")
    default: self = hexDigit - UInt8(ascii: "a") + 10
    }
  }
}
