import Foundation

/// The result of one changing command (deploy, promote, rollback, verify), as printed by the CLI.
public struct OperationReport: Sendable, Codable {
  /// The command: `deploy`, `promote`, `rollback` or `verify`.
  public var command: String
  /// The pipeline's name.
  public var pipeline: String
  /// The environment changed.
  public var environment: String
  /// How the command ended; `exitCode` is the documented exit code for it.
  public var outcome: EventOutcome
  /// The documented exit code: 0, 3, 4, 5 or 6.
  public var exitCode: Int32
  /// The release the command was about.
  public var release: Release?
  /// What ran before, and what runs now.
  public var previous: Release?
  /// What runs now: the new release, or the one rolled back to.
  public var current: Release?
  /// One human line: what happened and, on failure, what to do next.
  public var summary: String
  /// The checks run, in order: preflight, the first verify, the failing round of a watch window (passing rounds are
  /// only counted on the progress stream), and verify after an automatic rollback.
  public var checks: [CheckResult]
  /// The hooks run, in order, with their results.
  public var hooks: [HookRun]
  /// Ledger commits written, oldest first.
  public var commits: [ObjectID]
  /// Warnings worth a human's attention (a secret whose fingerprint changed, a hook that failed…).
  public var warnings: [String]
}
