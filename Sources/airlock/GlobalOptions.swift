import AirlockKit
import ArgumentParser
import Foundation

/// Flags every command takes: which pipeline, which ledger, and the output format.
struct GlobalOptions: ParsableArguments, Sendable {
  @Option(
    name: [.customShort("p"), .customLong("pipeline")],
    help: "The pipeline's name (default: the only one in pipelines/).")
  var pipeline: String?

  @Option(
    name: [.customShort("f"), .customLong("file")], help: "A pipeline file to use instead of pipelines/NAME.yml.")
  var file: String?

  @Option(help: "The ledger repository (default: the pipeline's `ledger`, or AIRLOCK_LEDGER).")
  var ledger: String?

  @Flag(help: "Print one JSON document on stdout; progress still goes to stderr.")
  var json = false

  /// Read before parsing by `Output.printer`, which every line of stderr goes through; declared here so every
  /// command takes it and its help shows it.
  @Flag(help: "No colour in progress on a terminal (as with NO_COLOR set).")
  var noColor = false

  var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

  /// The workspace these flags describe, from the current directory.
  func workspace() throws -> Workspace {
    try Workspace.open(
      Workspace.Request(
        directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath), pipelineName: pipeline,
        pipelineFile: file, ledgerPath: ledger ?? processEnvironment["AIRLOCK_LEDGER"]))
  }

  /// Options for a changing operation: the actor, the real clock, progress on stderr.
  func operationOptions(ledger: Ledger?, force: Bool = false, wait: TimeSpan? = nil) -> OperationOptions {
    let environment = processEnvironment
    return OperationOptions(
      actor: OperationOptions.actor(from: environment, gitIdentity: ledger?.configuredIdentity()),
      environment: environment, progress: { Output.progress($0) }, steps: { Output.step($0) }, force: force,
      leaseWait: wait)
  }
}

extension GlobalOptions {
  /// The orchestrator for one changing command, or the documented refusal when what it needs is missing.
  ///
  /// - Parameters:
  ///   - pipeline: whether the pipeline must load; without it, rollback, lock and unlock work from the ledger's
  ///     snapshots when the pipeline file is broken.
  ///   - createLedger: whether the ledger is created on first use; otherwise a missing ledger is exit 2.
  ///   - wait: how long to wait for another run's lease (`--wait`).
  func orchestrator(pipeline: Bool, createLedger: Bool, force: Bool = false, wait: TimeSpan? = nil) throws
    -> Orchestrator
  {
    let workspace = try workspace()
    if pipeline { _ = try workspace.requirePipeline() }
    guard let ledger = try workspace.openLedger(create: createLedger) else {
      throw AirlockError(.invalidInput, "no ledger at \(workspace.ledgerURL.path): nothing was ever deployed there")
    }
    return workspace.orchestrator(
      ledger: ledger, options: operationOptions(ledger: ledger, force: force, wait: wait))
  }

  /// Runs a read-only query with an orchestrator over the ledger, or over an empty stand-in before the first
  /// deploy (`Workspace.ledgerForReading`), which is kept until the query returns and then removed.
  func reading<T>(_ workspace: Workspace, _ query: (Orchestrator) throws -> T) throws -> T {
    let reading = try workspace.ledgerForReading()
    return try withExtendedLifetime(reading) {
      try query(workspace.orchestrator(ledger: reading.ledger, options: operationOptions(ledger: nil)))
    }
  }
}

/// `--wait DURATION`, on the commands that change an environment.
struct WaitOption: ParsableArguments, Sendable {
  @Option(
    help: ArgumentHelp(
      "Wait up to DURATION (30s, 5m) for another run's lease on ENV instead of exit 6; never for an incident lock.",
      valueName: "duration"))
  var wait: TimeSpan?
}

extension TimeSpan: ExpressibleByArgument {
  /// `30s`, `5m`, `500ms`, `1h`, as in pipelines.
  public init?(argument: String) {
    self.init(parsing: argument)
  }
}
