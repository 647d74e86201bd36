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
    let scratch = try ScratchLedger()
    #expect(scratch.ledger.durability == .batch)
    #expect(Ledger.defaultDurability == .batch)
  }

  @Test func batchModeSyncsOnceBeforeEachRefMoveAndTheRefAfter() throws {
    let scratch = try ScratchLedger()
    scratch.ledger.durability = .batch
    try scratch.ledger.appendTestEvent(branch: "web/staging", message: "one")
    #expect(scratch.ledger.syncs.objects == 1 && scratch.ledger.syncs.references == 1)
    let second = try scratch.ledger.appendTestEvent(branch: "web/staging", message: "two")
    #expect(scratch.ledger.syncs.objects == 2 && scratch.ledger.syncs.references == 2)
    #expect(try scratch.git("rev-parse", "web/staging").trimmed == second.hex)
    #expect(try scratch.git("fsck", "--strict").status == 0)
  }

  @Test func aLostRaceStillSyncsNoRef() throws {
    let scratch = try ScratchLedger()
    let ledger = scratch.ledger
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
  func noneAndFullLeaveTheBatchSyncsOut(durability: LedgerDurability) throws {
    let scratch = try ScratchLedger()
    scratch.ledger.durability = durability
    let commit = try scratch.ledger.appendTestEvent(branch: "web/staging", message: "\(durability)")
    #expect(scratch.ledger.syncs.objects == 0 && scratch.ledger.syncs.references == 0)
    #expect(try scratch.git("rev-parse", "web/staging").trimmed == commit.hex)
    #expect(try scratch.git("fsck", "--strict").status == 0)
  }

  @Test func packingSyncsBeforeDeletingLooseCopies() throws {
    let scratch = try ScratchLedger()
    try scratch.ledger.appendTestEvent(branch: "web/staging", message: "one")
    let before = scratch.ledger.syncs.objects
    try scratch.ledger.pack()
    #expect(scratch.ledger.syncs.objects == before + 1)
    #expect(try scratch.git("fsck", "--strict").status == 0)
  }
}
