import AirlockKit
import Foundation

/// Human renderings of query results and check tables.
enum Printing {
  static func status(_ statuses: [EnvironmentStatus]) {
    for status in statuses {
      let current = status.current.map { "\($0.version) (\($0.id.short))" } ?? "nothing"
      var line = "\(status.environment): \(current)"
      if let state = status.status { line += " [\(state.rawValue)]" }
      if let requires = status.requires { line += " ← \(requires)" }
      print(line)
      if let event = status.lastEvent { print("  last: \(event.message) at \(Timestamp.format(event.time))") }
      if let hosts = status.hosts {
        let width = hosts.map(\.host.count).max() ?? 0
        for host in hosts {
          let padded = host.host.padding(toLength: width, withPad: " ", startingAt: 0)
          print("  \(padded)  \(host.problem.map { "! \($0)" } ?? host.version ?? "nothing")")
        }
      }
      if let interrupted = status.interrupted { print("  ! interrupted: \(interrupted)") }
      if let problem = status.targetProblem { print("  ! target: \(problem)") }
      if let problem = status.leaseProblem { print("  ! held by \(problem)") }
      if let target = status.rollbackTarget { print("  rollback → \(target.version)") }
      for quarantine in status.quarantined {
        print("  quarantined: \(quarantine.release.version) (\(quarantine.reason))")
      }
      if let lease = status.lease, status.leaseStale == nil { print("  \(lease.describe(now: Date()))") }
    }
  }

  /// Events newest first, one line each with who acted and, for failures and control events, why. Consecutive
  /// refusals that say the same thing fold into one line with a count; the ledger keeps each.
  static func history(_ entries: [HistoryEntry]) {
    var index = 0
    while index < entries.count {
      let entry = entries[index]
      guard let record = entry.record else {
        print("\(Timestamp.format(entry.time))  \(entry.commit.short)  \(entry.message)  [unreadable event]")
        print("    unreadable event \(entry.commit.short): \(entry.unreadable ?? "its release.json cannot be read")")
        index += 1
        continue
      }
      var repeats = 1
      while index + repeats < entries.count, record.outcome == .blocked,
        let next = entries[index + repeats].record, entries[index + repeats].message == entry.message,
        next.detail == record.detail, next.actor == record.actor
      {
        repeats += 1
      }
      let who = record.cause.map { "airlock: automatic, after \($0)" } ?? record.actor
      var line = "\(Timestamp.format(record.finishedAt))  \(entry.commit.short)  \(entry.message)"
      if repeats > 1 {
        let first = entries[index + repeats - 1].record?.finishedAt ?? record.finishedAt
        line += " ×\(repeats) (since \(Timestamp.format(first)))"
      }
      print("\(line)  [\(who)]")
      if record.detailExplains && !record.detail.isEmpty { print("    \(record.detail)") }
      if let url = record.runURL { print("    run: \(url)") }
      index += repeats
    }
  }

  static func plan(_ plan: AirlockKit.Plan) {
    print("\(plan.environment): runs \(plan.current?.description ?? "nothing")")
    let change: String
    switch plan.action {
    case .promote:
      change = "promotion"
      print("  promote would ship \(plan.release?.description ?? "nothing") from \(plan.sourceEnvironment ?? "?")")
    case .deploy:
      change = "deploy"
      if let release = plan.release { print("  deploy would ship \(release)") }
    case .rollback:
      change = "rollback"
      if let release = plan.release {
        print("  rollback would switch to \(release) with the config it was verified with (no preflight)")
      }
    }
    if let refusal = plan.refusal { print("  refused: \(refusal)") }
    if !plan.preflight.isEmpty { print("  preflight: \(plan.preflight.joined(separator: ", "))") }
    if !plan.verify.isEmpty { print("  verify: \(plan.verify.joined(separator: ", "))") }
    for change in plan.configChanges { print("  " + configChange(change)) }
    let nowhere = "nothing (no earlier verified release)"
    if plan.action != .rollback {
      print("  rollback now would go to \(plan.rollbackTarget?.description ?? nowhere)")
    }
    if plan.refusal == nil {
      print("  after this \(change), rollback would go to \(plan.rollbackAfter?.description ?? nowhere)")
    }
    for note in plan.notes { print("  note: \(note)") }
  }

  /// One row per host of each check: verdict, then each probe's reason in order.
  static func checkTable(_ results: [CheckResult]) {
    let rows = results.flatMap { result in
      result.hosts.map { host in
        [result.name, result.kind, host.host, host.verdict.rawValue, host.probes.map(\.reason).joined(separator: ", ")]
      }
    }
    let header = ["CHECK", "KIND", "HOST", "VERDICT", "PROBES"]
    let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
      let cells = row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }
      print(cells.joined(separator: "  "))
    }
    for result in results {
      let evidence = result.evidenceLines
      guard !evidence.isEmpty else { continue }
      print("\(result.name):")
      for line in evidence { print(line) }
    }
  }

  static func drift(_ report: DriftReport) {
    func release(_ side: DriftReport.Side) -> String { side.release?.description ?? "nothing" }
    print(
      "\(report.left.environment) runs \(release(report.left)); \(report.right.environment) runs \(release(report.right))"
    )
    print(report.sameRelease ? "  same release (same artifact tree)" : "  different releases")
    for key in report.onlyLeft { print("  only in \(report.left.environment): \(key)") }
    for key in report.onlyRight { print("  only in \(report.right.environment): \(key)") }
    for difference in report.differing {
      let shown = { (value: String?) in value.map { difference.secret ? String($0.prefix(19)) + "…" : $0 } ?? "-" }
      print(
        "  differs \(difference.key)\(difference.secret ? " (secret)" : ""): \(shown(difference.left)) ≠ \(shown(difference.right))"
      )
    }
    if !report.equal.isEmpty { print("  equal: \(report.equal.joined(separator: ", "))") }
    if !report.keysDrifted { print("  key sets match") }
  }
}
