import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `heartbeat` check: passes when a file exists and was modified at most `maxAge` ago.
///
/// Background workers touch the file while they make progress, so a stale file catches a worker that is running
/// but stuck. Age is measured against the context's clock. A relative path resolves against the release directory;
/// placeholders are substituted. The file is read on this machine.
public struct HeartbeatCheck: ProbingCheck {
  /// The check's name in the pipeline.
  public var name: String
  /// Whether a failure blocks promotion without triggering a rollback.
  public var isDependency: Bool
  /// The retry quorum.
  public var policy: ProbePolicy
  /// The file's path, with placeholders.
  public var path: String
  /// The oldest modification time that still counts as alive.
  public var maxAge: TimeSpan

  /// Always `heartbeat`.
  public var kind: String { "heartbeat" }

  /// Creates a heartbeat check.
  public init(
    name: String, path: String, maxAge: TimeSpan, policy: ProbePolicy = ProbePolicy(), isDependency: Bool = false
  ) {
    self.name = name
    self.path = path
    self.maxAge = maxAge
    self.policy = policy
    self.isDependency = isDependency
  }

  /// Looks at the file's modification time once.
  ///
  /// `missing` and `stale by …` (how much older than `maxAge` the file is) are failures; a file that cannot be
  /// examined (permission denied) is an error, since it says nothing about the worker.
  public func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    let substituted = context.substitute(path, host: host)
    let file: String
    if substituted.hasPrefix("/") {
      file = substituted
    } else if let base = context.releaseDirectory {
      file = base.appendingPathComponent(substituted).path
    } else {
      return (.error, "relative path without a release directory: \(substituted)")
    }
    var info = stat()
    guard stat(file, &info) == 0 else {
      switch errno {
      case ENOENT, ENOTDIR: return (.failed, "missing")
      case EACCES: return (.error, "permission denied: \(file)")
      default: return (.error, "cannot examine \(file): \(String(cString: strerror(errno)))")
      }
    }
    #if canImport(Darwin)
      let modified = info.st_mtimespec
    #else
      let modified = info.st_mtim
    #endif
    let modifiedAt = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
    let age = context.clock.now().timeIntervalSince(modifiedAt)
    let excess = age - maxAge.seconds
    guard excess <= 0 else { return (.failed, "stale by \(Self.format(seconds: excess))") }
    return (.ok, "ok")
  }

  /// `95s`, `12m5s`, `3h2m`: whole seconds rounded up, so a stale file never reads as stale by 0s.
  static func format(seconds: Double) -> String {
    let total = Int(seconds.rounded(.up))
    if total < 120 { return "\(total)s" }
    if total < 7200 { return total % 60 == 0 ? "\(total / 60)m" : "\(total / 60)m\(total % 60)s" }
    let minutes = total / 60
    return minutes % 60 == 0 ? "\(minutes / 60)h" : "\(minutes / 60)h\(minutes % 60)m"
  }
}
