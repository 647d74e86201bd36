import Foundation
import Synchronization

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
/// Each probe makes a fresh connection: no cache, no cookies, no reused connection.
///
/// A probe is bounded in time and in memory, whatever the endpoint does: `timeout` covers resolving, connecting,
/// the headers and the body together, and at most `bodyLimit` bytes of the body are kept. The body is read only
/// when `contains` needs it, and only until the string turns up; `contains` sees the first `bodyLimit` bytes, so a
/// string that comes later is reported missing (`body lacks "…" in its first 1 MiB`). Plain `http` is spoken here
/// over a socket, which stops reading at the limit; `https` goes through URLSession, whose transfer is cancelled
/// at the limit or the deadline (what arrives meanwhile is dropped, not kept).
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
    let address = context.substituteAddress(url, host: host)
    guard let target = URL(string: address), let scheme = target.scheme?.lowercased() else {
      return (.error, "invalid URL: \(address)")
    }
    guard scheme == "http" || scheme == "https" else { return (.error, "unsupported scheme: \(scheme)") }
    guard let hostName = target.host, !hostName.isEmpty else { return (.error, "invalid URL: \(address)") }

    guard let port = UInt16(exactly: target.port ?? (scheme == "http" ? 80 : 443)), port > 0 else {
      return (.error, "invalid URL: \(address)")
    }

    let needle = contains.map { context.substitute($0, host: host) }.flatMap { $0.isEmpty ? nil : $0 }
    let answer: HTTPAnswer?
    if scheme == "http" {
      let exchange = HTTPExchange(
        host: hostName.hasPrefix("[") ? String(hostName.dropFirst().dropLast()) : hostName, port: port,
        target: Self.requestTarget(target),
        hostHeader: target.port.map { "\(Self.bracketed(hostName)):\($0)" } ?? Self.bracketed(hostName),
        userAgent: Self.userAgent, expect: expect, needle: needle.map { Data($0.utf8) }, limit: Self.bodyLimit)
      let deadline = ContinuousClock.now + policy.timeout.duration
      let abandoned = TCPConnector.Abandonment()
      // Name resolution cannot be interrupted, so the thread is abandoned if it outlives the deadline; every other
      // wait of the exchange ends soon after the probe stopped waiting for it (deadline or cancellation).
      answer = await withDeadline(policy.timeout.duration) {
        await onDedicatedThread(named: "airlock.http") { exchange.perform(until: deadline, abandoned: abandoned) }
      }
      abandoned.raise()
    } else {
      var request = URLRequest(url: target)
      request.httpMethod = "GET"
      request.setValue(Self.userAgent, forHTTPHeaderField: "User-Agent")
      request.setValue("no-cache", forHTTPHeaderField: "Cache-Control")
      let fetch = HTTPSFetch(
        expect: expect, needle: needle.map { Data($0.utf8) }, limit: Self.bodyLimit, host: hostName,
        timeout: policy.timeout)
      // One deadline for the whole exchange; when it passes, the fetch is cancelled and its transfer stops.
      answer = await withDeadline(policy.timeout.duration) { [request] in await fetch.run(request) }
    }
    switch answer {
    case nil:
      return (.failed, "timeout")
    case .failure(let outcome, let reason):
      return (outcome, reason)
    case .response(let status, let location, let body):
      guard status == expect else {
        if (300..<400).contains(status), let location { return (.failed, "status \(status) (redirect to \(location))") }
        return (.failed, "status \(status)")
      }
      switch (needle, body) {
      case (nil, _), (_, .found): return (.ok, "ok")
      case (let needle?, .lacking), (let needle?, .unread): return (.failed, Self.lacks(needle, withinLimit: false))
      case (let needle?, .lackingWithinLimit): return (.failed, Self.lacks(needle, withinLimit: true))
      }
    }
  }

  /// The `User-Agent` every probe sends.
  static var userAgent: String { "airlock/\(AirlockVersion.string)" }

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

/// One GET over TLS in flight: the session's delegate, which looks at the response as it arrives and ends the transfer as
/// soon as the result is known (a status that decides alone, the string found, `limit` bytes read).
///
/// swift-corelibs-foundation keeps a `data(for:)` body in memory for as long as the server sends it, and does not
/// stop the transfer when the awaiting task is cancelled; a delegate sees each chunk and can cancel the task. It
/// cannot pause a transfer, though: what arrives between the limit and the cancellation is queued, then dropped,
/// which is why plain `http` does not go through it. The session exists only while the fetch runs, and is
/// invalidated (which frees this delegate) when it ends.
private final class HTTPSFetch: NSObject, URLSessionDataDelegate, Sendable {
  private struct State {
    var continuation: CheckedContinuation<HTTPAnswer, Never>?
    var session: URLSession?
    var task: URLSessionDataTask?
    var result: HTTPAnswer?
    var search: BodySearch?
  }

  private let expect: Int
  private let needle: Data?
  private let host: String
  private let timeout: TimeSpan
  private let state: Mutex<State>

  init(expect: Int, needle: Data?, limit: Int, host: String, timeout: TimeSpan) {
    self.expect = expect
    self.needle = needle
    self.host = host
    self.timeout = timeout
    state = Mutex(State(search: needle.map { BodySearch(needle: $0, limit: limit) }))
  }

  /// Sends `request` and waits for the result; cancelling the calling task cancels the transfer at once.
  func run(_ request: URLRequest) async -> HTTPAnswer {
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let early: HTTPAnswer? = state.withLock { state in
          if let result = state.result { return result }
          state.continuation = continuation
          // Created under the lock, so `finish` never invalidates a session before its task exists:
          // swift-corelibs-foundation traps on a request made on an invalidated session.
          let session = URLSession(configuration: configuration(), delegate: self, delegateQueue: nil)
          let task = session.dataTask(with: request)
          state.session = session
          state.task = task
          task.resume()
          return nil
        }
        if let early { continuation.resume(returning: early) }
      }
    } onCancel: {
      finish(.failure(.failed, "cancelled"))
    }
  }

  private func configuration() -> URLSessionConfiguration {
    let configuration = URLSessionConfiguration.ephemeral
    // swift-corelibs-foundation truncates these to whole seconds, and a value under one second times out at once;
    // they are only a backstop. The real bound is the probe's deadline, which cancels the fetch.
    let backstop = timeout.seconds.rounded(.up) + 1
    configuration.timeoutIntervalForRequest = backstop
    configuration.timeoutIntervalForResource = backstop
    configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
    configuration.urlCache = nil
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    return configuration
  }

  /// Records the first result, stops the transfer, frees the session and resumes the caller; later calls do nothing.
  private func finish(_ result: HTTPAnswer) {
    let ended: (CheckedContinuation<HTTPAnswer, Never>?, URLSession?, URLSessionDataTask?)? = state.withLock {
      state in
      guard state.result == nil else { return nil }
      state.result = result
      state.search = nil
      defer {
        state.continuation = nil
        state.session = nil
        state.task = nil
      }
      return (state.continuation, state.session, state.task)
    }
    guard let (continuation, session, task) = ended else { return }
    task?.cancel()
    session?.invalidateAndCancel()
    continuation?.resume(returning: result)
  }

  /// The result when the status alone decides: a status other than the expected one, or no string to look for.
  private func decidedByStatus(_ response: URLResponse) -> HTTPAnswer? {
    guard let http = response as? HTTPURLResponse else { return .failure(.failed, "not an HTTP response") }
    guard http.statusCode != expect || needle == nil else { return nil }
    return .response(status: http.statusCode, location: http.value(forHTTPHeaderField: "Location"), body: .unread)
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
  ) {
    completionHandler(.allow)
    if let decided = decidedByStatus(response) { finish(decided) }
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    // Without a response yet, this is the body of a redirect (swift-corelibs-foundation announces those only at
    // the end); its status fails the probe, so its body is not looked at.
    guard let response = dataTask.response else { return }
    if let decided = decidedByStatus(response) { return finish(decided) }
    let body: HTTPAnswer.Body? = state.withLock { state in
      guard state.result == nil else { return nil }
      return state.search?.take(data)
    }
    if let body { finish(.response(status: expect, location: nil, body: body)) }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    if let error = error as? URLError { return finish(Self.describe(error, host: host)) }
    if let error { return finish(.failure(.failed, "\(error)")) }
    guard let response = task.response else { return finish(.failure(.failed, "not an HTTP response")) }
    finish(decidedByStatus(response) ?? .response(status: expect, location: nil, body: .lacking))
  }

  /// Declines every redirect, so the response compared is the one the URL itself returns.
  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
  ) {
    completionHandler(nil)
  }

  /// The short reason for a transport error; all of them mean the endpoint is unhealthy, not that the check is
  /// broken (the URL was already validated).
  private static func describe(_ error: URLError, host: String) -> HTTPAnswer {
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
