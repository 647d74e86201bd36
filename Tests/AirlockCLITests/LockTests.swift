import AirlockTestSupport
import Foundation
import Testing

/// Incident locks: `lock` stops every change to one environment (exit 6, naming holder, reason and age) until its
/// holder unlocks it or someone breaks it with `--force`, which the ledger records; other environments go on.
@Suite struct LockTests {
  /// staging and production run 1.0.0; staging has verified 1.1.0, ready to promote.
  func promotable() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    return box
  }

  @Test func anIncidentLockStopsChangesUntilUnlockedAndABreakIsRecorded() async throws {
    let box = try await promotable()
    let alice = ["AIRLOCK_ACTOR": "alice"]
    let bob = ["AIRLOCK_ACTOR": "bob"]
    let lock = try await box.airlock("lock", "production", "--reason", "incident 42", environment: alice)
    #expect(lock.code == 0, "\(lock.output)")
    #expect(lock.stdout.contains("production is locked by alice: incident 42"))

    // Every changing command is refused with the holder, the reason and the age; nothing changes.
    let branch = try await box.commitCount("web/production")
    for command in [["promote", "production"], ["rollback", "production"], ["verify", "production"]] {
      let refused = try await box.airlock(command)
      #expect(refused.code == 6, "\(command): \(refused.output)")
      #expect(refused.stderr.contains("production is locked by alice on "), "\(refused.output)")
      #expect(refused.stderr.contains(/for [0-9]+s: incident 42/), "\(refused.output)")
    }
    #expect(try await box.commitCount("web/production") == branch)
    #expect(box.current("production") == "1.0.0")
    // Reading is never locked out, and shows who holds the lock.
    let status = try await box.airlock("status")
    #expect(status.code == 0)
    #expect(status.stdout.contains("locked by alice on "), "\(status.output)")
    #expect(try await box.airlock("history", "production").code == 0)

    // Locks are per environment: staging still changes.
    let staging = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0")
    #expect(staging.code == 0, "\(staging.output)")
    #expect(box.current("staging") == "1.2.0")

    // Only the holder unlocks; anyone else needs --force, and the ledger records who broke whose lock.
    let denied = try await box.airlock("unlock", "production", environment: bob)
    #expect(denied.code == 6, "\(denied.output)")
    #expect(denied.stderr.contains("only alice unlocks it, or pass --force"), "\(denied.output)")
    let broken = try await box.airlock("unlock", "production", "--force", environment: bob)
    #expect(broken.code == 0, "\(broken.output)")
    #expect(
      try await box.messages("web/production", count: 2) == ["unlock web production: ok", "lock web production: ok"])
    #expect(try await box.git("log", "-1", "--format=%an", "web/production").stdout == "bob\n")
    let event = try await box.git("show", "web/production:release.json").stdout
    #expect(event.contains("\"actor\" : \"bob\""), "\(event)")
    #expect(event.contains("broke the lock of alice (incident 42, held "), "\(event)")
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)

    let history = try await box.airlock("history", "production").stdout
    #expect(history.contains("lock web production: ok  [alice]"), "\(history)")
    #expect(history.contains("unlock web production: ok  [bob]"), "\(history)")

    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(box.current("production") == "1.2.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func theHolderUnlocksTheirOwnLockWithoutForce() async throws {
    let box = try await promotable()
    let alice = ["AIRLOCK_ACTOR": "alice"]
    #expect(try await box.airlock("lock", "production", "--reason", "db migration", environment: alice).code == 0)
    // A second lock is refused like any other change.
    let twice = try await box.airlock("lock", "production", "--reason", "me too", environment: ["AIRLOCK_ACTOR": "bob"])
    #expect(twice.code == 6, "\(twice.output)")
    #expect(twice.stderr.contains("db migration"))
    let unlock = try await box.airlock("unlock", "production", environment: alice)
    #expect(unlock.code == 0, "\(unlock.output)")
    #expect(unlock.stdout.contains("unlocked (db migration, held "), "\(unlock.output)")
    let nothing = try await box.airlock("unlock", "production", environment: alice)
    #expect(nothing.code == 0)
    #expect(nothing.stdout.contains("production is not locked"))
    #expect(try await box.airlock("promote", "production").code == 0)
  }

  @Test func stagingAndProductionChangeInParallel() async throws {
    let box = try await promotable()
    let slow = try box.gatedArtifact("1.2.0")
    try box.write("", to: "slow-start")
    let deploy = try box.start(["deploy", "staging", "--artifact", slow, "--version", "1.2.0"])
    #expect(try await box.waitFor("in-start") != nil, "staging's start never ran")

    // While staging's deploy holds staging, production takes its own lease and promotes.
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(promote.stdout.contains("promoted 1.1.0 staging→production"))
    let busy = try await box.airlock("lock", "staging", "--reason", "too late")
    #expect(busy.code == 6, "\(busy.output)")
    #expect(busy.stderr.contains("staging is being changed by e2e-tester"), "\(busy.output)")

    try box.write("", to: "gate")
    let deployed = try await deploy.run.value
    #expect(deployed.code == 0, "\(deployed.output)")
    #expect(box.current("staging") == "1.2.0")
    #expect(box.current("production") == "1.1.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
  }
}

/// Leases written by other runners (another host sharing the ledger): an expired one is broken with a `recover`
/// event, a live one answers exit 6, and an incident lock never expires.
@Suite struct LeaseExpiryTests {
  /// Writes `lease.json` as the lease of web/ENV with stock git only, the way another runner's lease looks.
  func plantLease(_ box: ScratchProject, environment: String, json: String) async throws {
    let blob = try await box.git("hash-object", "-w", "--stdin", input: Data(json.utf8)).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let tree = try await box.git("mktree", input: Data("100644 blob \(blob)\tlease.json\n".utf8)).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let identity = [
      "GIT_AUTHOR_NAME": "mallory", "GIT_AUTHOR_EMAIL": "mallory@elsewhere", "GIT_COMMITTER_NAME": "mallory",
      "GIT_COMMITTER_EMAIL": "mallory@elsewhere",
    ]
    let commit = try await box.run(
      "/usr/bin/git", ["--git-dir", box.ledgerURL.path, "commit-tree", tree, "-m", "lease: deploy by mallory"],
      environment: identity
    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let update = try await box.git("update-ref", "refs/airlock/leases/web/\(environment)", commit, "")
    #expect(update.code == 0, "\(update.output)")
  }

  func lease(kind: String = "operation", expires: String?) -> String {
    let expiry = expires.map { "\"expires\" : \"\($0)\",\n" } ?? ""
    return """
      {
        "actor" : "mallory",
        \(expiry)"host" : "elsewhere",
        "kind" : "\(kind)",
        "operation" : "deploy 9.9.9",
        "pid" : 1,
        "reason" : "from another runner",
        "started" : "2020-01-01T00:00:00.000Z"
      }

      """
  }

  func deployed() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    return box
  }

  @Test func anExpiredLeaseFromAnotherHostIsBrokenWithARecoverEvent() async throws {
    let box = try await deployed()
    try await plantLease(box, environment: "staging", json: lease(expires: "2020-01-01T00:02:00.000Z"))
    let status = try await box.airlock("status")
    #expect(status.stdout.contains("! interrupted: deploy 9.9.9 by mallory was interrupted (it expired"))

    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(deploy.stderr.contains("breaking the stale lease on staging held by mallory (deploy 9.9.9): it expired"))
    #expect(
      try await box.messages("web/staging", count: 2) == [
        "deploy web 1.1.0 → staging: ok", "recover web staging: interrupted",
      ])
    let recover = try await box.git("show", "web/staging~1:release.json").stdout
    #expect(recover.contains("broke the stale lease of mallory (deploy 9.9.9, pid 1 on elsewhere): it expired"))
    #expect(box.current("staging") == "1.1.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
  }

  @Test(arguments: [("operation", "2999-01-01T00:00:00.000Z"), ("lock", "2020-01-01T00:02:00.000Z"), ("lock", nil)])
  func aLiveLeaseOrALockFromAnotherHostAnswersExit6(kind: String, expires: String?) async throws {
    let box = try await deployed()
    try await plantLease(box, environment: "staging", json: lease(kind: kind, expires: expires))
    let refs = try await box.ledgerRefs()
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0")
    #expect(deploy.code == 6, "\(deploy.output)")
    let holder =
      kind == "lock"
      ? "staging is locked by mallory on elsewhere for "
      : "staging is being changed by mallory on elsewhere (pid 1, deploy 9.9.9) for "
    #expect(deploy.stderr.contains(holder), "\(deploy.output)")
    #expect(!deploy.stderr.contains("stale"))
    #expect(box.current("staging") == "1.0.0")
    // The refused deploy changed no ref: it stops before even storing the release.
    #expect(try await box.ledgerRefs() == refs)
  }
}
