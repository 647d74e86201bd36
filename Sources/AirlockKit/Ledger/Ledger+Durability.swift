internal import CGit2
import Foundation
import Synchronization

/// How hard a ledger write works to survive a power cut.
public enum LedgerDurability: String, Sendable, CaseIterable {
  /// Nothing is synced. Fastest; a power cut can lose recent events or leave damaged objects. Throwaway ledgers.
  case none
  /// The default, after git's `core.fsyncMethod=batch`: objects are written without fsync, the file system is
  /// synced once before a ref moves (so no ref ever points at objects still in the page cache), and the moved ref's
  /// file and folder are synced after it.
  case batch
  /// libgit2 fsyncs every object file, its folder and every ref it writes. A process-wide libgit2 switch: it is on
  /// while `Ledger.defaultDurability` or any open ledger's `durability` is `.full`.
  case full

  /// The durability `AIRLOCK_FSYNC` asks for: unset, empty or `batch` → `.batch`; `0`, `off` or `none` → `.none`;
  /// `1`, `on` or `full` → `.full`. Anything else throws a `LedgerError` `.invalidInput` that lists the values.
  public init(environmentValue value: String?) throws {
    switch value?.lowercased() {
    case nil, "", "batch": self = .batch
    case "0", "off", "none": self = .none
    case "1", "on", "full": self = .full
    case let other?:
      throw LedgerError(.invalidInput, LedgerError.durabilityNotUnderstood(other))
    }
  }
}

extension Ledger {
  /// The process-wide state behind `defaultDurability` and libgit2's fsync switch (`fsyncOn`: as last set).
  private static let durabilityState = Mutex(
    DurabilityState(defaultDurability: LedgerDurability.batch, fullLedgers: 0, fsyncOn: false))

  private struct DurabilityState {
    var defaultDurability: LedgerDurability
    var fullLedgers: Int
    var fsyncOn: Bool
  }

  /// The durability every ledger opened from now on starts with (`.batch` unless changed; the CLI sets it from
  /// `AIRLOCK_FSYNC`). Ledgers already open keep theirs.
  public static var defaultDurability: LedgerDurability {
    get { durabilityState.withLock { $0.defaultDurability } }
    set {
      durabilityState.withLock { state in
        state.defaultDurability = newValue
        applyLibgit2Fsync(&state)
      }
    }
  }

  /// Counts open ledgers in `.full` mode, so libgit2's process-wide fsync is on exactly while one needs it.
  static func noteFullDurability(from old: LedgerDurability, to new: LedgerDurability) {
    guard (old == .full) != (new == .full) else { return }
    durabilityState.withLock { state in
      state.fullLedgers += new == .full ? 1 : -1
      applyLibgit2Fsync(&state)
    }
  }

  private static func applyLibgit2Fsync(_ state: inout DurabilityState) {
    let wanted = state.defaultDurability == .full || state.fullLedgers > 0
    // Off is libgit2's own default: turning it off before it was ever turned on would only initialise libgit2
    // (which parses the system's CA bundle) in commands that never open a ledger, such as `airlock --help`.
    guard wanted != state.fsyncOn else { return }
    // Setting a known option cannot fail once libgit2 is initialised; an init failure resurfaces at `open`.
    guard (try? requireLibgit2()) != nil else { return }
    _ = airlock_git_enable_fsync_gitdir(wanted ? 1 : 0)
    state.fsyncOn = wanted
  }

  /// In `.batch` mode, syncs the file of the ref that just moved and the folder that names it.
  ///
  /// Best effort: the ref has moved and every reader sees the event, so a failure here is not reported as a
  /// failed write (the objects it points at were synced before it moved).
  func syncMovedReference(_ name: String) {
    guard durability == .batch else { return }
    let file = url.appendingPathComponent(name)
    _ = airlock_fsync_at(file.path)
    _ = airlock_fsync_at(file.deletingLastPathComponent().path)
    syncs.references += 1
  }

  /// In `.batch` mode, makes every object written so far durable before `action` (moving a ref, deleting loose
  /// copies of packed objects) depends on them.
  ///
  /// One syncfs(2) of the ledger's file system rather than an fsync per object: it covers every way an object
  /// arrives (blobs streamed from an artifact's files, packs) and costs one flush. A failure throws `.io` before
  /// `action`, so nothing is recorded.
  func syncObjects(before action: String) throws {
    guard durability == .batch else { return }
    guard airlock_syncfs_at(url.appendingPathComponent("objects").path) == 0 else {
      throw LedgerError(
        .io, LedgerError.syncFailed(ledger: path, before: action, reason: String(cString: strerror(errno))))
    }
    syncs.objects += 1
  }
}
