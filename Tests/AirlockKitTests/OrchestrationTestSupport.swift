import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// A throwaway project for driving `Orchestrator` directly: `pipelines/web.yml`, local targets under `targets/`,
/// artifacts under `artifacts/` and the ledger at the default path, all in one temporary folder.
///
/// Time comes from a `ManualClock`, so quorum intervals and watch windows cost no real time; everything else is
/// real: processes (`bin/start`, command checks), files, the ledger, and whatever HTTP server the test starts.
final class OrchestrationProject {
  let folder: TestDirectory
  let clock: ManualClock
  /// The process environment the operations see (secrets are read from here).
  var environment: [String: String]
  /// Every progress line, in order.
  let progress = LockedValue<[String]>([])

  static let actor = Signature(name: "Orchestration Tester", email: "tester@example.com")

  init(clock: ManualClock = ManualClock()) throws {
    folder = try TestDirectory("airlock-orchestration")
    self.clock = clock
    environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key) }
  }

  deinit { folder.remove() }

  var root: URL { folder.url }

  /// Writes the pipeline file the next `orchestrator()` loads.
  func pipeline(_ text: String) throws {
    try folder.write("pipelines/web.yml", text)
  }

  /// An orchestrator over the project as it is now (the pipeline is reloaded every time, as the CLI does), on
  /// `clock` when given instead of the project's manual clock.
  func orchestrator(force: Bool = false, clock: (any AirlockClock)? = nil) throws -> Orchestrator {
    let workspace = try Workspace.open(Workspace.Request(directory: root))
    _ = try workspace.requirePipeline()
    let ledger = try #require(try workspace.openLedger(create: true))
    let progress = self.progress
    let options = OperationOptions(
      actor: Self.actor, clock: clock ?? self.clock, environment: environment,
      progress: { line in progress.withLock { $0.append(line) } }, force: force)
    return workspace.orchestrator(ledger: ledger, options: options)
  }

  func deploy(_ environment: String = "staging", _ version: String) async throws -> OperationReport {
    try await orchestrator().deploy(
      environment: environment, artifact: root.appendingPathComponent("artifacts/\(version)"), version: version)
  }

  func promote(_ environment: String = "production", release: String? = nil) async throws -> OperationReport {
    try await orchestrator().promote(environment: environment, release: release)
  }

  /// An artifact folder `artifacts/VERSION` with a `VERSION` file, a `bin/start` script when `start` is given
  /// (a shell script body), and `files`.
  @discardableResult
  func artifact(_ version: String, start: String? = nil, files: [String: String] = [:]) throws -> URL {
    let base = "artifacts/\(version)"
    try folder.write("\(base)/VERSION", version + "\n")
    if let start { try folder.write("\(base)/bin/start", "#!/bin/sh\n" + start + "\n", permissions: 0o755) }
    for (path, contents) in files { try folder.write("\(base)/\(path)", contents) }
    return root.appendingPathComponent(base)
  }

  func target(_ environment: String) -> URL { root.appendingPathComponent("targets/\(environment)") }

  /// The label `current` points at on a local target, or `nil`.
  func current(_ environment: String) -> String? {
    (try? FileManager.default.destinationOfSymbolicLink(
      atPath: target(environment).appendingPathComponent("current").path))
      .map { URL(fileURLWithPath: $0).lastPathComponent }
  }

  func ledger() throws -> PipelineLedger {
    PipelineLedger(
      ledger: try Ledger.open(at: root.appendingPathComponent(".airlock/ledger.git"), create: false),
      pipeline: "web")
  }

  /// The environment's state after its newest event.
  func head(_ environment: String) throws -> PipelineLedger.Head {
    try ledger().head(of: environment)
  }

  /// The environment's events, newest first.
  func events(_ environment: String) throws -> [EventRecord] {
    try ledger().history(of: environment, limit: nil).map(\.record)
  }

  /// Runs stock git against the ledger.
  func git(_ arguments: String...) throws -> GitRun {
    try GitRun(["--git-dir", root.appendingPathComponent(".airlock/ledger.git").path] + arguments)
  }

  /// Every entry under the target, recursively, with its type and its contents (files) or destination (symlinks):
  /// equal listings mean nothing on the target changed.
  func listing(_ environment: String) throws -> [String] {
    let base = target(environment)
    guard FileManager.default.fileExists(atPath: base.path) else { return [] }
    let paths = try FileManager.default.subpathsOfDirectory(atPath: base.path).sorted()
    return try paths.map { path in
      let url = base.appendingPathComponent(path)
      let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
      let permissions = (attributes[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
      switch attributes[.type] as? FileAttributeType {
      case .typeSymbolicLink?:
        return "\(path) -> \(try FileManager.default.destinationOfSymbolicLink(atPath: url.path))"
      case .typeDirectory?:
        return "\(path)/ \(permissions)"
      default:
        return "\(path) \(permissions) \(try Data(contentsOf: url).base64EncodedString())"
      }
    }
  }

  /// The report as the CLI's `--json` would print it, to search it for text that must never appear.
  static func json(_ report: OperationReport) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(report), as: UTF8.self)
  }
}

extension EventRecord {
  /// `deploy failed`, `rollback ok`… for compact assertions on a history.
  var brief: String { "\(event.rawValue) \(outcome.rawValue)" }
}
