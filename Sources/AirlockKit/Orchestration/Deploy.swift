import Foundation

/// `deploy`: a new release from an artifact folder, shipped to an environment without `requires`.
extension Orchestrator {
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
    let secrets = try await stage.secrets()
    let lease = try await takeLease(stage, operation: "deploy")
    defer { lease.release() }
    defer { stage.target.disconnect() }
    return try await notifying {
      let release = try ledger.storeRelease(
        directory: artifact, version: version, actor: options.actor, time: clock.now())
      options.progress("→ release \(release.version) is artifact \(release.id.short)")
      return try await ship(release, to: stage, event: .deploy, source: nil, secrets: secrets)
    }
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
