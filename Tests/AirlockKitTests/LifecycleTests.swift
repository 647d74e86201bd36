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

  typealias Row = (
    judgement: Judgement, policy: Lifecycle.FailurePolicy, outcome: EventOutcome, status: ReleaseStatus?,
    good: Lifecycle.GoodList, quarantined: Bool, rollsBack: Bool, exit: ExitStatus
  )

  /// Every verdict under every failure policy: the one rule deploy, promote and verify all follow.
  @Test(
    arguments: [
      (pass, .rollBack, .ok, .verified, .mark, false, false, .done),
      (pass, .leave(quarantine: true), .ok, .verified, .mark, false, false, .done),
      (pass, .leave(quarantine: false), .ok, .verified, .mark, false, false, .done),
      (fail, .rollBack, .failed, .failed, .drop, false, true, .rolledBack),
      (fail, .leave(quarantine: true), .failed, .failed, .drop, true, false, .leftAsIs),
      (fail, .leave(quarantine: false), .failed, .failed, .drop, false, false, .leftAsIs),
      (broken, .rollBack, .inconclusive, .unverified, .keep, false, false, .leftAsIs),
      (broken, .leave(quarantine: true), .inconclusive, .unverified, .keep, false, false, .leftAsIs),
      (dependency, .rollBack, .failed, .unverified, .keep, false, false, .leftAsIs),
      (dependency, .leave(quarantine: false), .failed, .unverified, .keep, false, false, .leftAsIs),
    ] as [Row])
  func aVerdictGivesOneTransition(_ row: Row) {
    let transition = Lifecycle.judged(row.judgement, policy: row.policy)
    #expect(transition.outcome == row.outcome)
    #expect(transition.status == row.status)
    #expect(transition.good == row.good)
    #expect((transition.quarantine != nil) == row.quarantined)
    #expect(transition.rollsBack == row.rollsBack)
    #expect(transition.exit == row.exit)
  }

  @Test(arguments: [(true, ExitStatus.rolledBack), (false, .done)])
  func aRollbackThatVerifiesQuarantinesWhatItLeft(_ automatic: Bool, _ exit: ExitStatus) {
    let transition = Lifecycle.restored(Self.pass, automatic: automatic, leftReason: "rolled back to a by alice")
    #expect(
      transition
        == Lifecycle.Transition(
          outcome: .ok, status: .verified, good: .mark, quarantineLeft: "rolled back to a by alice", exit: exit))
  }

  @Test(arguments: [fail, broken, dependency], [true, false])
  func aRollbackThatFailsTooIsSuspectAndQuarantinesNothing(_ judgement: Judgement, _ automatic: Bool) {
    let transition = Lifecycle.restored(judgement, automatic: automatic, leftReason: "rolled back")
    #expect(transition == Lifecycle.Transition(outcome: .suspect, status: .suspect, good: .keep, exit: .leftAsIs))
  }

  @Test func refusalsAbortsAndNothingToDoChangeNoStatus() {
    #expect(Lifecycle.refused == Lifecycle.Transition(outcome: .blocked, status: nil, good: .keep, exit: .blocked))
    #expect(Lifecycle.unchanged.exit == .done)
    #expect(Lifecycle.aborted(switched: false).status == nil)
    #expect(Lifecycle.aborted(switched: true).status == .unverified)
    #expect(Lifecycle.aborted(switched: true).exit == .interrupted)
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
      Lifecycle.judged(Self.fail, policy: .leave(quarantine: false)), to: Self.release("b"), config: Self.config,
      at: Self.time)
    #expect(verified.good.map(\.release.version) == ["a"])
    #expect(verified.quarantined.isEmpty)
    #expect(verified.currentStatus == .failed)
    var halted = state
    halted.apply(
      Lifecycle.judged(Self.fail, policy: .leave(quarantine: true)), to: Self.release("b"), config: Self.config,
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
      Lifecycle.judged(Self.dependency, policy: .leave(quarantine: false)), to: Self.release("a"),
      config: Self.config, at: Self.time)
    #expect(state.good.map(\.release.version) == ["a"])
    #expect(state.currentStatus == .unverified)
  }

  @Test func applyingARollbackMarksTheRestoredReleaseAndQuarantinesTheOneLeft() {
    var state = EnvironmentState()
    state.markGood(Self.release("a"), config: Self.config, at: Self.time)
    state.apply(
      Lifecycle.restored(Self.pass, automatic: true, leftReason: "rolled back to a"), to: Self.release("a"),
      config: Self.config, left: Self.release("b"), at: Self.time)
    #expect(state.good.first?.release.version == "a")
    #expect(state.quarantine(of: Self.release("b").id)?.reason == "rolled back to a")
    #expect(state.currentStatus == .verified)
  }
}
