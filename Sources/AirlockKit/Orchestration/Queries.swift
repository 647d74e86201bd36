import Foundation

/// What runs in one environment, read from the head commit of its branch and from the target.
public struct EnvironmentStatus: Sendable, Codable {
  /// The environment's name.
  public var environment: String
  /// The environment it promotes from, if any.
  public var requires: String?
  /// The release the ledger says runs there.
  public var current: Release?
  /// Whether `current` is verified, being verified, or failed.
  public var status: ReleaseStatus?
  /// What the target's `current` symlink points at; differs from `current` after an interrupted run.
  public var onTarget: String?
  /// For a fleet, what each host's `current` points at (or why it could not be read); `nil` for a one-host target.
  public var hosts: [HostVersion]?
  /// The newest event, as `history` lists it.
  public var lastEvent: HistoryEntry?
  /// Where `airlock rollback` would go.
  public var rollbackTarget: Release?
  /// Releases refused here until `--force`.
  public var quarantined: [Quarantine]
  /// Who holds the environment's lease, if anyone.
  public var lease: LeaseHolder?
  /// Why that lease is stale (its run was interrupted), if it is.
  public var leaseStale: String?
  /// A lease that cannot be read (garbage, or another version's), which blocks every change until broken.
  public var leaseProblem: String?
  /// What an interrupted run left behind, if anything: a stale lease, or a target that disagrees with the ledger.
  public var interrupted: String?
  /// A target in a state Airlock did not make (a `current` that is not its link into `releases/`), if it is.
  public var targetProblem: String?
  /// How many events the environment has.
  public var events: Int
}

/// One line of `airlock history`.
public struct HistoryEntry: Sendable, Codable {
  /// The environment the event happened in.
  public var environment: String
  /// The event's commit.
  public var commit: ObjectID
  /// The commit's one-line message.
  public var message: String
  /// When the event finished (the commit's time when its record cannot be read).
  public var time: Date
  /// The event's `release.json`; nil when it cannot be read, and then `unreadable` says why.
  public var record: EventRecord?
  /// Why the event's `release.json` cannot be read: the commit, the file, the reason and what to do.
  public var unreadable: String?

  /// The entry of `commit` on `environment`'s branch, with its record or why that cannot be read.
  init(_ environment: String, _ commit: LedgerCommit, _ record: Result<EventRecord, any Error>) {
    (self.environment, self.commit, self.message, self.time) = (environment, commit.id, commit.message, commit.time)
    switch record {
    case .success(let record): (self.record, time) = (record, record.finishedAt)
    case .failure(let error): unreadable = (error as? LedgerError)?.message ?? "\(error)"
    }
  }
}

/// One config key that differs between two snapshots. Secrets are compared and shown by fingerprint only.
public struct ConfigChange: Sendable, Codable, Hashable {
  /// Whether the key was added, removed, or changed value.
  public enum Kind: String, Sendable, Codable { case added, removed, changed }
  /// The config key.
  public var key: String
  /// How it changed.
  public var kind: Kind
  /// Whether the key is a secret; then `before` and `after` are fingerprints.
  public var secret: Bool
  /// The value before; `nil` when added.
  public var before: String?
  /// The value after; `nil` when removed.
  public var after: String?
}

/// What `deploy`, `promote` or `rollback` would do to an environment; nothing is changed to find out.
public struct Plan: Sendable, Codable {
  /// What the planned command is; its raw value is the command's name, as `--json` prints it.
  public enum Action: String, Sendable, Codable, CaseIterable {
    /// `airlock deploy`: the environment has no `requires` and takes an artifact.
    case deploy
    /// `airlock promote`: the environment takes releases verified in its `requires` environment.
    case promote
    /// `airlock rollback` (`plan ENV --rollback`).
    case rollback
  }

  /// The environment planned for.
  public var environment: String
  /// What runs there now.
  public var current: Release?
  /// `promote` for an environment with `requires`, else `deploy`.
  public var action: Action
  /// The release that would be shipped.
  public var release: Release?
  /// The environment a promotion would take the release from.
  public var sourceEnvironment: String?
  /// Why the action would be refused, if it would.
  public var refusal: String?
  /// The preflight checks that would run.
  public var preflight: [String]
  /// The verify checks that would run.
  public var verify: [String]
  /// The config keys the change would add, remove or change.
  public var configChanges: [ConfigChange]
  /// Where `airlock rollback` would go now.
  public var rollbackTarget: Release?
  /// Where `airlock rollback` would go after the planned change succeeded; `nil` when there would be nowhere.
  public var rollbackAfter: Release?
  /// Anything else worth knowing: a missing secret, a release already running.
  public var notes: [String]

  /// `plan`'s exit status: blocked (3) when what it plans would be refused, so CI can gate on it, else done.
  public var exitStatus: ExitStatus { refusal == nil ? .done : .blocked }
}

extension Orchestrator {
  /// Every environment's status: the pipeline's environments in order, then any others the ledger knows.
  ///
  /// Reads one commit per environment, never the history, and changes nothing.
  public func status() throws -> [EnvironmentStatus] {
    var names = pipeline?.environments.map(\.name) ?? []
    for recorded in try ledger.recordedEnvironments() where !names.contains(recorded) { names.append(recorded) }
    return try names.map { name in
      let head = try ledger.head(of: name)
      let spec = pipeline?.environment(named: name)
      var onTarget: String?
      var targetProblem: String?
      let lastEvent = try head.commit.map { commit in
        try HistoryEntry(name, ledger.ledger.commit(commit), Result { try ledger.record(at: commit) })
      }
      // Without the pipeline, the snapshot says where the target is: relative to the project it was recorded in,
      // not to the folder `status` runs from.
      let snapshot = try spec == nil ? head.commit.flatMap { try ledger.snapshot(at: $0) } : nil
      // A kind this program cannot build (planned, or registered only by another program) is not read.
      let target = try? (spec?.target ?? snapshot?.environment.target).map {
        try TargetKinds.make(
          $0, pipeline: ledger.pipeline, environment: name, root: snapshot?.root ?? pipeline?.root ?? ".")
      }
      var hosts: [HostVersion]?
      if let target, target.hosts.count > 1 {
        do {
          let versions = try target.currentVersions()
          hosts = versions
          let read = versions.filter { $0.problem == nil }
          onTarget = read.first?.version
          let problems = versions.compactMap(\.problem)
          if read.isEmpty || problems.contains(where: { $0.contains("Airlock did not make") }) {
            targetProblem = problems.joined(separator: "; ")
          }
        } catch {
          targetProblem = "\(error)"
        }
      } else if let target {
        do {
          onTarget = try target.currentVersion()
        } catch {
          targetProblem = "\(error)"
        }
      }
      let mixed = hosts.map { Self.mixedFleet($0) } ?? nil
      var lease: LeaseHolder?
      var leaseProblem: String?
      switch try Lease.current(ledger, environment: name) {
      case .held(let holder, _)?: lease = holder
      case let found?: leaseProblem = found.describe(now: clock.now(), environment: name)
      case nil: break
      }
      let stale = lease?.staleness(now: clock.now(), host: HostName.current)
      var interrupted: String?
      if let lease, let stale {
        interrupted = "\(lease.operation) by \(lease.actor) was interrupted (\(stale)); the next change converges it"
      } else if let mixed, targetProblem == nil {
        interrupted =
          "\(mixed), while the ledger says \(head.state.current?.version ?? "nothing"); the next change converges it"
      } else if target != nil, targetProblem == nil, onTarget != head.state.current?.version {
        interrupted =
          "the target runs \(onTarget ?? "nothing") but the ledger says \(head.state.current?.version ?? "nothing"); "
          + "the next change converges it"
      }
      return EnvironmentStatus(
        environment: name, requires: spec?.requires, current: head.state.current, status: head.state.currentStatus,
        onTarget: onTarget, hosts: hosts, lastEvent: lastEvent,
        rollbackTarget: head.state.rollbackTarget,
        quarantined: head.state.quarantined, lease: lease, leaseStale: stale, leaseProblem: leaseProblem,
        interrupted: interrupted,
        targetProblem: targetProblem, events: head.state.sequence)
    }
  }

  /// `the fleet is mixed: 2.0 on web1, web2; 1.0 on web3` when a fleet's readable hosts disagree, else `nil`.
  static func mixedFleet(_ hosts: [HostVersion]) -> String? {
    let read = hosts.filter { $0.problem == nil }
    var order: [String] = []
    var byVersion: [String: [String]] = [:]
    for host in read {
      let label = host.version ?? "nothing"
      if byVersion[label] == nil { order.append(label) }
      byVersion[label, default: []].append(host.host)
    }
    guard order.count > 1 else { return nil }
    return "the fleet is mixed: "
      + order.map { "\($0) on \(byVersion[$0]!.joined(separator: ", "))" }.joined(separator: "; ")
  }

  /// Events newest first, of one environment or of all of them merged by time.
  public func history(environment: String?, limit: Int) throws -> [HistoryEntry] {
    let recorded = try ledger.recordedEnvironments()
    if let environment, !recorded.contains(environment), pipeline?.environment(named: environment) == nil {
      let known =
        (pipeline?.environments.map(\.name) ?? []) + recorded.filter { pipeline?.environment(named: $0) == nil }
      throw AirlockError.noEnvironment(environment, in: ledger.pipeline, known: known)
    }
    let names = environment.map { [$0] } ?? recorded
    var entries: [HistoryEntry] = []
    for name in names {
      for (commit, record) in try ledger.events(of: name, limit: limit) {
        entries.append(HistoryEntry(name, commit, record.mapError { $0 }))
      }
    }
    entries.sort { ($0.time, $0.commit.hex) > ($1.time, $1.commit.hex) }
    return Array(entries.prefix(limit))
  }

  /// What would happen to `environment`: the release a promotion would ship, why it would be refused, the config
  /// changes it would bring, and where a rollback would go.
  public func plan(environment name: String, release reference: String?) throws -> Plan {
    let pipeline = try requirePipeline()
    let spec = try environment(name, in: pipeline)
    let head = try ledger.head(of: name)
    var plan = Plan(
      environment: name, current: head.state.current, action: .deploy, release: nil, sourceEnvironment: spec.requires,
      refusal: nil, preflight: spec.preflight, verify: spec.verify, configChanges: [],
      rollbackTarget: head.state.rollbackTarget, rollbackAfter: nil,
      notes: [])
    if let source = spec.requires {
      plan.action = .promote
      let upstream = try ledger.head(of: source).state
      if let reference {
        let known = upstream.good.map(\.release) + upstream.quarantined.map(\.release)
        guard let found = try ledger.findRelease(reference, among: known) else {
          throw ledger.noRelease(reference)
        }
        plan.release = found
        if !upstream.isVerified(found.id) { plan.refusal = "\(found.version) was not verified in \(source)" }
      } else {
        plan.release = upstream.good.first?.release
        if plan.release == nil { plan.refusal = AirlockError.nothingVerified(in: source) }
      }
    } else if let reference {
      plan.release = try ledger.findRelease(reference, among: head.state.good.map(\.release))
      if plan.release == nil {
        throw ledger.noRelease(reference)
      }
    } else {
      plan.notes.append("deploy takes the artifact: airlock deploy \(name) --artifact DIR [--version LABEL]")
    }
    if let release = plan.release {
      if let quarantine = head.state.quarantine(of: release.id) {
        plan.refusal = plan.refusal ?? "\(release.version) is quarantined in \(name): \(quarantine.reason)"
      }
      if spec.approvalRequired && head.state.approval(of: release.id) == nil {
        plan.refusal =
          plan.refusal
          ?? "\(release.version) needs an approval for \(name): `airlock approve \(name) --release \(release.version)`"
      }
      if release.id == head.state.current?.id { plan.notes.append("\(name) already runs \(release.version)") }
    }
    // Once the new release is verified it heads the good list, and rollback goes to the newest other one: for a
    // new artifact (a deploy's, not known yet), whatever is newest now.
    plan.rollbackAfter = head.state.good.first { $0.release.id != plan.release?.id }?.release
    let secrets = SecretSet(names: spec.secretsFromEnvironment, from: options.environment, pipeline: pipeline.name)
    for missing in secrets.missing { plan.notes.append("secret \(missing) is not set in this environment") }
    let before = try head.commit.flatMap { try ledger.configText(at: $0) }.map(ConfigFile.parse)
    var after = (config: spec.config, secrets: secrets.fingerprints)
    // A plan never runs a secret's command or reads its file: such a secret is shown as it was last recorded.
    for name in spec.secrets where spec.source(ofSecret: name) != .environment {
      plan.notes.append("secret \(name) comes from \(spec.source(ofSecret: name)) (not resolved by plan)")
      after.secrets[name] = before?.secrets[name]
    }
    plan.configChanges = Self.configChanges(
      from: before ?? (config: [:], secrets: [:]), to: after, secretNames: Set(spec.secrets))
    return plan
  }

  /// What `airlock rollback ENV [--to reference]` would do: the release and recorded config it would restore (or
  /// why it would be refused), the verify checks it would run, and where a rollback would go after it.
  ///
  /// Like rollback, it works from the ledger's snapshot of the environment when the pipeline file is broken. It
  /// reads only the ledger: an interrupted run that left the target elsewhere is `status`'s to report.
  public func planRollback(environment name: String, to reference: String?) throws -> Plan {
    let head = try ledger.head(of: name)
    let state = head.state
    let verify: [String]
    if let pipeline {
      verify = try environment(name, in: pipeline).verify
    } else if let commit = head.commit, let snapshot = try ledger.snapshot(at: commit) {
      verify = snapshot.environment.verify
    } else {
      _ = try stageForRecovery(name)
      verify = []
    }
    var plan = Plan(
      environment: name, current: state.current, action: .rollback, release: nil, sourceEnvironment: nil,
      refusal: nil, preflight: [], verify: verify, configChanges: [],
      rollbackTarget: state.rollbackTarget, rollbackAfter: nil, notes: [])
    if pipeline == nil { plan.notes.append("the pipeline file does not load: planned from the ledger's snapshot") }
    let good: GoodRelease
    do {
      switch try rollbackChoice(in: name, state: state, leaving: state.current, to: reference) {
      case .to(let entry): good = entry
      case .converged(let release):
        plan.refusal = "\(release.version) is what \(name) runs now; nothing to roll back to"
        return plan
      }
    } catch let error as AirlockError where error.code == .blocked {
      plan.refusal = error.message
      return plan
    }
    plan.release = good.release
    // After it, the release left is quarantined: the next rollback skips both.
    plan.rollbackAfter =
      state.good.first { $0.release.id != good.release.id && $0.release.id != state.current?.id }?.release
    let before = try head.commit.flatMap { try ledger.configText(at: $0) }.map(ConfigFile.parse)
    let after = ConfigFile.parse(String(decoding: try ledger.ledger.readBlob(good.config), as: UTF8.self))
    plan.configChanges = Self.configChanges(
      from: before ?? (config: [:], secrets: [:]), to: after, secretNames: [])
    return plan
  }

  /// Differences between two parsed config snapshots, sorted by key.
  static func configChanges(
    from before: (config: [String: String], secrets: [String: String]),
    to after: (config: [String: String], secrets: [String: String]), secretNames: Set<String>
  ) -> [ConfigChange] {
    let old = before.config.merging(before.secrets) { $1 }
    let new = after.config.merging(after.secrets) { $1 }
    let secretKeys = secretNames.union(before.secrets.keys).union(after.secrets.keys)
    return Set(old.keys).union(new.keys).sorted().compactMap { key in
      let secret = secretKeys.contains(key)
      switch (old[key], new[key]) {
      case (nil, let value?):
        return ConfigChange(key: key, kind: .added, secret: secret, before: nil, after: value)
      case (let value?, nil):
        return ConfigChange(key: key, kind: .removed, secret: secret, before: value, after: nil)
      case (let was?, let now?) where was != now:
        return ConfigChange(key: key, kind: .changed, secret: secret, before: was, after: now)
      default:
        return nil
      }
    }
  }
}

/// How two environments differ: the releases they run and their config (secrets by fingerprint only).
public struct DriftReport: Sendable, Codable {
  /// One side of the comparison.
  public struct Side: Sendable, Codable {
    /// Where a side's config comes from; its raw value is what `--json` prints.
    public enum ConfigSource: String, Sendable, Codable, CaseIterable {
      /// The newest ledger event's `config.env`.
      case recorded
      /// The pipeline file: nothing was deployed there yet.
      case declared
    }

    /// The environment's name.
    public var environment: String
    /// What runs there, if anything.
    public var release: Release?
    /// Where this side's config comes from.
    public var configSource: ConfigSource
  }

  /// One key whose value differs, or that only one side has.
  public struct KeyDifference: Sendable, Codable, Hashable {
    /// The config key.
    public var key: String
    /// Whether the key is a secret; then `left` and `right` are fingerprints.
    public var secret: Bool
    /// The value (or `sha256:` fingerprint) on each side; `nil` where the side lacks the key.
    public var left: String?
    /// The value (or fingerprint) on the right side; `nil` where it lacks the key.
    public var right: String?
  }

  /// The first environment compared.
  public var left: Side
  /// The second environment compared.
  public var right: Side
  /// Whether both run the same artifact tree.
  public var sameRelease: Bool
  /// Keys only the left side has.
  public var onlyLeft: [String]
  /// Keys only the right side has.
  public var onlyRight: [String]
  /// Keys both have, with different values.
  public var differing: [KeyDifference]
  /// Keys with equal values on both sides.
  public var equal: [String]

  /// Whether the key sets differ (values are expected to differ between environments).
  public var keysDrifted: Bool { !onlyLeft.isEmpty || !onlyRight.isEmpty }
}

extension Orchestrator {
  /// Compares two environments' releases and config; changes nothing.
  public func drift(_ left: String, _ right: String) throws -> DriftReport {
    let pipeline = try requirePipeline()
    let leftSpec = try environment(left, in: pipeline)
    let rightSpec = try environment(right, in: pipeline)
    func side(_ spec: EnvironmentSpec) throws -> (DriftReport.Side, ResolvedConfig) {
      let stage = try makeStage(spec, pipeline: pipeline)
      // One read of the head: the release and the config it ran with come from the same commit.
      let head = try ledger.head(of: spec.name)
      let release = head.state.current
      guard let text = try ledger.runningConfigText(head) else {
        let declared = stage.resolvedConfig(stage.environmentSecrets())
        return (DriftReport.Side(environment: spec.name, release: release, configSource: .declared), declared)
      }
      let parsed = ConfigFile.parse(text)
      return (
        DriftReport.Side(environment: spec.name, release: release, configSource: .recorded),
        ResolvedConfig(environment: spec.name, values: parsed.config, secretFingerprints: parsed.secrets)
      )
    }
    let (leftSide, leftConfig) = try side(leftSpec)
    let (rightSide, rightConfig) = try side(rightSpec)
    let shared = leftConfig.keys.intersection(rightConfig.keys).sorted()
    let secrets = Set(leftConfig.secretFingerprints.keys).union(rightConfig.secretFingerprints.keys)
    return DriftReport(
      left: leftSide, right: rightSide,
      sameRelease: leftSide.release != nil && leftSide.release?.id == rightSide.release?.id,
      onlyLeft: leftConfig.keys.subtracting(rightConfig.keys).sorted(),
      onlyRight: rightConfig.keys.subtracting(leftConfig.keys).sorted(),
      differing: shared.compactMap { key in
        let (a, b) = (leftConfig.comparable(key), rightConfig.comparable(key))
        guard a != b else { return nil }
        return DriftReport.KeyDifference(key: key, secret: secrets.contains(key), left: a, right: b)
      },
      equal: shared.filter { leftConfig.comparable($0) == rightConfig.comparable($0) })
  }
}
