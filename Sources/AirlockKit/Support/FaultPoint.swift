#if canImport(Glibc)
  import Glibc
#endif

/// Step boundaries where the test-only fault switch `AIRLOCK_FAULT=<point>` kills the process with SIGKILL.
///
/// Crash-recovery tests set it to prove that a run killed at any step leaves `current` on a complete release and
/// that the next command reports and converges. It does nothing unless the variable names the point.
public enum FaultPoint: String, Sendable, CaseIterable {
  case afterLease = "after-lease"
  case beforeExport = "before-export"
  case afterExport = "after-export"
  case afterSwitch = "after-switch"
  case afterStart = "after-start"
  case afterVerify = "after-verify"
  case beforeReferenceUpdate = "before-ref-update"
  case afterRecord = "after-record"

  /// Kills this process at once when `environment["AIRLOCK_FAULT"]` names this point.
  public func trip(_ environment: [String: String]) {
    if environment["AIRLOCK_FAULT"] == rawValue {
      kill(getpid(), SIGKILL)
    }
  }
}
