import AirlockTestSupport
import Foundation
import Testing

/// `airlock ledger gc` and the stale-lock report.
@Suite struct LedgerMaintenanceCLITests {
  @Test func gcPacksTheLedgerAndKeepsEveryEvent() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["1", "2", "3"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
    }
    let before = try await box.git("rev-list", "--count", "web/staging").stdout
    let gc = try await box.airlock("ledger", "gc")
    #expect(gc.code == 0, "\(gc.output)")
    #expect(gc.stdout.contains(" → "))
    let objects = try await box.git("count-objects", "-v").stdout
    #expect(objects.contains("count: 0\n"), "\(objects)")
    #expect(objects.contains("in-pack: "))
    #expect(try await box.git("rev-list", "--count", "web/staging").stdout == before)
    #expect(try await box.git("fsck", "--strict").code == 0)
    #expect(try await box.airlock("rollback", "staging").code == 0)
  }

  @Test func aStaleLockFileIsReportedWithHowToClearIt() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    let lock = box.ledgerURL.appendingPathComponent("refs/heads/web/staging.lock")
    _ = FileManager.default.createFile(atPath: lock.path, contents: Data())
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: lock.path)
    let status = try await box.airlock("status")
    #expect(status.code == 0)
    #expect(status.stderr.contains("stale lock file \(lock.path)"))
    #expect(status.stderr.contains("rm '\(lock.path)'"))
    // The locked branch cannot move: the change is refused, not half-recorded, and the target is put back.
    let blocked = try await box.airlock("deploy", "staging", "--artifact", box.artifact("2"), "--version", "2")
    #expect(blocked.code == 6, "\(blocked.output)")
    #expect(box.current("staging") == "1")
    try FileManager.default.removeItem(at: lock)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("2"), "--version", "2").code == 0)
  }
}
