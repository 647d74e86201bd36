import AirlockKit
import Foundation

/// Human renderings of `releases`, `show` and `diff`.
extension Printing {
  static func releases(_ list: ReleaseList) {
    guard !list.releases.isEmpty else {
      print("no release has run in \(list.environment) yet")
      return
    }
    let states = list.releases.map { entry in
      ((entry.current ? ["current"] : []) + [entry.status.rawValue] + (entry.rollbackTarget ? ["rollback target"] : []))
        .joined(separator: ", ")
    }
    let versionWidth = list.releases.map(\.release.version.count).max() ?? 0
    let stateWidth = states.map(\.count).max() ?? 0
    for (entry, state) in zip(list.releases, states) {
      var line =
        "\(entry.release.version.padding(toLength: versionWidth, withPad: " ", startingAt: 0))  "
        + "\(entry.release.id.short)  \(state.padding(toLength: stateWidth, withPad: " ", startingAt: 0))  "
        + "shipped \(Timestamp.format(entry.firstShippedAt)) by \(entry.firstShippedBy); "
        + "last \(entry.lastEventKind.rawValue) \(Timestamp.format(entry.lastEventAt))"
      if let verified = entry.lastVerifiedAt { line += "; verified \(Timestamp.format(verified))" }
      if let reason = entry.quarantineReason { line += "; quarantined: \(reason)" }
      print(line)
    }
  }

  static func event(_ detail: EventDetail) {
    let record = detail.record
    print("event \(detail.commit.short)  \(detail.message)")
    var line = "  \(record.event.rawValue)\(record.automatic ? " (automatic)" : "") \(detail.environment)"
    if let release = record.release { line += " \(release)" }
    if let source = record.sourceEnvironment { line += " from \(source)" }
    line +=
      ": \(record.outcome.rawValue) by \(record.actor) at \(Timestamp.format(record.finishedAt)), "
      + "took \(record.durationMilliseconds) ms"
    print(line)
    if let previous = record.previous, previous != record.current { print("  before: \(previous)") }
    print("  runs after: \(record.current?.description ?? "nothing")")
    if !record.detail.isEmpty { print("  why: \(record.detail)") }
    if let url = record.runURL { print("  run: \(url)") }
    for check in detail.checks {
      print("  check \(check.name) (\(check.kind)\(check.dependency ? ", dependency" : "")): \(check.verdict.rawValue)")
      for probe in check.hosts.flatMap(\.probes) { print("    " + Self.probe(probe)) }
    }
    for hook in detail.hooks ?? [] {
      print("  hook \(hook.hook): \(hook.succeeded ? "ok" : "failed") (\(hook.reason))")
      for line in hook.output.split(separator: "\n").suffix(10) { print("    | \(line)") }
    }
    for delivery in detail.notifications ?? [] {
      let tries = delivery.attempts == 1 ? "" : ", \(delivery.attempts) attempts"
      print("  notified \(delivery.receiver): \(delivery.delivered ? "ok" : "failed") (\(delivery.reason)\(tries))")
    }
    if detail.configChanges.isEmpty {
      print("  config: unchanged\(detail.previousEvent.map { " since \($0.short)" } ?? "")")
    }
    for change in detail.configChanges { print("  " + Self.configChange(change)) }
  }

  /// One probe: host, attempt, outcome, reason, time taken. Every field a probe carries is shown here, and only
  /// here, so a field added to `Probe` is shown by changing this one function.
  static func probe(_ probe: Probe) -> String {
    "\(probe.host) #\(probe.attempt) \(probe.outcome.rawValue): \(probe.reason) (\(probe.milliseconds) ms)"
      + (probe.evidence.map {
        "\n"
          + $0.split(separator: "\n", omittingEmptySubsequences: false).map { "      | \($0)" }.joined(separator: "\n")
      } ?? "")
  }

  /// One config key that changed, as `plan` prints it: a secret by the start of its fingerprint only.
  static func configChange(_ change: ConfigChange) -> String {
    let shown = { (value: String?) in value.map { change.secret ? String($0.prefix(19)) : $0 } ?? "-" }
    return "config \(change.kind.rawValue) \(change.key)\(change.secret ? " (secret)" : ""): "
      + "\(shown(change.before)) → \(shown(change.after))"
  }

  static func diff(_ diff: ReleaseDiff) {
    guard !diff.sameTree else {
      print("\(diff.from) and \(diff.to): same artifact tree")
      return
    }
    print("\(diff.from) → \(diff.to)")
    for file in diff.files.added { print("  added    \(file.path)\(Self.kindNote(file))") }
    for file in diff.files.removed { print("  removed  \(file.path)\(Self.kindNote(file))") }
    for change in diff.files.changed {
      var line = "  changed  \(change.path)"
      if change.before != change.after || change.targetBefore != nil || change.targetAfter != nil {
        let before = change.before.rawValue + (change.targetBefore.map { " \($0)" } ?? "")
        let after = change.after.rawValue + (change.targetAfter.map { " \($0)" } ?? "")
        line += ": \(before) → \(after)"
        if change.contentChanged, change.before != .symlink, change.after != .symlink { line += ", content changed" }
      }
      print(line)
    }
    let config = diff.config
    switch (config.from, config.to) {
    case (let from?, let to?) where config.sameEnvironment:
      print("  config as last run in \(from.environment), where both ran (\(from.event.short), \(to.event.short)):")
    case (let from?, let to?):
      print(
        "  config as last run: \(diff.from.version) in \(from.environment) (\(from.event.short)), "
          + "\(diff.to.version) in \(to.environment) (\(to.event.short)); no environment ran both:")
    default:
      let never = [(diff.from, config.from), (diff.to, config.to)].filter { $0.1 == nil }.map(\.0.version)
      print("  config: \(never.joined(separator: " and ")) never ran anywhere; nothing to compare")
      return
    }
    if config.changes.isEmpty { print("    no differences") }
    for change in config.changes { print("    " + Self.configChange(change)) }
  }

  /// What an added or removed entry is, when it is not a plain file.
  private static func kindNote(_ file: ArtifactFile) -> String {
    switch file.kind {
    case .file: return ""
    case .symlink: return " (symlink → \(file.target ?? ""))"
    default: return " (\(file.kind.rawValue))"
    }
  }
}
