/// Why an Airlock operation did not complete. Each code maps to one documented exit code.
///
/// Switch on `code` with `case .conflict:` for the codes you handle and a `default:` for the rest: `Code` is a
/// struct, so a code added later breaks no caller.
public struct AirlockError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; compare with `==` or match with `case .blocked:`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum _Code: String, Hashable, Sendable {
      case unexpected, invalidInput, blocked, conflict, aborted
    }

    private var code: _Code

    private init(_ code: _Code) {
      self.code = code
    }

    /// Unexpected failure: I/O, a corrupt ledger, a bug (exit 1).
    public static let unexpected = Code(.unexpected)
    /// The pipeline, the arguments or an input (artifact, label) is invalid (exit 2).
    public static let invalidInput = Code(.invalidInput)
    /// A preflight check, a hook or a promotion rule refused the change; nothing changed (exit 3).
    public static let blocked = Code(.blocked)
    /// The environment is locked, or another change won the race (exit 6).
    public static let conflict = Code(.conflict)
    /// A signal stopped the run; what it did so far is recorded (exit 130 for SIGINT, 143 for SIGTERM).
    public static let aborted = Code(.aborted)

    /// The code's name, e.g. `invalidInput`.
    public var description: String { code.rawValue }

    /// The documented exit code of failures of this kind.
    var exitStatus: ExitStatus {
      switch code {
      case .unexpected: return .unexpected
      case .invalidInput: return .invalid
      case .blocked: return .blocked
      case .conflict: return .conflict
      case .aborted: return .interrupted
      }
    }
  }

  /// The kind of failure.
  public let code: Code
  /// One line saying what happened and what to do next.
  public let message: String

  /// Makes an error; `message` says what happened, where, and what to do next.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The same as `message`.
  public var description: String { message }

  /// The documented exit code for this failure.
  public var exitCode: Int32 { code.exitStatus.rawValue }

  /// Whether `error` means another runner won: an `AirlockError` `.conflict` (a lock, a lease, a lost race) or a
  /// `LedgerError` `.concurrentUpdate` (a compare-and-swap on a ref that lost). Both exit 6.
  static func isConflict(_ error: any Error) -> Bool {
    (error as? AirlockError)?.code == .conflict || (error as? LedgerError)?.code == .concurrentUpdate
  }
}

extension AirlockError {
  /// `reference` is neither a label nor a unique id prefix of a release of `pipeline`; the message lists the
  /// `known` labels, newest first (exit 2).
  static func noRelease(_ reference: String, in pipeline: String, known: [String]) -> AirlockError {
    AirlockError(
      .invalidInput,
      "no release '\(reference)' in pipeline \(pipeline)"
        + (known.isEmpty ? " (it has none yet)" : Suggestion.listing(known, for: reference, lead: "newest first")))
  }

  /// `pipeline` has no environment `name`; the message lists the `known` ones (exit 2).
  static func noEnvironment(_ name: String, in pipeline: String, known: [String]) -> AirlockError {
    AirlockError(
      .invalidInput, "pipeline \(pipeline) has no environment '\(name)'" + Suggestion.listing(known, for: name))
  }

  /// Why a promotion from `source` has nothing to take: the refusal `plan` reports, and the start of `promote`'s.
  static func nothingVerified(in source: String) -> String {
    "nothing has been verified in \(source) yet"
  }
}
