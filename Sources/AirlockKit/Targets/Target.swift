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
///
/// Switch on `code` with `case .unmanaged:` for the codes you handle and a `default:` for the rest: `Code` is a
/// struct, so a code added later breaks no caller.
public struct TargetError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; compare with `==` or match with `case .io:`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum _Code: String, Hashable, Sendable {
      case unmanaged, missingRelease, io
    }

    private var code: _Code

    private init(_ code: _Code) {
      self.code = code
    }

    /// The target is in a state Airlock did not make (a `current` that is not its symlink into `releases/`):
    /// `status` reports it, and `verify`, `deploy`, `promote` and `rollback` refuse it before anything changes.
    public static let unmanaged = Code(.unmanaged)
    /// The release to switch to is not (completely) on the target.
    public static let missingRelease = Code(.missingRelease)
    /// The file system or the host refused: permissions, a full disk, a failed rename or write.
    public static let io = Code(.io)

    /// The code's name, e.g. `unmanaged`.
    public var description: String { code.rawValue }
  }

  /// The kind of failure.
  public let code: Code
  /// What happened, on which path or host, and what to do next.
  public let message: String

  /// Whether the target is in a state Airlock did not make: the same as `code == .unmanaged`.
  public var isUnmanaged: Bool { code == .unmanaged }

  /// Makes an error; `message` names the path or host and the next step.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The same as `message`.
  public var description: String { message }
}
