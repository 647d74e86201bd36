import Foundation

/// What went wrong in the ledger.
///
/// Switch on `code` to decide what to do (for example `.concurrentUpdate` means another run won the race: exit 6);
/// show `description` to people: it says what happened, in which ledger or ref, and what to do next.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
  /// The kind of failure; compare with `==` or match with `case .notFound:`, with a `default:` for the rest.
  ///
  /// A struct over a private enum, so a code added later breaks no caller's `switch`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum _Code: String, Hashable, Sendable {
      case notFound, concurrentUpdate, alreadyExists, invalidArtifact, invalidInput, corrupt, io, remote, git
    }

    private var code: _Code

    private init(_ code: _Code) {
      self.code = code
    }

    /// The ledger, ref, object or path is not there (also: a hex prefix that matches several objects).
    public static let notFound = Code(.notFound)
    /// A compare-and-swap lost: the ref moved, appeared, disappeared or was locked by another writer (exit 6).
    public static let concurrentUpdate = Code(.concurrentUpdate)
    /// Something that must be created fresh exists already (e.g. a non-empty export directory).
    public static let alreadyExists = Code(.alreadyExists)
    /// An artifact or tree cannot be stored or exported (special files, unsafe entry names, bad names) (exit 2).
    public static let invalidArtifact = Code(.invalidArtifact)
    /// What the caller asked for cannot be: an invalid or already bound version label, an ambiguous release
    /// prefix, an `AIRLOCK_FSYNC` value that means nothing (exit 2).
    public static let invalidInput = Code(.invalidInput)
    /// The ledger holds something git cannot read or that no honest writer produces.
    public static let corrupt = Code(.corrupt)
    /// The file system refused (permissions, disk full, missing folder).
    public static let io = Code(.io)
    /// The shared ledger cannot be reached, or refused a push for another reason than a lost race.
    public static let remote = Code(.remote)
    /// libgit2 failed for another reason; the message carries libgit2's own words.
    public static let git = Code(.git)

    /// The code's name, e.g. `concurrentUpdate`.
    public var description: String { code.rawValue }

    /// The documented exit code of failures of this kind: 2 for bad input, 6 for a lost race, else 1.
    var exitStatus: ExitStatus {
      switch code {
      case .invalidArtifact, .invalidInput: return .invalid
      case .concurrentUpdate: return .conflict
      case .notFound, .alreadyExists, .corrupt, .io, .remote, .git: return .unexpected
      }
    }

    /// The next step that fits most failures of this kind, appended to messages built from libgit2 errors.
    func advice(ledger: String) -> String {
      switch code {
      case .notFound: return "check the name or id; `git -C \(ledger) log --all --oneline` shows what the ledger holds"
      case .concurrentUpdate: return "another Airlock run changed it at the same time; re-run to act on the new state"
      case .alreadyExists: return "remove it or choose another name"
      case .invalidArtifact: return "remove or replace that entry and try again"
      case .invalidInput: return "correct the value and run the command again"
      case .corrupt:
        return "run `git -C \(ledger) fsck --strict` and restore the ledger from a clone or backup if it fails"
      case .io: return "check free space and permissions under \(ledger)"
      case .remote: return "check that the shared ledger is reachable from here, then run the command again"
      case .git: return "run `git -C \(ledger) fsck --strict` to check the ledger, and report this if it persists"
      }
    }
  }

  /// The kind of failure.
  public let code: Code
  /// The whole human-readable explanation: what happened, where, and what to do next.
  public let message: String

  /// Makes an error; `message` should name the ledger path or ref and the next step.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The same as `message`.
  public var description: String { message }

  /// The documented exit code: 2 for bad input (an artifact or label), 6 for a lost race, else 1.
  public var exitCode: Int32 { code.exitStatus.rawValue }
}

extension LedgerError {
  /// The message of a sync that failed before `action`, which therefore did not happen.
  static func syncFailed(ledger: String, before action: String, reason: String) -> String {
    "cannot sync ledger \(ledger) to disk before \(action): \(reason); nothing was changed. Check the disk "
      + "(`dmesg`, free space), or set AIRLOCK_FSYNC=0 for a throwaway ledger"
  }

  /// The message for a ledger file (`state.json`, `release.json`…) of a commit that does not decode.
  ///
  /// `branch` is the environment branch when known; then the message says how to move it back past the commit.
  static func unreadable(
    _ file: String, commit: ObjectID, branch: String?, ledger: String, reason: String
  ) -> String {
    let undo =
      branch.map { branch in
        "; if that commit is bad, move \(branch) back to its parent with `git -C \(ledger) update-ref "
          + "refs/heads/\(branch) \(commit.short)~1 \(commit.short)`, or restore the ledger from a clone or backup"
      } ?? "; restore the ledger from a clone or backup if the commit is bad"
    return "ledger commit \(commit.short)\(branch.map { " on \($0)" } ?? ""): \(file) cannot be read: \(reason). "
      + "It was not written by Airlock or is damaged: see it with `git -C \(ledger) show \(commit.short):\(file)`"
      + undo
  }
}

extension LedgerError {
  /// The message for an `AIRLOCK_FSYNC` value that names no durability.
  static func durabilityNotUnderstood(_ value: String) -> String {
    "AIRLOCK_FSYNC=\(value) is not understood: use batch (the default: one sync per event), 0 (no sync, for "
      + "throwaway ledgers) or 1 / full (libgit2 fsyncs every file); nothing was done"
  }

  /// The message for a commit that lacks a file (or the artifact) every Airlock commit of its kind has.
  ///
  /// `place` says which ref the commit was reached from (`on web/staging`, `of tag web/1.0`), when known.
  static func missing(_ file: String, commit: ObjectID, place: String?, ledger: String) -> String {
    "ledger commit \(commit.short)\(place.map { " \($0)" } ?? "") has no \(file): it was not written by Airlock or "
      + "is damaged; \(Code.corrupt.advice(ledger: ledger))"
  }

  /// The message for a fetch from the shared ledger that failed.
  static func unreachable(_ remote: String, reason: String) -> String {
    "cannot reach the shared ledger \(remote): \(reason)"
  }

  /// The message for a push of `what` to the shared ledger that failed for another reason than a lost race.
  static func notPublished(_ what: String, to remote: String, reason: String) -> String {
    "cannot publish \(what) to the shared ledger \(remote): \(reason)"
  }

  /// The message for a push the shared ledger rejected because another runner moved the refs first.
  static func publishRejected(_ what: String, by remote: String) -> String {
    "another runner changed \(what) in the shared ledger \(remote) first; this run's change was not published"
  }

  /// The message for an event whose compare-and-swap lost: `environment`'s branch moved while the run went on.
  static func recordedMeanwhile(_ environment: String) -> String {
    "another change to \(environment) was recorded while this one ran; nothing of this one was recorded"
  }

  /// The message for a `--version` label already bound to another artifact tree.
  static func labelBound(_ label: String, to bound: ObjectID, not tree: ObjectID) -> String {
    "version \(label) is already bound to artifact \(bound.short), not \(tree.short); labels are immutable: "
      + "choose a new --version"
  }

  /// The message for a label another runner bound to another artifact while this run bound it.
  static func labelJustBound(_ label: String) -> String {
    "version \(label) was just bound to another artifact; choose a new --version"
  }

  /// The message for a release id prefix that several artifacts share.
  static func ambiguousPrefix(_ reference: String, matches: Int) -> String {
    "release prefix \(reference) is ambiguous: \(matches) artifacts match; give more hex digits or the label"
  }
}
