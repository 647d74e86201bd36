import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Opens TCP connections within a deadline, for `tcp` and `http` probes.
///
/// Every address a name resolves to is tried in turn until one connects. Name resolution (`getaddrinfo`) cannot be
/// interrupted; callers run this on a dedicated thread under `withDeadline` and abandon it if resolution hangs.
enum TCPConnector {
  /// Why no connection opened: the probe's reason (`refused`, `timeout`, `cannot resolve HOST`, …).
  struct Failure: Error {
    var reason: String
  }

  /// Raised when whoever waits for a blocking exchange stopped waiting (its deadline passed, or its task was
  /// cancelled): every wait of the exchange then ends within `Self.stopLatency`, not at its deadline.
  final class Abandonment: Sendable {
    private let raised = Atomic(false)

    init() {}

    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
  }

  /// How long a wait takes at most to notice that its exchange was abandoned.
  static let stopLatency: Duration = .milliseconds(50)

  /// Resolves `host` and tries each address until one connects or `deadline` passes (or the exchange is
  /// abandoned); returns the connected, non-blocking, close-on-exec descriptor, which the caller closes. Blocks the
  /// calling thread.
  static func open(
    host: String, port: UInt16, deadline: ContinuousClock.Instant, abandoned: Abandonment? = nil
  ) -> Result<Int32, Failure> {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
      hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
      hints.ai_socktype = SOCK_STREAM
    #endif
    hints.ai_flags = AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
      if status == EAI_NONAME || status == EAI_AGAIN || status == EAI_FAIL {
        return .failure(Failure(reason: "cannot resolve \(host)"))
      }
      return .failure(Failure(reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
    }
    defer { freeaddrinfo(list) }

    var reasons: [String] = []
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let current = entry {
      switch attempt(current.pointee, deadline: deadline, abandoned: abandoned) {
      case .success(let descriptor): return .success(descriptor)
      case .failure(let failure): reasons.append(failure.reason)
      }
      if ContinuousClock.now >= deadline || abandoned?.isRaised == true { break }
      entry = current.pointee.ai_next
    }
    // With several addresses, "refused" by one says more than "timeout" by another: something answered.
    if reasons.contains("refused") { return .failure(Failure(reason: "refused")) }
    return .failure(Failure(reason: reasons.last ?? "timeout"))
  }

  /// The descriptor of a connection to `address` opened before `deadline`, else why not.
  private static func attempt(
    _ address: addrinfo, deadline: ContinuousClock.Instant, abandoned: Abandonment?
  ) -> Result<Int32, Failure> {
    #if canImport(Glibc)
      let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    #else
      let type = SOCK_STREAM
    #endif
    let fd = socket(address.ai_family, type, address.ai_protocol)
    guard fd >= 0 else { return .failure(Failure(reason: describe(errno))) }
    #if !canImport(Glibc)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    #endif
    if let reason = connect(fd, to: address, deadline: deadline, abandoned: abandoned) {
      close(fd)
      return .failure(Failure(reason: reason))
    }
    return .success(fd)
  }

  /// `nil` when `fd` connected to `address` before `deadline`, else why not.
  private static func connect(
    _ fd: Int32, to address: addrinfo, deadline: ContinuousClock.Instant, abandoned: Abandonment?
  ) -> String? {
    #if canImport(Glibc)
      let started = Glibc.connect(fd, address.ai_addr, address.ai_addrlen)
    #else
      let started = Darwin.connect(fd, address.ai_addr, address.ai_addrlen)
    #endif
    if started == 0 { return nil }
    guard errno == EINPROGRESS || errno == EINTR else { return describe(errno) }
    while true {
      switch wait(for: fd, events: POLLOUT, until: deadline, abandoned: abandoned) {
      case .timedOut: return "timeout"
      case .failed(let code): return describe(code)
      case .ready:
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 else { return describe(errno) }
        return failure == 0 ? nil : describe(failure)
      }
    }
  }

  /// What waiting on a descriptor came to.
  enum Readiness {
    case ready
    case timedOut
    case failed(Int32)
  }

  /// Waits until `fd` is ready for `events` (or has an error or hang-up pending), `deadline` passes or the exchange
  /// is abandoned (both `timedOut`).
  static func wait(
    for fd: Int32, events: Int32, until deadline: ContinuousClock.Instant, abandoned: Abandonment? = nil
  ) -> Readiness {
    while true {
      var remaining = deadline - ContinuousClock.now
      guard remaining > .zero, abandoned?.isRaised != true else { return .timedOut }
      if abandoned != nil { remaining = min(remaining, stopLatency) }
      let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
      var descriptor = pollfd(fd: fd, events: Int16(events), revents: 0)
      let ready = poll(&descriptor, 1, Int32(max(1, min(milliseconds, Int64(Int32.max)))))
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 { return .failed(errno) }
      if ready > 0 { return .ready }
    }
  }

  /// The short reason for a socket error.
  static func describe(_ code: Int32) -> String {
    switch code {
    case ECONNREFUSED: return "refused"
    case ETIMEDOUT: return "timeout"
    case EHOSTUNREACH: return "host unreachable"
    case ENETUNREACH: return "network unreachable"
    case ECONNRESET, EPIPE: return "connection lost"
    default: return String(cString: strerror(code))
    }
  }
}
