/// Why an Airlock operation did not complete. Each code maps to one documented exit code.
///
/// A struct with a nested `Code`, so new codes do not break callers that switch over the ones they know.
public struct AirlockError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: Sendable, Hashable {
    /// Unexpected failure: I/O, a corrupt ledger, a bug (exit 1).
    case unexpected
    /// The pipeline, the arguments or an input (artifact, label) is invalid (exit 2).
    case invalidInput
    /// A preflight check, a hook or a promotion rule refused the change; nothing changed (exit 3).
    case blocked
    /// The environment is locked, or another change won the race (exit 6).
    case conflict
    /// A signal stopped the run; what it did so far is recorded (exit 130 for SIGINT, 143 for SIGTERM).
    case aborted
  }

  /// The kind of failure.
  public let code: Code
  /// One line saying what happened and what to do next.
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }

  /// The documented exit code for this failure.
  public var exitCode: Int32 {
    switch code {
    case .unexpected: return 1
    case .invalidInput: return 2
    case .blocked: return 3
    case .conflict: return 6
    case .aborted: return 130
    }
  }
}
