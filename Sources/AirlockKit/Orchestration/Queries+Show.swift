import Foundation

/// One ledger event in full: `airlock show EVENT`.
public struct EventDetail: Sendable, Codable {
  /// The event's commit.
  public var commit: ObjectID
  /// The environment whose branch holds it.
  public var environment: String
  /// The commit's one-line message.
  public var message: String
  /// The event's `release.json`, as `history` prints it.
  public var record: EventRecord
  /// Every check run, with every probe (`checks.json`).
  public var checks: [CheckResult]
  /// The hooks that ran for the event, with the end of their output, from the ledger's notes; absent when none ran.
  public var hooks: [HookRun]?
  /// What telling the `notify:` receivers did, from the ledger's notes; absent when none was told.
  public var notifications: [NotificationDelivery]?
  /// The event before it on the same branch, whose config `configChanges` compares against; absent for the first.
  public var previousEvent: ObjectID?
  /// The config keys added, removed or changed against the event before (secrets by fingerprint only).
  public var configChanges: [ConfigChange]
}

extension Orchestrator {
  /// The event whose commit id starts with `prefix` (at least 4 hex digits), looked up on every environment branch
  /// of the pipeline; changes nothing.
  ///
  /// An unknown prefix is exit 2 naming the newest events; one that matches several events is exit 2 saying how
  /// many.
  public func event(_ prefix: String) throws -> EventDetail {
    let wanted = prefix.lowercased()
    guard wanted.count >= 4, wanted.count <= 40, wanted.allSatisfy(\.isHexDigit) else {
      throw AirlockError(.invalidInput, Self.notAnEventID(prefix))
    }
    var matches: [(environment: String, commit: LedgerCommit)] = []
    var newest: [LedgerCommit] = []
    for environment in try ledger.recordedEnvironments() {
      let commits = try ledger.ledger.history(branch: ledger.branch(environment), limit: nil)
      matches += commits.filter { $0.id.hex.hasPrefix(wanted) }.map { (environment, $0) }
      newest += commits.prefix(Self.eventsNamed)
    }
    guard let (environment, commit) = matches.first else {
      // Commit times are whole seconds; the records' finish times order events of one second.
      let known = newest.map { (time: (try? ledger.record(at: $0.id).finishedAt) ?? $0.time, id: $0.id) }
        .sorted { ($0.time, $0.id.hex) > ($1.time, $1.id.hex) }.map(\.id.short)
      throw AirlockError(.invalidInput, Self.noEvent(prefix, in: ledger.pipeline, newest: known))
    }
    guard matches.count == 1 else {
      throw AirlockError(.invalidInput, Self.ambiguousEvent(prefix, matches: matches.count))
    }
    let previous = commit.parents.first
    let before = try previous.flatMap { try ledger.configText(at: $0) } ?? ""
    let after = try ledger.configText(at: commit.id) ?? ""
    return EventDetail(
      commit: commit.id, environment: environment, message: commit.message, record: try ledger.record(at: commit.id),
      checks: try ledger.checkResults(at: commit.id), hooks: try ledger.hooks(of: commit.id, in: environment),
      notifications: try ledger.notifications(of: commit.id, in: environment), previousEvent: previous,
      configChanges: Self.configChanges(
        from: ConfigFile.parse(before), to: ConfigFile.parse(after), secretNames: []))
  }

  /// How many of the newest events an unknown event id's refusal names.
  static let eventsNamed = 5

  static func notAnEventID(_ text: String) -> String {
    "'\(text)' is not an event id: give at least 4 hex digits of a commit, as `airlock history` prints them"
  }

  static func noEvent(_ prefix: String, in pipeline: String, newest: [String]) -> String {
    "no event '\(prefix)' in pipeline \(pipeline)"
      + (newest.isEmpty
        ? " (it has no events yet)"
        : Suggestion.listing(Array(newest.prefix(eventsNamed)), for: prefix, lead: "newest first"))
  }

  static func ambiguousEvent(_ prefix: String, matches: Int) -> String {
    "'\(prefix)' matches \(matches) events of this pipeline; give more hex digits"
  }
}
