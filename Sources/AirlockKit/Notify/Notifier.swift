import Foundation

/// What telling one receiver about one event did: recorded in the ledger beside the event (docs/notifications.md).
public struct NotificationDelivery: Sendable, Codable, Hashable {
  /// The receiver as messages name it: `webhook https://hooks.example.com`, `webhook_secret SLACK_URL`,
  /// `command bin/page-oncall`; never a secret URL.
  public var receiver: String
  /// Whether the receiver took it: a 2xx answer, or exit 0.
  public var delivered: Bool
  /// How many attempts were made: 1, or 2 after a retry; 0 when none could be (a webhook secret not set).
  public var attempts: Int
  /// The last attempt's result: `status 200`, `status 500`, `timeout`, `connection refused`, `exit 3`…
  public var reason: String

  /// A delivery's result.
  public init(receiver: String, delivered: Bool, attempts: Int, reason: String) {
    self.receiver = receiver
    self.delivered = delivered
    self.attempts = attempts
    self.reason = reason
  }
}

/// Delivers event notifications to one `notify:` receiver: bounded attempts, one retry, nothing that can throw.
///
/// A webhook gets a `POST` of the JSON (HTTP/1.1, `https` through the system's trust store or `SSL_CERT_FILE`, no
/// redirect followed); a command gets it on stdin and the event's `AIRLOCK_*` variables with the passed-through
/// basics (`PATH`, `HOME`…), never config or secrets, and runs in the project root.
struct Notifier: Sendable {
  /// The receiver and its settings.
  let spec: NotifySpec
  /// The project root: where a command runs and its relative program path resolves.
  let root: URL
  /// The process environment: `SSL_CERT_FILE` for `https`.
  let environment: [String: String]
  /// The environment a command inherits from: only its passed-through basics (`PATH`, `HOME`…) reach it.
  let childEnvironment: [String: String]
  let runner: ProcessRunner

  /// How one attempt ended.
  enum Attempt: Sendable {
    case delivered(String)
    /// Failed; `retry` unless another attempt cannot help (a 4xx answer other than 408 and 429).
    case failed(String, retry: Bool)
  }

  /// Delivers `notification`, to `url` for a webhook (the secret's value for `webhook_secret`, resolved by the
  /// caller: its failure is passed as the `Result`'s reason), trying once more after a failure that may pass.
  func deliver(_ notification: EventNotification, url: Result<String, NotifyFailure>?) async -> NotificationDelivery {
    func delivery(_ delivered: Bool, attempts: Int, _ reason: String) -> NotificationDelivery {
      NotificationDelivery(receiver: spec.description, delivered: delivered, attempts: attempts, reason: reason)
    }
    let timeout = spec.timeout ?? NotifySpec.defaultTimeout
    let body: Data
    do {
      body = try LedgerCoding.encode(notification)
    } catch {
      return delivery(false, attempts: 0, "\(error)")
    }
    let attempt: () async -> Attempt
    switch (spec.receiver, url) {
    case (.command(let arguments), _):
      attempt = { await run(arguments, input: body, for: notification, timeout: timeout) }
    case (_, .success(let address)?):
      attempt = { await post(body, to: address, timeout: timeout) }
    case (_, .failure(let failure)?):
      return delivery(false, attempts: 0, failure.reason)
    case (_, nil):
      return delivery(false, attempts: 0, "no URL")
    }
    var attempts = 1
    var last = await attempt()
    while case .failed(_, retry: true) = last, attempts < 2 {
      attempts += 1
      last = await attempt()
    }
    switch last {
    case .delivered(let reason): return delivery(true, attempts: attempts, reason)
    case .failed(let reason, _): return delivery(false, attempts: attempts, reason)
    }
  }

  /// One `POST`; a 2xx status delivers. Reasons never name the URL, which may be a secret.
  func post(_ body: Data, to address: String, timeout: TimeSpan) async -> Attempt {
    let exchange: HTTPExchange
    switch HTTPExchange.to(
      address, expect: 200, needle: nil, limit: HTTPCheck.excerptLimit, environment: environment,
      payload: (body, "application/json"))
    {
    case .failure(.unsupportedScheme(let scheme)): return .failed("unsupported scheme \(scheme)", retry: false)
    case .failure(.invalid): return .failed("not a valid http(s) URL", retry: false)
    case .success(let made): exchange = made
    }
    switch await exchange.run(timeout: timeout.duration, thread: "airlock.notify") {
    // The exchange's own deadline and the caller's are the same instant: either may say so first.
    case nil, .failure(_, "timeout"): return .failed("timeout after \(timeout)", retry: true)
    case .failure(_, let reason): return .failed(reason, retry: true)
    case .response(let status, _, _, _):
      if (200..<300).contains(status) { return .delivered("status \(status)") }
      let hopeless = (400..<500).contains(status) && status != 408 && status != 429
      return .failed("status \(status)", retry: !hopeless)
    }
  }

  /// One run of the command with the JSON on stdin; exit 0 delivers.
  func run(
    _ arguments: [String], input body: Data, for notification: EventNotification, timeout: TimeSpan
  ) async -> Attempt {
    let event = Hooks.Event(
      pipeline: notification.pipeline, environment: notification.environment, event: notification.event,
      release: notification.release, previous: notification.previous, actor: notification.actor,
      result: Hooks.Event.Result(
        outcome: notification.outcome.rawValue, detail: notification.detail, eventID: notification.eventId))
    return await ProcessRunner.withInputFile(body) { input in
      let file: URL
      switch input {
      case .failure(let error):
        return .failed("cannot write the event for the command: \(error.localizedDescription)", retry: false)
      case .success(let written): file = written
      }
      let result = await runner.run(
        arguments, in: root, environment: event.environment(inheriting: childEnvironment),
        timeout: timeout.duration, input: file)
      if result.succeeded { return .delivered(result.termination.reason) }
      if case .timedOut = result.termination { return .failed("timeout after \(timeout)", retry: true) }
      return .failed(result.termination.reason, retry: true)
    }
  }
}

/// Why a receiver could not even be tried: its URL's secret is not set or its source failed.
struct NotifyFailure: Error, Sendable {
  /// What a warning and the ledger may say: the secret's name and source, never a value.
  var reason: String
}
