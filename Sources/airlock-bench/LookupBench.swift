import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench lookup`: rollback-target lookup and `status` with many events on the branch, in process.
///
/// Both read the head commit's `state.json`, so neither should grow with history; the bench proves it by
/// measuring at a short and a long history.
struct LookupBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lookup", abstract: "Median ms of rollback-target lookup and status at 100 and 10,000 events.")

  @Option(help: "Events on the branch for the long measurement.") var events = 10_000
  @Option(help: "Timed repetitions of each query.") var runs = 200

  func run() async throws {
    for count in [100, events] {
      let scratch = try ScratchProject.bench(
        pipeline: """
          pipeline: bench
          environments:
            - name: staging
              target:
                local: targets/staging
            - name: production
              requires: staging
              target:
                local: targets/production
          """)
      defer { withExtendedLifetime(scratch) {} }
      let workspace = try Workspace.open(Workspace.Request(directory: scratch.root))
      guard let ledger = try workspace.openLedger(create: true) else { throw ValidationError("no ledger") }
      let orchestrator = workspace.orchestrator(
        ledger: ledger,
        options: OperationOptions(actor: Signature(name: "bench", email: "bench@localhost"), environment: [:]))
      // Real events: a few deploys, then verify events up to the count.
      for index in 0..<5 {
        _ = try await orchestrator.deploy(
          environment: "staging", artifact: try scratch.benchArtifact("v\(index)"), version: "v\(index)")
      }
      for _ in 5..<count { _ = try await orchestrator.verify(environment: "staging") }
      let pipelineLedger = PipelineLedger(ledger: ledger, pipeline: "bench")
      var target: Release?
      let lookup = try (0..<runs).map { _ in
        try milliseconds {
          let state = try pipelineLedger.head(of: "staging").state
          target = state.good.first { $0.release.id != state.current?.id }?.release
        }
      }
      let status = try (0..<runs).map { _ in try milliseconds { _ = try orchestrator.status() } }
      guard target != nil else { throw ValidationError("no rollback target found") }
      print(Summary(samples: lookup).row("rollback-target lookup, \(count) events"))
      print(Summary(samples: status).row("status (2 environments), \(count) events"))
    }
  }
}
