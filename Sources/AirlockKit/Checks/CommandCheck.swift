import Foundation

/// A `command` check: passes when the program exits 0 within the timeout.
///
/// The program runs without a shell (`/bin/sh -c '…'` is there for whoever wants one), in the release directory,
/// with the context's process environment (on each host, through the context's `hostRunner`, for a fleet); placeholders are substituted in every argument. On timeout its whole
/// process group is terminated. Output is not recorded in the probe, because it may echo configuration or secrets
/// and probes are written to the ledger.
public struct CommandCheck: ProbingCheck {
  /// The check's name in the pipeline.
  public var name: String
  /// Whether a failure blocks promotion without triggering a rollback.
  public var isDependency: Bool
  /// The retry quorum; `timeout` bounds each run of the program.
  public var policy: ProbePolicy
  /// The program and its arguments, with placeholders.
  public var arguments: [String]
  /// The runner; its `killGrace` is the pause between `SIGTERM` and `SIGKILL` after a timeout.
  public var runner: ProcessRunner

  /// Always `command`.
  public var kind: String { "command" }

  /// Creates a command check.
  public init(
    name: String, arguments: [String], policy: ProbePolicy = ProbePolicy(), isDependency: Bool = false,
    runner: ProcessRunner = ProcessRunner()
  ) {
    self.name = name
    self.arguments = arguments
    self.policy = policy
    self.isDependency = isDependency
    self.runner = runner
  }

  /// Runs the program once.
  public func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    let substituted = arguments.map { context.substitute($0, host: host) }
    let result: ProcessResult
    if let remote = context.hostRunner, let directory = context.releaseDirectory {
      result = await remote.run(
        substituted, on: host, in: directory.path, environment: context.processEnvironment,
        timeout: policy.timeout.duration)
      // ssh's own failure: the host could not be reached, which says the host is unhealthy, not the check.
      if result.termination == .exited(255) { return (.failed, "unreachable") }
    } else {
      result = await runner.run(
        substituted, in: context.releaseDirectory, environment: context.processEnvironment,
        timeout: policy.timeout.duration)
    }
    switch result.termination {
    case .exited(0): return (.ok, "ok")
    case .exited(let status): return (.failed, "exit \(status)")
    case .signaled(let signal): return (.failed, "signal \(signal)")
    case .timedOut: return (.failed, "timeout")
    case .failedToStart(let reason): return (.error, reason)
    }
  }
}
