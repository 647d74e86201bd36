import Foundation

/// Deploys, promotes, rolls back and verifies the environments of one pipeline.
///
/// Every changing operation holds the environment's lease, records each switch, failure and refusal as one ledger
/// commit, and returns a report whose `exitCode` is the documented one. Refusals of bad input throw
/// `AirlockError` before anything is written.
public struct Orchestrator {
  /// The loaded pipeline, or `nil` when it could not be loaded and only rollback from snapshots is possible.
  public let pipeline: Pipeline?
  /// The ledger, scoped to the pipeline.
  let ledger: PipelineLedger
  /// Who acts, the clock, the process environment and where progress goes.
  public let options: OperationOptions

  /// An orchestrator for a loaded pipeline.
  ///
  /// With `remote`, `ledger` is the local mirror of that shared ledger: every change takes the lease and publishes
  /// its events there, and a rejected push is a lost race (exit 6).
  public init(pipeline: Pipeline, ledger: Ledger, remote: String? = nil, options: OperationOptions) {
    self.pipeline = pipeline
    self.ledger = PipelineLedger(ledger: ledger, pipeline: pipeline.name, remote: remote)
    self.options = options
  }

  /// An orchestrator with no usable pipeline file: rollback and the read-only queries work from the ledger's
  /// snapshots.
  public init(pipelineName: String, ledger: Ledger, remote: String? = nil, options: OperationOptions) {
    self.pipeline = nil
    self.ledger = PipelineLedger(ledger: ledger, pipeline: pipelineName, remote: remote)
    self.options = options
  }

  var clock: any AirlockClock { options.clock }

  // MARK: Commands

  /// Records `artifact` as a release and ships it to `environment`, which must not have `requires`.
  public func deploy(environment name: String, artifact: URL, version: String?) async throws -> OperationReport {
    let pipeline = try requirePipeline()
    let spec = try environment(name, in: pipeline)
    if let source = spec.requires {
      throw AirlockError(
        .invalidInput,
        "\(name) only takes releases verified in \(source): run `airlock promote \(name)` instead of deploy")
    }
    try checkArtifact(artifact)
    if let version, !Release.isValidLabel(version) {
      throw AirlockError(.invalidInput, PipelineNames.invalidLabel(version))
    }
    let stage = try makeStage(spec, pipeline: pipeline)
    let secrets = stage.secrets()
    try stage.requireSecrets(secrets)
    let lease = try takeLease(stage, operation: "deploy")
    defer { lease.release() }
    let release = try ledger.storeRelease(
      directory: artifact, version: version, actor: options.actor, time: clock.now())
    options.progress("→ release \(release.version) is artifact \(release.id.short)")
    return try await ship(release, to: stage, event: .deploy, source: nil, secrets: secrets)
  }

  /// Ships the newest release verified in `environment`'s `requires` environment, or `reference` if given.
  public func promote(environment name: String, release reference: String?) async throws -> OperationReport {
    let pipeline = try requirePipeline()
    let spec = try environment(name, in: pipeline)
    guard let source = spec.requires else {
      throw AirlockError(
        .invalidInput,
        "\(name) has no `requires`: ship to it with `airlock deploy \(name) --artifact DIR`")
    }
    let stage = try makeStage(spec, pipeline: pipeline)
    let secrets = stage.secrets()
    try stage.requireSecrets(secrets)
    let lease = try takeLease(stage, operation: "promote")
    defer { lease.release() }
    let upstream = try ledger.head(of: source).state
    let release: Release
    if let reference {
      let known = upstream.good.map(\.release) + upstream.quarantined.map(\.release)
      guard let found = try ledger.findRelease(reference, among: known) else {
        throw AirlockError.noRelease(reference, in: ledger.pipeline)
      }
      release = found
      guard upstream.isVerified(found.id) else {
        let why = upstream.quarantine(of: found.id).map { "it was quarantined there: \($0.reason)" } ?? "it was never"
        return try await refuse(
          release, in: stage, event: .promote, source: source,
          because: "\(found.version) was not verified in \(source) (\(why)); only verified releases are promoted",
          secrets: secrets)
      }
    } else {
      guard let newest = upstream.good.first?.release else {
        throw AirlockError(
          .blocked, AirlockError.nothingVerified(in: source) + ": deploy and verify a release there first")
      }
      release = newest
    }
    return try await ship(release, to: stage, event: .promote, source: source, secrets: secrets)
  }

  /// Switches `environment` back to the newest earlier verified-good release, or to `reference`.
  ///
  /// Restores the artifact and the config snapshot the release was last good with, skips preflight, runs verify,
  /// and quarantines the release it left. Works from the ledger's snapshot when the pipeline file is broken.
  public func rollback(environment name: String, to reference: String?) async throws -> OperationReport {
    let stage = try stageForRecovery(name)
    let lease = try takeLease(stage, operation: "rollback")
    defer { lease.release() }
    let head = try ledger.head(of: name)
    let state = head.state
    // The release this rollback leaves: what the ledger says runs, unless an interrupted deploy or promotion left
    // the target on a release never verified here; then that one is left (and quarantined). A target left on a
    // verified release by an interrupted rollback keeps the ledger's view, so running the rollback again completes it.
    let running = try runningRelease(stage, state: state)
    let current =
      running.map { $0.id != state.current?.id && !state.isVerified($0.id) ? $0 : state.current } ?? state.current
    let good: GoodRelease
    if let reference {
      let known = state.good.map(\.release) + state.quarantined.map(\.release) + (current.map { [$0] } ?? [])
      guard let release = try ledger.findRelease(reference, among: known) else {
        throw AirlockError.noRelease(reference, in: ledger.pipeline)
      }
      if release.id == current?.id {
        // Running an interrupted `rollback --to` again must converge, not fail, once the first run got through.
        if let current, state.currentStatus == .verified, try onTarget(stage) == release.version {
          return OperationReport(
            .rollback, pipeline: ledger.pipeline, environment: name, transition: Lifecycle.unchanged,
            release: release, previous: current, current: current,
            summary: "\(name) already runs \(release.version), verified; nothing to do")
        }
        throw AirlockError(.blocked, "\(release.version) is what \(name) runs now; nothing to roll back to")
      }
      if let entry = state.good.first(where: { $0.release.id == release.id }) {
        good = entry
      } else if let quarantined = state.quarantine(of: release.id), let config = quarantined.config, options.force {
        good = GoodRelease(release: release, config: config, verifiedAt: quarantined.since)
      } else if let quarantined = state.quarantine(of: release.id) {
        throw AirlockError(
          .blocked,
          "\(release.version) is quarantined in \(name) (\(quarantined.reason)); pass --force to roll back to it anyway"
        )
      } else {
        throw AirlockError(
          .blocked, "\(release.version) was never verified good in \(name); rollback only goes to verified releases")
      }
    } else {
      guard let earlier = state.good.first(where: { $0.release.id != current?.id }) else {
        throw AirlockError(
          .blocked,
          "\(name) has no earlier verified-good release to roll back to; ship a fixed release instead")
      }
      good = earlier
    }
    return try await restore(
      stage, to: good, leaving: current, automatic: false, head: head, started: clock.now(), earlier: [])
  }

  /// Runs `environment`'s verify checks against what runs there now and records the verdict.
  ///
  /// A pass marks the release verified (so it can be promoted); a failure is recorded and reported (exit 5) but
  /// never rolls back: that is for `rollback` or a deploy's failure policy.
  public func verify(environment name: String) async throws -> OperationReport {
    let pipeline = try requirePipeline()
    let stage = try makeStage(try environment(name, in: pipeline), pipeline: pipeline)
    let lease = try takeLease(stage, operation: "verify")
    defer { lease.release() }
    let started = clock.now()
    let head = try ledger.head(of: name)
    guard let release = head.state.current, let commit = head.commit else {
      throw AirlockError(.invalidInput, "nothing runs in \(name) yet: deploy or promote a release first")
    }
    if let running = try runningRelease(stage, state: head.state), running.id != release.id {
      throw AirlockError(
        .blocked,
        "\(name) runs \(running.version) but the ledger last recorded \(release.version): an earlier run was "
          + "interrupted; converge with deploy, promote or rollback before verifying")
    }
    let configText = try ledger.recordedConfigText(head)
    let config = ConfigFile.parse(configText).config
    options.progress("→ verify \(name) \(release.version)")
    let results = try await stage.runChecks(
      stage.spec.verify, release: release, config: config, secrets: stage.secrets())
    let judgement = Judgement(results: results, startFailure: nil)
    var state = head.state
    // A failed release keeps running but is no longer promotable nor a rollback target until a verify passes.
    let transition = Lifecycle.judged(judgement, policy: .leave(quarantine: false))
    state.apply(
      transition, to: release, config: try ledger.ledger.writeBlob(Data(configText.utf8)), at: clock.now())
    let outcome = transition.outcome
    let record = eventRecord(
      .verify, in: name, outcome: outcome, release: release, current: release, previous: release, started: started,
      detail: judgement.detail)
    let written = try commitEvent(
      record, state: state, configText: configText, checks: results, stage: stage, expected: commit)
    return OperationReport(
      .verify, pipeline: ledger.pipeline, environment: name, transition: transition, release: release,
      previous: release, current: release, summary: "verify \(name) \(release.version): \(judgement.detail)",
      checks: results, commits: [written])
  }

  // MARK: Shipping

  /// Installs, switches, starts and verifies `release` in `stage`, then applies the failure policy.
  func ship(
    _ release: Release, to stage: Stage, event: EventKind, source: String?, secrets: SecretSet
  ) async throws -> OperationReport {
    let started = clock.now()
    let name = stage.name
    let head = try ledger.head(of: name)
    var warnings = try interruptedRunWarning(stage, head: head).map { [$0] } ?? []
    let previous = head.state.current
    let config = stage.spec.config
    let ledgerConfig = ConfigFile.render(config: config, secrets: secrets.fingerprints)
    if previous?.id == release.id, head.state.currentStatus == .verified, let commit = head.commit,
      try ledger.configText(at: commit) == ledgerConfig, try onTarget(stage) == release.version
    {
      return OperationReport(
        OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: name,
        transition: Lifecycle.unchanged, release: release, previous: previous, current: previous,
        summary: "\(name) already runs \(release.version) with this config, verified; nothing to do",
        warnings: warnings)
    }
    if let quarantine = head.state.quarantine(of: release.id), !options.force {
      return try await refuse(
        release, in: stage, event: event, source: source,
        because: "\(release.version) is quarantined in \(name) (\(quarantine.reason)); pass --force to ship it anyway",
        secrets: secrets)
    }

    if stage.spec.approvalRequired && head.state.approval(of: release.id) == nil {
      return try await refuse(
        release, in: stage, event: event, source: source,
        because:
          "\(release.version) needs an approval for \(name): `airlock approve \(name) --release \(release.version)`",
        secrets: secrets)
    }

    var checks: [CheckResult] = []
    if !stage.spec.preflight.isEmpty {
      options.progress("→ preflight \(name): \(stage.spec.preflight.joined(separator: ", "))")
      checks = try await stage.runChecks(stage.spec.preflight, release: release, config: config, secrets: secrets)
      let failed = checks.filter { $0.verdict != .pass }
      // A check cut short by a signal is no refusal: switchAndVerify's first checkpoint records the abort.
      if !failed.isEmpty && !Task.isCancelled {
        let reasons = failed.map { $0.dependency ? "dependency \($0.summary)" : $0.summary }
        return try await refuse(
          release, in: stage, event: event, source: source,
          because: "preflight failed: " + reasons.joined(separator: "; "), secrets: secrets, checks: checks)
      }
    }
    var hooks: [HookRun] = []
    let pre: HookPoint = event == .promote ? .prePromote : .preDeploy
    if let run = await stage.runHook(pre, event: event, release: release, previous: previous) {
      hooks.append(run)
      if !run.succeeded && !Task.isCancelled {
        return try await refuse(
          release, in: stage, event: event, source: source, because: "hook \(run.hook) refused: \(run.reason)",
          secrets: secrets, checks: checks, hooks: hooks)
      }
    }

    // Written before the switch: what can fail once the release runs is only the event itself.
    let configBlob = try ledger.ledger.writeBlob(Data(ledgerConfig.utf8))
    let (verifyResults, judgement) = try await switchAndVerify(
      release, on: stage, config: config, secrets: secrets, watch: stage.spec.watch, head: head, event: event,
      source: source, started: started)
    checks += verifyResults
    var state = head.state
    state.current = release
    let rollbackTarget =
      judgement.isReleaseFailure && stage.spec.onFailure == .rollback
      ? head.state.good.first { $0.release.id != release.id } : nil
    // Nothing to go back to, or `on_failure: halt`: the release stays but may not be shipped again.
    let transition = Lifecycle.judged(
      judgement, policy: rollbackTarget != nil ? .rollBack : .leave(quarantine: true))
    state.apply(transition, to: release, config: configBlob, at: clock.now())
    let outcome = transition.outcome
    let record = eventRecord(
      event, in: name, outcome: outcome, release: release, current: release, previous: previous, source: source,
      started: started, detail: judgement.detail)
    let commit = try await recordingOrUndoing(stage, switchedTo: release, back: previous, head: head) {
      try commitEvent(
        record, state: state, configText: ledgerConfig, checks: checks, stage: stage, expected: head.commit)
    }
    options.progress("→ recorded \(event.rawValue) \(release.version) in \(name): \(outcome.rawValue)")
    FaultPoint.afterRecord.trip(options.environment)

    if judgement.passed {
      if let run = await stage.runHook(
        event == .promote ? .postPromote : .postDeploy, event: event, release: release, previous: previous)
      {
        hooks.append(run)
        if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
      }
      warnings += prune(stage, state: state)
      let verb =
        event == .promote
        ? "promoted \(release.version) \(source ?? "")→\(name)" : "deployed \(release.version) to \(name)"
      return OperationReport(
        OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: name,
        transition: transition, release: release, previous: previous, current: release,
        summary: "\(verb): verified", checks: checks, hooks: hooks, commits: [commit], warnings: warnings)
    }

    options.progress("✗ \(name) \(release.version): \(judgement.detail)")
    if let run = await stage.runHook(.onFailure, event: event, release: release, previous: previous) {
      hooks.append(run)
      if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
    }
    var rollbackFailure: String?
    if let rollbackTarget {
      options.progress("→ on_failure: rollback to \(rollbackTarget.release.version)")
      do {
        var report = try await restore(
          stage, to: rollbackTarget, leaving: release, automatic: true,
          head: PipelineLedger.Head(commit: commit, state: state), started: clock.now(), earlier: checks)
        report.command = OperationReport.Command(shipping: event)
        report.release = release
        report.previous = previous
        report.hooks = hooks + report.hooks
        report.commits.insert(commit, at: 0)
        report.warnings = warnings + report.warnings
        return report
      } catch let error where AirlockError.isConflict(error) || (error as? AirlockError)?.code == .aborted {
        throw error
      } catch {
        // The failure is recorded; a rollback that cannot run (a secret gone since, a full disk) leaves the failed
        // release in place and says so, with the documented exit 5 rather than an unrelated code.
        rollbackFailure = "the automatic rollback to \(rollbackTarget.release.version) could not run: \(error)"
        options.progress("✗ \(rollbackFailure!)")
        warnings.append(rollbackFailure!)
      }
    }
    let why: String
    switch judgement {
    case _ where rollbackFailure != nil:
      why = "left as it is: \(rollbackFailure!); run `airlock rollback \(name)` once that is fixed"
    case .inconclusive:
      why = "left as it is: a check is broken, fix the check and run `airlock verify \(name)`"
    case .dependencyDown:
      why = "left as it is: a dependency is down, and rolling back cannot fix someone else's outage"
    default:
      why =
        stage.spec.onFailure == .halt
        ? "left as it is (on_failure: halt); run `airlock rollback \(name)` to go back"
        : "left as it is: \(name) has no earlier verified-good release to go back to"
    }
    return OperationReport(
      OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: name,
      transition: rollbackFailure == nil ? transition : transition.leftInPlace, release: release,
      previous: previous, current: release,
      summary: "\(event.rawValue) \(release.version) to \(name): \(judgement.detail); \(why)", checks: checks,
      hooks: hooks, commits: [commit], warnings: warnings)
  }

  /// Switches `stage` to `good` with its recorded config snapshot, verifies it, and records the rollback.
  ///
  /// When the restored release fails the same checks, the check or the environment is suspect: the release that
  /// was left is not quarantined and no further rollback is attempted (exit 5).
  func restore(
    _ stage: Stage, to good: GoodRelease, leaving: Release?, automatic: Bool, head: PipelineLedger.Head,
    started: Date, earlier: [CheckResult]
  ) async throws -> OperationReport {
    let name = stage.name
    let release = good.release
    var warnings: [String] = []
    if pipeline == nil {
      warnings.append("pipeline file unusable: rolled back with the environment snapshot recorded in the ledger")
    }
    let snapshotText = String(decoding: try ledger.ledger.readBlob(good.config), as: UTF8.self)
    let snapshot = ConfigFile.parse(snapshotText)
    var secretValues: [String: String] = [:]
    for (key, fingerprint) in snapshot.secrets.sorted(by: { $0.key < $1.key }) {
      guard let value = options.environment[key] else {
        throw AirlockError(
          .invalidInput, "rollback of \(name) needs secret \(key) in the process environment; export it and run again")
      }
      secretValues[key] = value
      if SecretSet.fingerprint(of: value, key: key, pipeline: ledger.pipeline) != fingerprint {
        warnings.append("secret \(key) differs from the value \(release.version) was last verified with")
      }
    }
    let secrets = SecretSet(names: Array(secretValues.keys), from: secretValues, pipeline: ledger.pipeline)
    var hooks: [HookRun] = []
    if let run = await stage.runHook(.preRollback, event: .rollback, release: release, previous: leaving) {
      hooks.append(run)
      // An automatic rollback is the safety net; a hook may veto an operator's rollback, never that one. A hook
      // cut short by a signal vetoes nothing: switchAndVerify's first checkpoint records the abort.
      if !run.succeeded && !automatic && !Task.isCancelled {
        throw AirlockError(.blocked, "hook pre-rollback refused the rollback of \(name): \(run.reason)")
      }
    }
    options.progress("→ rolling \(name) back to \(release.version)")
    let (results, judgement) = try await switchAndVerify(
      release, on: stage, config: snapshot.config, secrets: secrets, watch: nil, head: head, event: .rollback,
      source: nil, started: started)
    var state = head.state
    state.current = release
    let transition = Lifecycle.restored(
      judgement, automatic: automatic, leftReason: "rolled back to \(release.version) by \(options.actor.name)")
    state.apply(transition, to: release, config: good.config, left: leaving, at: clock.now())
    let outcome = transition.outcome
    let detail: String
    if judgement.passed {
      detail =
        "rolled back to \(release.version)" + (leaving.map { "; \($0.version) is quarantined in \(name)" } ?? "")
    } else {
      let failing = judgement.failingChecks.joined(separator: ", ")
      detail =
        "verify fails against \(release.version) too (\(judgement.detail)): the check \(failing) or the environment "
        + "is suspect, not the release; not rolling back further"
    }
    let record = eventRecord(
      .rollback, in: name, outcome: outcome, release: release, current: release, previous: leaving,
      automatic: automatic, started: started, detail: detail)
    let commit = try await recordingOrUndoing(stage, switchedTo: release, back: leaving, head: head) {
      try commitEvent(
        record, state: state, configText: snapshotText, checks: results, stage: stage, expected: head.commit)
    }
    options.progress("→ recorded rollback of \(name) to \(release.version): \(outcome.rawValue)")
    FaultPoint.afterRecord.trip(options.environment)
    if let run = await stage.runHook(.postRollback, event: .rollback, release: release, previous: leaving) {
      hooks.append(run)
      if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
    }
    if !judgement.passed,
      let run = await stage.runHook(.onFailure, event: .rollback, release: release, previous: leaving)
    {
      hooks.append(run)
    }
    warnings += prune(stage, state: state)
    let lead = automatic ? "verify failed, rolled back automatically" : "rollback"
    return OperationReport(
      .rollback, pipeline: ledger.pipeline, environment: name, transition: transition, release: release,
      previous: leaving, current: release, summary: "\(name): \(lead): \(detail)",
      checks: earlier + results, hooks: hooks, commits: [commit], warnings: warnings)
  }

  /// Installs, switches to, starts and verifies `release` (then watches it, if `watch`), returning the verify
  /// results and their judgement.
  ///
  /// A signal on the way (task cancellation) is recorded as an `aborted` event saying how far the run got, and
  /// surfaces as `AirlockError` `.aborted`; the lease is released by the caller on the way out.
  func switchAndVerify(
    _ release: Release, on stage: Stage, config: [String: String], secrets: SecretSet, watch: TimeSpan?,
    head: PipelineLedger.Head, event: EventKind, source: String?, started: Date
  ) async throws -> ([CheckResult], Judgement) {
    var switched = false
    do {
      try checkpoint(.beforeExport)
      options.progress("→ installing \(release.version) into \(stage.target.releaseDirectory(release.version).path)")
      do {
        try stage.target.install(
          release, configText: ConfigFile.render(config: config, secrets: secrets.values),
          export: { try ledger.ledger.exportTree(release.id, to: $0) })
      } catch let error where !(error is CancellationError) {
        throw try recordInstallFailure(
          error, release: release, on: stage, head: head, event: event, source: source,
          started: started)
      }
      try checkpoint(.afterExport)
      try stage.target.activate(release.version)
      switched = true
      options.progress("→ switched \(stage.name) current → \(release.version)")
      try checkpoint(.afterSwitch)
      let startFailure = await stage.start(release, config: config, secrets: secrets).flatMap {
        $0.succeeded ? nil : "start failed: \($0.termination.reason)"
      }
      try checkpoint(.afterStart)
      var results: [CheckResult] = []
      if startFailure == nil && !stage.spec.verify.isEmpty {
        options.progress("→ verify \(stage.name): \(stage.spec.verify.joined(separator: ", "))")
        results = try await stage.runChecks(stage.spec.verify, release: release, config: config, secrets: secrets)
      }
      // Checked before judging: a probe cut short by a signal is not evidence against the release.
      try checkpoint(.afterVerify)
      var judgement = Judgement(results: results, startFailure: startFailure)
      if judgement.passed, let watch,
        let degraded = try await stage.watch(release, config: config, secrets: secrets, window: watch)
      {
        try checkpoint(.afterVerify)
        results += degraded
        judgement = Judgement(results: degraded, startFailure: nil)
      }
      return (results, judgement)
    } catch is CancellationError {
      var state = head.state
      let transition = Lifecycle.aborted(switched: switched)
      if let status = transition.status { state.currentStatus = status }
      var detail = "aborted by a signal before the switch; nothing changed"
      if switched {
        state.current = release
        detail =
          "aborted by a signal after the switch: \(release.version) runs unverified; "
          + "run `airlock verify \(stage.name)` or `airlock rollback \(stage.name)`"
      }
      let record = eventRecord(
        event, in: stage.name, outcome: transition.outcome, release: release, current: state.current,
        previous: head.state.current, source: source, started: started, detail: detail)
      let text = ConfigFile.render(config: config, secrets: secrets.fingerprints)
      let configText = switched ? text : try ledger.recordedConfigText(head)
      try commitEvent(record, state: state, configText: configText, checks: [], stage: stage, expected: head.commit)
      options.progress("✗ \(detail)")
      throw AirlockError(.aborted, "\(event.rawValue) of \(release.version) to \(stage.name) \(detail)")
    }
  }

  /// Records a failed install (a full or read-only target) as a `failed` event that changed nothing, and returns
  /// the error to report (exit 1); when even that record cannot be written, the error says so too.
  func recordInstallFailure(
    _ error: any Error, release: Release, on stage: Stage, head: PipelineLedger.Head, event: EventKind,
    source: String?, started: Date
  ) throws -> AirlockError {
    let running = head.state.current.map { "\(stage.name) still runs \($0.version)" } ?? "nothing runs there yet"
    let detail = "installing \(release.version) failed: \(error); nothing was switched, \(running)"
    let record = eventRecord(
      event, in: stage.name, outcome: .failed, release: release, current: head.state.current,
      previous: head.state.current, source: source, started: started, detail: detail)
    do {
      try commitEvent(
        record, state: head.state, configText: try ledger.recordedConfigText(head), checks: [], stage: stage,
        expected: head.commit, carrySnapshot: true)
    } catch {
      return AirlockError(.unexpected, "\(detail); recording the failure failed too: \(error)")
    }
    options.progress("✗ \(detail)")
    return AirlockError(.unexpected, "\(event.rawValue) of \(release.version) to \(stage.name): \(detail)")
  }

  /// Records an event after a switch. When recording fails (another runner won the race for the ledger, or the
  /// ledger cannot be written: a full disk, a locked branch), switches the target back to `back`, with the config
  /// `head` recorded for it, and runs its `start` again, so the target runs what the ledger says; then reports the
  /// failure and whether the switch was undone. Nothing stays half-switched.
  func recordingOrUndoing(
    _ stage: Stage, switchedTo release: Release, back: Release?, head: PipelineLedger.Head,
    record: () throws -> ObjectID
  ) async throws -> ObjectID {
    do {
      return try record()
    } catch {
      let undone = await undoSwitch(stage, back: back, head: head)
      let conflict = AirlockError.isConflict(error)
      let what = conflict ? "another runner recorded first" : "recording the event in the ledger failed (\(error))"
      let outcome =
        undone.map { _ in "the switch was undone: \(stage.name) runs \(back?.version ?? "-") again" }
        ?? "the switch could not be undone: \(stage.name) runs \(release.version) while the ledger says "
        + "\(back?.version ?? "nothing runs"); fix the ledger, then run `airlock rollback \(stage.name)` or deploy "
        + "again to converge"
      options.progress("! \(what): \(outcome)")
      if let undone, !undone.isEmpty { options.progress("! \(undone)") }
      if conflict { throw AirlockError(.conflict, "\(error); \(outcome)") }
      throw AirlockError(.unexpected, "\(what); \(outcome)")
    }
  }

  /// Puts `back` on the target again with its recorded config and runs its `start`; nil when it could not, else
  /// a warning (empty when there is none).
  private func undoSwitch(_ stage: Stage, back: Release?, head: PipelineLedger.Head) async -> String? {
    guard let back else { return nil }
    do {
      let parsed = ConfigFile.parse(try ledger.recordedConfigText(head))
      let secrets = SecretSet(
        names: parsed.secrets.keys.sorted(), from: options.environment, pipeline: ledger.pipeline)
      try stage.target.install(
        back, configText: ConfigFile.render(config: parsed.config, secrets: secrets.values),
        export: { try ledger.ledger.exportTree(back.id, to: $0) })
      try stage.target.activate(back.version)
      guard let started = await stage.start(back, config: parsed.config, secrets: secrets), !started.succeeded else {
        return ""
      }
      return "start of \(back.version) failed after the switch back: \(started.termination.reason)"
    } catch {
      options.progress("! switching back to \(back.version) failed: \(error)")
      return nil
    }
  }

  /// What the target really runs: the ledger's current release, or, when an interrupted run left `current`
  /// pointing elsewhere, the release bound to that label.
  func runningRelease(_ stage: Stage, state: EnvironmentState) throws -> Release? {
    guard let label = try onTarget(stage), label != state.current?.version else { return state.current }
    return try ledger.release(labelled: label) ?? state.current
  }

  /// The label the target's `current` names; a target in a state Airlock did not make refuses the command
  /// (exit 3) before anything changes, rather than being reported as some release or overwritten.
  func onTarget(_ stage: Stage) throws -> String? {
    do {
      return try stage.target.currentVersion()
    } catch let error as TargetError where error.isUnmanaged {
      throw AirlockError(.blocked, "\(stage.name): \(error.message); nothing changed")
    }
  }

  /// A step boundary: where a signal stops the run, and where the test-only `AIRLOCK_FAULT` kills it.
  func checkpoint(_ point: FaultPoint) throws {
    point.trip(options.environment)
    try Task.checkCancellation()
  }

  /// Records a refusal (preflight, hook, promotion rule) as a `blocked` event and reports exit 3.
  func refuse(
    _ release: Release, in stage: Stage, event: EventKind, source: String?, because reason: String,
    secrets: SecretSet, checks: [CheckResult] = [], hooks: [HookRun] = []
  ) async throws -> OperationReport {
    let head = try ledger.head(of: stage.name)
    let configText = try ledger.recordedConfigText(head)
    let record = eventRecord(
      event, in: stage.name, outcome: Lifecycle.refused.outcome, release: release, current: head.state.current,
      previous: head.state.current, source: source, detail: reason)
    var state = head.state
    state.sequence = head.state.sequence
    let commit = try commitEvent(
      record, state: state, configText: configText, checks: checks, stage: stage, expected: head.commit,
      carrySnapshot: true)
    options.progress("✗ \(reason)")
    return OperationReport(
      OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: stage.name,
      transition: Lifecycle.refused, release: release, previous: head.state.current, current: head.state.current,
      summary: "\(event.rawValue) \(release.version) to \(stage.name) blocked: \(reason); nothing changed",
      checks: checks, hooks: hooks, commits: [commit], warnings: [])
  }

  // MARK: Parts

  /// Takes `stage`'s lease for `operation`; a stale lease left by a dead or expired run is broken first and the
  /// break recorded as a `recover` event that says what the interrupted run left behind.
  func takeLease(_ stage: Stage, operation: String) throws -> Lease {
    try ledger.synchronize()
    let lease = try Lease.acquire(ledger, environment: stage.name, operation: operation, options: options) {
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
    FaultPoint.afterLease.trip(options.environment)
    return lease
  }

  /// The one place an event record is built: this pipeline, this actor, finished now (started at `started`, else
  /// now as well, for events that take no time).
  func eventRecord(
    _ event: EventKind, in environment: String, outcome: EventOutcome, release: Release?, current: Release?,
    previous: Release?, source: String? = nil, automatic: Bool = false, started: Date? = nil, detail: String
  ) -> EventRecord {
    let now = clock.now()
    return EventRecord(
      pipeline: ledger.pipeline, environment: environment, event: event, outcome: outcome, release: release,
      current: current, previous: previous, sourceEnvironment: source, automatic: automatic,
      actor: options.actor.name, startedAt: started ?? now, finishedAt: now, detail: detail)
  }

  /// Appends one event commit whose tree is the environment's state after it.
  ///
  /// An event that changes nothing on the target (`carrySnapshot`) keeps the environment snapshot of the event
  /// before it, so a rollback from snapshots never picks up a definition that was refused or never used.
  @discardableResult
  func commitEvent(
    _ record: EventRecord, state: EnvironmentState, configText: String, checks: [CheckResult], stage: Stage,
    expected: ObjectID?, carrySnapshot: Bool = false
  ) throws -> ObjectID {
    var state = state
    state.sequence += 1
    let snapshot =
      try carrySnapshot ? expected.flatMap { try ledger.snapshot(at: $0) } ?? stage.snapshot : stage.snapshot
    return try ledger.append(
      PipelineLedger.EventFiles(
        record: record, state: state, configText: configText, checks: checks, snapshot: snapshot,
        artifact: state.current?.id),
      to: stage.name, expected: expected, message: Self.message(for: record), author: options.actor,
      beforeReferenceUpdate: { FaultPoint.beforeReferenceUpdate.trip(options.environment) })
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

  /// Deletes releases beyond `keep`, never the current or the newest verified-good one; returns warnings.
  func prune(_ stage: Stage, state: EnvironmentState) -> [String] {
    var protected = Set<String>()
    if let current = state.current { protected.insert(current.version) }
    if let newest = state.good.first { protected.insert(newest.release.version) }
    do {
      let deleted = try stage.target.prune(keep: stage.snapshot.keep, protecting: protected)
      if !deleted.isEmpty { options.progress("→ retention: removed \(deleted.joined(separator: ", "))") }
      return []
    } catch {
      return ["retention: \(error)"]
    }
  }

  /// A warning when the target's `current` disagrees with the ledger: an earlier run stopped between switch and record.
  func interruptedRunWarning(_ stage: Stage, head: PipelineLedger.Head) throws -> String? {
    let running = try onTarget(stage)
    guard running != head.state.current?.version else { return nil }
    let message =
      "\(stage.name): the target runs \(running ?? "nothing") but the ledger last recorded "
      + "\(head.state.current?.version ?? "nothing"): an earlier run was interrupted; this run converges it"
    options.progress("! \(message)")
    return message
  }

  func requirePipeline() throws -> Pipeline {
    guard let pipeline else {
      throw AirlockError(.invalidInput, "the pipeline file could not be loaded; fix it (see `airlock validate`)")
    }
    return pipeline
  }

  func environment(_ name: String, in pipeline: Pipeline) throws -> EnvironmentSpec {
    guard let spec = pipeline.environment(named: name) else {
      let names = pipeline.environments.map(\.name)
      throw AirlockError.noEnvironment(name, in: pipeline.name, known: names)
    }
    return spec
  }

  func makeStage(_ spec: EnvironmentSpec, pipeline: Pipeline) throws -> Stage {
    try Stage(
      snapshot: EnvironmentSnapshot(pipeline: pipeline, environment: spec), ledger: ledger, options: options,
      siblings: Dictionary(uniqueKeysWithValues: pipeline.environments.map { ($0.name, $0) }))
  }

  /// The stage from the pipeline when it loads, else from the newest `environment.json` in the ledger.
  func stageForRecovery(_ name: String) throws -> Stage {
    if let pipeline {
      return try makeStage(try environment(name, in: pipeline), pipeline: pipeline)
    }
    guard let commit = try ledger.head(of: name).commit, let snapshot = try ledger.snapshot(at: commit) else {
      throw AirlockError(
        .invalidInput,
        "the pipeline file could not be loaded and the ledger has no snapshot of \(name); fix the pipeline file")
    }
    options.progress("! pipeline file unusable: using the environment snapshot recorded in the ledger")
    return try Stage(snapshot: snapshot, ledger: ledger, options: options)
  }

  func checkArtifact(_ artifact: URL) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: artifact.path, isDirectory: &isDirectory) else {
      throw AirlockError(.invalidInput, "artifact \(artifact.path) does not exist")
    }
    guard isDirectory.boolValue else {
      throw AirlockError(.invalidInput, "artifact \(artifact.path) is a file; pass the directory holding the release")
    }
    // Before the lease is taken: an entry `git fsck --strict` would flag is refused (exit 2) with nothing changed.
    try Ledger.checkArtifact(directory: artifact)
  }
}

/// The verdict of a verify run, with what decides the failure policy.
enum Judgement {
  case pass
  /// The release is at fault: a non-dependency check failed, or `start` failed.
  case fail(String, checks: [String])
  /// A check could not be performed (broken check); nothing is rolled back.
  case inconclusive(String, checks: [String])
  /// Only dependency checks failed: reported, never rolled back.
  case dependencyDown(String, checks: [String])

  init(results: [CheckResult], startFailure: String?) {
    if let startFailure {
      self = .fail(startFailure, checks: ["start"])
      return
    }
    let failing = results.filter { $0.verdict == .fail && !$0.dependency }
    if !failing.isEmpty {
      self = .fail(
        "verify failed: " + failing.map(\.summary).joined(separator: "; "), checks: failing.map(\.name))
      return
    }
    let broken = results.filter { $0.verdict == .inconclusive }
    if !broken.isEmpty {
      self = .inconclusive(
        "inconclusive: check " + broken.map(\.summary).joined(separator: "; ") + " is broken",
        checks: broken.map(\.name))
      return
    }
    let dependencies = results.filter { $0.verdict == .fail }
    if !dependencies.isEmpty {
      self = .dependencyDown(
        "dependency down: " + dependencies.map(\.summary).joined(separator: "; "), checks: dependencies.map(\.name))
      return
    }
    self = .pass
  }

  var passed: Bool {
    if case .pass = self { return true }
    return false
  }

  /// Whether the release itself is judged bad, which is the only case a rollback can fix.
  var isReleaseFailure: Bool {
    if case .fail = self { return true }
    return false
  }

  var detail: String {
    switch self {
    case .pass: return "verified"
    case .fail(let detail, _), .inconclusive(let detail, _), .dependencyDown(let detail, _): return detail
    }
  }

  var failingChecks: [String] {
    switch self {
    case .pass: return []
    case .fail(_, let checks), .inconclusive(_, let checks), .dependencyDown(_, let checks): return checks
    }
  }
}
