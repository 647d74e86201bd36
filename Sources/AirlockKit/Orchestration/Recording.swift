import Foundation

/// Recording events: the lease, the one event record and commit, refusals, and undoing a switch the ledger could not
/// record.
extension Orchestrator {
  /// Takes `stage`'s lease for `operation`; a stale lease left by a dead or expired run is broken first and the
  /// break recorded as a `recover` event that says what the interrupted run left behind.
  func takeLease(_ stage: Stage, operation: String) async throws -> Lease {
    try ledger.synchronize()
    let lease = try await waitingForLease(stage.name) {
      try acquireLease(stage, operation: operation)
    }
    FaultPoint.afterLease.trip(options.environment)
    return lease
  }

  /// Runs `acquire` until it takes the lease; while another run's operation lease holds `environment` and
  /// `OperationOptions.leaseWait` has not run out, waits for it, saying once who holds it. An incident lock is
  /// never waited for: its holder decides when it ends.
  func waitingForLease(_ environment: String, _ acquire: () throws -> Lease) async throws -> Lease {
    guard let wait = options.leaseWait else { return try acquire() }
    let deadline = clock.now().addingTimeInterval(wait.seconds)
    var announced = false
    while true {
      do {
        return try acquire()
      } catch let error as AirlockError where error.code == .conflict {
        guard case .held(let holder, _)? = try Lease.current(ledger, environment: environment),
          holder.kind == .operation
        else { throw error }
        guard clock.now() < deadline else {
          throw AirlockError(.conflict, "\(error.message) (waited \(wait) for it)")
        }
        if !announced {
          options.progress("… \(environment) is \(holder.describe(now: clock.now())); waiting up to \(wait)")
          announced = true
        }
        try await clock.sleep(for: Self.leasePollInterval)
        try ledger.synchronize()
      }
    }
  }

  /// How often a waiting run looks at the lease again.
  static let leasePollInterval = Duration.milliseconds(250)

  private func acquireLease(_ stage: Stage, operation: String) throws -> Lease {
    try Lease.acquire(ledger, environment: stage.name, operation: operation, options: options) {
      holder, why in
      let head = try ledger.head(of: stage.name)
      let state = head.state
      let onTarget = try? stage.target.currentVersion()
      var detail =
        "broke the stale lease of \(holder.actor) (\(holder.operation), pid \(holder.pid) on \(holder.host)): \(why)"
      if onTarget != head.state.current?.version {
        detail +=
          "; the interrupted run left the target on \(onTarget ?? "nothing") while the ledger says "
          + "\(head.state.current?.version ?? "nothing")"
      }
      let record = eventRecord(
        .recover, in: stage.name, outcome: .interrupted, release: nil, current: state.current,
        previous: head.state.current, detail: detail)
      try commitEvent(
        record, state: state, configText: try ledger.recordedConfigText(head),
        checks: [], stage: stage, expected: head.commit, carrySnapshot: true)
    }
  }

  /// The one place an event record is built: this pipeline, this actor, finished now (started at `started`, else
  /// now as well, for events that take no time).
  func eventRecord(
    _ event: EventKind, in environment: String, outcome: EventOutcome, release: Release?, current: Release?,
    previous: Release?, source: String? = nil, cause: String? = nil, started: Date? = nil, detail: String
  ) -> EventRecord {
    let now = clock.now()
    var record = EventRecord(
      pipeline: ledger.pipeline, environment: environment, event: event, outcome: outcome, release: release,
      current: current, previous: previous, sourceEnvironment: source, automatic: cause != nil, cause: cause,
      actor: options.actor.name, startedAt: started ?? now, finishedAt: now, detail: detail)
    record.runURL = CIRun.detect(in: options.environment)?.url
    return record
  }

  /// Appends one event commit whose tree is the environment's state after it, and starts telling the
  /// environment's `notify:` receivers about it.
  ///
  /// An event that changes nothing on the target (`carrySnapshot`) keeps the environment snapshot of the event
  /// before it, so a rollback from snapshots never picks up a definition that was refused or never used.
  @discardableResult
  func commitEvent(
    _ record: EventRecord, state: EnvironmentState, configText: String, checks: [CheckResult], stage: Stage,
    expected: ObjectID?, carrySnapshot: Bool = false
  ) throws -> ObjectID {
    let state = state.recorded
    var record = record
    if stage.target.hosts.count > 1, let versions = try? stage.target.currentVersions() {
      // What each host runs, as this command left it (a fleet target answers from what it read and switched).
      record.hosts = Dictionary(
        uniqueKeysWithValues: versions.compactMap { host in host.version.map { (host.host, $0) } })
    }
    let snapshot =
      try carrySnapshot ? expected.flatMap { try ledger.snapshot(at: $0) } ?? stage.snapshot : stage.snapshot
    let commit = try ledger.append(
      PipelineLedger.EventFiles(
        record: record, state: state, configText: configText, checks: checks, snapshot: snapshot,
        artifact: state.current?.id),
      to: stage.name, expected: expected, message: Self.message(for: record), author: options.actor,
      beforeReferenceUpdate: { FaultPoint.beforeReferenceUpdate.trip(options.environment) })
    notify(record, commit: commit, checks: checks, stage: stage)
    return commit
  }

  /// The one human line of an event commit, e.g. `promote web 1.4.2 staging→production: ok`.
  static func message(for record: EventRecord) -> String {
    let version = record.release?.version ?? "-"
    let outcome = record.outcome.rawValue
    switch record.event {
    case .promote:
      return
        "promote \(record.pipeline) \(version) \(record.sourceEnvironment ?? "?")→\(record.environment): \(outcome)"
    case .rollback:
      let from = record.previous?.version ?? "-"
      let how = record.automatic ? "rollback (automatic)" : "rollback"
      return "\(how) \(record.pipeline) \(record.environment) \(from) → \(version): \(outcome)"
    case .deploy:
      return "deploy \(record.pipeline) \(version) → \(record.environment): \(outcome)"
    case .verify:
      return "verify \(record.pipeline) \(record.environment) \(version): \(outcome)"
    default:
      let what = record.release.map { " \($0.version)" } ?? ""
      return "\(record.event.rawValue) \(record.pipeline) \(record.environment)\(what): \(outcome)"
    }
  }

  /// Records the hook runs of the event `commit` in the ledger (a git note, see docs/ledger.md); returns a warning
  /// when that fails, which changes no outcome.
  func recordHooks(_ runs: [HookRun], on commit: ObjectID, in stage: Stage) -> [String] {
    do {
      try ledger.recordHooks(runs, on: commit, in: stage.name, author: options.actor, time: clock.now())
      return []
    } catch {
      return ["the output of hooks \(runs.map(\.hook).joined(separator: ", ")) was not recorded: \(error)"]
    }
  }

  /// Records a refusal (preflight, hook, promotion rule) as a `blocked` event and reports exit 3.
  func refuse(
    _ release: Release, in stage: Stage, event: EventKind, source: String?, because reason: String,
    secrets: SecretSet, checks: [CheckResult] = [], hooks: [HookRun] = []
  ) async throws -> OperationReport {
    let head = try ledger.head(of: stage.name)
    let configText = try ledger.recordedConfigText(head)
    let transition = Lifecycle.refused(
      Lifecycle.Subject(event: event, environment: stage.name, version: release.version, source: source),
      because: reason)
    let record = eventRecord(
      event, in: stage.name, outcome: transition.outcome, release: release, current: head.state.current,
      previous: head.state.current, source: source, detail: transition.detail)
    let commit = try commitEvent(
      record, state: head.state, configText: configText, checks: checks, stage: stage, expected: head.commit,
      carrySnapshot: true)
    options.progress("→ recorded \(event.rawValue) \(release.version) in \(stage.name): blocked")
    let warnings = recordHooks(hooks, on: commit, in: stage)
    return OperationReport(
      OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: stage.name,
      transition: transition, release: release, previous: head.state.current, current: head.state.current,
      checks: checks, hooks: hooks, commits: [commit], warnings: warnings)
  }

  /// Records an event after a switch. When recording fails (another runner won the race for the ledger, or the
  /// ledger cannot be written: a full disk, a locked branch), switches the target back to `back`, with the config
  /// `head` recorded for it, and runs its `start` again, so the target runs what the ledger says; then reports the
  /// failure and whether the switch was undone. Nothing stays half-switched. `secrets` are the values this
  /// command resolved, reused for the switch back.
  func recordingOrUndoing(
    _ stage: Stage, switchedTo release: Release, back: Release?, head: PipelineLedger.Head, secrets: SecretSet,
    record: () throws -> ObjectID
  ) async throws -> ObjectID {
    do {
      return try record()
    } catch {
      let undone = await undoSwitch(stage, back: back, head: head, secrets: secrets)
      let conflict = AirlockError.isConflict(error)
      let what = conflict ? "another runner recorded first" : "recording the event in the ledger failed (\(error))"
      let outcome =
        undone
        ? "the switch was undone: \(stage.name) runs \(back?.version ?? "-") again"
        : "the switch could not be undone: \(stage.name) runs \(release.version) while the ledger says "
          + "\(back?.version ?? "nothing runs"); fix the ledger, then run `airlock rollback \(stage.name)` or deploy "
          + "again to converge"
      options.progress("! \(what): \(outcome)")
      if conflict { throw AirlockError(.conflict, "\(error); \(outcome)") }
      throw AirlockError(.unexpected, "\(what); \(outcome)")
    }
  }

  /// Puts `back` on the target again with its recorded config and runs its `start` (a failing start is reported,
  /// the switch back stands); false when there was nothing to go back to or the switch back failed.
  private func undoSwitch(
    _ stage: Stage, back: Release?, head: PipelineLedger.Head, secrets resolved: SecretSet
  ) async -> Bool {
    guard let back else { return false }
    let parsed: (config: [String: String], secrets: [String: String])
    let secrets: SecretSet
    do {
      parsed = ConfigFile.parse(try ledger.recordedConfigText(head))
      secrets = try await stage.secrets(named: parsed.secrets.keys.sorted(), reusing: resolved)
      try await stage.switchEverywhere(back, config: parsed.config, secrets: secrets)
    } catch {
      options.progress("! switching back to \(back.version) failed: \(error)")
      return false
    }
    if let failure = await stage.start(back, config: parsed.config, secrets: secrets) {
      options.progress("! start of \(back.version) failed after the switch back: \(failure)")
    }
    return true
  }
}
