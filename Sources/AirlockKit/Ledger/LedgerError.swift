import Foundation

/// What went wrong in the ledger.
///
/// Switch on `code` to decide what to do (for example `.concurrentUpdate` means another run won the race: exit 6);
/// show `description` to people: it says what happened, in which ledger or ref, and what to do next.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
  /// The kind of failure. Match the cases you handle and treat the rest as unexpected.
  public enum Code: Sendable, Hashable {
    /// The ledger, ref, object or path is not there (also: a hex prefix that matches several objects).
    case notFound
    /// A compare-and-swap lost: the ref moved, appeared, disappeared or was locked by another writer.
    case concurrentUpdate
    /// Something that must be created fresh exists already (e.g. a non-empty export directory).
    case alreadyExists
    /// An artifact or tree cannot be stored or exported (special files, unsafe entry names, bad names).
    case invalidArtifact
    /// The ledger holds something git cannot read or that no honest writer produces.
    case corrupt
    /// The file system refused (permissions, disk full, missing folder).
    case io
    /// libgit2 failed for another reason; the message carries libgit2's own words.
    case git
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

  /// The documented exit code: 2 for an artifact that cannot be stored (bad input), 6 for a lost race, else 1.
  public var exitCode: Int32 {
    switch code {
    case .invalidArtifact: return 2
    case .concurrentUpdate: return 6
    default: return 1
    }
  }
}

extension LedgerError.Code {
  /// The next step that fits most failures of this kind, appended to messages built from libgit2 errors.
  func advice(ledger: String) -> String {
    switch self {
    case .notFound: return "check the name or id; `git -C \(ledger) log --all --oneline` shows what the ledger holds"
    case .concurrentUpdate: return "another Airlock run changed it at the same time; re-run to act on the new state"
    case .alreadyExists: return "remove it or choose another name"
    case .invalidArtifact: return "remove or replace that entry and try again"
    case .corrupt:
      return "run `git -C \(ledger) fsck --strict` and restore the ledger from a clone or backup if it fails"
    case .io: return "check free space and permissions under \(ledger)"
    case .git: return "run `git -C \(ledger) fsck --strict` to check the ledger, and report this if it persists"
    }
  }
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
