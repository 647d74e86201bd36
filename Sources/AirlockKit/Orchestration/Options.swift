import Foundation

/// Everything an operation takes from the world around it: who acts, the time, the process environment, where
/// progress goes. Injected so tests control time and can read progress.
public struct OperationOptions: Sendable {
  /// Who is making the change; the commit author of every event.
  public var actor: Signature
  /// The source of time for probes, quorum intervals and timestamps.
  public var clock: any AirlockClock
  /// The process environment: secrets are read from here, and `PATH`/`HOME` passed on to hooks and `start`.
  public var environment: [String: String]
  /// Receives one human progress line at a time (the CLI prints them on stderr).
  public var progress: @Sendable (String) -> Void
  /// Receives each step that can take more than a second as it begins and ends, so a terminal can show what is
  /// still running; the lines about the step still arrive on `progress`.
  public var steps: @Sendable (ProgressStep) -> Void
  /// Runs `start`, hooks and command checks.
  public var runner: ProcessRunner
  /// Bound on the `start` command.
  public var startTimeout: Duration
  /// Ship or promote a quarantined release anyway, or roll back to one.
  public var force: Bool
  /// How long a changing command waits for another run's lease on its environment before exit 6 (`--wait`);
  /// `nil` refuses at once. An incident lock is never waited for.
  public var leaseWait: TimeSpan?

  /// Options with the system clock, a fresh process runner and a 300 s bound on `start` unless given.
  public init(
    actor: Signature, clock: any AirlockClock = SystemClock(), environment: [String: String],
    progress: @escaping @Sendable (String) -> Void = { _ in },
    steps: @escaping @Sendable (ProgressStep) -> Void = { _ in }, runner: ProcessRunner = ProcessRunner(),
    startTimeout: Duration = .seconds(300), force: Bool = false, leaseWait: TimeSpan? = nil
  ) {
    self.actor = actor
    self.clock = clock
    self.environment = environment
    self.progress = progress
    self.steps = steps
    self.runner = runner
    self.startTimeout = startTimeout
    self.force = force
    self.leaseWait = leaseWait
  }

  /// The actor from `AIRLOCK_ACTOR`, else the person the CI job names (`CIRun`), else the git config's user, else
  /// the OS user (docs/ledger.md).
  public static func actor(from environment: [String: String], gitIdentity: Signature?) -> Signature {
    let host = HostName.current
    func signature(_ name: String) -> Signature {
      Signature(name: name, email: name.contains("@") ? name : "\(name)@\(host)")
    }
    if let name = environment["AIRLOCK_ACTOR"], !name.isEmpty { return signature(name) }
    if let name = CIRun.detect(in: environment)?.actor { return signature(name) }
    if let gitIdentity { return gitIdentity }
    return signature(environment["USER"] ?? environment["LOGNAME"] ?? NSUserName())
  }
}
