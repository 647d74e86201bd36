import Foundation

/// `verify`: the verify checks against what runs now, recorded; never a rollback.
extension Orchestrator {
  /// Runs `environment`'s verify checks against what runs there now and records the verdict.
  ///
  /// A pass marks the release verified (so it can be promoted); a failure is recorded and reported (exit 5) but
  /// never rolls back: that is for `rollback` or a deploy's failure policy.
  public func verify(environment name: String) async throws -> OperationReport {
    let pipeline = try requirePipeline()
    let stage = try makeStage(try environment(name, in: pipeline), pipeline: pipeline)
    // A variable that is not set leaves its secret out, as it always did; a failing command or file is exit 2.
    let secrets = try await stage.secrets(named: stage.spec.secrets)
    let lease = try await takeLease(stage, operation: "verify")
    defer { lease.release() }
    defer { stage.target.disconnect() }
    return try await notifying {
      let started = clock.now()
      let head = try ledger.head(of: name)
      guard let release = head.state.current, let commit = head.commit else {
        throw AirlockError(.invalidInput, "nothing runs in \(name) yet: deploy or promote a release first")
      }
      // What the target runs, read once: another release the ledger knows (an interrupted run), or none it knows (a
      // `current` program reporting a change made by hand). Verifying either would record a verdict about something else.
      if let label = try onTarget(stage), label != release.version {
        if let running = try ledger.release(labelled: label) {
          if running.id != release.id {
            throw AirlockError(
              .blocked,
              "\(name) runs \(running.version) but the ledger last recorded \(release.version): an earlier run was "
                + "interrupted; converge with deploy, promote or rollback before verifying")
          }
        } else {
          throw AirlockError(
            .blocked,
            "\(name) runs \(label) according to its target, not \(release.version) as the ledger says; converge with "
              + "deploy, promote or rollback before verifying")
        }
      }
      let configText = try ledger.recordedConfigText(head)
      let config = ConfigFile.parse(configText).config
      options.progress("→ verify \(name) \(release.version)")
      let results = try await stage.runChecks(
        stage.spec.verify, release: release, config: config, secrets: secrets)
      let judgement = Judgement(results: results, startFailure: nil)
      var state = head.state
      // A failed release keeps running but is no longer promotable nor a rollback target until a verify passes.
      let transition = Lifecycle.verified(
        judgement, of: Lifecycle.Subject(event: .verify, environment: name, version: release.version))
      state.apply(
        transition, to: release, config: try ledger.ledger.writeBlob(Data(configText.utf8)), at: clock.now())
      let outcome = transition.outcome
      let record = eventRecord(
        .verify, in: name, outcome: outcome, release: release, current: release, previous: release, started: started,
        detail: transition.detail)
      let written = try commitEvent(
        record, state: state, configText: configText, checks: results, stage: stage, expected: commit)
      return OperationReport(
        .verify, pipeline: ledger.pipeline, environment: name, transition: transition, release: release,
        previous: release, current: release, checks: results, commits: [written])
    }
  }
}
