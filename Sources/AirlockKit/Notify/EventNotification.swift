import Foundation

/// What a `notify:` receiver gets about one recorded event: the JSON a webhook is posted and a command reads on
/// stdin, with a Slack-compatible `text` line.
///
/// It says why in a structured way: `detail` is the event's one-line reason and `failingChecks` the checks that did
/// not pass, each host's reason and the evidence its last probe kept (secret values already masked). It holds no
/// config and no secret.
public struct EventNotification: Sendable, Codable, Hashable {
  /// The version of this document's layout.
  public var schemaVersion = 1
  /// One line for a chat channel, e.g. `airlock: promote web 1.4.2 staging→production: failed — … (by alice)`.
  public var text: String
  /// The pipeline of the event.
  public var pipeline: String
  /// The environment the event happened in.
  public var environment: String
  /// What happened.
  public var event: EventKind
  /// How it ended.
  public var outcome: EventOutcome
  /// The kinds of `on:` the event is of (`failure`, `rollback`…).
  public var triggers: [NotifyTrigger]
  /// The release the event is about.
  public var release: Release?
  /// What ran before the event.
  public var previous: Release?
  /// What runs after it.
  public var current: Release?
  /// The environment a promotion came from.
  public var source: String?
  /// Whether Airlock did this on its own (an automatic rollback).
  public var automatic: Bool
  /// Why Airlock did it on its own: the event that failed.
  public var cause: String?
  /// Who made the change.
  public var actor: String
  /// The CI run that made it, if any.
  public var runURL: String?
  /// The one-line why.
  public var detail: String
  /// The checks that did not pass, with their evidence.
  public var failingChecks: [FailingCheck]
  /// The event's ledger commit: `airlock show EVENT_ID`.
  public var eventId: ObjectID
  /// When the event began.
  public var startedAt: Date
  /// When it was recorded.
  public var finishedAt: Date

  /// A check that did not pass, as a receiver sees it.
  public struct FailingCheck: Sendable, Codable, Hashable {
    /// The check's name in the pipeline.
    public var name: String
    /// Its kind: `http`, `command`…
    public var kind: String
    /// A dependency's failure blocks promotion but never rolls back.
    public var dependency: Bool
    /// `fail` or `inconclusive`.
    public var verdict: Verdict
    /// The check's one-line summary.
    public var summary: String
    /// The hosts that did not pass (five at most).
    public var hosts: [FailingHost]
  }

  /// One host of a failing check: the reason of its last probe and what that probe saw.
  public struct FailingHost: Sendable, Codable, Hashable {
    /// The host probed.
    public var host: String
    /// Its last probe's reason: `exit 2`, `status 503`, `timeout`…
    public var reason: String
    /// What its last probe with something to show saw: output lines or the start of a body.
    public var evidence: String?
  }

  /// The notification of the event `record`, recorded as `commit` with `checks`.
  public init(_ record: EventRecord, commit: ObjectID, checks: [CheckResult]) {
    pipeline = record.pipeline
    environment = record.environment
    event = record.event
    outcome = record.outcome
    triggers = NotifyTrigger.matching(record)
    release = record.release
    previous = record.previous
    current = record.current
    source = record.sourceEnvironment
    automatic = record.automatic
    cause = record.cause
    actor = record.actor
    runURL = record.runURL
    detail = record.detail.split(whereSeparator: \.isNewline).joined(separator: " ")
    eventId = commit
    startedAt = record.startedAt
    finishedAt = record.finishedAt
    failingChecks = checks.filter { $0.verdict != .pass }.map { check in
      FailingCheck(
        name: check.name, kind: check.kind, dependency: check.dependency, verdict: check.verdict,
        summary: check.summary,
        hosts: check.hosts.filter { $0.verdict != .pass }.prefix(5).map { host in
          FailingHost(
            host: host.host, reason: host.probes.last?.reason ?? host.verdict.rawValue,
            evidence: host.probes.last(where: { $0.evidence != nil })?.evidence)
        })
    }
    text = Self.text(record, detail: detail)
  }

  /// The chat line: the event as its commit message says it, the why when it is not plain success, who, and the run.
  static func text(_ record: EventRecord, detail: String) -> String {
    var line = "airlock: " + Orchestrator.message(for: record)
    if record.detailExplains { line += " — \(detail)" }
    line += " (by \(record.actor))"
    if let url = record.runURL { line += " \(url)" }
    return line
  }
}
