import Foundation

/// Where an environment's releases live and how one becomes current.
///
/// Implementations keep `releases/<label>/` complete-or-absent and switch `current` atomically, so a process killed
/// at any point leaves `current` pointing at a complete release.
public protocol Target: Sendable {
  /// Host names that checks substitute for `{host}`.
  var hosts: [String] { get }
  /// The label `current` points at, or `nil` when nothing was ever switched.
  func currentVersion() throws -> String?
  /// Whether the release directory for `version` is complete on the target.
  func hasRelease(_ version: String) -> Bool
  /// The directory a release runs from; commands, checks and `start` run there.
  func releaseDirectory(_ version: String) -> URL
  /// Makes `releases/<label>/` complete: `export` fills an empty directory with the artifact, then the config
  /// file is written (mode 0600) beside the mark that records the release's tree id.
  ///
  /// A release folder already on disk is reused (only its config replaced) when its mark shows the same tree;
  /// one without a mark, or with another tree (after a ledger reset, or another pipeline's), is exported afresh.
  func install(_ release: Release, configText: String, export: (URL) throws -> Void) throws
  /// Points `current` at `version` in one atomic rename.
  func activate(_ version: String) throws
  /// Deletes releases beyond the newest `keep`, never one in `protecting`; returns the deleted labels.
  func prune(keep: Int, protecting: Set<String>) throws -> [String]
}

/// What went wrong on a target. Names the path or host and what to do next.
public struct TargetError: Error, Sendable, CustomStringConvertible {
  public let message: String
  /// Whether the target is in a state Airlock did not make (a `current` that is not its symlink into
  /// `releases/`): read-only commands report it, `verify` refuses, and a switch replaces a foreign symlink.
  public let isUnmanaged: Bool

  public init(_ message: String, unmanaged: Bool = false) {
    self.message = message
    self.isUnmanaged = unmanaged
  }

  public var description: String { message }
}
