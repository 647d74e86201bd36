import Foundation
import Testing

@testable import AirlockKit

/// The release lifecycle's whole transition table, tested directly: no processes, no ledger, a fixed time.
@Suite struct LifecycleTests {
  /// Airlock's, not Swift Testing's exit-test type of the same name.
  typealias ExitStatus = AirlockKit.ExitStatus

  static let pass = Judgement.pass
  static let fail = Judgement.fail("verify failed: health: fail", checks: ["health"])
  static let broken = Judgement.inconclusive("inconclusive: check health is broken", checks: ["health"])
  static let dependency = Judgement.dependencyDown("dependency down: auth: fail", checks: ["auth"])

  static let deploy = Lifecycle.Subject(event: .deploy, environment: "production", version: "1.4.2")
  static let promote = Lifecycle.Subject(
    event: .promote, environment: "production", version: "1.4.2", source: "staging")
  static let verify = Lifecycle.Subject(event: .verify, environment: "staging", version: "1.4.2")
  static let rollback = Lifecycle.Subject(event: .rollback, environment: "production", version: "1.4.1")

  typealias Row = (
    judgement: Judgement, subject: Lifecycle.Subject, policy: Lifecycle.FailurePolicy, outcome: EventOutcome,
    status: ReleaseStatus?, good: Lifecycle.GoodList, quarantined: Bool, rollsBack: Bool, exit: ExitStatus,
    summary: String
  )

  /// Every verdict of a deploy or promotion under every failure policy, down to the line the command prints.
  @Test(
    arguments: [
      (pass, deploy, .rollBack, .ok, .verified, .mark, false, false, .done, "deployed 1.4.2 to production: verified"),
      (pass, deploy, .halt, .ok, .verified, .mark, false, false, .done, "deployed 1.4.2 to production: verified"),
      (
        pass, promote, .nothingToRollBackTo, .ok, .verified, .mark, false, false, .done,
        "promoted 1.4.2 staging→production: verified"
      ),
      (
        fail, deploy, .rollBack, .failed, .failed, .drop, false, true, .rolledBack,
        "deploy 1.4.2 to production: verify failed: health: fail; rolling back to the newest earlier verified-good "
          + "release"
      ),
      (
        fail, deploy, .halt, .failed, .failed, .drop, true, false, .leftAsIs,
        "deploy 1.4.2 to production: verify failed: health: fail; left as it is (on_failure: halt); run "
          + "`airlock rollback production` to go back"
      ),
      (
        fail, promote, .nothingToRollBackTo, .failed, .failed, .drop, true, false, .leftAsIs,
        "promote 1.4.2 to production: verify failed: health: fail; left as it is: production has no earlier "
          + "verified-good release to go back to"
      ),
      (
        broken, deploy, .rollBack, .inconclusive, .unverified, .keep, false, false, .leftAsIs,
        "deploy 1.4.2 to production: inconclusive: check health is broken; left as it is: a check is broken, fix "
          + "the check and run `airlock verify production`"
      ),
      (
        broken, promote, .halt, .inconclusive, .unverified, .keep, false, false, .leftAsIs,
        "promote 1.4.2 to production: inconclusive: check health is broken; left as it is: a check is broken, fix "
          + "the check and run `airlock verify production`"
      ),
      (
        dependency, deploy, .rollBack, .failed, .unverified, .keep, false, false, .leftAsIs,
        "deploy 1.4.2 to production: dependency down: auth: fail; left as it is: a dependency is down, and rolling "
          + "back cannot fix someone else's outage"
      ),
      (
        dependency, deploy, .nothingToRollBackTo, .failed, .unverified, .keep, false, false, .leftAsIs,
        "deploy 1.4.2 to production: dependency down: auth: fail; left as it is: a dependency is down, and rolling "
          + "back cannot fix someone else's outage"
      ),
    ] as [Row])
  func aShippedVerdictGivesOneTransition(_ row: Row) {
    let transition = Lifecycle.shipped(row.judgement, of: row.subject, policy: row.policy)
    #expect(transition.outcome == row.outcome)
    #expect(transition.status == row.status)
    #expect(transition.good == row.good)
    #expect(transition.quarantine == (row.quarantined ? row.judgement.detail : nil))
    #expect(transition.quarantineLeft == nil)
    #expect(transition.rollsBack == row.rollsBack)
    #expect(transition.exit == row.exit)
    #expect(transition.detail == row.judgement.detail)
    #expect(transition.summary == row.summary)
  }

  typealias VerifyRow = (
    judgement: Judgement, outcome: EventOutcome, status: ReleaseStatus, good: Lifecycle.GoodList, exit: ExitStatus,
    summary: String
  )

  /// `airlock verify` follows the same rule for every verdict, but never rolls back nor quarantines.
  @Test(
    arguments: [
      (pass, .ok, .verified, .mark, .done, "verify staging 1.4.2: verified"),
      (fail, .failed, .failed, .drop, .leftAsIs, "verify staging 1.4.2: verify failed: health: fail"),
      (
        broken, .inconclusive, .unverified, .keep, .leftAsIs,
        "verify staging 1.4.2: inconclusive: check health is broken"
      ),
      (dependency, .failed, .unverified, .keep, .leftAsIs, "verify staging 1.4.2: dependency down: auth: fail"),
    ] as [VerifyRow])
  func aVerifiedVerdictGivesOneTransition(_ row: VerifyRow) {
    #expect(
      Lifecycle.verified(row.judgement, of: Self.verify)
        == Lifecycle.Transition(
          outcome: row.outcome, status: row.status, good: row.good, exit: row.exit, detail: row.judgement.detail,
          summary: row.summary))
  }

  @Test func aRollbackThatCannotRunLeavesTheFailedReleaseAndSaysWhy() {
    let transition = Lifecycle.shipped(Self.fail, of: Self.deploy, policy: .rollBack)
      .leftInPlace(Self.deploy, because: "the automatic rollback to 1.4.1 could not run: disk full")
    #expect(!transition.rollsBack)
    #expect(transition.exit == .leftAsIs)
    #expect(transition.outcome == .failed)
    #expect(
      transition.summary
        == "deploy 1.4.2 to production: verify failed: health: fail; left as it is: the automatic rollback to 1.4.1 "
        + "could not run: disk full; run `airlock rollback production` once that is fixed")
  }

  @Test(arguments: [
    (
      Optional("alice's deploy of b failed verify"), ExitStatus.rolledBack, "verify failed, rolled back automatically",
      "rolled back to 1.4.1 automatically, after alice's deploy of b failed verify"
    ),
    (nil, .done, "rollback", "rolled back to 1.4.1 by alice"),
  ])
  func aRollbackThatVerifiesQuarantinesWhatItLeft(
    _ cause: String?, _ exit: ExitStatus, _ lead: String, _ quarantine: String
  ) {
    let transition = Lifecycle.restored(
      Self.pass, of: Self.rollback, leaving: Self.release("b"), after: cause, by: "alice")
    #expect(
      transition
        == Lifecycle.Transition(
          outcome: .ok, status: .verified, good: .mark, quarantineLeft: quarantine, exit: exit,
          detail: "rolled back to 1.4.1; b is quarantined in production",
          summary: "production: \(lead): rolled back to 1.4.1; b is quarantined in production"))
  }

  @Test func aRollbackFromNothingRecordedNamesNoReleaseLeft() {
    let transition = Lifecycle.restored(Self.pass, of: Self.rollback, leaving: nil, after: nil, by: "alice")
    #expect(transition.summary == "production: rollback: rolled back to 1.4.1")
  }

  @Test(arguments: [fail, broken, dependency], [true, false])
  func aRollbackThatFailsTooIsSuspectAndQuarantinesNothing(_ judgement: Judgement, _ automatic: Bool) {
    let transition = Lifecycle.restored(
      judgement, of: Self.rollback, leaving: Self.release("b"), after: automatic ? "a failed deploy" : nil,
      by: "alice")
    let detail =
      "verify fails against 1.4.1 too (\(judgement.detail)): the check \(judgement.failingChecks[0]) or the "
      + "environment is suspect, not the release; not rolling back further"
    let lead = automatic ? "verify failed, rolled back automatically" : "rollback"
    #expect(
      transition
        == Lifecycle.Transition(
          outcome: .suspect, status: .suspect, good: .keep, exit: .leftAsIs, detail: detail,
          summary: "production: \(lead): \(detail)"))
  }

  @Test(arguments: [
    (deploy, "deploy 1.4.2 to production blocked: preflight failed: db: fail; nothing changed"),
    (promote, "promote 1.4.2 to production blocked: preflight failed: db: fail; nothing changed"),
  ])
  func aRefusalChangesNothing(_ subject: Lifecycle.Subject, _ summary: String) {
    #expect(
      Lifecycle.refused(subject, because: "preflight failed: db: fail")
        == Lifecycle.Transition(
          outcome: .blocked, status: nil, good: .keep, exit: .blocked, detail: "preflight failed: db: fail",
          summary: summary))
  }

  @Test(arguments: [
    (deploy, "production already runs 1.4.2 with this config, verified; nothing to do"),
    (promote, "production already runs 1.4.2 with this config, verified; nothing to do"),
    (rollback, "production already runs 1.4.1, verified; nothing to do"),
  ])
  func nothingToDoRecordsNothing(_ subject: Lifecycle.Subject, _ summary: String) {
    #expect(
      Lifecycle.unchanged(subject)
        == Lifecycle.Transition(
          outcome: .unchanged, status: nil, good: .keep, exit: .done, detail: "", summary: summary))
  }

  @Test func anAbortSaysHowFarTheRunGot() {
    let before = Lifecycle.aborted(Self.deploy, switched: false)
    #expect(before.status == nil)
    #expect(before.exit == .interrupted)
    #expect(before.summary == "deploy of 1.4.2 to production aborted by a signal before the switch; nothing changed")
    let after = Lifecycle.aborted(Self.rollback, switched: true)
    #expect(after.status == .unverified)
    #expect(after.outcome == .aborted)
    #expect(
      after.detail
        == "aborted by a signal after the switch: 1.4.1 runs unverified; run `airlock verify production` or "
        + "`airlock rollback production`")
    #expect(after.summary == "rollback of 1.4.1 to production " + after.detail)
  }

  // MARK: Applying a transition to the environment's state

  static let time = Date(timeIntervalSince1970: 1_800_000_000)
  static let config = ObjectID(hex: String(repeating: "c", count: 40))!

  static func release(_ label: String) -> Release {
    Release(id: ObjectID(hex: String(repeating: label, count: 40))!, version: label)
  }

  @Test func applyingAFailureDropsTheReleaseFromTheGoodListAndMayQuarantineIt() {
    var state = EnvironmentState()
    state.markGood(Self.release("a"), config: Self.config, at: Self.time)
    state.markGood(Self.release("b"), config: Self.config, at: Self.time)
    var verified = state
    verified.apply(
      Lifecycle.verified(Self.fail, of: Self.verify), to: Self.release("b"), config: Self.config, at: Self.time)
    #expect(verified.good.map(\.release.version) == ["a"])
    #expect(verified.quarantined.isEmpty)
    #expect(verified.currentStatus == .failed)
    var halted = state
    halted.apply(
      Lifecycle.shipped(Self.fail, of: Self.deploy, policy: .halt), to: Self.release("b"), config: Self.config,
      at: Self.time)
    #expect(halted.good.map(\.release.version) == ["a"])
    // The quarantine keeps the config b was last good with, so `rollback --to b --force` can restore it.
    #expect(halted.quarantine(of: Self.release("b").id)?.config == Self.config)
  }

  @Test func applyingADependencyOutageKeepsTheReleaseGood() {
    var state = EnvironmentState()
    state.markGood(Self.release("a"), config: Self.config, at: Self.time)
    state.currentStatus = .verified
    state.apply(
      Lifecycle.verified(Self.dependency, of: Self.verify), to: Self.release("a"), config: Self.config,
      at: Self.time)
    #expect(state.good.map(\.release.version) == ["a"])
    #expect(state.currentStatus == .unverified)
  }

  @Test func applyingARollbackMarksTheRestoredReleaseAndQuarantinesTheOneLeft() {
    var state = EnvironmentState()
    state.markGood(Self.release("a"), config: Self.config, at: Self.time)
    state.apply(
      Lifecycle.restored(
        Self.pass, of: Self.rollback, leaving: Self.release("b"), after: "alice's deploy of b failed verify",
        by: "alice"),
      to: Self.release("a"), config: Self.config, left: Self.release("b"), at: Self.time)
    #expect(state.good.first?.release.version == "a")
    #expect(
      state.quarantine(of: Self.release("b").id)?.reason
        == "rolled back to 1.4.1 automatically, after alice's deploy of b failed verify")
    #expect(state.currentStatus == .verified)
  }
}
