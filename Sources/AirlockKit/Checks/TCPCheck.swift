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
    let abandoned = TCPConnector.Abandonment()
    let result = await withDeadline(timeout) {
      await onDedicatedThread(named: "airlock.tcp") { () -> (Probe.Outcome, String) in
        switch TCPConnector.open(host: targetHost, port: port, deadline: deadline, abandoned: abandoned) {
        case .success(let descriptor):
          close(descriptor)
          return (.ok, "ok")
        case .failure(let failure):
          return (.failed, failure.reason)
        }
      }
    }
    abandoned.raise()
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
}
