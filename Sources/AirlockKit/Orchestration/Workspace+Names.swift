import Foundation

/// The names a command line can offer for this workspace (shell completion): environments, release labels and
/// event ids.
///
/// Each is read from the pipeline and the local ledger only, without creating, fetching, repairing or locking
/// anything (a shared ledger's mirror is read as it is), and is empty rather than an error when something cannot
/// be read: a shell's completion must neither change a project nor print into the user's line.
extension Workspace {
  /// The environments, in promotion order from the pipeline; from the ledger's branches when the pipeline does not
  /// load (as `rollback`, `lock` and `unlock` work from the ledger then).
  public func environmentNames() -> [String] {
    if let pipeline { return pipeline.environments.map(\.name) }
    return (try? ledgerForNames()?.recordedEnvironments()) ?? []
  }

  /// Every release label bound in the ledger for this pipeline (its `refs/tags/<pipeline>/*`), sorted.
  public func releaseLabels() -> [String] {
    ((try? ledgerForNames()?.boundLabels()) ?? []).map(\.label).sorted()
  }

  /// The short ids (as `airlock history` prints them) of the newest `limit` events of every environment, newest
  /// first.
  public func eventIDs(limit: Int = 100) -> [String] {
    guard let ledger = ledgerForNames(), let environments = try? ledger.recordedEnvironments() else { return [] }
    let commits = environments.flatMap { environment in
      (try? ledger.ledger.history(branch: ledger.branch(environment), limit: limit)) ?? []
    }
    return commits.sorted { ($0.time, $0.id.hex) > ($1.time, $1.id.hex) }.prefix(limit).map(\.id.short)
  }

  /// The ledger as it is on disk, or nil when there is none (never created, and a shared one's mirror never
  /// fetched).
  private func ledgerForNames() -> PipelineLedger? {
    guard let ledger = try? Ledger.open(at: ledgerURL, create: false) else { return nil }
    return PipelineLedger(ledger: ledger, pipeline: pipelineName)
  }
}
