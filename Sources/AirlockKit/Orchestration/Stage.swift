import Foundation

/// One environment ready to act on: its definition, target, hooks, resolved config and ledger branch.
///
/// Built from the pipeline when it loads, or from the ledger's `environment.json` snapshot when it does not (so
/// rollback works with a broken pipeline file).
struct Stage {
  let snapshot: EnvironmentSnapshot
  let ledger: PipelineLedger
  let target: any Target
  let hooks: Hooks
  let options: OperationOptions
  /// Other environments' definitions, for checks that compare against them (`drift`, `differs_from`).
  let siblings: [String: EnvironmentSpec]

  var name: String { snapshot.environment.name }
  var spec: EnvironmentSpec { snapshot.environment }
  var pipeline: String { snapshot.pipeline }

  init(
    snapshot: EnvironmentSnapshot, ledger: PipelineLedger, options: OperationOptions,
    siblings: [String: EnvironmentSpec] = [:]
  ) throws {
    self.snapshot = snapshot
    self.ledger = ledger
    self.options = options
    self.siblings = siblings
    target = try TargetKinds.make(
      snapshot.environment.target, pipeline: snapshot.pipeline, environment: snapshot.environment.name,
      root: snapshot.root)
    hooks = Hooks(
      directory: snapshot.resolve(snapshot.hooks), workingDirectory: URL(fileURLWithPath: snapshot.root),
      runner: options.runner)
  }

  /// The environment's secrets, each asked of its source once, before anything changes.
  ///
  /// Throws `.invalidInput` (exit 2) when a source fails or a variable the process environment should hold is
  /// not set; the message names the secret and the source, never a value.
  func secrets() async throws -> SecretSet {
    let secrets = try await secrets(named: spec.secrets)
    try requireSecrets(secrets)
    return secrets
  }

  /// The values of `names`, each from the source this environment's definition gives it (the process environment
  /// for a name it does not declare); a variable that is not set is left in `missing`.
  ///
  /// Values in `resolved` (what this command already asked for) are taken as they are, so no source is asked
  /// twice in one command: an automatic rollback, or the switch back after a failed ledger write, reuses them.
  func secrets(named names: [String], reusing resolved: SecretSet? = nil) async throws -> SecretSet {
    let known = (resolved?.values ?? [:]).filter { names.contains($0.key) }
    let fresh = try await secretResolution.resolve(names.filter { known[$0] == nil }) { spec.source(ofSecret: $0) }
    return SecretSet(values: fresh.values.merging(known) { $1 }, missing: fresh.missing, pipeline: pipeline)
  }

  /// How this environment's secrets are asked of their sources.
  var secretResolution: SecretResolution {
    SecretResolution(
      environment: options.environment, childEnvironment: baseEnvironment(),
      root: URL(fileURLWithPath: snapshot.root), runner: options.runner, pipeline: pipeline)
  }

  /// The environment's secrets that the process environment holds, for the read-only commands (`plan`, `drift`),
  /// which never run a secret's command or read its file.
  func environmentSecrets() -> SecretSet {
    SecretSet(names: spec.secretsFromEnvironment, from: options.environment, pipeline: pipeline)
  }

  /// Fails with `.invalidInput` when a declared secret is not set, before anything changes.
  func requireSecrets(_ secrets: SecretSet) throws {
    guard secrets.missing.isEmpty else {
      throw AirlockError(
        .invalidInput,
        "\(name) needs secret\(secrets.missing.count == 1 ? "" : "s") \(secrets.missing.joined(separator: ", ")) "
          + "in the process environment; export \(secrets.missing[0])=… and run again")
    }
  }

  /// The variables every process Airlock starts for this environment may inherit from ours.
  func baseEnvironment() -> [String: String] {
    options.environment.filter { PipelineNames.passedThroughVariables.contains($0.key) }
  }

  /// Check definitions by name, built into runnable checks. Config and drift checks get the environment's resolved
  /// config and the other environments' (as last recorded in the ledger, else as declared).
  func checks(_ names: [String], secrets: SecretSet) throws -> [any Check] {
    try names.map { name in
      guard let spec = snapshot.checks[name] else {
        throw AirlockError(.invalidInput, "\(self.name) refers to check '\(name)', which is not defined")
      }
      switch spec.kind {
      case .config(let rules):
        let others = try Dictionary(uniqueKeysWithValues: siblings.keys.map { ($0, try resolvedConfig(of: $0)) })
        return ConfigRulesCheck(name: name, rules: rules, subject: resolvedConfig(secrets), others: others)
      case .drift(let environment, let allow):
        return DriftCheck(
          name: name, subject: resolvedConfig(secrets), reference: try resolvedConfig(of: environment), allow: allow)
      case .heartbeat(let path, let maxAge) where !path.hasPrefix("/") && !path.hasPrefix("{"):
        // Relative paths in a pipeline resolve against the project root (docs/pipeline.md), like every other path.
        return HeartbeatCheck(
          name: name, path: snapshot.resolve(path).path, maxAge: maxAge, policy: spec.policy,
          isDependency: spec.dependency)
      default:
        let made: (any Check)?
        do {
          made = try CheckCatalog.make(spec)
        } catch {
          throw AirlockError(.invalidInput, "check '\(name)' (\(spec.kind.keyword)) cannot be built: \(error)")
        }
        guard let check = made else {
          throw AirlockError(
            .invalidInput,
            "check '\(name)' is of kind '\(spec.kind.keyword)', which this program has not registered; run it with "
              + "the program that registers the kind (CheckKinds.register)")
        }
        return check
      }
    }
  }

  /// This environment's config as it is about to be shipped.
  func resolvedConfig(_ secrets: SecretSet) -> ResolvedConfig {
    ResolvedConfig(
      environment: name, values: spec.config, secretFingerprints: secrets.fingerprints, secretValues: secrets.values)
  }

  /// Another environment's config: what its newest ledger event recorded, else what the pipeline declares.
  func resolvedConfig(of environment: String) throws -> ResolvedConfig {
    if let text = try ledger.runningConfigText(of: environment) {
      let parsed = ConfigFile.parse(text)
      return ResolvedConfig(environment: environment, values: parsed.config, secretFingerprints: parsed.secrets)
    }
    guard let declared = siblings[environment] else {
      return ResolvedConfig(environment: environment, values: [:], secretFingerprints: [:])
    }
    let secrets = SecretSet(names: declared.secretsFromEnvironment, from: options.environment, pipeline: pipeline)
    return ResolvedConfig(environment: environment, values: declared.config, secretFingerprints: secrets.fingerprints)
  }

  /// The environment of a process Airlock runs for `release` (`start`, command checks): the inherited basics, the
  /// config, `secrets` when given, and the `AIRLOCK_*` variables.
  func releaseEnvironment(
    _ release: Release, config: [String: String], secrets: [String: String] = [:]
  ) -> [String: String] {
    var environment = baseEnvironment().merging(config) { $1 }.merging(secrets) { $1 }
    environment["AIRLOCK_PIPELINE"] = pipeline
    environment["AIRLOCK_ENVIRONMENT"] = name
    environment["AIRLOCK_VERSION"] = release.version
    environment["AIRLOCK_RELEASE"] = release.id.hex
    return environment
  }

  /// Runs `names` against `release` as it runs on `hosts` (default: every host of the target), reporting each result
  /// as it arrives.
  ///
  /// Once the task is cancelled, probing checks stop at once and report `inconclusive` (never `pass`); the
  /// caller's next checkpoint records the abort.
  func runChecks(
    _ names: [String], release: Release, config: [String: String], secrets: SecretSet, hosts: [String]? = nil,
    preflight: Bool = false
  ) async throws -> [CheckResult] {
    // Preflight runs before the release is on the target; its command checks run here, in the project root. Once
    // the release is installed, a fleet's command checks run on its hosts, in the release folder there.
    let installed = target.releaseDirectory(release.version)
    let remote = preflight ? nil : target.hostRunner
    let directory =
      remote != nil || FileManager.default.fileExists(atPath: installed.path)
      ? installed : URL(fileURLWithPath: snapshot.root)
    let environment = releaseEnvironment(release, config: config)
    var context = CheckContext(
      pipeline: pipeline, environment: name, hosts: hosts ?? target.hosts, version: release.version,
      release: release.id.hex, releaseDirectory: directory, processEnvironment: environment, clock: options.clock,
      config: config)
    context.hostRunner = remote
    context.redact = { secrets.redact($0) }
    let progress = options.progress
    context.onProbe = { check, probe, attempts in
      progress(
        "  · \(check) \(probe.host) attempt \(probe.attempt) of \(attempts): \(probe.reason) "
          + "(\(ProgressStep.elapsed(milliseconds: probe.milliseconds)))")
    }
    var results: [CheckResult] = []
    for check in try checks(names, secrets: secrets) {
      let (result, _) = await step(check.name) { await check.evaluate(in: context) }
      options.progress("  \(result.verdict == .pass ? "✓" : "✗") \(result.summary)")
      for line in result.evidenceLines { options.progress(line) }
      results.append(result)
    }
    return results
  }

  /// Keeps verifying for the `watch` window after a passing verify, one round per check interval; returns the
  /// first failing round's results, or `nil` when every round passed. Cancellation ends it at once, in a pause or a
  /// round, with `CancellationError`.
  func watch(
    _ release: Release, config: [String: String], secrets: SecretSet, window: TimeSpan
  ) async throws -> [CheckResult]? {
    let intervals = spec.verify.compactMap { snapshot.checks[$0]?.policy.interval }
    let interval = max(intervals.min() ?? .seconds(1), .milliseconds(10))
    let clock = options.clock
    let deadline = clock.now().addingTimeInterval(window.seconds)
    var rounds = 0
    options.progress("→ watching \(name) for \(window) (a round every \(interval))")
    while true {
      try await clock.pause(for: interval.duration)
      guard clock.now() < deadline else { break }
      rounds += 1
      let left = Int(deadline.timeIntervalSince(clock.now()).rounded())
      options.progress("→ watch round \(rounds): \(left)s left")
      let (results, _) = try await step("watch round \(rounds)") {
        try await runChecks(spec.verify, release: release, config: config, secrets: secrets)
      }
      // A round cut short by a signal is no evidence either way.
      try Task.checkCancellation()
      let remaining = Int(deadline.timeIntervalSince(clock.now()).rounded())
      if Judgement(results: results, startFailure: nil).isReleaseFailure {
        options.progress("✗ watch round \(rounds): \(name) degraded with \(remaining)s of the window left")
        return results
      }
      options.progress("  watch round \(rounds): pass, \(remaining)s left")
    }
    return nil
  }

  /// Makes `release` complete on `hosts` from the ledger, with `config` and the secrets' values in its
  /// `.airlock/config.env`; one outcome per host.
  func install(
    _ release: Release, on hosts: [String], config: [String: String], secrets: SecretSet
  ) async throws -> [HostSwitch] {
    try await target.install(
      release, configText: ConfigFile.render(config: config, secrets: secrets.values), on: hosts,
      export: { try ledger.ledger.exportTree(release.id, to: $0) })
  }

  /// Makes `release` the one that runs on `hosts`, with the environment `start` gets for anything the target runs;
  /// one outcome per host.
  func activate(
    _ release: Release, on hosts: [String], config: [String: String], secrets: SecretSet
  ) async throws -> [HostSwitch] {
    let context = SwitchContext(
      environment: releaseEnvironment(release, config: config, secrets: secrets.values), runner: options.runner,
      progress: options.progress, redact: { secrets.redact($0) })
    return try await target.activate(release.version, on: hosts, context: context)
  }

  /// Installs and switches to `release` on every host at once, as undoing a switch the ledger could not record
  /// does; throws the failure when any host fails.
  func switchEverywhere(_ release: Release, config: [String: String], secrets: SecretSet) async throws {
    let installed = try await install(release, on: target.hosts, config: config, secrets: secrets)
    if let failure = HostSwitch.failure(of: installed) { throw failure }
    let activated = try await activate(release, on: target.hosts, config: config, secrets: secrets)
    if let failure = HostSwitch.failure(of: activated) { throw failure }
  }

  /// Runs `start` in the release directory with the config and secrets in its environment: here, or on each of
  /// `hosts` (default: every host) at once when the target runs processes on its hosts. Answers why it failed
  /// (naming the hosts of a fleet), or `nil` when it succeeded or there is no `start`.
  func start(
    _ release: Release, config: [String: String], secrets: SecretSet, hosts: [String]? = nil
  ) async -> String? {
    guard let command = spec.start?.split(separator: " ").map(String.init), !command.isEmpty else { return nil }
    let directory = target.releaseDirectory(release.version)
    let environment = releaseEnvironment(release, config: config, secrets: secrets.values)
    let announcement = "→ start: \(command.joined(separator: " "))"
    options.progress(announcement)
    let ((failure, output), elapsed) = await step("start") {
      await runStart(command, in: directory, environment: environment, secrets: secrets, hosts: hosts ?? target.hosts)
    }
    let outcome = failure.map { "\($0) after" } ?? "done in"
    options.progress("\(announcement) … \(outcome) \(ProgressStep.elapsed(elapsed))")
    for line in output { options.progress(line) }
    return failure
  }

  /// Runs `start` here or on each of `hosts`; answers why it failed, if it did, and the output lines to show (secret
  /// values masked).
  private func runStart(
    _ command: [String], in directory: URL, environment: [String: String], secrets: SecretSet, hosts: [String]
  ) async -> (failure: String?, output: [String]) {
    guard let remote = target.hostRunner else {
      var arguments = command
      if arguments[0].contains("/") && !arguments[0].hasPrefix("/") {
        arguments[0] = directory.appendingPathComponent(arguments[0]).path
      }
      let result = await options.runner.run(
        arguments, in: directory, environment: environment, timeout: options.startTimeout)
      return (
        result.succeeded ? nil : result.termination.reason,
        secrets.redact(result.output).split(separator: "\n").suffix(5).map { "  | \($0)" }
      )
    }
    let timeout = options.startTimeout
    let results = await withTaskGroup(of: (Int, ProcessResult).self) { group in
      for (index, host) in hosts.enumerated() {
        group.addTask {
          (index, await remote.run(command, on: host, in: directory.path, environment: environment, timeout: timeout))
        }
      }
      var results = [ProcessResult](repeating: ProcessResult(termination: .exited(0)), count: hosts.count)
      for await (index, result) in group { results[index] = result }
      return results
    }
    var failures: [String] = []
    var output: [String] = []
    for (host, result) in zip(hosts, results) where !result.succeeded {
      failures.append("\(host): \(result.termination.reason)")
      output += secrets.redact(result.output).split(separator: "\n").suffix(5).map { "  | \(host): \($0)" }
    }
    guard !failures.isEmpty else { return (nil, output) }
    return (
      hosts.count == 1
        ? failures[0] : "on \(failures.count) of \(hosts.count) hosts: " + failures.joined(separator: "; "), output
    )
  }

  /// Runs a hook with this environment's event variables and the event on stdin; shows the end of its output on
  /// the progress stream (secret values masked), as the returned run records it.
  ///
  /// - Parameter result: how the event ended, for `post-*` and `on-failure` hooks.
  func runHook(
    _ point: HookPoint, event: EventKind, release: Release?, previous: Release?, result: Hooks.Event.Result? = nil,
    secrets: SecretSet? = nil
  ) async -> HookRun? {
    let event = Hooks.Event(
      pipeline: pipeline, environment: name, event: event, release: release, previous: previous,
      actor: options.actor.name, result: result)
    // Only a hook that exists is a step worth showing; `Hooks.run` skips the others.
    let (found, elapsed) = await step("hook \(point.rawValue)", showing: hooks.exists(point)) {
      await hooks.run(point, for: event, baseEnvironment: baseEnvironment())
    }
    guard var run = found else { return nil }
    if let secrets { run.output = secrets.redact(run.output) }
    options.progress("→ hook \(run.hook): \(run.reason) (\(ProgressStep.elapsed(elapsed)))")
    for line in run.output.split(separator: "\n").suffix(run.succeeded ? 5 : 10) { options.progress("  | \(line)") }
    return run
  }

  /// Runs `body` as a step that progress shows while it runs (when `showing`); answers its result and how long it
  /// took in real time.
  func step<T>(
    _ title: String, showing: Bool = true, _ body: () async throws -> T
  ) async rethrows -> (T, Duration) {
    let step = ProgressStep(title: title)
    if showing { options.steps(step) }
    defer { if showing { options.steps(step.ended) } }
    let began = ContinuousClock.now
    let result = try await body()
    return (result, ContinuousClock.now - began)
  }
}
