import Foundation

/// `rollback`: back to a verified-good release with the config it was good with, and the restore that an
/// automatic rollback shares.
extension Orchestrator {
  /// Switches `environment` back to the newest earlier verified-good release, or to `reference`.
  ///
  /// Restores the artifact and the config snapshot the release was last good with, skips preflight, runs verify,
  /// and quarantines the release it left. Works from the ledger's snapshot when the pipeline file is broken.
  public func rollback(environment name: String, to reference: String?) async throws -> OperationReport {
    let stage = try stageForRecovery(name)
    let lease = try await takeLease(stage, operation: "rollback")
    defer { lease.release() }
    defer { stage.target.disconnect() }
    return try await notifying {
      // Restoring service comes first: hosts that cannot be reached are named when their switch fails, and the rest
      // are rolled back.
      for (host, reason) in await stage.target.connect(progress: options.progress).sorted(by: { $0.key < $1.key }) {
        options.progress("! \(host) cannot be reached: \(reason)")
      }
      let head = try ledger.head(of: name)
      let state = head.state
      // The release this rollback leaves: what the ledger says runs, unless an interrupted deploy or promotion left
      // the target on a release never verified here; then that one is left (and quarantined). A target left on a
      // verified release by an interrupted rollback keeps the ledger's view, so running the rollback again completes it.
      // What Airlock last switched to decides which release is left; a target's own `current` program is not waited on.
      let running = try switchedRelease(stage, state: state)
      let current =
        running.map { $0.id != state.current?.id && !state.isVerified($0.id) ? $0 : state.current } ?? state.current
      let good: GoodRelease
      switch try rollbackChoice(
        in: name, state: state, leaving: current, to: reference, onTarget: { try onTarget(stage) })
      {
      case .converged(let release):
        return OperationReport(
          .rollback, pipeline: ledger.pipeline, environment: name,
          transition: Lifecycle.unchanged(
            Lifecycle.Subject(event: .rollback, environment: name, version: release.version)),
          release: release, previous: current, current: current)
      case .to(let entry):
        good = entry
      }
      return try await restore(
        stage, to: good, leaving: current, after: nil, head: head, started: clock.now(), earlier: [])
    }
  }

  /// Where a rollback of `name` goes: the newest verified-good release other than `current`, or `reference`.
  enum RollbackChoice {
    /// Switch to this release with its recorded config snapshot.
    case to(GoodRelease)
    /// `reference` already runs there, verified: an interrupted `rollback --to` got through.
    case converged(Release)
  }

  /// Chooses where a rollback leaving `current` goes, or throws why it cannot go anywhere (`.blocked`, exit 3) or
  /// `reference` names no release (exit 2). Shared by `rollback` and `plan --rollback`.
  func rollbackChoice(
    in name: String, state: EnvironmentState, leaving current: Release?, to reference: String?,
    onTarget: () throws -> String? = { nil }
  ) throws -> RollbackChoice {
    guard let reference else {
      guard let earlier = state.good.first(where: { $0.release.id != current?.id }) else {
        throw AirlockError(
          .blocked,
          "\(name) has no earlier verified-good release to roll back to; ship a fixed release instead")
      }
      return .to(earlier)
    }
    let known = state.good.map(\.release) + state.quarantined.map(\.release) + (current.map { [$0] } ?? [])
    guard let release = try ledger.findRelease(reference, among: known) else {
      throw ledger.noRelease(reference)
    }
    if release.id == current?.id {
      // Running an interrupted `rollback --to` again must converge, not fail, once the first run got through.
      if state.currentStatus == .verified, try onTarget() == release.version { return .converged(release) }
      throw AirlockError(.blocked, "\(release.version) is what \(name) runs now; nothing to roll back to")
    }
    if let entry = state.good.first(where: { $0.release.id == release.id }) { return .to(entry) }
    if let quarantined = state.quarantine(of: release.id), let config = quarantined.config, options.force {
      return .to(GoodRelease(release: release, config: config, verifiedAt: quarantined.since))
    }
    if let quarantined = state.quarantine(of: release.id) {
      throw AirlockError(
        .blocked,
        "\(release.version) is quarantined in \(name) (\(quarantined.reason)); pass --force to roll back to it anyway")
    }
    throw AirlockError(
      .blocked, "\(release.version) was never verified good in \(name); rollback only goes to verified releases")
  }

  /// What Airlock last switched the target to: the ledger's current release, or, when an interrupted run left the
  /// target elsewhere, the release bound to that label.
  func switchedRelease(_ stage: Stage, state: EnvironmentState) throws -> Release? {
    guard let label = try onTarget(stage, switched: true), label != state.current?.version else {
      return state.current
    }
    return try ledger.release(labelled: label) ?? state.current
  }

  /// The hosts a restore to `release` switches: all of them at once, except that a fleet's hosts already running it
  /// (those a failed rollout never reached) are left alone, neither switched nor restarted, and hosts that cannot be
  /// read are left out and answered with why, so the others are restored. A one-host target is always switched and
  /// started, which also completes an interrupted run.
  func hostsToRestore(_ stage: Stage, to release: Release) -> (switch: [String], unreachable: [String: String]) {
    let hosts = stage.target.hosts
    guard hosts.count > 1, let versions = try? stage.target.currentVersions() else { return (hosts, [:]) }
    let running = Set(versions.filter { $0.problem == nil && $0.version == release.version }.map(\.host))
    var unreachable: [String: String] = [:]
    for version in versions { if let problem = version.problem { unreachable[version.host] = problem } }
    let left = hosts.filter { running.contains($0) }
    if !left.isEmpty {
      options.progress(
        "→ \(left.count) of \(hosts.count) hosts already run \(release.version); leaving them as they are")
    }
    return (hosts.filter { !running.contains($0) && unreachable[$0] == nil }, unreachable)
  }

  /// Switches `stage` to `good` with its recorded config snapshot on every host at once, verifies it, and records
  /// the rollback.
  ///
  /// When the restored release fails the same checks, the check or the environment is suspect: the release that
  /// was left is not quarantined and no further rollback is attempted (exit 5).
  ///
  /// - Parameters:
  ///   - cause: for an automatic rollback, the failed run it answers (`alice's deploy of 1.2.0 failed verify`);
  ///     `nil` for an operator's.
  ///   - resolved: for an automatic rollback, the secrets the failed run resolved, so no source is asked twice.
  func restore(
    _ stage: Stage, to good: GoodRelease, leaving: Release?, after cause: String?, head: PipelineLedger.Head,
    started: Date, earlier: [CheckResult], resolved: SecretSet? = nil
  ) async throws -> OperationReport {
    let name = stage.name
    let release = good.release
    var warnings: [String] = []
    if pipeline == nil {
      warnings.append("pipeline file unusable: rolled back with the environment snapshot recorded in the ledger")
    }
    let snapshotText = String(decoding: try ledger.ledger.readBlob(good.config), as: UTF8.self)
    let snapshot = ConfigFile.parse(snapshotText)
    let automatic = cause != nil
    // Each secret from the source the stage's definition gives it (the snapshot's when the pipeline file is
    // unusable), asked now unless this command already did: the values are today's, and a fingerprint that
    // changed is reported.
    let secrets = try await stage.secrets(named: snapshot.secrets.keys.sorted(), reusing: resolved)
    if let key = secrets.missing.first {
      throw AirlockError(
        .invalidInput, "rollback of \(name) needs secret \(key) in the process environment; export it and run again")
    }
    for (key, fingerprint) in snapshot.secrets.sorted(by: { $0.key < $1.key })
    where secrets.fingerprints[key] != fingerprint {
      warnings.append("secret \(key) differs from the value \(release.version) was last verified with")
    }
    var hooks: [HookRun] = []
    if let run = await stage.runHook(
      .preRollback, event: .rollback, release: release, previous: leaving, secrets: secrets)
    {
      hooks.append(run)
      // An automatic rollback is the safety net; a hook may veto an operator's rollback, never that one. A hook
      // cut short by a signal vetoes nothing: switchAndVerify's first checkpoint records the abort.
      if !run.succeeded && !automatic && !Task.isCancelled {
        throw AirlockError(.blocked, "hook pre-rollback refused the rollback of \(name): \(run.reason)")
      }
    }
    options.progress("→ rolling \(name) back to \(release.version)")
    let (hosts, unreachable) = hostsToRestore(stage, to: release)
    var (results, judgement) = try await switchAndVerify(
      release, on: stage, config: snapshot.config, secrets: secrets, watch: nil, head: head, event: .rollback,
      source: nil, started: started, steps: [SwitchStep(hosts: hosts)],
      verifying: unreachable.isEmpty ? nil : stage.target.hosts.filter { unreachable[$0] == nil })
    if !unreachable.isEmpty && judgement.passed {
      // The hosts it reached run the verified release again; the others still run what they ran.
      let listed = unreachable.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
      judgement = .fail(
        "\(unreachable.count) of \(stage.target.hosts.count) hosts could not be reached and were not rolled back ("
          + listed.joined(separator: "; ") + ")", checks: ["switch"])
    }
    var state = head.state
    state.current = release
    let transition = Lifecycle.restored(
      judgement, of: Lifecycle.Subject(event: .rollback, environment: name, version: release.version),
      leaving: leaving, after: cause, by: options.actor.name)
    state.apply(transition, to: release, config: good.config, left: leaving, at: clock.now())
    let outcome = transition.outcome
    let record = eventRecord(
      .rollback, in: name, outcome: outcome, release: release, current: release, previous: leaving,
      cause: cause, started: started, detail: transition.detail)
    let commit = try await recordingOrUndoing(stage, switchedTo: release, back: leaving, head: head, secrets: secrets) {
      try commitEvent(
        record, state: state, configText: snapshotText, checks: results, stage: stage, expected: head.commit)
    }
    options.progress("→ recorded rollback of \(name) to \(release.version): \(outcome.rawValue)")
    FaultPoint.afterRecord.trip(options.environment)
    let result = Hooks.Event.Result(outcome: outcome.rawValue, detail: transition.detail, eventID: commit)
    if let run = await stage.runHook(
      .postRollback, event: .rollback, release: release, previous: leaving, result: result, secrets: secrets)
    {
      hooks.append(run)
      if !run.succeeded { warnings.append("hook \(run.hook) failed: \(run.reason)") }
    }
    if !judgement.passed,
      let run = await stage.runHook(
        .onFailure, event: .rollback, release: release, previous: leaving, result: result, secrets: secrets)
    {
      hooks.append(run)
    }
    warnings += recordHooks(hooks, on: commit, in: stage)
    warnings += prune(stage, state: state)
    return OperationReport(
      .rollback, pipeline: ledger.pipeline, environment: name, transition: transition, release: release,
      previous: leaving, current: release, checks: earlier + results, hooks: hooks, commits: [commit],
      warnings: warnings)
  }
}
