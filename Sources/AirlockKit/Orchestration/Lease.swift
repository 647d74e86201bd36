import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Who holds an environment's lease, stored in the ledger at `refs/airlock/leases/<pipeline>/<environment>`.
public struct LeaseHolder: Sendable, Codable, Hashable {
  /// A lease taken for the duration of one command, or an incident lock held until `airlock unlock`.
  public enum Kind: String, Sendable, Codable, Hashable {
    case operation, lock
  }

  /// An operation lease or an incident lock.
  public var kind: Kind
  /// Who holds it.
  public var actor: String
  /// The host the holder runs on; with `pid`, how a dead run's lease is told from a live one.
  public var host: String
  /// The holder's process id on `host`.
  public var pid: Int32
  /// The command holding it (`deploy 1.4.2`, `lock`).
  public var operation: String
  /// Why an incident lock was taken.
  public var reason: String?
  /// When it was taken.
  public var started: Date
  /// When an operation lease lapses unless renewed; incident locks never expire.
  public var expires: Date?
  /// The commit of the incident lock this operation lease stands in for: its holder changes the locked
  /// environment, and the lock comes back when the operation ends (or when its stale lease is broken).
  public var suspendedLock: ObjectID? = nil

  /// Why the lease no longer protects anything, or `nil` while it is live.
  ///
  /// An operation lease is stale when its process is gone (on this host) or its expiry has passed; an incident
  /// lock is never stale: only `unlock` ends it.
  public func staleness(now: Date, host currentHost: String) -> String? {
    guard kind == .operation else { return nil }
    if host == currentHost && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
      return "its process \(pid) on \(host) is gone"
    }
    if let expires, expires < now {
      return "it expired \(Int(now.timeIntervalSince(expires)))s ago"
    }
    return nil
  }

  /// One line naming the holder, what it does and for how long, e.g. for a refusal with exit 6.
  public func describe(now: Date) -> String {
    let age = Self.age(now.timeIntervalSince(started))
    switch kind {
    case .lock:
      return "locked by \(actor) on \(host) for \(age): \(reason ?? "no reason given")"
    case .operation:
      return "being changed by \(actor) on \(host) (pid \(pid), \(operation)) for \(age)"
        + (suspendedLock == nil ? "" : " under their incident lock")
    }
  }

  static func age(_ seconds: TimeInterval) -> String {
    let whole = max(0, Int(seconds))
    if whole < 120 { return "\(whole)s" }
    if whole < 7200 { return "\(whole / 60)m" }
    return "\(whole / 3600)h\((whole % 3600) / 60)m"
  }
}

/// A held lease on one environment; `release()` gives it back, and a background task renews it meanwhile.
///
/// Taken by compare-and-swap on a ref, so two runners sharing a ledger cannot both hold it. Renewal moves the ref
/// to a new commit with a later expiry, so a runner that dies on another host frees the environment within
/// `timeToLive` while a long watch window keeps it.
final class Lease {
  let ledger: PipelineLedger
  let environment: String
  let holder: LeaseHolder
  private let current: CurrentCommit
  private let renewal: Task<Void, Never>?
  private var released = false
  /// The incident lock to put back on release, when this lease stands in for its holder's lock.
  private let restoring: LeaseHolder?

  /// How long an operation lease lives without renewal.
  static let timeToLive: TimeInterval = 120

  static func refName(pipeline: String, environment: String) -> String {
    "refs/airlock/leases/\(pipeline)/\(environment)"
  }

  private init(
    ledger: PipelineLedger, environment: String, holder: LeaseHolder, commit: ObjectID, renew: Bool,
    restoring: LeaseHolder? = nil
  ) {
    self.ledger = ledger
    self.environment = environment
    self.holder = holder
    self.restoring = restoring
    let current = CurrentCommit(commit)
    self.current = current
    guard renew else {
      renewal = nil
      return
    }
    renewal = Self.renew(
      url: ledger.ledger.url, remote: ledger.remote,
      name: Self.refName(pipeline: ledger.pipeline, environment: environment), holder: holder, current: current)
  }

  /// Moves the lease ref to a fresh expiry every quarter of its life until cancelled.
  ///
  /// Renewal opens its own handle, since a libgit2 repository is not to be shared across threads, and works under
  /// the commit's lock, so `release()` never deletes with an expected commit that renewal is replacing.
  private static func renew(
    url: URL, remote: String?, name: String, holder: LeaseHolder, current: CurrentCommit
  ) -> Task<Void, Never> {
    let interval = Duration.seconds(timeToLive / 4)
    let life = timeToLive
    return Task.detached {
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        guard !Task.isCancelled else { return }
        var renewed = holder
        renewed.expires = Date().addingTimeInterval(life)
        let update = renewed
        current.value.withLock { commit in
          // Each renewal descends from the last, so a shared ledger accepts it as a fast-forward.
          guard let ledger = try? Ledger.open(at: url, create: false),
            let next = try? Lease.write(update, to: ledger, parent: commit),
            (try? ledger.updateReference(
              name, to: next, expected: commit, logMessage: "airlock: renew", durable: false)) != nil
          else { return }
          commit = next
          if let remote { _ = try? ledger.push([name], to: remote) }
        }
      }
    }
  }

  /// Takes the lease or throws `.conflict` naming the holder.
  ///
  /// A stale operation lease (its process gone on this host, or expired) is broken first; `broke` records that
  /// in the ledger before the new lease is taken. The holder of an incident lock gets an operation lease in its
  /// place (`suspendedLock`), so they can change the environment they locked while nobody else can; the lock is
  /// put back when the lease is released.
  static func acquire(
    _ ledger: PipelineLedger, environment: String, kind: LeaseHolder.Kind = .operation, operation: String,
    reason: String? = nil, options: OperationOptions, broke: (LeaseHolder, String) throws -> Void = { _, _ in }
  ) throws -> Lease {
    let name = refName(pipeline: ledger.pipeline, environment: environment)
    let now = options.clock.now()
    let holder = LeaseHolder(
      kind: kind, actor: options.actor.name, host: HostName.current, pid: getpid(), operation: operation,
      reason: reason, started: now, expires: kind == .operation ? now.addingTimeInterval(timeToLive) : nil)
    let commit = try write(holder, to: ledger.ledger)
    for _ in 0..<3 {
      if let existing = try ledger.ledger.reference(name) {
        let found = try read(ledger, commit: existing)
        guard case .held(let current, _) = found else {
          throw AirlockError(
            .conflict, "\(environment) is held by \(found.describe(now: now, environment: environment))")
        }
        if kind == .operation, current.kind == .lock, current.actor == options.actor.name {
          if let lease = try standIn(
            for: current, at: existing, ledger, environment: environment, holder: holder, options: options)
          {
            return lease
          }
          continue
        }
        guard let why = current.staleness(now: now, host: HostName.current) else {
          throw AirlockError(.conflict, "\(environment) is \(current.describe(now: now))")
        }
        do {
          if let lock = current.suspendedLock {
            // The run that stood in for a lock died: the lock comes back, and the loop looks at it again.
            try restore(lock, over: existing, ledger, environment: environment)
          } else {
            try ledger.ledger.deleteReference(name, expected: existing)
            ledger.retract(name, expected: existing)
          }
        } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .notFound {
          // The holder released it (and exited) between our read and now: it was never stale, only finished.
          continue
        }
        options.progress(
          "! breaking the stale lease on \(environment) held by \(current.actor) (\(current.operation)): \(why)")
        try broke(current, why)
        continue
      }
      do {
        // An operation lease lives as long as its process, so it skips the disk flushes; an incident lock must
        // outlive a reboot.
        try ledger.ledger.updateReference(
          name, to: commit, expected: nil, logMessage: "airlock: lease \(operation)", durable: kind == .lock)
        do {
          try ledger.publish([name], what: "the lease on \(environment)")
        } catch {
          // Someone holds it in the shared ledger: give ours back and report theirs.
          try? ledger.ledger.deleteReference(name, expected: commit)
          if case .held(let theirs, _) = try Self.current(ledger, environment: environment) {
            throw AirlockError(.conflict, "\(environment) is \(theirs.describe(now: now))")
          }
          throw error
        }
        return Lease(
          ledger: ledger, environment: environment, holder: holder, commit: commit, renew: kind == .operation)
      } catch let error as LedgerError where error.code == .concurrentUpdate {
        continue
      }
    }
    throw AirlockError(.conflict, "\(environment) is being changed by another runner; try again when it is done")
  }

  /// Replaces the incident lock `lock` (at commit `existing`) of the acting person with an operation lease that
  /// remembers it; `nil` when the ref moved meanwhile (the caller looks again).
  private static func standIn(
    for lock: LeaseHolder, at existing: ObjectID, _ ledger: PipelineLedger, environment: String,
    holder: LeaseHolder, options: OperationOptions
  ) throws -> Lease? {
    var holder = holder
    holder.suspendedLock = existing
    // A child of the lock commit, so a shared ledger takes it as a fast-forward and the lock stays reachable.
    let commit = try write(holder, to: ledger.ledger, parent: existing)
    let name = refName(pipeline: ledger.pipeline, environment: environment)
    do {
      try ledger.ledger.updateReference(
        name, to: commit, expected: existing, logMessage: "airlock: lease \(holder.operation) under lock",
        durable: true)
    } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .notFound {
      return nil
    }
    try ledger.publish([name], what: "the lease on \(environment)")
    options.progress(
      "→ \(environment) is locked by you (\(lock.reason ?? "no reason given")); going ahead as its holder, "
        + "and the lock stays")
    return Lease(
      ledger: ledger, environment: environment, holder: holder, commit: commit, renew: true, restoring: lock)
  }

  /// Puts back the incident lock recorded at commit `lock` in place of the lease commit `over`, as a new commit
  /// descending from it.
  private static func restore(_ lock: ObjectID, over commit: ObjectID, _ ledger: PipelineLedger, environment: String)
    throws
  {
    guard case .held(let holder, _) = try read(ledger, commit: lock) else {
      throw LedgerError(.corrupt, "the incident lock \(lock.short) on \(environment) cannot be read")
    }
    try putBack(holder, over: commit, ledger.ledger, name: refName(pipeline: ledger.pipeline, environment: environment))
    try ledger.publish(
      [refName(pipeline: ledger.pipeline, environment: environment)], what: "the lock on \(environment)")
  }

  /// Moves the lease ref from `commit` to a new commit of the incident lock `holder`, a child of `commit`.
  private static func putBack(_ holder: LeaseHolder, over commit: ObjectID, _ ledger: Ledger, name: String) throws {
    let next = try write(holder, to: ledger, parent: commit)
    try ledger.updateReference(name, to: next, expected: commit, logMessage: "airlock: lock restored", durable: true)
  }

  /// What `environment`'s lease ref points at, if anyone holds it; an unreadable lease is returned too, with
  /// why it cannot be read, so nobody mistakes it for a free environment.
  static func current(_ ledger: PipelineLedger, environment: String) throws -> Found? {
    guard let commit = try ledger.ledger.reference(refName(pipeline: ledger.pipeline, environment: environment)) else {
      return nil
    }
    return try read(ledger, commit: commit)
  }

  /// The lease recorded in a lease commit.
  static func read(_ ledger: PipelineLedger, commit: ObjectID) throws -> Found {
    let data: Data?
    do {
      data = try ledger.ledger.readFile("lease.json", inCommit: commit)
    } catch let error as LedgerError {
      return .unreadable(commit: commit, problem: "\(error)")
    }
    guard let data else { return .unreadable(commit: commit, problem: "the commit has no lease.json") }
    do {
      return .held(try LedgerCoding.decode(LeaseHolder.self, from: data), commit: commit)
    } catch {
      return .unreadable(commit: commit, problem: "its lease.json cannot be read (\(error))")
    }
  }

  /// What a lease ref's commit holds: a holder that reads, or why it cannot be read (garbage, or another Airlock
  /// version's format on a shared ledger).
  enum Found {
    /// The lease of `holder`, recorded in `commit`.
    case held(LeaseHolder, commit: ObjectID)
    /// A lease commit whose holder cannot be read, and the problem.
    case unreadable(commit: ObjectID, problem: String)

    /// The lease commit the ref points at.
    var commit: ObjectID {
      switch self {
      case .held(_, let commit), .unreadable(let commit, _): return commit
      }
    }

    /// One line for a refusal or `status`: the holder, or the unreadable lease and how to break it.
    func describe(now: Date, environment: String) -> String {
      switch self {
      case .held(let holder, _):
        return holder.describe(now: now)
      case .unreadable(let commit, let problem):
        return
          "an unreadable lease (commit \(commit.short): \(problem)); if no run is in progress, break it "
          + "with `airlock unlock \(environment) --force`"
      }
    }
  }

  private static func write(_ holder: LeaseHolder, to ledger: Ledger, parent: ObjectID? = nil) throws -> ObjectID {
    let tree = try ledger.writeTree(files: ["lease.json": try LedgerCoding.encode(holder)], subtrees: [:])
    return try ledger.writeCommit(
      tree: tree, parents: parent.map { [$0] } ?? [], message: "lease: \(holder.operation) by \(holder.actor)",
      author: Signature(name: holder.actor, email: "\(holder.actor)@\(holder.host)"), time: holder.started)
  }

  /// Leaves the lease in place after the process ends: an incident lock lives until `unlock`.
  func keep() {
    renewal?.cancel()
    released = true
  }

  /// Gives the lease back; safe to call more than once.
  ///
  /// Called by the command that took the lease once it is done with the ledger (its `defer`), so the deletion goes
  /// through the command's own ledger handle, under the commit's lock so that it never races the renewal task (which
  /// keeps its own handle, since it runs beside the command).
  func release() {
    guard !released else { return }
    released = true
    renewal?.cancel()
    let name = Self.refName(pipeline: ledger.pipeline, environment: environment)
    current.value.withLock { commit in
      if let restoring {
        // The incident lock this lease stood in for comes back.
        try? Self.putBack(restoring, over: commit, ledger.ledger, name: name)
        if let remote = ledger.remote { _ = try? ledger.ledger.push([name], to: remote) }
        return
      }
      try? ledger.ledger.deleteReference(name, expected: commit)
      if let remote = ledger.remote { _ = try? ledger.ledger.deleteRemoteReference(name, expected: commit, on: remote) }
    }
  }

  deinit { release() }
}

/// The lease commit the ref points at now; renewal moves it.
private final class CurrentCommit: Sendable {
  let value: Mutex<ObjectID>

  init(_ commit: ObjectID) {
    value = Mutex(commit)
  }
}
