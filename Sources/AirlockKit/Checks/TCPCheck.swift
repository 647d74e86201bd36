import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `tcp` check: passes when a connection to `HOST:PORT` opens within the timeout.
///
/// The address takes placeholders; an IPv6 literal is written `[ADDR]:PORT` (a `{host}` that is an IPv6 literal is
/// bracketed on substitution). Every address the name resolves to is tried in turn until one connects. The
/// connection is closed at once; nothing is sent.
public struct TCPCheck: ProbingCheck {
  /// The check's name in the pipeline.
  public var name: String
  /// Whether a failure blocks promotion without triggering a rollback.
  public var isDependency: Bool
  /// The retry quorum; `timeout` bounds name resolution and connecting together.
  public var policy: ProbePolicy
  /// `HOST:PORT` or `[IPV6]:PORT`, with placeholders.
  public var address: String

  /// Always `tcp`.
  public var kind: String { "tcp" }

  /// Creates a TCP check.
  public init(name: String, address: String, policy: ProbePolicy = ProbePolicy(), isDependency: Bool = false) {
    self.name = name
    self.address = address
    self.policy = policy
    self.isDependency = isDependency
  }

  /// Opens and closes one connection.
  ///
  /// A malformed address is an error; a name that does not resolve is a failure (`cannot resolve HOST`), since DNS
  /// is part of what makes a service reachable.
  public func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    let substituted = context.substituteAddress(address, host: host)
    guard let (targetHost, port) = Self.parse(substituted) else {
      return (.error, "malformed address: \(substituted) (expected HOST:PORT or [IPV6]:PORT)")
    }
    let timeout = policy.timeout.duration
    let deadline = ContinuousClock.now + timeout
    // getaddrinfo cannot be interrupted, so the thread is abandoned if resolution outlives the timeout.
    let result = await withDeadline(timeout) {
      await onDedicatedThread(named: "airlock.tcp") { Self.connect(host: targetHost, port: port, deadline: deadline) }
    }
    return result ?? (.failed, "timeout")
  }

  /// Splits `HOST:PORT` or `[IPV6]:PORT`; `nil` when malformed (an unbracketed IPv6 address is ambiguous).
  static func parse(_ address: String) -> (host: String, port: UInt16)? {
    let host: Substring
    let portText: Substring
    if address.hasPrefix("[") {
      guard let close = address.firstIndex(of: "]") else { return nil }
      host = address[address.index(after: address.startIndex)..<close]
      let rest = address[address.index(after: close)...]
      guard rest.hasPrefix(":") else { return nil }
      portText = rest.dropFirst()
    } else {
      guard let colon = address.lastIndex(of: ":") else { return nil }
      host = address[..<colon]
      portText = address[address.index(after: colon)...]
      if host.contains(":") { return nil }
    }
    guard !host.isEmpty, !host.contains(where: \.isWhitespace), portText.allSatisfy(\.isASCII),
      let port = UInt16(portText), port > 0
    else { return nil }
    return (String(host), port)
  }

  /// Resolves `host` and tries each address until one connects or `deadline` passes. Blocks the calling thread.
  private static func connect(
    host: String, port: UInt16, deadline: ContinuousClock.Instant
  ) -> (Probe.Outcome, String) {
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
        return (.failed, "cannot resolve \(host)")
      }
      return (.failed, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(list) }

    var reasons: [String] = []
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let current = entry {
      guard let reason = attempt(current.pointee, deadline: deadline) else { return (.ok, "ok") }
      reasons.append(reason)
      if ContinuousClock.now >= deadline { break }
      entry = current.pointee.ai_next
    }
    // With several addresses, "refused" by one says more than "timeout" by another: something answered.
    if reasons.contains("refused") { return (.failed, "refused") }
    return (.failed, reasons.last ?? "timeout")
  }

  /// `nil` when a connection to `address` opened before `deadline`, else why not.
  private static func attempt(_ address: addrinfo, deadline: ContinuousClock.Instant) -> String? {
    #if canImport(Glibc)
      let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    #else
      let type = SOCK_STREAM
    #endif
    let fd = socket(address.ai_family, type, address.ai_protocol)
    guard fd >= 0 else { return describe(errno) }
    defer { close(fd) }
    #if !canImport(Glibc)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    #endif
    #if canImport(Glibc)
      let started = Glibc.connect(fd, address.ai_addr, address.ai_addrlen)
    #else
      let started = Darwin.connect(fd, address.ai_addr, address.ai_addrlen)
    #endif
    if started == 0 { return nil }
    guard errno == EINPROGRESS || errno == EINTR else { return describe(errno) }
    while true {
      let remaining = deadline - ContinuousClock.now
      guard remaining > .zero else { return "timeout" }
      let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
      var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let ready = poll(&descriptor, 1, Int32(max(1, min(milliseconds, Int64(Int32.max)))))
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 { return describe(errno) }
      if ready == 0 { continue }
      var failure: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 else { return describe(errno) }
      return failure == 0 ? nil : describe(failure)
    }
  }

  private static func describe(_ code: Int32) -> String {
    switch code {
    case ECONNREFUSED: return "refused"
    case ETIMEDOUT: return "timeout"
    case EHOSTUNREACH: return "host unreachable"
    case ENETUNREACH: return "network unreachable"
    default: return String(cString: strerror(code))
    }
  }
}
