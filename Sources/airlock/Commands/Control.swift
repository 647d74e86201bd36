import AirlockKit
import ArgumentParser
import Foundation

/// `airlock lock ENV --reason TEXT`.
struct Lock: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "lock",
    abstract: "Hold an incident lock on ENV until `airlock unlock ENV`: every change to ENV answers exit 6 meanwhile.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment to lock.", completion: Completion.environments) var environment: String
  @Option(help: "Why (shown to everyone the lock stops).") var reason: String

  func validate() throws {
    guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why") }
  }

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: false, createLedger: true, wait: waiting.wait).lock(
        environment: environment, reason: reason)
      if global.json { Output.json(report) } else { print(report.summary) }
      return .success
    }
  }
}

/// `airlock unlock ENV [--force]`.
struct Unlock: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "unlock",
    abstract: "End an incident lock on ENV; --force breaks someone else's lock or a stuck run's lease (recorded).")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "The environment to unlock.", completion: Completion.environments) var environment: String
  @Flag(help: "Break a lock or lease held by someone else.") var force = false

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: false, createLedger: false, force: force).unlock(
        environment: environment)
      if global.json { Output.json(report) } else { print(report.summary) }
      return .success
    }
  }
}

/// `airlock approve ENV --release ID`.
struct Approve: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "approve",
    abstract: "Approve a release for an environment with `approval: required`; binds to its artifact tree id.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var waiting: WaitOption
  @Argument(help: "The environment.", completion: Completion.environments) var environment: String
  @Option(help: "A release label or tree id prefix.", completion: Completion.releases) var release: String

  func run() async throws {
    try await perform(json: global.json) {
      let report = try await global.orchestrator(pipeline: true, createLedger: false, wait: waiting.wait).approve(
        environment: environment, release: release)
      if global.json { Output.json(report) } else { print(report.summary) }
      return .success
    }
  }
}
