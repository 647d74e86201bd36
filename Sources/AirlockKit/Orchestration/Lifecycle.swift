import Foundation

/// The documented exit statuses of Airlock's commands: the one place their numbers are written.
public enum ExitStatus: Int32, Sendable, Codable, Hashable {
  /// Done (also: nothing to do).
  case done = 0
  /// An unexpected error: I/O, a damaged ledger, a failed install.
  case unexpected = 1
  /// An invalid pipeline, argument or input.
  case invalid = 2
  /// Refused before anything changed: preflight, a hook, a promotion rule, a target Airlock did not make.
  case blocked = 3
  /// Verify failed and the environment was rolled back.
  case rolledBack = 4
  /// Verify failed (or could not be judged) and the environment was left as it is.
  case leftAsIs = 5
  /// The environment is locked, or another change won the race.
  case conflict = 6
  /// A signal stopped the run; the CLI exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
  case interrupted = 130
}

/// The release lifecycle as a value: what one step found, turned into the one transition it makes to an
/// environment's state, with the line its event records and the line its report prints.
///
/// Pure: no I/O, no clock of its own. Deploy, promote, rollback and verify run their effects, then ask for the
/// transition and apply it, so the verdict → outcome → status → exit status mapping, and every summary those
/// commands print, live here and only here.
struct Lifecycle: Sendable {
  /// What a step is about: the event, the environment, the release, and a promotion's source.
  struct Subject: Sendable, Hashable {
    /// `deploy`, `promote`, `rollback` or `verify`.
    var event: EventKind
    var environment: String
    /// The label of the release the step is about (for a rollback, the release it goes back to).
    var version: String
    /// The environment a promotion takes the release from.
    var source: String? = nil
  }

  /// What happens to a release whose verify failed after a deploy or promotion.
  enum FailurePolicy: Sendable, Hashable {
    /// `on_failure: rollback` and an earlier verified-good release exists: a rollback event follows.
    case rollBack
    /// `on_failure: halt`: left running, quarantined so automation does not ship it again.
    case halt
    /// `on_failure: rollback` with no earlier verified-good release: left running, quarantined.
    case nothingToRollBackTo
  }

  /// The change to the verified-good list.
  enum GoodList: Sendable, Hashable {
    case mark, drop, keep
  }

  /// One transition: what the event records, how the environment's state changes, and what the report says.
  struct Transition: Sendable, Hashable {
    var outcome: EventOutcome
    /// The new status of the release running after the event; `nil` leaves it as it was.
    var status: ReleaseStatus?
    /// What happens to the release the event is about in the verified-good list.
    var good: GoodList
    /// When set, the release the event is about is quarantined with this reason.
    var quarantine: String?
    /// When set, the release the event left (a rollback's) is quarantined with this reason.
    var quarantineLeft: String?
    /// A rollback event follows this one.
    var rollsBack: Bool = false
    var exit: ExitStatus
    /// The event's `detail`: what its record says happened (empty when nothing is recorded).
    var detail: String
    /// The one human line the command prints: what happened and, on failure, what to do next.
    var summary: String

    /// This transition when the rollback it asks for cannot run (`failure` says why): the release is left as it
    /// is (exit 5).
    func leftInPlace(_ subject: Subject, because failure: String) -> Transition {
      var transition = self
      transition.rollsBack = false
      transition.exit = .leftAsIs
      transition.summary = Lifecycle.failed(
        subject, detail, "left as it is: \(failure); run `airlock rollback \(subject.environment)` once that is fixed")
      return transition
    }
  }

  /// The transition of a release judged by its verify checks after a deploy or promotion.
  ///
  /// When a rollback follows, its own report (see `restored`) is what the command prints.
  static func shipped(_ judgement: Judgement, of subject: Subject, policy: FailurePolicy) -> Transition {
    let name = subject.environment
    let summary: String
    switch judgement {
    case .pass:
      let verb =
        subject.event == .promote
        ? "promoted \(subject.version) \(subject.source ?? "")→\(name)" : "deployed \(subject.version) to \(name)"
      summary = "\(verb): verified"
    case .inconclusive:
      summary = failed(
        subject, judgement.detail, "left as it is: a check is broken, fix the check and run `airlock verify \(name)`")
    case .dependencyDown:
      summary = failed(
        subject, judgement.detail,
        "left as it is: a dependency is down, and rolling back cannot fix someone else's outage")
    case .fail:
      let why: String
      switch policy {
      case .rollBack: why = "rolling back to the newest earlier verified-good release"
      case .halt: why = "left as it is (on_failure: halt); run `airlock rollback \(name)` to go back"
      case .nothingToRollBackTo: why = "left as it is: \(name) has no earlier verified-good release to go back to"
      }
      summary = failed(subject, judgement.detail, why)
    }
    return judged(judgement, rollBack: policy == .rollBack, quarantine: true, summary: summary)
  }

  /// The transition of `airlock verify`: the release running is judged; a failure never rolls back, and does not
  /// quarantine (dropping it from the good list already makes it unpromotable).
  static func verified(_ judgement: Judgement, of subject: Subject) -> Transition {
    judged(
      judgement, rollBack: false, quarantine: false,
      summary: "verify \(subject.environment) \(subject.version): \(judgement.detail)")
  }

  /// The one rule for every verdict: a pass marks the release verified and good; a broken check judges nothing
  /// (unverified, kept); a dependency that is down judges nothing either (the verify failed, the release stays
  /// unverified and keeps its place, since rolling back cannot fix someone else's outage); a failure of the
  /// release itself marks it failed and drops it from the good list, then rolls back or leaves it (quarantined or
  /// not).
  private static func judged(
    _ judgement: Judgement, rollBack: Bool, quarantine: Bool, summary: String
  ) -> Transition {
    let detail = judgement.detail
    switch judgement {
    case .pass:
      return Transition(outcome: .ok, status: .verified, good: .mark, exit: .done, detail: detail, summary: summary)
    case .inconclusive:
      return Transition(
        outcome: .inconclusive, status: .unverified, good: .keep, exit: .leftAsIs, detail: detail, summary: summary)
    case .dependencyDown:
      return Transition(
        outcome: .failed, status: .unverified, good: .keep, exit: .leftAsIs, detail: detail, summary: summary)
    case .fail where rollBack:
      return Transition(
        outcome: .failed, status: .failed, good: .drop, rollsBack: true, exit: .rolledBack, detail: detail,
        summary: summary)
    case .fail:
      return Transition(
        outcome: .failed, status: .failed, good: .drop, quarantine: quarantine ? detail : nil, exit: .leftAsIs,
        detail: detail, summary: summary)
    }
  }

  /// The summary of a deploy or promotion whose release failed `detail`, then `why` it is where it is.
  private static func failed(_ subject: Subject, _ detail: String, _ why: String) -> String {
    "\(subject.event.rawValue) \(subject.version) to \(subject.environment): \(detail); \(why)"
  }

  /// The transition of a rollback to the subject's release, judged by the verify checks run against it;
  /// `cause` the failed deploy or promotion that asked for it, if one did; `actor` the one who ran it.
  ///
  /// A pass makes the restored release verified and good and quarantines the one `left`; a failure there too
  /// blames the check or the environment (suspect): nothing is quarantined and no further rollback is attempted.
  static func restored(
    _ judgement: Judgement, of subject: Subject, leaving left: Release?, after cause: String?, by actor: String
  ) -> Transition {
    let (name, version) = (subject.environment, subject.version)
    let automatic = cause != nil
    let lead = automatic ? "verify failed, rolled back automatically" : "rollback"
    guard judgement.passed else {
      let failing = judgement.failingChecks.joined(separator: ", ")
      let detail =
        "verify fails against \(version) too (\(judgement.detail)): the check \(failing) or the environment "
        + "is suspect, not the release; not rolling back further"
      return Transition(
        outcome: .suspect, status: .suspect, good: .keep, exit: .leftAsIs, detail: detail,
        summary: "\(name): \(lead): \(detail)")
    }
    let detail = "rolled back to \(version)" + (left.map { "; \($0.version) is quarantined in \(name)" } ?? "")
    return Transition(
      outcome: .ok, status: .verified, good: .mark,
      quarantineLeft: cause.map { "rolled back to \(version) automatically, after \($0)" }
        ?? "rolled back to \(version) by \(actor)",
      exit: automatic ? .rolledBack : .done, detail: detail, summary: "\(name): \(lead): \(detail)")
  }

  /// A refusal (preflight, a hook, a promotion rule) for `reason`: recorded as `blocked`, nothing else changes.
  static func refused(_ subject: Subject, because reason: String) -> Transition {
    Transition(
      outcome: .blocked, status: nil, good: .keep, exit: .blocked, detail: reason,
      summary: "\(subject.event.rawValue) \(subject.version) to \(subject.environment) blocked: \(reason); "
        + "nothing changed")
  }

  /// The release already runs, verified (with this config, for a deploy or promotion): nothing is recorded.
  static func unchanged(_ subject: Subject) -> Transition {
    let config = subject.event == .rollback ? "" : " with this config"
    return Transition(
      outcome: .unchanged, status: nil, good: .keep, exit: .done, detail: "",
      summary: "\(subject.environment) already runs \(subject.version)\(config), verified; nothing to do")
  }

  /// A signal stopped the run; once the switch had happened, the release runs unverified. The summary is the
  /// error the command ends with.
  static func aborted(_ subject: Subject, switched: Bool) -> Transition {
    let name = subject.environment
    let detail =
      switched
      ? "aborted by a signal after the switch: \(subject.version) runs unverified; "
        + "run `airlock verify \(name)` or `airlock rollback \(name)`"
      : "aborted by a signal before the switch; nothing changed"
    return Transition(
      outcome: .aborted, status: switched ? .unverified : nil, good: .keep, exit: .interrupted, detail: detail,
      summary: "\(subject.event.rawValue) of \(subject.version) to \(name) \(detail)")
  }
}

extension EnvironmentState {
  /// Applies `transition` for `release` (with the config blob it ran with) and the release the event `left`.
  mutating func apply(
    _ transition: Lifecycle.Transition, to release: Release, config: ObjectID, left: Release? = nil, at time: Date
  ) {
    if let status = transition.status { currentStatus = status }
    // Before the good list changes: a quarantine keeps the config the release was last good with.
    if let reason = transition.quarantine { quarantine(release, reason: reason, at: time) }
    switch transition.good {
    case .mark: markGood(release, config: config, at: time)
    case .drop: good.removeAll { $0.release.id == release.id }
    case .keep: break
    }
    if let reason = transition.quarantineLeft, let left, left.id != release.id {
      quarantine(left, reason: reason, at: time)
    }
  }
}

extension EnvironmentState {
  /// This state as `commitEvent` records it (its event counted), for a step that follows in the same run.
  var recorded: EnvironmentState {
    var state = self
    state.sequence += 1
    return state
  }
}
