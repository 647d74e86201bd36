import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Locks for people and for CI: the holder of an incident lock still changes what they locked (others get exit 6),
/// locking again what you hold is exit 0, and `--wait` waits for another run's lease but never for a lock.
@Suite struct LockHolderTests {
  let alice = ["AIRLOCK_ACTOR": "alice"]
  let bob = ["AIRLOCK_ACTOR": "bob"]

  @Test func theHolderOfAnIncidentLockRollsBackAndTheLockStays() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    #expect(try await box.airlock(["lock", "production", "--reason", "incident 7"], environment: alice).code == 0)

    let refused = try await box.airlock(["rollback", "production"], environment: bob)
    #expect(refused.code == 6, "\(refused.output)")
    #expect(refused.stderr.contains("production is locked by alice on "), "\(refused.output)")
    #expect(box.current("production") == "1.1.0")

    let rollback = try await box.airlock(["rollback", "production"], environment: alice)
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(
      rollback.stderr.contains(
        "→ production is locked by you (incident 7); going ahead as its holder, and the lock stays"),
      "\(rollback.output)")
    #expect(box.current("production") == "1.0.0")

    // The lock is back, with its reason and holder; everyone else is still refused.
    let after = try await box.airlock(["promote", "production"], environment: bob)
    #expect(after.code == 6, "\(after.output)")
    #expect(after.stderr.contains(/production is locked by alice on .* for [0-9]+s: incident 7/), "\(after.output)")
    let unlock = try await box.airlock(["unlock", "production"], environment: alice)
    #expect(unlock.code == 0, "\(unlock.output)")
    #expect(unlock.stdout.contains("unlocked (incident 7, held "), "\(unlock.output)")
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func lockingAgainWhatYouHoldSaysSoAndChangesNothing() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    #expect(try await box.airlock(["lock", "production", "--reason", "incident 7"], environment: alice).code == 0)
    let refs = try await box.ledgerRefs()
    let again = try await box.airlock(["lock", "production", "--reason", "incident 7"], environment: alice)
    #expect(again.code == 0, "\(again.output)")
    #expect(again.stdout.contains(/^production is already locked by you for [0-9]+s: incident 7\n$/), "\(again.stdout)")
    let other = try await box.airlock(["lock", "production", "--reason", "another"], environment: alice)
    #expect(other.code == 0, "\(other.output)")
    #expect(
      other.stdout.hasSuffix(": incident 7 (the lock keeps its reason; unlock and lock again to change it)\n"),
      "\(other.stdout)")
    #expect(try await box.ledgerRefs() == refs)
    #expect(try await box.airlock(["lock", "production", "--reason", "me"], environment: bob).code == 6)
  }

  @Test func aStandInRunKilledMidwayLeavesTheLockInPlace() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    #expect(try await box.airlock(["lock", "production", "--reason", "incident 7"], environment: alice).code == 0)
    let slow = try box.gatedArtifact("1.2.0")
    #expect(try await box.airlock("deploy", "staging", "--artifact", slow, "--version", "1.2.0").code == 0)
    try box.write("", to: "slow-start")
    let promote = try box.start(["promote", "production"], environment: alice)
    #expect(try await box.waitFor("in-start") != nil, "production's start never ran")
    kill(promote.pid, SIGKILL)
    _ = try await promote.run.value

    // The dead run's lease is broken and the lock it stood in for comes back: bob is still refused.
    let refused = try await box.airlock(["rollback", "production"], environment: bob)
    #expect(refused.code == 6, "\(refused.output)")
    #expect(refused.stderr.contains("production is locked by alice on "), "\(refused.output)")
    #expect(refused.stderr.contains("incident 7"), "\(refused.output)")
    try FileManager.default.removeItem(at: box.url("slow-start"))
    let rollback = try await box.airlock(["rollback", "production"], environment: alice)
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(try await box.airlock(["unlock", "production"], environment: alice).code == 0)
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func waitWaitsForAnotherRunsLeaseSayingWhoHoldsIt() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let slow = try box.gatedArtifact("1.2.0")
    try box.write("", to: "slow-start")
    let deploy = try box.start(["deploy", "staging", "--artifact", slow, "--version", "1.2.0"], environment: bob)
    #expect(try await box.waitFor("in-start") != nil, "staging's start never ran")

    let impatient = try await box.airlock(
      ["lock", "staging", "--reason", "now", "--wait", "300ms"], environment: alice)
    #expect(impatient.code == 6, "\(impatient.output)")
    #expect(impatient.stderr.contains("… staging is being changed by bob on "), "\(impatient.output)")
    #expect(impatient.stderr.contains("; waiting up to 300ms"), "\(impatient.output)")
    #expect(impatient.stderr.contains("(waited 300ms for it)"), "\(impatient.output)")

    let waiting = box.launch(["lock", "staging", "--reason", "after bob", "--wait", "5m"])
    // Long enough for the waiting run to start and find bob's lease even on a loaded machine.
    try await Task.sleep(for: .seconds(2))
    try box.write("", to: "gate")
    #expect(try await deploy.run.value.code == 0)
    let locked = try await waiting.value
    #expect(locked.code == 0, "\(locked.output)")
    #expect(locked.stderr.contains("… staging is being changed by bob on "), "\(locked.output)")
    #expect(locked.stdout.contains("staging is locked by e2e-tester: after bob"), "\(locked.output)")
    #expect(box.current("staging") == "1.2.0")
  }

  @Test func waitNeverWaitsForAnIncidentLock() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    #expect(try await box.airlock(["lock", "production", "--reason", "incident 7"], environment: alice).code == 0)
    let run = try await box.airlock(["rollback", "production", "--wait", "10m"], environment: bob)
    #expect(run.code == 6, "\(run.output)")
    #expect(!run.stderr.contains("waiting"), "\(run.output)")
    #expect(run.stderr.contains("production is locked by alice on "), "\(run.output)")
    let bad = try await box.airlock(["rollback", "production", "--wait", "soon"], environment: bob)
    #expect(bad.code == 2, "\(bad.output)")
  }
}
