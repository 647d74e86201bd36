#if canImport(Glibc)
  import Glibc
#endif

/// Step boundaries where the test-only fault switch `AIRLOCK_FAULT=<point>` kills the process with SIGKILL.
///
/// Crash-recovery tests set it to prove that a run killed at any step leaves `current` on a complete release and
/// that the next command reports and converges. It does nothing unless the variable names the point. Test-only,
/// so it is public behind `@_spi(Testing)`: `@_spi(Testing) import AirlockKit` to name the points.
@_spi(Testing) public enum FaultPoint: String, Sendable, CaseIterable {
  /// Right after the run took the environment's lease.
  case afterLease = "after-lease"
  /// Before the artifact is exported into `releases/<label>/`.
  case beforeExport = "before-export"
  /// After the export, before `current` is switched.
  case afterExport = "after-export"
  /// Right after `current` points at the new release.
  case afterSwitch = "after-switch"
  /// After the release's `start` command ran.
  case afterStart = "after-start"
  /// After verify's checks ran (and again after a watch window), before the outcome is recorded.
  case afterVerify = "after-verify"
  /// After the event commit is written, before the branch ref moves to it.
  case beforeReferenceUpdate = "before-ref-update"
  /// After the event is recorded, before the rest of the run (hooks, retention, giving the lease back).
  case afterRecord = "after-record"

  /// Kills this process at once when `environment["AIRLOCK_FAULT"]` names this point.
  public func trip(_ environment: [String: String]) {
    if environment["AIRLOCK_FAULT"] == rawValue {
      kill(getpid(), SIGKILL)
    }
  }
}
