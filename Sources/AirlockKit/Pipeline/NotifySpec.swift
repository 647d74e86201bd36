import Foundation

/// One receiver of an environment's events: a webhook or a program, and the events it wants.
///
/// Written as an entry of `notify:`, at the top level of a pipeline (every environment) or in an environment (which
/// then replaces the top-level list). The ledger's environment snapshot records it, so a rollback with a broken
/// pipeline file still notifies; a `webhook_secret` is recorded by name only.
public struct NotifySpec: Sendable, Codable, Hashable, CustomStringConvertible {
  /// Where an event goes.
  public enum Receiver: Sendable, Codable, Hashable {
    /// An HTTP(S) URL written in the pipeline, which gets a `POST` of the event JSON.
    case webhook(url: String)
    /// The same, with the URL held by a secret: the variable of that name, or the source the environment's
    /// `secrets:` gives it. The URL is never recorded or printed.
    case webhookSecret(name: String)
    /// A program run without a shell in the project root, with the event JSON on stdin.
    case command(arguments: [String])
  }

  /// The keys a `notify:` entry takes.
  public enum Key: String, CaseIterable, Sendable {
    case webhook, command, on, timeout
    case webhookSecret = "webhook_secret"
  }

  /// Where events go.
  public var receiver: Receiver
  /// The kinds of event that reach it, in the order of `NotifyTrigger.allCases`.
  public var on: [NotifyTrigger]
  /// How long one delivery attempt may take; `nil` for `defaultTimeout`.
  public var timeout: TimeSpan?

  /// The events a receiver gets when its entry has no `on:`.
  public static let defaultTriggers: [NotifyTrigger] = [.failure, .rollback]
  /// The bound on one delivery attempt when `timeout:` is not given.
  public static let defaultTimeout = TimeSpan.seconds(5)

  /// A receiver of `on` (default: failures and rollbacks).
  public init(receiver: Receiver, on: [NotifyTrigger] = NotifySpec.defaultTriggers, timeout: TimeSpan? = nil) {
    self.receiver = receiver
    self.on = NotifyTrigger.allCases.filter(on.contains)
    self.timeout = timeout
  }

  /// What messages and the ledger may say about the receiver: `webhook https://hooks.example.com`, with the URL cut
  /// to its scheme and host (a webhook's path is often its token); `webhook_secret SLACK_URL`; `command bin/page`.
  public var description: String {
    switch receiver {
    case .webhook(let url):
      guard let parsed = URLComponents(string: url), let scheme = parsed.scheme, let host = parsed.host else {
        return "webhook"
      }
      return "webhook \(scheme)://\(host)\(parsed.port.map { ":\($0)" } ?? "")"
    case .webhookSecret(let name): return "webhook_secret \(name)"
    case .command(let arguments): return "command \(arguments.first ?? "")"
    }
  }
}

/// A kind of event a `notify:` entry can ask for; one event may be of several kinds (a failed rollback is both
/// `rollback` and `failure`).
public enum NotifyTrigger: String, Sendable, Codable, Hashable, CaseIterable {
  /// A deploy that switched and verified good.
  case deploy
  /// A promotion that switched and verified good.
  case promote
  /// Any rollback that switched, by an operator or automatic.
  case rollback
  /// An event that ended badly: failed or inconclusive verify, a suspect rollback, an interrupted or aborted run.
  case failure
  /// A change refused before anything changed: preflight, a hook, a promotion rule, a lock.
  case blocked
  /// An environment locked or unlocked.
  case lock

  /// The kinds `record` is of; empty for events no receiver is told about (a passing `verify`, an approval, a
  /// release that was already running).
  public static func matching(_ record: EventRecord) -> [NotifyTrigger] {
    var kinds: [NotifyTrigger] = []
    switch (record.event, record.outcome) {
    case (.deploy, .ok): kinds.append(.deploy)
    case (.promote, .ok): kinds.append(.promote)
    case (.rollback, let outcome) where outcome != .blocked && outcome != .unchanged: kinds.append(.rollback)
    case (.lock, _), (.unlock, _): kinds.append(.lock)
    default: break
    }
    switch record.outcome {
    case .failed, .inconclusive, .suspect, .interrupted, .aborted: kinds.append(.failure)
    case .blocked: kinds.append(.blocked)
    case .ok, .unchanged: break
    }
    return kinds
  }
}
