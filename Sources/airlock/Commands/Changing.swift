import AirlockKit
import ArgumentParser
import Foundation

/// `airlock deploy ENV --artifact DIR [--version LABEL]`.
struct Deploy: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "deploy",
    abstract: "Record DIR as a new release and ship it to ENV (an environment without `requires`).")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment to deploy to.", completion: Completion.environments) var environment: String
  @Option(help: "The directory holding the release's files.") var artifact: String
  @Option(help: "The version label (default: the first 12 hex digits of the artifact's tree id).") var version: String?
  @Flag(help: "Ship the release even if it is quarantined in ENV.") var force = false

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: true, createLedger: true, force: force, wait: waiting.wait)
        .deploy(
          environment: environment, artifact: URL(fileURLWithPath: artifact), version: version)
      return Output.report(report, json: global.json)
    }
  }
}

/// `airlock promote ENV [--release ID]`.
struct Promote: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "promote",
    abstract: "Ship the newest release verified in ENV's `requires` environment (or --release) to ENV.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment to promote to.", completion: Completion.environments) var environment: String
  @Option(help: "A release label or tree id prefix; it must be verified upstream.", completion: Completion.releases)
  var release: String?
  @Flag(help: "Promote the release even if it is quarantined in ENV.") var force = false

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: true, createLedger: true, force: force, wait: waiting.wait)
        .promote(
          environment: environment, release: release)
      return Output.report(report, json: global.json)
    }
  }
}

/// `airlock rollback ENV [--to ID]`.
struct Rollback: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    abstract: "Switch ENV back to the previous verified-good release (or --to), with the config it was good with.",
    discussion: "Needs only the ledger and the target: works while a check's endpoint or the pipeline file is broken.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment to roll back.", completion: Completion.environments) var environment: String
  @Option(help: "A release label or tree id prefix that was verified good in ENV.", completion: Completion.releases)
  var to: String?
  @Flag(help: "Allow --to to name a quarantined release.") var force = false

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: false, createLedger: false, force: force, wait: waiting.wait)
        .rollback(
          environment: environment, to: to)
      return Output.report(report, json: global.json)
    }
  }
}

/// `airlock verify ENV`.
struct Verify: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Run ENV's verify checks against what runs there now and record the verdict (never rolls back).")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment to verify.", completion: Completion.environments) var environment: String

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: true, createLedger: false, wait: waiting.wait).verify(
        environment: environment)
      if !global.json { Printing.checkTable(report.checks) }
      return Output.report(report, json: global.json)
    }
  }
}
