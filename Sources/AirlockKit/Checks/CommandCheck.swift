import Foundation

/// A `command` check: passes when the program exits 0 within the timeout.
///
/// The program runs without a shell (`/bin/sh -c '…'` is there for whoever wants one), in the release directory,
/// with the context's process environment (on each host, through the context's `hostRunner`, for a fleet); placeholders are substituted in every argument. On timeout its whole
/// process group is terminated. A failing probe keeps the last lines of the program's output (stdout and stderr) as
/// its evidence, with secret values masked, so "release is broken" is shown and recorded rather than only `exit 2`.
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
    let finding = await examine(host: host, attempt: attempt, in: context)
    return (finding.outcome, finding.reason)
  }

  /// Runs the program once; a failure keeps the tail of its output.
  public func examine(host: String, attempt: Int, in context: CheckContext) async -> ProbeFinding {
    let substituted = arguments.map { context.substitute($0, host: host) }
    let result: ProcessResult
    if let remote = context.hostRunner, let directory = context.releaseDirectory {
      result = await remote.run(
        substituted, on: host, in: directory.path, environment: context.processEnvironment,
        timeout: policy.timeout.duration)
      // ssh's own failure: the host could not be reached, which says the host is unhealthy, not the check.
      if result.termination == .exited(255) {
        return ProbeFinding(.failed, "unreachable", evidence: ProbeFinding.tail(of: result.output))
      }
    } else {
      result = await runner.run(
        substituted, in: context.releaseDirectory, environment: context.processEnvironment,
        timeout: policy.timeout.duration)
    }
    let evidence = ProbeFinding.tail(of: result.output)
    switch result.termination {
    case .exited(0): return ProbeFinding(.ok, "ok")
    case .exited(let status): return ProbeFinding(.failed, "exit \(status)", evidence: evidence)
    case .signaled(let signal): return ProbeFinding(.failed, "signal \(signal)", evidence: evidence)
    case .timedOut: return ProbeFinding(.failed, "timeout", evidence: evidence)
    case .failedToStart(let reason): return ProbeFinding(.error, reason)
    }
  }
}
