import AirlockKit
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Passes when the file system of the release directory has at least `bytes` free, so a release that would fill
/// the disk is caught by its verify, not by the next write.
///
/// A `ProbingCheck`: it implements one probe, and AirlockKit adds the retry quorum, the host share, timeouts and
/// the per-probe record in `checks.json`.
struct MinFreeSpaceCheck: ProbingCheck {
  /// The key pipelines name the kind by.
  static let key = "min-free-space"

  let name: String
  let bytes: UInt64
  let policy: ProbePolicy
  let isDependency: Bool

  var kind: String { Self.key }

  /// The kind, registered under `key`: `min-free-space: release` checks the release directory, and the option
  /// `bytes` says how much must be free.
  static let registration = CustomCheckKind(key: key, options: ["bytes"]) { definition in
    guard definition.subject == "release" else {
      throw CheckError("'\(key): \(definition.subject)': only `release` (the release directory) is supported")
    }
    guard let text = definition.options["bytes"], let bytes = UInt64(text) else {
      throw CheckError("'\(definition.name)' needs `bytes:` as a whole number of bytes")
    }
    return MinFreeSpaceCheck(
      name: definition.name, bytes: bytes, policy: definition.policy, isDependency: definition.dependency)
  }

  func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    guard let directory = context.releaseDirectory else { return (.error, "no release directory to inspect") }
    var info = statvfs()
    guard statvfs(directory.path, &info) == 0 else {
      return (.error, "statvfs \(directory.path): \(String(cString: strerror(errno)))")
    }
    let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
    return free >= bytes ? (.ok, "\(free) bytes free") : (.failed, "only \(free) bytes free, \(bytes) needed")
  }
}

/// Why a `min-free-space` definition cannot be built.
struct CheckError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
