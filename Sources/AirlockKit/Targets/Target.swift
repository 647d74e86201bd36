import Foundation

/// Where an environment's releases live — one host or a fleet — and how a release becomes current on them.
///
/// The engine drives every switch the same way, whatever the kind:
/// 1. `currentVersion()` says what runs now (a state Airlock did not make throws `TargetError` `.unmanaged`, and
///    the command is refused before anything changes).
/// 2. For each step of `steps`, in order: `install` the release on the step's hosts, then `activate` it on them,
///    then run `start` and the verify checks with `{host}` standing for the hosts switched so far. The first step
///    that fails stops the rollout; the failure policy then switches the hosts back, or leaves them (`halt`).
/// 3. `prune` applies retention once the release is verified.
///
/// `install` and `activate` answer one `HostSwitch` per host asked for, so a fleet can report some hosts switched
/// and others not (unreachable, a full disk); they throw only when nothing was attempted anywhere. A one-host
/// target answers with one outcome. What a kind adds beyond that — an ssh fleet's canary and rolling batches, a
/// command target that runs the user's `apply` in the release folder — lives in the kind: the batches are its
/// `steps`, the user command runs in its `activate` with `SwitchContext.environment`.
///
/// Implementations keep each release folder complete-or-absent and switch atomically on each host, so a process
/// killed at any point leaves every host on a complete release. A library user adds a kind through `TargetKinds`.
public protocol Target: Sendable {
  /// The host names, in rollout order; checks substitute them for `{host}`, one probe series per host.
  var hosts: [String] { get }
  /// How a switch proceeds: the hosts of each step, switched in parallel and verified before the next step starts.
  /// Every host is in exactly one step. A target switched in one go returns one step holding every host.
  var steps: [SwitchStep] { get }
  /// The label `current` points at, or `nil` when nothing was ever switched. A fleet whose hosts disagree (left
  /// mixed by a crash) answers the label of its first host; `currentVersions()` names each.
  ///
  /// Read while holding the environment's lease and by `status`, so it must answer promptly; it throws
  /// `TargetError` `.unmanaged` for a state Airlock did not make.
  func currentVersion() throws -> String?
  /// The label each host's `current` points at, in `hosts` order, for a report of a mixed fleet.
  func currentVersions() throws -> [HostVersion]
  /// The label Airlock itself last switched to, for a kind that keeps it apart from what `currentVersion()` reports
  /// (a `command` target's bookkeeping beside its own `current` program); the default is `currentVersion()`. A
  /// rollback reads it to learn which release it leaves, so restoring service never waits on the target's program.
  func switchedVersion() throws -> String?
  /// Whether the release folder for `version` is complete on the target.
  func hasRelease(_ version: String) -> Bool
  /// The local folder a release runs from: `start` and `command` checks run there, and a release installed for a
  /// remote target is staged there first.
  func releaseDirectory(_ version: String) -> URL
  /// Makes the release folder complete on each of `hosts`: `export` fills an empty folder with the artifact, then
  /// the config file is written (mode 0600) beside the mark that records the release's tree id.
  ///
  /// A release folder already there is reused (only its config replaced) when its mark shows the same tree; one
  /// without a mark, or with another tree (after a ledger reset, or another pipeline's), is exported afresh.
  /// Returns one outcome per host, in the order given; throws only when nothing was attempted on any host.
  func install(
    _ release: Release, configText: String, on hosts: [String], export: (URL) throws -> Void
  ) async throws -> [HostSwitch]
  /// Makes `version` the one that runs on each of `hosts` (an atomic switch of `current` on each), with the
  /// process environment of `context` for anything the kind runs. Returns one outcome per host, in the order
  /// given; throws only when nothing was attempted on any host.
  func activate(_ version: String, on hosts: [String], context: SwitchContext) async throws -> [HostSwitch]
  /// Deletes releases beyond the newest `keep` on every host, never `current` nor one in `protecting`; returns the
  /// deleted labels.
  func prune(keep: Int, protecting: Set<String>) throws -> [String]
  /// Gets ready for one command before anything is read or sent (an ssh fleet opens one connection per host) and
  /// answers the hosts that cannot be reached, each with why. `progress` receives the kind's own lines for the
  /// rest of the command.
  func connect(progress: @escaping @Sendable (String) -> Void) async -> [String: String]
  /// Ends what `connect` opened; called once the command is done with the target, on every path.
  func disconnect()
  /// Where `start` and `command` checks run: `nil` for this machine, in `releaseDirectory`; a fleet answers a runner
  /// that runs them on each host, in the release folder there.
  var hostRunner: (any HostRunner)? { get }
}

/// Runs a program on one host of a target, in a release folder there, with the release's config in its environment.
public protocol HostRunner: Sendable {
  /// Runs `arguments` (a program and its arguments, never split by a shell) on `host` in `directory`, with the
  /// release's `.airlock/config.env` and `environment` in its environment, bounded by `timeout`.
  func run(
    _ arguments: [String], on host: String, in directory: String, environment: [String: String], timeout: Duration?
  ) async -> ProcessResult
}

extension Target {
  /// One step of every host: the whole target switched in one go.
  public var steps: [SwitchStep] { [SwitchStep(hosts: hosts)] }

  /// What `currentVersion()` says: the kind keeps no record of its own.
  public func switchedVersion() throws -> String? { try currentVersion() }

  /// Nothing to open: every host is reachable.
  public func connect(progress: @escaping @Sendable (String) -> Void) async -> [String: String] { [:] }

  /// Nothing to close.
  public func disconnect() {}

  /// Processes run on this machine.
  public var hostRunner: (any HostRunner)? { nil }

  /// Every host reporting `currentVersion()`: right for a target whose hosts share one `current`.
  public func currentVersions() throws -> [HostVersion] {
    let version = try currentVersion()
    return hosts.map { HostVersion(host: $0, version: version) }
  }
}

/// The hosts one step of a switch covers; a step's hosts switch in parallel and are verified together.
public struct SwitchStep: Sendable, Hashable {
  /// The hosts of this step, in rollout order.
  public var hosts: [String]

  /// A step switching `hosts`.
  public init(hosts: [String]) {
    self.hosts = hosts
  }
}

/// What `install` or `activate` did on one host.
public struct HostSwitch: Sendable, CustomStringConvertible {
  /// The host, as the target names it in `hosts`.
  public let host: String
  /// Why the host failed, naming the host's path and what to do next; `nil` when it succeeded.
  public let failure: TargetError?

  /// The host succeeded.
  public static func succeeded(_ host: String) -> HostSwitch { HostSwitch(host: host, failure: nil) }

  /// The host failed with `error`.
  public static func failed(_ host: String, _ error: TargetError) -> HostSwitch {
    HostSwitch(host: host, failure: error)
  }

  /// Whether the host succeeded.
  public var succeeded: Bool { failure == nil }

  /// `web1: ok`, or `web1: ` and what went wrong.
  public var description: String { "\(host): \(failure.map(\.message) ?? "ok")" }

  /// The failure of `outcomes`, or `nil` when every host succeeded: a lone host's own error, else one error naming
  /// each failed host (with the first failure's code).
  public static func failure(of outcomes: [HostSwitch]) -> TargetError? {
    let failed = outcomes.filter { !$0.succeeded }
    guard let first = failed.first?.failure else { return nil }
    if outcomes.count == 1 { return first }
    return TargetError(
      first.code,
      "\(failed.count) of \(outcomes.count) hosts failed: " + failed.map(\.description).joined(separator: "; "))
  }
}

/// The label one host's `current` points at.
public struct HostVersion: Sendable, Hashable, Codable {
  /// The host, as the target names it in `hosts`.
  public var host: String
  /// The label, or `nil` when nothing was ever switched there (or the host could not be read).
  public var version: String?
  /// Why the host's `current` could not be read (unreachable, or a state Airlock did not make); `nil` when it was.
  public var problem: String?

  /// The host `host` running `version`, or whose state could not be read because of `problem`.
  public init(host: String, version: String?, problem: String? = nil) {
    self.host = host
    self.version = version
    self.problem = problem
  }
}

/// What a switch may need besides the release: the process environment of anything the target runs for it (a
/// command target's `apply`, an ssh fleet's remote steps), the runner that starts those processes, and where
/// progress lines go.
public struct SwitchContext: Sendable {
  /// The config, the secrets' values and the `AIRLOCK_*` variables, as `start` gets them.
  public var environment: [String: String]
  /// Starts processes without a shell, bounded by a timeout.
  public var runner: ProcessRunner
  /// Receives one human line per step worth telling (stderr for the CLI).
  public var progress: @Sendable (String) -> Void
  /// Replaces the secrets' values in text that is shown or recorded (a program's output).
  public var redact: @Sendable (String) -> String

  /// A context for one switch.
  public init(
    environment: [String: String], runner: ProcessRunner = ProcessRunner(),
    progress: @escaping @Sendable (String) -> Void = { _ in },
    redact: @escaping @Sendable (String) -> String = { $0 }
  ) {
    self.environment = environment
    self.runner = runner
    self.progress = progress
    self.redact = redact
  }
}
