import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// An `http` check: passes when a GET returns the expected status and, if asked, a body containing a string.
///
/// `{host}`, `{version}` and `{release}` are substituted in `url` and `contains` (an IPv6 host is bracketed in the
/// URL), so a check can assert that the new version is the one serving.
///
/// Redirects are not followed: the first response's status is the one compared, so a health endpoint that suddenly
/// redirects to a login page (which answers 200) fails instead of passing. Expect a 3xx status to accept a redirect.
/// Each probe uses a fresh ephemeral session: no cache, no cookies, no reused connection.
public struct HTTPCheck: ProbingCheck {
  /// The check's name in the pipeline.
  public var name: String
  /// Whether a failure blocks promotion without triggering a rollback.
  public var isDependency: Bool
  /// The retry quorum; `timeout` bounds each request from connect to the last body byte.
  public var policy: ProbePolicy
  /// The URL, with placeholders; only `http` and `https` are accepted.
  public var url: String
  /// The status a healthy response has.
  public var expect: Int
  /// A string the body must contain, with placeholders; `nil` to ignore the body.
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
    let address = context.substituteAddress(url, host: host)
    guard let target = URL(string: address), let scheme = target.scheme?.lowercased() else {
      return (.error, "invalid URL: \(address)")
    }
    guard scheme == "http" || scheme == "https" else { return (.error, "unsupported scheme: \(scheme)") }
    guard let hostName = target.host, !hostName.isEmpty else { return (.error, "invalid URL: \(address)") }

    let configuration = URLSessionConfiguration.ephemeral
    // swift-corelibs-foundation truncates these to whole seconds, and a value under one second times out at once;
    // they are only a backstop here. The real bound is the deadline below.
    let backstop = (policy.timeout.seconds).rounded(.up) + 1
    configuration.timeoutIntervalForRequest = backstop
    configuration.timeoutIntervalForResource = backstop
    configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
    configuration.urlCache = nil
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    let session = URLSession(configuration: configuration, delegate: RedirectRefusal(), delegateQueue: nil)

    var request = URLRequest(url: target)
    request.httpMethod = "GET"
    request.setValue("airlock/\(AirlockVersion.string)", forHTTPHeaderField: "User-Agent")
    request.setValue("no-cache", forHTTPHeaderField: "Cache-Control")

    let fetched = await withDeadline(policy.timeout.duration) { [request] () -> Fetch in
      // The fetch invalidates the session itself, once it is over: the deadline (or a signal's cancellation) may
      // abandon it before it even starts, and corelibs traps ("Session invalidated") when a request starts on a
      // session invalidated under it. An abandoned request ends by the backstop timeouts above.
      defer { session.finishTasksAndInvalidate() }
      do {
        let (body, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { return .failure(.failed, "not an HTTP response") }
        return .response(
          status: http.statusCode, body: body, location: http.value(forHTTPHeaderField: "Location"))
      } catch let error as URLError {
        return Self.describe(error, host: hostName)
      } catch {
        return .failure(.failed, "\(error)")
      }
    }
    switch fetched {
    case nil:
      return (.failed, "timeout")
    case .failure(let outcome, let reason):
      return (outcome, reason)
    case .response(let status, let body, let location):
      guard status == expect else {
        if (300..<400).contains(status), let location { return (.failed, "status \(status) (redirect to \(location))") }
        return (.failed, "status \(status)")
      }
      if let contains {
        let needle = context.substitute(contains, host: host)
        guard String(decoding: body, as: UTF8.self).contains(needle) else {
          let shown = needle.count > 60 ? needle.prefix(57) + "..." : Substring(needle)
          return (.failed, "body lacks \"\(shown)\"")
        }
      }
      return (.ok, "ok")
    }
  }

  /// What one request produced, in a form that can cross the deadline's task boundary.
  private enum Fetch: Sendable {
    case response(status: Int, body: Data, location: String?)
    case failure(Probe.Outcome, String)
  }

  /// The short reason for a transport error; all of them mean the endpoint is unhealthy, not that the check is
  /// broken (the URL was already validated).
  private static func describe(_ error: URLError, host: String) -> Fetch {
    switch error.code {
    case .cannotConnectToHost: return .failure(.failed, "refused")
    case .timedOut: return .failure(.failed, "timeout")
    case .cannotFindHost, .dnsLookupFailed: return .failure(.failed, "cannot resolve \(host)")
    case .networkConnectionLost: return .failure(.failed, "connection lost")
    case .notConnectedToInternet: return .failure(.failed, "network down")
    case .badServerResponse: return .failure(.failed, "bad response")
    case .cancelled: return .failure(.failed, "cancelled")
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
      .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected,
      .clientCertificateRequired:
      return .failure(.failed, "TLS failure (\(error.code.rawValue))")
    default: return .failure(.failed, "network error \(error.code.rawValue)")
    }
  }
}

/// Declines every redirect, so the response compared is the one the URL itself returns.
private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
  ) {
    completionHandler(nil)
  }
}
