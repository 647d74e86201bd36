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
  /// The notifications of this orchestrator's events, sent as each is recorded and awaited before a command ends.
  let notifications = NotificationOutbox()

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
      let recorded = try ledger.recordedEnvironments()
      guard recorded.contains(name) else {
        throw AirlockError(
          .invalidInput,
          "the pipeline file could not be loaded and the ledger has no environment '\(name)' of pipeline "
            + "\(ledger.pipeline)" + Suggestion.listing(recorded, for: name, lead: "it records"))
      }
      throw AirlockError(
        .invalidInput,
        "the pipeline file could not be loaded and the ledger has no snapshot of \(name); fix the pipeline file")
    }
    options.progress("! pipeline file unusable: using the environment snapshot recorded in the ledger")
    return try Stage(snapshot: snapshot, ledger: ledger, options: options)
  }
}
