import Foundation

/// `promote`: the newest release verified upstream (or a named one), shipped onward.
extension Orchestrator {
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
    let secrets = try await stage.secrets()
    let lease = try await takeLease(stage, operation: "promote")
    defer { lease.release() }
    defer { stage.target.disconnect() }
    return try await notifying {
      let upstream = try ledger.head(of: source).state
      let release: Release
      if let reference {
        let known = upstream.good.map(\.release) + upstream.quarantined.map(\.release)
        guard let found = try ledger.findRelease(reference, among: known) else {
          throw ledger.noRelease(reference)
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
  }
}
