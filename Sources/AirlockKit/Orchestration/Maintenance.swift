import Foundation

/// What `airlock ledger gc` did, and what it found wrong.
public struct LedgerMaintenanceReport: Sendable, Codable {
  /// The ledger's path.
  public var ledger: String
  /// Bytes on disk before packing.
  public var bytesBefore: Int64
  /// Bytes on disk after packing.
  public var bytesAfter: Int64
  /// Lock files a crashed writer left behind, each with how to clear it.
  public var staleLocks: [String]
}

extension Orchestrator {
  /// Lock files older than a minute under the ledger: a writer crashed while holding them, and libgit2 will refuse
  /// to move those refs until they are removed. Each entry says how to clear it.
  public func staleLedgerLocks(now: Date = Date()) -> [String] {
    ledger.ledger.staleLockFiles(olderThan: 60, now: now).map { file in
      "stale lock file \(file.path) left by a crashed writer; when no airlock or git runs on this ledger, "
        + "clear it with: rm '\(file.path)'"
    }
  }

  /// Packs the ledger (one pack, packed refs, loose copies removed) and reports sizes and stale locks.
  ///
  /// Safe while other runs append: packing only adds a pack and removes loose objects the pack now holds.
  public func maintainLedger() throws -> LedgerMaintenanceReport {
    let stale = staleLedgerLocks()
    let (before, after) = try ledger.ledger.pack()
    return LedgerMaintenanceReport(
      ledger: ledger.ledger.url.path, bytesBefore: before, bytesAfter: after, staleLocks: stale)
  }
}
