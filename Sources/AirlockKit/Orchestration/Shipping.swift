import Foundation

/// Shipping one release into one environment: install, switch, start, verify, watch, and the failure policy.
extension Orchestrator {
  /// Installs, switches, starts and verifies `release` in `stage`, then applies the failure policy.
  func ship(
    _ release: Release, to stage: Stage, event: EventKind, source: String?, secrets: SecretSet
  ) async throws -> OperationReport {
    let started = clock.now()
    let name = stage.name
    let subject = Lifecycle.Subject(event: event, environment: name, version: release.version, source: source)
    let unreachable = await stage.target.connect(progress: options.progress)
    if !unreachable.isEmpty {
      // Refused before anything is read from or sent to any host: an unknown or changed host key, a host down.
      let listed = unreachable.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
      return try await refuse(
        release, in: stage, event: event, source: source,
        because:
          "cannot reach \(unreachable.count) of \(stage.target.hosts.count) hosts (\(listed.joined(separator: "; "))); "
          + "nothing was sent to any host",
        secrets: secrets)
    }
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
        transition: Lifecycle.unchanged(subject), release: release, previous: previous, current: previous,
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
      checks = try await stage.runChecks(
        stage.spec.preflight, release: release, config: config, secrets: secrets, preflight: true)
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
    if let run = await stage.runHook(pre, event: event, release: release, previous: previous, secrets: secrets) {
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
      stage.spec.onFailure == .rollback ? head.state.good.first { $0.release.id != release.id } : nil
    // Nothing to go back to, or `on_failure: halt`: a failed release stays but may not be shipped again.
    let policy: Lifecycle.FailurePolicy =
      stage.spec.onFailure == .halt ? .halt : rollbackTarget != nil ? .rollBack : .nothingToRollBackTo
    let transition = Lifecycle.shipped(judgement, of: subject, policy: policy)
    state.apply(transition, to: release, config: configBlob, at: clock.now())
    let outcome = transition.outcome
    let record = eventRecord(
      event, in: name, outcome: outcome, release: release, current: release, previous: previous, source: source,
      started: started, detail: transition.detail)
    let commit = try await recordingOrUndoing(stage, switchedTo: release, back: previous, head: head, secrets: secrets)
    {
      try commitEvent(
        record, state: state, configText: ledgerConfig, checks: checks, stage: stage, expected: head.commit)
    }
    options.progress("→ recorded \(event.rawValue) \(release.version) in \(name): \(outcome.rawValue)")
    FaultPoint.afterRecord.trip(options.environment)

    let result = Hooks.Event.Result(outcome: outcome.rawValue, detail: transition.detail, eventID: commit)
    if judgement.passed {
      if let run = await stage.runHook(
        event == .promote ? .postPromote : .postDeploy, event: event, release: release, previous: previous,
        result: result, secrets: secrets)
      {
        hooks.append(run)
        if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
      }
      warnings += recordHooks(hooks, on: commit, in: stage)
      warnings += prune(stage, state: state)
      return OperationReport(
        OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: name,
        transition: transition, release: release, previous: previous, current: release, checks: checks,
        hooks: hooks, commits: [commit], warnings: warnings)
    }

    let failing = judgement.failingChecks.isEmpty ? "verify" : judgement.failingChecks.joined(separator: ", ")
    options.progress("✗ \(name) \(release.version) failed \(failing)")
    if let run = await stage.runHook(
      .onFailure, event: event, release: release, previous: previous, result: result, secrets: secrets)
    {
      hooks.append(run)
      if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
    }
    warnings += recordHooks(hooks, on: commit, in: stage)
    var rollbackFailure: String?
    if transition.rollsBack, let rollbackTarget {
      options.progress("→ on_failure: rollback to \(rollbackTarget.release.version)")
      do {
        var report = try await restore(
          stage, to: rollbackTarget, leaving: release,
          after: "\(options.actor.name)'s \(event.rawValue) of \(release.version) failed verify",
          head: PipelineLedger.Head(commit: commit, state: state.recorded), started: clock.now(), earlier: checks,
          resolved: secrets)
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
    return OperationReport(
      OperationReport.Command(shipping: event), pipeline: ledger.pipeline, environment: name,
      transition: rollbackFailure.map { transition.leftInPlace(subject, because: $0) } ?? transition,
      release: release, previous: previous, current: release, checks: checks, hooks: hooks, commits: [commit],
      warnings: warnings)
  }

  /// Installs, switches to, starts and verifies `release` step by step (then watches it, if `watch`), returning the
  /// verify results and their judgement.
  ///
  /// Each of `steps` (default: the target's plan; a rollback passes one step of every host, and as `verifying` the
  /// hosts its checks probe) is installed, switched,
  /// started and verified before the next begins, its checks probing the step's hosts (the `hosts:` share applies
  /// across them); the first step that
  /// fails ends the rollout with its judgement, and the caller's failure policy switches back every host. A step
  /// in which some hosts fail to install or switch is a failed release once an earlier step switched hosts; before
  /// that, nothing runs the release, so it is a failed install (recorded, exit 1) or a failed switch, as on one host.
  ///
  /// A signal on the way (task cancellation) is recorded as an `aborted` event saying how far the run got, and
  /// surfaces as `AirlockError` `.aborted`; the lease is released by the caller on the way out.
  func switchAndVerify(
    _ release: Release, on stage: Stage, config: [String: String], secrets: SecretSet, watch: TimeSpan?,
    head: PipelineLedger.Head, event: EventKind, source: String?, started: Date, steps: [SwitchStep]? = nil,
    verifying: [String]? = nil
  ) async throws -> ([CheckResult], Judgement) {
    var switched = false
    do {
      var switchedHosts: [String] = []
      var results: [CheckResult] = []
      var judgement = Judgement.pass
      let steps = steps ?? stage.target.steps
      for (number, step) in steps.enumerated() {
        if steps.count > 1 {
          let elapsed = String(format: "%.1f", clock.now().timeIntervalSince(started))
          options.progress(
            "→ batch \(number + 1) of \(steps.count) (\(elapsed)s): \(step.hosts.joined(separator: ", "))")
        }
        try checkpoint(.beforeExport)
        options.progress(
          "→ installing \(release.version) into \(stage.target.releaseDirectory(release.version).path)")
        var failure: TargetError?
        do {
          failure = HostSwitch.failure(
            of: try await stage.install(release, on: step.hosts, config: config, secrets: secrets))
          if let failure, switchedHosts.isEmpty { throw failure }
        } catch let error where !(error is CancellationError) {
          throw try recordInstallFailure(
            error, release: release, on: stage, head: head, event: event, source: source,
            started: started)
        }
        if let failure {
          judgement = .fail("installing \(release.version) failed: \(failure)", checks: ["install"])
          break
        }
        try checkpoint(.afterExport)
        let startedAt = clock.now()
        let began = ContinuousClock.now
        let activated = try await stage.activate(release, on: step.hosts, config: config, secrets: secrets)
        switchedHosts += activated.filter(\.succeeded).map(\.host)
        switched = !switchedHosts.isEmpty
        if let failure = HostSwitch.failure(of: activated), failure.code == .applyFailed {
          // The kind's own program failed: it may have made part of the release live, so the release counts as
          // switched and failed, recorded like a failed check, and the failure policy applies.
          switched = true
          switchedHosts += activated.filter { !$0.succeeded }.map(\.host)
          let elapsed = ContinuousClock.now - began
          let milliseconds = Int(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
          let hosts = activated.map { outcome in
            HostResult(
              host: outcome.host, verdict: outcome.succeeded ? .pass : .fail,
              probes: [
                Probe(
                  host: outcome.host, attempt: 1, outcome: outcome.succeeded ? .ok : .failed,
                  reason: outcome.failure?.message ?? "ok", startedAt: startedAt, milliseconds: milliseconds)
              ])
          }
          let result = CheckResult(name: "apply", kind: "apply", dependency: false, verdict: .fail, hosts: hosts)
          options.progress("  ✗ \(result.summary)")
          results.append(result)
          judgement = .fail("apply failed: \(failure.message)", checks: ["apply"])
          break
        }
        if let failure = HostSwitch.failure(of: activated) {
          // Nothing runs the release anywhere: the same failed switch a one-host target has always reported.
          guard switched else { throw failure }
          judgement = .fail("switching to \(release.version) failed: \(failure)", checks: ["switch"])
          break
        }
        options.progress("→ switched \(stage.name) current → \(release.version)")
        try checkpoint(.afterSwitch)
        let startFailure = await stage.start(release, config: config, secrets: secrets, hosts: step.hosts).map {
          "start failed: \($0)"
        }
        try checkpoint(.afterStart)
        var stepResults: [CheckResult] = []
        if startFailure == nil && !stage.spec.verify.isEmpty {
          options.progress("→ verify \(stage.name): \(stage.spec.verify.joined(separator: ", "))")
          stepResults = try await stage.runChecks(
            stage.spec.verify, release: release, config: config, secrets: secrets,
            hosts: steps.count > 1 ? step.hosts : verifying)
        }
        // Checked before judging: a probe cut short by a signal is not evidence against the release.
        try checkpoint(.afterVerify)
        results += stepResults
        judgement = Judgement(results: stepResults, startFailure: startFailure)
        if !judgement.passed { break }
      }
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
      let transition = Lifecycle.aborted(
        Lifecycle.Subject(event: event, environment: stage.name, version: release.version, source: source),
        switched: switched)
      if let status = transition.status { state.currentStatus = status }
      if switched { state.current = release }
      let record = eventRecord(
        event, in: stage.name, outcome: transition.outcome, release: release, current: state.current,
        previous: head.state.current, source: source, started: started, detail: transition.detail)
      let text = ConfigFile.render(config: config, secrets: secrets.fingerprints)
      let configText = switched ? text : try ledger.recordedConfigText(head)
      try commitEvent(record, state: state, configText: configText, checks: [], stage: stage, expected: head.commit)
      options.progress("✗ \(transition.detail)")
      throw AirlockError(.aborted, transition.summary)
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

  /// A step boundary: where a signal stops the run, and where the test-only `AIRLOCK_FAULT` kills it.
  func checkpoint(_ point: FaultPoint) throws {
    point.trip(options.environment)
    try Task.checkCancellation()
  }

  /// The label the target's `current` names (with `switched`, the one Airlock last switched to); a target in a state
  /// Airlock did not make refuses the command (exit 3) before anything changes, rather than being reported as some
  /// release or overwritten.
  func onTarget(_ stage: Stage, switched: Bool = false) throws -> String? {
    do {
      return try switched ? stage.target.switchedVersion() : stage.target.currentVersion()
    } catch let error as TargetError where error.code == .unmanaged {
      throw AirlockError(.blocked, "\(stage.name): \(error.message); nothing changed")
    } catch let error as TargetError where error.code == .unknownState {
      // No release is labelled this way (a label starts with a letter or digit): what runs is not the ledger's, so a
      // deploy or promotion applies again and verify refuses.
      options.progress("! \(stage.name): \(error.message); what runs is unknown")
      return Self.unknownRelease
    }
  }

  /// What `onTarget` answers for a target that cannot tell what runs.
  static let unknownRelease = "(unknown)"

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
}
