import AirlockTestSupport
import Foundation
import Testing

/// Invariant 7: rollback needs only the ledger and the target. With the pipeline file gone, or from a folder with
/// no pipelines at all, it works from the `environment.json` snapshot recorded in the ledger and says so.
@Suite struct RollbackIndependenceTests {

  /// production is back on 1.0.0 with the config it was verified with, recorded as a rollback in the ledger.
  func expectRolledBack(_ box: ScratchProject, _ run: ScratchProject.Run) async throws {
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stderr.contains("using the environment snapshot recorded in the ledger"), "\(run.output)")
    #expect(
      run.stderr.contains("pipeline file unusable: rolled back with the environment snapshot recorded in the ledger"),
      "\(run.output)")
    #expect(box.current("production") == "1.0.0")
    #expect(box.read("targets/production/current/.airlock/started") == "1.0.0 postgres://db-prod.internal/web\n")
    #expect(
      try await box.messages("web/production", count: 1) == ["rollback web production 1.1.0 → 1.0.0: ok"])
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func rollbackWorksWithThePipelineFileDeleted() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    try FileManager.default.removeItem(at: box.root.appendingPathComponent("pipelines/web.yml"))
    try await expectRolledBack(box, try await box.airlock("-p", "web", "rollback", "production"))
  }

  /// How the ledger is named from a folder that is not the project.
  enum LedgerChoice: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case flag = "--ledger", variable = "AIRLOCK_LEDGER"
    var testDescription: String { rawValue }
  }

  @Test(arguments: LedgerChoice.allCases)
  func rollbackWorksFromAnotherFolderWithTheLedgerAlone(choice: LedgerChoice) async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-elsewhere-\(UUID())")
    try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: elsewhere) }

    let arguments =
      choice == .flag
      ? ["-p", "web", "--ledger", box.ledgerURL.path, "rollback", "production"]
      : ["-p", "web", "rollback", "production"]
    let environment = choice == .variable ? ["AIRLOCK_LEDGER": box.ledgerURL.path] : [:]
    let rollback = try await box.airlock(arguments, environment: environment, in: elsewhere)
    try await expectRolledBack(box, rollback)
    // Nothing was created in the folder it ran from; the target is the one the snapshot recorded.
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)

    let status = try await box.airlock(["-p", "web", "--ledger", box.ledgerURL.path, "status"], in: elsewhere)
    #expect(status.code == 0, "\(status.output)")
    #expect(status.stdout.contains("production: 1.0.0 ("), "\(status.output)")
    #expect(!status.stdout.contains("! interrupted"), "\(status.output)")
  }
}
