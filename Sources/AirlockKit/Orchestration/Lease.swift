import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Who holds an environment's lease, stored in the ledger at `refs/airlock/leases/<pipeline>/<environment>`.
public struct LeaseHolder: Sendable, Codable, Hashable {
  public var actor: String
  public var host: String
  public var pid: Int32
  public var operation: String
  public var reason: String?
  public var started: Date
  public var expires: Date?
}

/// A held lease on one environment; `release()` gives it back.
///
/// Taken by compare-and-swap on a ref, so two runners sharing a ledger cannot both hold it.
final class Lease {
  let ledger: PipelineLedger
  let environment: String
  let commit: ObjectID
  private var released = false

  static func refName(pipeline: String, environment: String) -> String {
    "refs/airlock/leases/\(pipeline)/\(environment)"
  }

  private init(ledger: PipelineLedger, environment: String, commit: ObjectID) {
    self.ledger = ledger
    self.environment = environment
    self.commit = commit
  }

  /// Takes the lease or throws `.conflict` naming the holder. A lease left by a dead process on this host is
  /// broken first, with a progress line saying so.
  static func acquire(
    _ ledger: PipelineLedger, environment: String, operation: String, options: OperationOptions
  ) throws -> Lease {
    let name = refName(pipeline: ledger.pipeline, environment: environment)
    let now = options.clock.now()
    let holder = LeaseHolder(
      actor: options.actor.name, host: HostName.current, pid: getpid(), operation: operation,
      reason: nil, started: now, expires: nil)
    let tree = try ledger.ledger.writeTree(files: ["lease.json": try LedgerCoding.encode(holder)], subtrees: [:])
    let commit = try ledger.ledger.writeCommit(
      tree: tree, parents: [], message: "lease \(ledger.pipeline)/\(environment): \(operation)", author: options.actor,
      time: now)
    for _ in 0..<2 {
      let existing = try ledger.ledger.reference(name)
      if let existing {
        let current = try Self.holder(ledger, commit: existing)
        guard let current, current.host == holder.host, current.pid != holder.pid, !isAlive(current.pid) else {
          let who = current.map { "\($0.actor) on \($0.host) (pid \($0.pid), \($0.operation))" } ?? "an unknown holder"
          throw AirlockError(.conflict, "\(environment) is locked by \(who); try again when it is done")
        }
        options.progress("breaking stale lease on \(environment): pid \(current.pid) on \(current.host) is gone")
        try? ledger.ledger.deleteReference(name, expected: existing)
        continue
      }
      do {
        try ledger.ledger.updateReference(name, to: commit, expected: nil, logMessage: "airlock: lease \(operation)")
        return Lease(ledger: ledger, environment: environment, commit: commit)
      } catch let error as LedgerError where error.code == .concurrentUpdate {
        continue
      }
    }
    throw AirlockError(.conflict, "\(environment) is being changed by another runner; try again when it is done")
  }

  /// The holder recorded in a lease commit.
  static func holder(_ ledger: PipelineLedger, commit: ObjectID) throws -> LeaseHolder? {
    guard let data = try ledger.ledger.readFile("lease.json", inCommit: commit) else { return nil }
    return try? LedgerCoding.decode(LeaseHolder.self, from: data)
  }

  /// Gives the lease back; safe to call more than once.
  func release() {
    guard !released else { return }
    released = true
    try? ledger.ledger.deleteReference(
      Self.refName(pipeline: ledger.pipeline, environment: environment), expected: commit)
  }

  deinit { release() }

  private static func isAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
  }
}
