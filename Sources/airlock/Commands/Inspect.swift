import AirlockKit
import ArgumentParser
import Foundation

/// `airlock releases ENV`.
struct Releases: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "releases",
    abstract: "List every release ENV has run, newest first: current, verified, quarantined, rollback target.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "The environment.", completion: Completion.environments) var environment: String

  func run() async throws {
    try await inspect(global) { orchestrator in
      let list = try orchestrator.releases(environment: environment)
      if global.json { Output.json(list) } else { Printing.releases(list) }
    }
  }
}

/// `airlock show EVENT`.
struct Show: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show one ledger event: release, outcome, why, every check and probe, config changes.",
    discussion: "EVENT is at least 4 hex digits of the event's commit, as `airlock history` prints it.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: "The event's commit id or a unique prefix of it.", completion: Completion.events)
  var event: String

  func run() async throws {
    try await inspect(global) { orchestrator in
      let detail = try orchestrator.event(event)
      if global.json { Output.json(["event": detail]) } else { Printing.event(detail) }
    }
  }
}

/// `airlock diff ID OTHER`.
struct Diff: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show the files and config that differ between two releases; nothing changes.",
    discussion: """
      ID and OTHER are version labels or unique tree-id prefixes. Secrets are compared and shown by sha256 \
      fingerprint only. Exit 0 whatever the differences.
      """)

  @OptionGroup var global: GlobalOptions
  @Argument(help: "One release: a version label or a unique tree-id prefix.", completion: Completion.releases) var id:
    String
  @Argument(help: "The other release.", completion: Completion.releases) var other: String

  func run() async throws {
    try await inspect(global) { orchestrator in
      let diff = try orchestrator.diff(id, other)
      if global.json { Output.json(diff) } else { Printing.diff(diff) }
    }
  }
}

/// Runs a read-only query over the ledger alone: it works when the pipeline file is broken (with the warning
/// `status` prints), takes no lease and runs no hook.
private func inspect(_ global: GlobalOptions, _ query: @escaping @Sendable (Orchestrator) throws -> Void)
  async throws
{
  try await perform(json: global.json) {
    let workspace = try global.workspace()
    Output.warnIfPipelineUnloaded(workspace)
    try global.reading(workspace, query)
    return .success
  }
}
