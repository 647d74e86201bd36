import CMbedTLS
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A TLS 1.2 client session over a connected non-blocking socket (mbed TLS): the `https://` probe's transport.
///
/// The server's certificate must chain to a certificate in `trustedFile` and name the host; every wait ends at the
/// deadline or when the exchange is abandoned. It owns mbed TLS's state, not the socket.
final class TLSChannel {
  /// The PEM bundle trusted when `SSL_CERT_FILE` names none: Debian's (`ca-certificates`).
  static let systemTrustedFile = "/etc/ssl/certs/ca-certificates.crt"

  /// The PEM bundle an `https` probe trusts: `SSL_CERT_FILE` from the check's environment or Airlock's own, as
  /// OpenSSL and curl read it, or the system's bundle.
  static func trustedFile(in environment: [String: String]) -> String {
    for candidate in [environment["SSL_CERT_FILE"], ProcessInfo.processInfo.environment["SSL_CERT_FILE"]] {
      if let candidate, !candidate.isEmpty { return candidate }
    }
    return systemTrustedFile
  }

  private let session: UnsafeMutablePointer<airlock_tls>
  private let fd: Int32
  private let deadline: ContinuousClock.Instant
  private let abandoned: TCPConnector.Abandonment

  /// Sets up a session and completes the handshake; the reason it failed (`TLS failure: …`, `timeout`) otherwise.
  static func open(
    fd: Int32, host: String, trustedFile: String, deadline: ContinuousClock.Instant,
    abandoned: TCPConnector.Abandonment
  ) -> Result<TLSChannel, TCPConnector.Failure> {
    var error: Int32 = 0
    guard let session = airlock_tls_new(fd, host, trustedFile, &error) else {
      return .failure(TCPConnector.Failure(reason: "TLS failure: cannot use \(trustedFile): \(describe(error))"))
    }
    let channel = TLSChannel(session: session, fd: fd, deadline: deadline, abandoned: abandoned)
    while true {
      let code = airlock_tls_handshake(session)
      if code == 0 { return .success(channel) }
      if let failure = channel.waitIfAsked(code) { return .failure(failure) }
      if code == -AIRLOCK_TLS_WANT_READ || code == -AIRLOCK_TLS_WANT_WRITE { continue }
      var text = [CChar](repeating: 0, count: 512)
      airlock_tls_verify_failure(session, &text, text.count)
      let refusal = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
      let reason = refusal.isEmpty ? describe(code) : "certificate refused: \(refusal)"
      return .failure(TCPConnector.Failure(reason: "TLS failure: \(reason)"))
    }
  }

  private init(
    session: UnsafeMutablePointer<airlock_tls>, fd: Int32, deadline: ContinuousClock.Instant,
    abandoned: TCPConnector.Abandonment
  ) {
    self.session = session
    self.fd = fd
    self.deadline = deadline
    self.abandoned = abandoned
  }

  deinit { airlock_tls_free(session) }

  /// Sends all of `data`; `nil`, or why it could not.
  func send(_ data: Data) -> String? {
    data.withUnsafeBytes { raw -> String? in
      guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
      var offset = 0
      while offset < raw.count {
        let code = airlock_tls_write(session, base + offset, raw.count - offset)
        if code > 0 {
          offset += Int(code)
          continue
        }
        if let failure = waitIfAsked(code) { return failure.reason }
        if code != -AIRLOCK_TLS_WANT_READ && code != -AIRLOCK_TLS_WANT_WRITE { return Self.failure(code) }
      }
      return nil
    }
  }

  /// Receives up to `buffer.count` bytes: how many (0 at the end of the stream), or why none came.
  func receive(into buffer: inout [UInt8]) -> Result<Int, TCPConnector.Failure> {
    while true {
      let code = buffer.withUnsafeMutableBufferPointer { airlock_tls_read(session, $0.baseAddress, $0.count) }
      if code >= 0 { return .success(Int(code)) }
      if let failure = waitIfAsked(code) { return .failure(failure) }
      if code != -AIRLOCK_TLS_WANT_READ && code != -AIRLOCK_TLS_WANT_WRITE {
        return .failure(TCPConnector.Failure(reason: Self.failure(code)))
      }
    }
  }

  /// Waits for the socket when mbed TLS asked for it; the reason when the wait failed, `nil` to call again.
  private func waitIfAsked(_ code: Int32) -> TCPConnector.Failure? {
    let events: Int32
    switch code {
    case -AIRLOCK_TLS_WANT_READ: events = Int32(POLLIN)
    case -AIRLOCK_TLS_WANT_WRITE: events = Int32(POLLOUT)
    default: return nil
    }
    switch TCPConnector.wait(for: fd, events: events, until: deadline, abandoned: abandoned) {
    case .timedOut: return TCPConnector.Failure(reason: "timeout")
    case .failed(let error): return TCPConnector.Failure(reason: TCPConnector.describe(error))
    case .ready: return nil
    }
  }

  /// The reason of a failed read or write: a lost connection, or what mbed TLS says.
  private static func failure(_ code: Int32) -> String {
    if code == MBEDTLS_ERR_NET_SEND_FAILED || code == MBEDTLS_ERR_NET_RECV_FAILED
      || code == MBEDTLS_ERR_SSL_CONN_EOF
    {
      return "connection lost"
    }
    return "TLS failure: \(describe(code))"
  }

  /// mbed TLS's description of an error code.
  private static func describe(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: 256)
    airlock_tls_describe(code, &text, text.count)
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
