/// What went wrong on a target. Names the path or host and what to do next.
///
/// Switch on `code` with `case .unmanaged:` for the codes you handle and a `default:` for the rest: `Code` is a
/// struct, so a code added later breaks no caller.
public struct TargetError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; compare with `==` or match with `case .io:`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum _Code: String, Hashable, Sendable {
      case unmanaged, missingRelease, io, unreachable, applyFailed, unknownState
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
    /// A host of the target could not be reached: refused, timed out, or its host key is unknown or changed.
    public static let unreachable = Code(.unreachable)
    /// The kind's own program that makes a release live (a `command` target's `apply`) failed: the release counts
    /// as switched and failed, so the engine records a failed check and applies the failure policy.
    public static let applyFailed = Code(.applyFailed)
    /// The target cannot tell what runs (a `command` target's `current` failed): `status` reports why, and a change
    /// treats what runs as not the ledger's release, so it converges by applying again.
    public static let unknownState = Code(.unknownState)

    /// The code's name, e.g. `unmanaged`.
    public var description: String { code.rawValue }
  }

  /// The kind of failure.
  public let code: Code
  /// What happened, on which path or host, and what to do next.
  public let message: String

  /// Makes an error; `message` names the path or host and the next step.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The same as `message`.
  public var description: String { message }
}
