import Foundation

/// What `lock`, `unlock` and `approve` did.
public struct LockReport: Sendable, Codable {
  /// Which command made the report; its raw value is the command's name, as `--json` prints it.
  public enum Command: String, Sendable, Codable, CaseIterable {
    /// `airlock lock`: an incident lock was taken.
    case lock
    /// `airlock unlock`: a lock or lease was ended (or there was none).
    case unlock
    /// `airlock approve`: a release was approved for a gated environment.
    case approve
  }

  /// Which command made the report.
  public var command: Command
  /// The environment locked, unlocked or approved for.
  public var environment: String
  /// The lease holder after the command (`lock`), or the one that was removed (`unlock`).
  public var holder: LeaseHolder?
  /// The release approved (`approve`).
  public var release: Release?
  /// One human line saying what was done.
  public var summary: String
  /// The event commit recorded; `nil` when nothing was recorded (unlocking what was not locked).
  public var commit: ObjectID?
}

extension Orchestrator {
  /// Holds an incident lock on `environment` until `unlock`: every changing command answers exit 6 meanwhile.
  ///
  /// Works from the ledger's snapshot when the pipeline file is broken, as during an incident it may be.
  ///
  /// Locking again what you hold changes nothing and says so; with `OperationOptions.leaseWait`, a run's lease
  /// is waited for.
  public func lock(environment name: String, reason: String) async throws -> LockReport {
    let stage = try stageForRecovery(name)
    try ledger.synchronize()
    if let held = try heldByActor(name) {
      let note = held.reason == reason ? "" : " (the lock keeps its reason; unlock and lock again to change it)"
      return LockReport(
        command: .lock, environment: name, holder: held, release: nil,
        summary:
          "\(name) is already locked by you for \(LeaseHolder.age(clock.now().timeIntervalSince(held.started))): "
          + "\(held.reason ?? "no reason given")\(note)",
        commit: nil)
    }
    let lease = try await waitingForLease(name) {
      try Lease.acquire(ledger, environment: name, kind: .lock, operation: "lock", reason: reason, options: options)
    }
    let commit: ObjectID
    do {
      commit = try recordControlEvent(stage, event: .lock, detail: "locked: \(reason)")
    } catch {
      lease.release()
      throw error
    }
    lease.keep()
    await warnAboutNotifications()
    return LockReport(
      command: .lock, environment: name, holder: lease.holder, release: nil,
      summary: "\(name) is locked by \(options.actor.name): \(reason); `airlock unlock \(name)` ends it", commit: commit
    )
  }

  /// Ends an incident lock. Someone else's lock, or a live run's lease, needs `force`, and is recorded as broken by
  /// this actor.
  public func unlock(environment name: String) async throws -> LockReport {
    let report = try unlocking(name)
    await warnAboutNotifications()
    return report
  }

  private func unlocking(_ name: String) throws -> LockReport {
    let stage = try stageForRecovery(name)
    try ledger.synchronize()
    guard let found = try Lease.current(ledger, environment: name) else {
      return LockReport(
        command: .unlock, environment: name, holder: nil, release: nil, summary: "\(name) is not locked",
        commit: nil)
    }
    let commit = found.commit
    let now = clock.now()
    let holder: LeaseHolder
    switch found {
    case .held(let readable, _):
      holder = readable
    case .unreadable(_, let problem):
      // Nobody can say whose it is, so only --force breaks it; the event records what the ref held.
      guard options.force else {
        throw AirlockError(.conflict, "\(name) is held by \(found.describe(now: now, environment: name))")
      }
      try deleteLease(of: name, expected: commit)
      let detail = "broke an unreadable lease (commit \(commit.short): \(problem))"
      let event = try recordControlEvent(stage, event: .unlock, detail: detail)
      return LockReport(
        command: .unlock, environment: name, holder: nil, release: nil, summary: "\(name): \(detail)", commit: event)
    }
    let mine = holder.kind == .lock && holder.actor == options.actor.name
    let stale = holder.staleness(now: now, host: HostName.current)
    guard mine || stale != nil || options.force else {
      throw AirlockError(
        .conflict,
        "\(name) is \(holder.describe(now: now)); only \(holder.actor) unlocks it, or pass --force to break it")
    }
    try deleteLease(of: name, expected: commit)
    let how = mine ? "unlocked" : "broke the \(holder.kind == .lock ? "lock" : "lease") of \(holder.actor)"
    let detail =
      "\(how) (\(holder.reason ?? holder.operation), held \(LeaseHolder.age(now.timeIntervalSince(holder.started))))"
    let event = try recordControlEvent(stage, event: .unlock, detail: detail)
    return LockReport(
      command: .unlock, environment: name, holder: holder, release: nil, summary: "\(name): \(detail)",
      commit: event)
  }

  /// The acting person's incident lock on `environment`, when they hold one (also while one of their runs stands
  /// in for it).
  private func heldByActor(_ environment: String) throws -> LeaseHolder? {
    guard case .held(let holder, _)? = try Lease.current(ledger, environment: environment),
      holder.actor == options.actor.name
    else { return nil }
    if holder.kind == .lock { return holder }
    guard let lock = holder.suspendedLock, case .held(let locked, _) = try Lease.read(ledger, commit: lock) else {
      return nil
    }
    return locked
  }

  /// Deletes `environment`'s lease ref if it still points at `commit`, here and in a shared ledger.
  private func deleteLease(of environment: String, expected commit: ObjectID) throws {
    let name = Lease.refName(pipeline: ledger.pipeline, environment: environment)
    do {
      try ledger.ledger.deleteReference(name, expected: commit)
      ledger.retract(name, expected: commit)
    } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .notFound {
      throw AirlockError(
        .conflict, "the lock on \(environment) changed while unlocking; look again with `airlock status`")
    }
  }

  /// Records `actor`'s approval to promote `reference` into `environment`, bound to its artifact tree id.
  public func approve(environment name: String, release reference: String) async throws -> LockReport {
    let pipeline = try requirePipeline()
    let spec = try environment(name, in: pipeline)
    guard spec.approvalRequired else {
      throw AirlockError(.invalidInput, "\(name) does not require approval (`approval: required`); nothing to approve")
    }
    let stage = try makeStage(spec, pipeline: pipeline)
    let upstream = try spec.requires.map { try ledger.head(of: $0).state }
    guard
      let release = try ledger.findRelease(
        reference, among: (upstream?.good.map(\.release) ?? []) + (upstream?.quarantined.map(\.release) ?? []))
    else {
      throw ledger.noRelease(reference)
    }
    if spec.selfApproval != true, let source = spec.requires {
      let shippers = try shippers(of: release, into: source)
      if shippers.contains(options.actor.name) {
        throw AirlockError(
          .blocked,
          "\(options.actor.name) shipped \(release.version) to \(source), so \(name) needs a second person's approval: "
            + "anyone but \(shippers.sorted().joined(separator: ", ")) may run `airlock approve \(name) --release "
            + "\(release.version)` (or set `approval: self` on \(name))")
      }
    }
    let lease = try await takeLease(stage, operation: "approve \(release.version)")
    defer { lease.release() }
    let head = try ledger.head(of: name)
    var state = head.state
    state.approvals.removeAll { $0.release.id == release.id }
    state.approvals.append(Approval(release: release, actor: options.actor.name, at: clock.now()))
    let commit = try recordControlEvent(
      stage, event: .approve, release: release, state: state, detail: "approved \(release) for \(name)")
    return LockReport(
      command: .approve, environment: name, holder: nil, release: release,
      summary: "\(options.actor.name) approved \(release.version) (\(release.id.short)) for \(name)", commit: commit)
  }

  /// Who shipped `release` into `environment`: the actors of its deploys and promotions there.
  private func shippers(of release: Release, into environment: String) throws -> Set<String> {
    Set(
      try ledger.history(of: environment, limit: nil).map(\.record)
        .filter { [.deploy, .promote].contains($0.event) && $0.release?.id == release.id }.map(\.actor))
  }

  /// Appends an event that changes no release: a lock, an unlock, an approval.
  @discardableResult
  func recordControlEvent(
    _ stage: Stage, event: EventKind, release: Release? = nil, state: EnvironmentState? = nil, detail: String
  ) throws -> ObjectID {
    let head = try ledger.head(of: stage.name)
    let record = eventRecord(
      event, in: stage.name, outcome: .ok, release: release, current: head.state.current, previous: head.state.current,
      detail: detail)
    return try commitEvent(
      record, state: state ?? head.state,
      configText: try ledger.recordedConfigText(head), checks: [], stage: stage,
      expected: head.commit, carrySnapshot: true)
  }
}
