import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// What the orchestration tests add to a scratch project: an `Orchestrator` over it, shortcuts for deploy and
/// promote, and the ledger's view of an environment.
///
/// Time comes from the project's `ManualClock`, so quorum intervals and watch windows cost no real time; everything
/// else is real: processes (`bin/start`, command checks), files, the ledger, and whatever HTTP server the test starts.
extension ScratchProject {
  static let orchestrationActor = Signature(name: "Orchestration Tester", email: "tester@example.com")

  /// An orchestrator over the project as it is now (the pipeline is reloaded every time, as the CLI does), on
  /// `clock` when given instead of the project's manual clock.
  func orchestrator(force: Bool = false, clock: (any AirlockClock)? = nil) throws -> Orchestrator {
    let workspace = try Workspace.open(Workspace.Request(directory: root))
    _ = try workspace.requirePipeline()
    let ledger = try #require(try workspace.openLedger(create: true))
    let progress = self.progress
    let options = OperationOptions(
      actor: Self.orchestrationActor, clock: clock ?? self.clock, environment: environment,
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

  /// The project's ledger as pipeline `web` sees it.
  func pipelineLedger() throws -> PipelineLedger {
    PipelineLedger(ledger: try openLedger(create: false), pipeline: "web")
  }

  /// The environment's state after its newest event.
  func head(_ environment: String) throws -> PipelineLedger.Head {
    try pipelineLedger().head(of: environment)
  }

  /// The environment's events, newest first.
  func events(_ environment: String) throws -> [EventRecord] {
    try pipelineLedger().history(of: environment, limit: nil).map(\.record)
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
