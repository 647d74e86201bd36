import Foundation

/// A lifecycle point at which a hook runs.
public enum HookPoint: String, Sendable, CaseIterable {
  case preDeploy = "pre-deploy"
  case postDeploy = "post-deploy"
  case prePromote = "pre-promote"
  case postPromote = "post-promote"
  case preRollback = "pre-rollback"
  case postRollback = "post-rollback"
  case onFailure = "on-failure"

  /// Whether a failure of the hook blocks the change (exit 3) rather than being reported.
  public var blocks: Bool { rawValue.hasPrefix("pre-") }
}

/// What one hook run did.
public struct HookRun: Sendable, Codable, Hashable {
  /// The hook's file name, e.g. `post-deploy`.
  public var hook: String
  /// Whether it exited 0 within the timeout.
  public var succeeded: Bool
  /// `exit 0`, `exit 2`, `timeout`, `not executable`…
  public var reason: String
  /// The tail of what the hook printed.
  public var output: String
}

/// Finds and runs the executables in a pipeline's hooks folder.
///
/// Hooks get the `AIRLOCK_*` variables of docs/hooks.md and a minimal `PATH`/`HOME`/`LANG`, never config or secrets.
public struct Hooks: Sendable {
  /// The hooks folder; hooks that are absent are skipped.
  public let directory: URL
  /// Where hooks run: the project root.
  public let workingDirectory: URL
  /// Bound on each hook's run.
  public let timeout: Duration
  let runner: ProcessRunner

  /// Hooks from `directory`, run in `workingDirectory`, each bounded by `timeout`.
  public init(
    directory: URL, workingDirectory: URL, timeout: Duration = .seconds(300), runner: ProcessRunner = ProcessRunner()
  ) {
    self.directory = directory
    self.workingDirectory = workingDirectory
    self.timeout = timeout
    self.runner = runner
  }

  /// The variables a hook sees, one per event.
  public struct Event: Sendable {
    /// The pipeline's name (`AIRLOCK_PIPELINE`).
    public var pipeline: String
    /// The environment changed (`AIRLOCK_ENVIRONMENT`).
    public var environment: String
    /// What happened: `deploy`, `promote`, `rollback`… (`AIRLOCK_EVENT`).
    public var event: EventKind
    /// The release the event is about (`AIRLOCK_VERSION`, and its tree id as `AIRLOCK_RELEASE`), if any.
    public var release: Release?
    /// What ran before the event (`AIRLOCK_PREVIOUS_RELEASE`, its label), if anything.
    public var previous: Release?
    /// Who made the change (`AIRLOCK_ACTOR`).
    public var actor: String
    /// How the event ended, for `post-*` and `on-failure` hooks (`AIRLOCK_OUTCOME`, `AIRLOCK_DETAIL`,
    /// `AIRLOCK_EVENT_ID`); `nil` for `pre-*` hooks, which run before there is an event.
    public var result: Result?

    /// How an event ended: what a `post-*` or `on-failure` hook is told.
    public struct Result: Sendable, Codable {
      /// The event's outcome: `ok`, `failed`, `blocked`, `suspect`… (`AIRLOCK_OUTCOME`).
      public var outcome: String
      /// One line saying why (`AIRLOCK_DETAIL`).
      public var detail: String
      /// The event's ledger commit (`AIRLOCK_EVENT_ID`).
      public var eventID: ObjectID

      /// A result.
      public init(outcome: String, detail: String, eventID: ObjectID) {
        self.outcome = outcome
        self.detail = detail
        self.eventID = eventID
      }
    }

    /// The `AIRLOCK_*` variables that describe the event to a program.
    public var variables: [String: String] {
      var variables = [
        "AIRLOCK_PIPELINE": pipeline, "AIRLOCK_ENVIRONMENT": environment, "AIRLOCK_RELEASE": release?.id.hex ?? "",
        "AIRLOCK_VERSION": release?.version ?? "", "AIRLOCK_PREVIOUS_RELEASE": previous?.version ?? "",
        "AIRLOCK_EVENT": event.rawValue, "AIRLOCK_ACTOR": actor,
      ]
      if let result {
        variables["AIRLOCK_OUTCOME"] = result.outcome
        variables["AIRLOCK_DETAIL"] = result.detail.split(whereSeparator: \.isNewline).joined(separator: " ")
        variables["AIRLOCK_EVENT_ID"] = result.eventID.hex
      }
      return variables
    }

    /// The complete environment of a program told about the event: the passed-through basics of `base` (not
    /// `TMPDIR`: it runs in the project root and has no use for Airlock's scratch space) and `variables`.
    public func environment(inheriting base: [String: String]) -> [String: String] {
      base.filter { PipelineNames.passedThroughVariables.contains($0.key) && $0.key != "TMPDIR" }
        .merging(variables) { $1 }
    }

    /// An event; `result` only for hooks that run after it was recorded.
    public init(
      pipeline: String, environment: String, event: EventKind, release: Release?, previous: Release?, actor: String,
      result: Result? = nil
    ) {
      self.pipeline = pipeline
      self.environment = environment
      self.event = event
      self.release = release
      self.previous = previous
      self.actor = actor
      self.result = result
    }
  }

  /// The JSON document every hook gets on stdin: the event as the variables describe it.
  struct Document: Encodable {
    var schemaVersion = 1
    var hook: String
    var pipeline: String
    var environment: String
    var event: EventKind
    var release: Release?
    var previous: Release?
    var actor: String
    var outcome: String?
    var detail: String?
    var eventId: ObjectID?
  }

  /// Whether the hooks folder has a file for `point` (executable or not).
  public func exists(_ point: HookPoint) -> Bool {
    FileManager.default.fileExists(atPath: directory.appendingPathComponent(point.rawValue).path)
  }

  /// Runs `point`'s hook if there is one; `nil` when there is none.
  public func run(_ point: HookPoint, for event: Event, baseEnvironment: [String: String]) async -> HookRun? {
    let file = directory.appendingPathComponent(point.rawValue)
    guard exists(point) else { return nil }
    guard FileManager.default.isExecutableFile(atPath: file.path) else {
      return HookRun(
        hook: point.rawValue, succeeded: false, reason: "not executable (chmod +x \(file.path))", output: "")
    }
    let document = Document(
      hook: point.rawValue, pipeline: event.pipeline, environment: event.environment, event: event.event,
      release: event.release, previous: event.previous, actor: event.actor, outcome: event.result?.outcome,
      detail: event.result?.detail, eventId: event.result?.eventID)
    // A document that cannot be written leaves the hook an empty stdin; the variables still tell it everything.
    let result = await ProcessRunner.withInputFile((try? LedgerCoding.encode(document)) ?? Data()) { input in
      await runner.run(
        [file.path], in: workingDirectory, environment: event.environment(inheriting: baseEnvironment),
        timeout: timeout, input: try? input.get())
    }
    return HookRun(
      hook: point.rawValue, succeeded: result.succeeded, reason: result.termination.reason, output: result.output)
  }
}

extension ProcessResult.Termination {
  /// A short human reason: `exit 0`, `exit 3`, `signal 9`, `timeout`, or why it could not start.
  public var reason: String {
    switch self {
    case .exited(let code): return "exit \(code)"
    case .signaled(let signal): return "signal \(signal)"
    case .timedOut: return "timeout"
    case .failedToStart(let why): return why
    }
  }
}
