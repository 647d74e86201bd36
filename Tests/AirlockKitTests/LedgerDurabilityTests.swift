import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// Durability modes: batch (the default) syncs once before a ref moves and the ref after; `none` and `full` are
/// honoured. The syncs are counted by the ledger, so no test measures time.
@Suite struct LedgerDurabilityTests {
  @Test(
    arguments: [
      (nil, LedgerDurability.batch), ("", .batch), ("batch", .batch), ("0", .none), ("off", .none), ("none", .none),
      ("1", .full), ("on", .full), ("full", .full), ("FULL", .full),
    ] as [(String?, LedgerDurability)])
  func airlockFsyncValues(value: String?, durability: LedgerDurability) throws {
    #expect(try LedgerDurability(environmentValue: value) == durability)
  }

  @Test(arguments: ["yes", "2", "true", " 1"])
  func anUnknownAirlockFsyncValueIsRefusedWithTheValuesThatWork(value: String) {
    let error = #expect(throws: LedgerError.self) { try LedgerDurability(environmentValue: value) }
    #expect(error?.code == .invalidInput)
    #expect(error?.message.contains("AIRLOCK_FSYNC=\(value) is not understood") == true)
    #expect(error?.message.contains("batch") == true && error?.message.contains("0 (no sync") == true)
  }

  @Test func aNewLedgerSyncsInBatchModeByDefault() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    #expect(ledger.durability == .batch)
    #expect(Ledger.defaultDurability == .batch)
  }

  @Test func batchModeSyncsOnceBeforeEachRefMoveAndTheRefAfter() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    ledger.durability = .batch
    try ledger.appendTestEvent(branch: "web/staging", message: "one")
    #expect(ledger.syncs.objects == 1 && ledger.syncs.references == 1)
    let second = try ledger.appendTestEvent(branch: "web/staging", message: "two")
    #expect(ledger.syncs.objects == 2 && ledger.syncs.references == 2)
    #expect(try await scratch.git("rev-parse", "web/staging").trimmed == second.hex)
    #expect(try await scratch.git("fsck", "--strict").code == 0)
  }

  @Test func aLostRaceStillSyncsNoRef() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let first = try ledger.appendTestEvent(branch: "web/staging", message: "one")
    try ledger.appendTestEvent(branch: "web/staging", message: "two")
    let before = ledger.syncs
    #expect(throws: LedgerError.self) {
      try ledger.appendEvent(
        branch: "web/staging", expectedHead: first, files: [:], subtrees: [:], message: "late", author: ada,
        time: eventTime)
    }
    #expect(ledger.syncs.references == before.references)
  }

  @Test(arguments: [LedgerDurability.none, .full])
  func noneAndFullLeaveTheBatchSyncsOut(durability: LedgerDurability) async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    ledger.durability = durability
    let commit = try ledger.appendTestEvent(branch: "web/staging", message: "\(durability)")
    #expect(ledger.syncs.objects == 0 && ledger.syncs.references == 0)
    #expect(try await scratch.git("rev-parse", "web/staging").trimmed == commit.hex)
    #expect(try await scratch.git("fsck", "--strict").code == 0)
  }

  /// An operation lease lives only as long as its process and skips both flushes; an incident lock must survive
  /// a reboot and pays them like an event.
  @Test(arguments: [(LeaseHolder.Kind.operation, 0), (.lock, 1)])
  func onlyAnIncidentLockIsSyncedAmongLeases(kind: LeaseHolder.Kind, syncs: Int) async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    ledger.durability = .batch
    let pipelineLedger = PipelineLedger(ledger: ledger, pipeline: "web")
    let lease = try Lease.acquire(
      pipelineLedger, environment: "staging", kind: kind, operation: "test",
      options: OperationOptions(actor: ada, environment: [:]))
    #expect(ledger.syncs.objects == syncs && ledger.syncs.references == syncs)
    #expect(try await scratch.git("rev-parse", "refs/airlock/leases/web/staging").trimmed.count == 40)
    lease.release()
    #expect(try await scratch.git("fsck", "--strict").code == 0)
  }

  @Test func packingSyncsBeforeDeletingLooseCopies() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    try ledger.appendTestEvent(branch: "web/staging", message: "one")
    let before = ledger.syncs.objects
    try ledger.pack()
    #expect(ledger.syncs.objects == before + 1)
    #expect(try await scratch.git("fsck", "--strict").code == 0)
  }
}
