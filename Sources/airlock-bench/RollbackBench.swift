import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench rollback`: end-to-end `airlock rollback` between two kept releases on a local target, process start
/// included, with a short history and again with `--history` earlier events on the branch; printed beside the start-up
/// floor measured in the same run: `airlock-hello` (Foundation, built by the same command) and `airlock --help`.
///
/// The floor programs run interleaved with the rollbacks (one hello-world, one `--help`, one rollback, and again),
/// and are printed for each history size, so that on a shared machine whose speed drifts the floor and the figure
/// are taken under the same load.
struct RollbackBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rollback", abstract: "Median wall time of `airlock rollback` on a local target.")

  @Option(help: "Rollbacks to time for each history size (and starts of each floor program beside them).")
  var runs = 21
  @Option(help: "Earlier events on the branch for the second measurement.") var history = 1000

  /// The two floor programs, timed beside every rollback.
  struct Floor {
    let hello: URL
    let airlock: URL
    var helloSamples: [Double] = []
    var helpSamples: [Double] = []

    mutating func measure(in folder: URL) throws {
      for (program, arguments) in [(hello, [String]()), (airlock, ["--help"])] {
        let sample = try milliseconds {
          let status = try runQuietly(program, arguments, in: folder, environment: [:])
          guard status == 0 else { throw ValidationError("\(program.lastPathComponent) exited \(status)") }
        }
        if program == hello { helloSamples.append(sample) } else { helpSamples.append(sample) }
      }
    }
  }

  func run() async throws {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let airlock = folder.appendingPathComponent("airlock")
    let hello = folder.appendingPathComponent("airlock-hello")
    for program in [airlock, hello] where !FileManager.default.isExecutableFile(atPath: program.path) {
      throw ValidationError(
        "\(program.path) is missing: build it first with scripts/build")
    }
    print(
      "airlock rollback on a local target (no start command or verify checks: Airlock's own cost), timed "
        + "interleaved with its start-up floor: a Foundation hello-world built alongside, and `airlock --help`")
    for earlier in [0, history] {
      var floor = Floor(hello: hello, airlock: airlock)
      let samples = try await measure(airlock: airlock, earlierEvents: earlier, floor: &floor)
      print("with \(earlier) earlier events on the branch:")
      print(Summary(samples: floor.helloSamples).row("  hello-world (Foundation)"))
      print(Summary(samples: floor.helpSamples).row("  airlock --help"))
      print(Summary(samples: samples).row("  airlock rollback"))
    }
  }

  func measure(airlock: URL, earlierEvents: Int, floor: inout Floor) async throws -> [Double] {
    let scratch = try ScratchProject.bench(
      pipeline: """
        pipeline: bench
        keep: \(runs + 5)
        environments:
          - name: staging
            target:
              local: targets/staging
        """)
    defer { withExtendedLifetime(scratch) {} }
    var environment = ProcessInfo.processInfo.environment
    environment["AIRLOCK_ACTOR"] = "bench"
    // Filler events first, so the rollbacks below walk past them if lookup ever depended on history.
    if earlierEvents > 0 {
      guard
        try runQuietly(
          airlock, ["deploy", "staging", "--artifact", scratch.benchArtifact("filler").path, "--version", "filler"],
          in: scratch.root, environment: environment) == 0
      else { throw ValidationError("filler deploy failed") }
      try await appendVerifyEvents(earlierEvents - 1, root: scratch.root)
    }
    for index in 0...runs {
      let status = try runQuietly(
        airlock,
        ["deploy", "staging", "--artifact", scratch.benchArtifact("v\(index)").path, "--version", "v\(index)"],
        in: scratch.root, environment: environment)
      guard status == 0 else { throw ValidationError("setup deploy v\(index) failed with \(status)") }
    }
    // The setup's writes reach the disk first: each rollback syncs the file system, and should pay for its own
    // writes only, not for thousands of setup events still in the page cache.
    sync()
    var samples: [Double] = []
    for _ in 0..<runs {
      try floor.measure(in: scratch.root)
      var status: Int32 = 0
      samples.append(
        try milliseconds {
          status = try runQuietly(airlock, ["rollback", "staging"], in: scratch.root, environment: environment)
        })
      guard status == 0 else { throw ValidationError("rollback failed with \(status)") }
    }
    return samples
  }

  /// Records `count` verify events through the library: the cheapest real events a branch can hold.
  func appendVerifyEvents(_ count: Int, root: URL) async throws {
    let workspace = try Workspace.open(Workspace.Request(directory: root))
    if let error = workspace.pipelineError { throw error }
    guard let ledger = try workspace.openLedger(create: false) else { throw ValidationError("no ledger") }
    let orchestrator = workspace.orchestrator(
      ledger: ledger,
      options: OperationOptions(actor: Signature(name: "bench", email: "bench@localhost"), environment: [:]))
    for _ in 0..<count { _ = try await orchestrator.verify(environment: "staging") }
  }
}
