import AirlockKit
import ArgumentParser
import Foundation

/// `airlock validate`: parse and check every pipeline; nothing runs.
struct Validate: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Parse and check every pipeline in pipelines/ (or -f FILE) and report every error; nothing runs.")

  @OptionGroup var global: GlobalOptions

  func run() async throws {
    try await perform(json: global.json) {
      let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      let results: [(file: URL, result: Result<Pipeline, PipelineError>)]
      if let file = global.file {
        let url = URL(fileURLWithPath: file, relativeTo: directory).standardized
        let root = Project.root(forPipelineFile: url, currentDirectory: directory)
        results = [(url, Result { () throws(PipelineError) in try PipelineLoader.load(file: url, root: root) })]
      } else {
        guard let project = Project.locate(from: directory) else {
          throw AirlockError(.invalidInput, "no pipelines/ folder here or above \(directory.path)")
        }
        results = project.validateAll().filter { global.pipeline == nil || $0.result.name == global.pipeline }
        if results.isEmpty { throw AirlockError(.invalidInput, "no pipeline files in \(project.root.path)/pipelines") }
      }
      struct FileResult: Encodable {
        var file: String
        var pipeline: String?
        var valid: Bool
        var diagnostics: [Diagnostic]
      }
      var report: [FileResult] = []
      for (file, result) in results {
        switch result {
        case .success(let pipeline):
          report.append(FileResult(file: file.path, pipeline: pipeline.name, valid: true, diagnostics: []))
          if !global.json {
            print("\(file.path): ok (pipeline \(pipeline.name), \(pipeline.environments.count) environments)")
          }
        case .failure(let error):
          report.append(FileResult(file: file.path, pipeline: nil, valid: false, diagnostics: error.diagnostics))
          for diagnostic in error.diagnostics { Output.progress(diagnostic.description) }
        }
      }
      if global.json { Output.json(["files": report]) }
      return report.allSatisfy(\.valid) ? .success : ExitCode(2)
    }
  }
}

extension Result where Success == Pipeline, Failure == PipelineError {
  fileprivate var name: String? { try? get().name }
}

/// `airlock plan ENV [--release ID]`, `airlock plan ENV --rollback [--to ID]`.
struct Plan: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Show what deploy, promote or rollback would do to ENV; nothing changes.",
    discussion: "Exit 3 when what it plans would be refused, so CI can gate on it.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "The environment.", completion: Completion.environments) var environment: String
  @Option(help: "The release to plan for (default: what promote would pick).", completion: Completion.releases)
  var release: String?
  @Flag(help: "Plan `airlock rollback ENV` instead.") var rollback = false
  @Option(help: "With --rollback: the release to roll back to.", completion: Completion.releases) var to: String?

  func validate() throws {
    if rollback && release != nil { throw ValidationError("--release plans a promotion; with --rollback use --to") }
    if !rollback && to != nil { throw ValidationError("--to plans a rollback: add --rollback") }
  }

  func run() async throws {
    try await perform(json: global.json) {
      let workspace = try global.workspace()
      if !rollback { _ = try workspace.requirePipeline() }
      let plan = try global.reading(workspace) {
        rollback
          ? try $0.planRollback(environment: environment, to: to)
          : try $0.plan(environment: environment, release: release)
      }
      if global.json {
        Output.json(plan)
      } else {
        Printing.plan(plan)
      }
      return ExitCode(plan.exitStatus.rawValue)
    }
  }
}

/// `airlock history [ENV] [--limit N]`.
struct History: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(commandName: "history", abstract: "List events, newest first.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "Only this environment's events.", completion: Completion.environments) var environment: String?
  @Option(help: "How many events at most.") var limit = 20

  func validate() throws {
    guard limit > 0 else { throw ValidationError("--limit must be a positive number") }
  }

  func run() async throws {
    try await perform(json: global.json) {
      let workspace = try global.workspace()
      let entries = try global.reading(workspace) { try $0.history(environment: environment, limit: limit) }
      if global.json {
        Output.json(["events": entries])
      } else if entries.isEmpty {
        print("no events yet")
      } else {
        Printing.history(entries)
      }
      return .success
    }
  }
}

/// `airlock status`.
struct Status: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show what runs where, per environment.")

  @OptionGroup var global: GlobalOptions

  func run() async throws {
    try await perform(json: global.json) {
      let workspace = try global.workspace()
      Output.warnIfPipelineUnloaded(workspace)
      guard let ledger = try workspace.openLedger(create: false) else {
        if global.json {
          Output.json(["environments": [EnvironmentStatus]()])
        } else {
          print("nothing deployed yet (no ledger at \(workspace.ledgerURL.path))")
        }
        return .success
      }
      let orchestrator = workspace.orchestrator(ledger: ledger, options: global.operationOptions(ledger: nil))
      let statuses = try orchestrator.status()
      for lock in orchestrator.staleLedgerLocks() { Output.progress("warning: \(lock)") }
      if global.json {
        Output.json(["environments": statuses])
      } else {
        Printing.status(statuses)
      }
      return .success
    }
  }
}

/// `airlock drift ENV OTHER`.
struct Drift: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "drift",
    abstract: "Show config and release differences between two environments; nothing changes.",
    discussion: "Secrets are compared and shown by sha256 fingerprint only. Exit 0 whatever the differences.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "One environment.", completion: Completion.environments) var environment: String
  @Argument(help: "The other environment.", completion: Completion.environments) var other: String

  func run() async throws {
    try await perform(json: global.json) {
      let workspace = try global.workspace()
      _ = try workspace.requirePipeline()
      let report = try global.reading(workspace) { try $0.drift(environment, other) }
      if global.json { Output.json(report) } else { Printing.drift(report) }
      return .success
    }
  }
}
