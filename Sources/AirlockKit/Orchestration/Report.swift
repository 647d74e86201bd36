import Foundation

/// The result of one changing command (deploy, promote, rollback, verify), as printed by the CLI.
public struct OperationReport: Sendable, Codable {
  /// The changing command a report is about.
  public enum Command: String, Sendable, Codable, Hashable {
    case deploy, promote, rollback, verify
  }

  /// The command: `deploy`, `promote`, `rollback` or `verify`.
  public var command: Command
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

  /// The one place a report is built: its outcome, exit code and summary are the lifecycle transition's.
  init(
    _ command: Command, pipeline: String, environment: String, transition: Lifecycle.Transition, release: Release?,
    previous: Release?, current: Release?, checks: [CheckResult] = [], hooks: [HookRun] = [],
    commits: [ObjectID] = [], warnings: [String] = []
  ) {
    self.command = command
    self.pipeline = pipeline
    self.environment = environment
    self.outcome = transition.outcome
    self.exitCode = transition.exit.rawValue
    self.release = release
    self.previous = previous
    self.current = current
    self.summary = transition.summary
    self.checks = checks
    self.hooks = hooks
    self.commits = commits
    self.warnings = warnings
  }
}

extension OperationReport.Command {
  /// The command of a shipping event (`deploy` or `promote`).
  init(shipping event: EventKind) {
    self = event == .promote ? .promote : .deploy
  }
}
