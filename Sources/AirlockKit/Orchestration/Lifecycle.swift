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
/// environment's state.
///
/// Pure: no I/O, no clock of its own. Deploy, promote, rollback and verify run their effects, then ask for the
/// transition and apply it, so the verdict → outcome → status → exit status mapping lives here and only here.
struct Lifecycle: Sendable {
  /// What happens to a release whose own verify failed.
  enum FailurePolicy: Sendable, Hashable {
    /// An earlier verified-good release exists and `on_failure: rollback`: a rollback event follows.
    case rollBack
    /// Leave it running; `quarantine` keeps automation from shipping it again (a deploy or promotion does, a
    /// plain `airlock verify` does not: dropping it from the good list already makes it unpromotable).
    case leave(quarantine: Bool)
  }

  /// The change to the verified-good list.
  enum GoodList: Sendable, Hashable {
    case mark, drop, keep
  }

  /// One transition: what the event records and how the environment's state changes.
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

    /// This transition when the rollback it asks for cannot run: the release is left as it is (exit 5).
    var leftInPlace: Transition {
      var transition = self
      transition.rollsBack = false
      transition.exit = .leftAsIs
      return transition
    }
  }

  /// The transition of a release judged by its verify checks after a deploy or promotion (`shipped`), or by
  /// `airlock verify` of what runs.
  ///
  /// The one rule for every verdict: a pass marks the release verified and good; a broken check judges nothing
  /// (unverified, kept); a dependency that is down judges nothing either (the verify failed, the release stays
  /// unverified and keeps its place, since rolling back cannot fix someone else's outage); a failure of the
  /// release itself marks it failed and drops it from the good list, then the failure policy decides.
  static func judged(_ judgement: Judgement, policy: FailurePolicy) -> Transition {
    switch judgement {
    case .pass:
      return Transition(outcome: .ok, status: .verified, good: .mark, exit: .done)
    case .inconclusive:
      return Transition(outcome: .inconclusive, status: .unverified, good: .keep, exit: .leftAsIs)
    case .dependencyDown:
      return Transition(outcome: .failed, status: .unverified, good: .keep, exit: .leftAsIs)
    case .fail(let detail, _):
      switch policy {
      case .rollBack:
        return Transition(outcome: .failed, status: .failed, good: .drop, rollsBack: true, exit: .rolledBack)
      case .leave(let quarantine):
        return Transition(
          outcome: .failed, status: .failed, good: .drop, quarantine: quarantine ? detail : nil, exit: .leftAsIs)
      }
    }
  }

  /// The transition of a rollback, judged by the verify checks run against the restored release.
  ///
  /// A pass makes the restored release verified and good and quarantines the one left; a failure there too blames
  /// the check or the environment (suspect): nothing is quarantined and no further rollback is attempted.
  static func restored(_ judgement: Judgement, automatic: Bool, leftReason: String?) -> Transition {
    guard judgement.passed else {
      return Transition(outcome: .suspect, status: .suspect, good: .keep, exit: .leftAsIs)
    }
    return Transition(
      outcome: .ok, status: .verified, good: .mark, quarantineLeft: leftReason,
      exit: automatic ? .rolledBack : .done)
  }

  /// A refusal (preflight, a hook, a promotion rule): recorded as `blocked`, nothing else changes.
  static let refused = Transition(outcome: .blocked, status: nil, good: .keep, exit: .blocked)

  /// The release already runs, verified, with this config: nothing is recorded.
  static let unchanged = Transition(outcome: .unchanged, status: nil, good: .keep, exit: .done)

  /// A signal stopped the run; once the switch had happened, the release runs unverified.
  static func aborted(switched: Bool) -> Transition {
    Transition(outcome: .aborted, status: switched ? .unverified : nil, good: .keep, exit: .interrupted)
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
