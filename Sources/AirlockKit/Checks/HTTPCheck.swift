import Foundation

/// An `http` check: passes when a GET returns the expected status and, if asked, a body containing a string.
///
/// `{host}`, `{version}` and `{release}` are substituted in `url` and `contains` (an IPv6 host is bracketed in the
/// URL), so a check can assert that the new version is the one serving.
///
/// Redirects are not followed: the first response's status is the one compared, so a health endpoint that suddenly
/// redirects to a login page (which answers 200) fails instead of passing. Expect a 3xx status to accept a redirect.
/// Each probe makes a fresh connection: no cache, no cookies, no reused connection.
///
/// A probe is bounded in time and in memory, whatever the endpoint does: `timeout` covers resolving, connecting,
/// the headers and the body together, and at most `bodyLimit` bytes of the body are kept. The body is read only
/// when `contains` needs it, and only until the string turns up; `contains` sees the first `bodyLimit` bytes, so a
/// string that comes later is reported missing (`body lacks "…" in its first 1 MiB`). Both are spoken here over a
/// socket, which stops reading at the limit; `https` through mbed TLS (TLS 1.2), trusting the PEM bundle named by
/// `SSL_CERT_FILE` or else the system's, and checking that the certificate names the host.
public struct HTTPCheck: ProbingCheck {
  /// How much of a response body a probe reads at most (1 MiB): `contains` is looked for in these bytes only.
  public static let bodyLimit = 1 << 20

  /// The check's name in the pipeline.
  public var name: String
  /// Whether a failure blocks promotion without triggering a rollback.
  public var isDependency: Bool
  /// The retry quorum; `timeout` bounds each request from connect to the last body byte read.
  public var policy: ProbePolicy
  /// The URL, with placeholders; only `http` and `https` are accepted.
  public var url: String
  /// The status a healthy response has.
  public var expect: Int
  /// A string the body must contain within its first `bodyLimit` bytes (compared byte for byte as UTF-8), with
  /// placeholders; `nil` to judge the status alone without reading the body.
  public var contains: String?

  /// Always `http`.
  public var kind: String { "http" }

  /// Creates an HTTP check.
  public init(
    name: String, url: String, expect: Int = 200, contains: String? = nil, policy: ProbePolicy = ProbePolicy(),
    isDependency: Bool = false
  ) {
    self.name = name
    self.url = url
    self.expect = expect
    self.contains = contains
    self.policy = policy
    self.isDependency = isDependency
  }

  /// Makes one GET request to the substituted URL.
  public func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    let finding = await examine(host: host, attempt: attempt, in: context)
    return (finding.outcome, finding.reason)
  }

  /// How many bytes of a failing response's body are kept as its evidence.
  static let excerptLimit = 512

  /// Makes one request; a wrong status or a body without the string keeps the body's first bytes.
  public func examine(host: String, attempt: Int, in context: CheckContext) async -> ProbeFinding {
    let address = context.substituteAddress(url, host: host)
    let needle = contains.map { context.substitute($0, host: host) }.flatMap { $0.isEmpty ? nil : $0 }
    let exchange: HTTPExchange
    switch HTTPExchange.to(
      address, expect: expect, needle: needle.map { Data($0.utf8) }, limit: Self.bodyLimit,
      environment: context.processEnvironment)
    {
    case .failure(.unsupportedScheme(let scheme)): return ProbeFinding(.error, "unsupported scheme: \(scheme)")
    case .failure(.invalid): return ProbeFinding(.error, "invalid URL: \(address)")
    case .success(let made): exchange = made
    }
    let answer = await exchange.run(timeout: policy.timeout.duration, thread: "airlock.http")
    switch answer {
    case nil:
      return ProbeFinding(.failed, "timeout")
    case .failure(let outcome, let reason):
      return ProbeFinding(outcome, reason)
    case .response(let status, let location, let body, let excerpt):
      let evidence = Self.evidence(excerpt)
      guard status == expect else {
        if (300..<400).contains(status), let location {
          return ProbeFinding(.failed, "status \(status) (redirect to \(location))", evidence: evidence)
        }
        return ProbeFinding(.failed, "status \(status)", evidence: evidence)
      }
      switch (needle, body) {
      case (nil, _), (_, .found): return ProbeFinding(.ok, "ok")
      case (let needle?, .lacking), (let needle?, .unread):
        return ProbeFinding(.failed, Self.lacks(needle, withinLimit: false), evidence: evidence)
      case (let needle?, .lackingWithinLimit):
        return ProbeFinding(.failed, Self.lacks(needle, withinLimit: true), evidence: evidence)
      }
    }
  }

  /// A body excerpt as evidence: decoded as UTF-8 (lossy), trimmed, `…` when it was cut; `nil` when empty.
  static func evidence(_ excerpt: Data) -> String? {
    let text = String(decoding: excerpt, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return nil }
    return excerpt.count >= excerptLimit ? text + "…" : text
  }

  /// The `User-Agent` every probe sends.
  static var userAgent: String { "airlock/\(AirlockVersion.current)" }

  /// `[ADDR]` for an IPv6 literal, the host itself otherwise.
  static func bracketed(_ host: String) -> String {
    host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
  }

  /// The path and query of `url` as sent on the request line (`/` when the path is empty).
  static func requestTarget(_ url: URL) -> String {
    let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
    let path = components?.percentEncodedPath ?? ""
    let query = components?.percentEncodedQuery.map { "?\($0)" } ?? ""
    return (path.isEmpty ? "/" : path) + query
  }

  /// The reason of a body without the string: `body lacks "…"`, and ` in its first 1 MiB` when the body went on
  /// beyond `bodyLimit`.
  static func lacks(_ needle: String, withinLimit: Bool) -> String {
    let shown = needle.count > 60 ? needle.prefix(57) + "..." : Substring(needle)
    return "body lacks \"\(shown)\"" + (withinLimit ? " in its first \(bodyLimit >> 20) MiB" : "")
  }
}
