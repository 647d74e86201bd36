import AirlockTestSupport
import Foundation
import Testing

/// Broken releases, automatic and manual rollback, quarantine, and rollback without a usable pipeline file.
@Suite struct FailureTests {

  @Test func aBrokenReleaseIsRolledBackAutomaticallyAndQuarantined() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let broken = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("1.2.0", healthy: false), "--version", "1.2.0")
    #expect(broken.code == 4, "\(broken.output)")
    #expect(broken.stdout.contains("rolled back to 1.1.0"))
    #expect(box.current("staging") == "1.1.0")
    let log = try await box.git("log", "--format=%s", "-2", "web/staging").stdout
    #expect(log == "rollback (automatic) web staging 1.2.0 → 1.1.0: ok\ndeploy web 1.2.0 → staging: failed\n")
    #expect(try await box.git("fsck", "--strict").code == 0)

    // Invariant 1 and 8: the broken release can never reach production, not even by name.
    let promote = try await box.airlock("promote", "production", "--release", "1.2.0")
    #expect(promote.code == 3, "\(promote.output)")
    #expect(promote.stdout.contains("not verified in staging"))
    #expect(box.current("production") == "1.1.0")
    // A plain promote picks the newest verified release, which production already runs.
    #expect(try await box.airlock("promote", "production").stdout.contains("nothing to do"))

    let status = try await box.airlock("status").stdout
    #expect(status.contains("quarantined: 1.2.0"))
  }

  @Test func rollbackGoesToThePreviousGoodReleaseAndQuarantinesTheOneItLeft() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(box.current("production") == "1.0.0")
    #expect(rollback.stdout.contains("1.1.0 is quarantined in production"))
    // The config snapshot is restored with the artifact.
    #expect(box.read("targets/production/current/.airlock/started") == "1.0.0 postgres://db-prod.internal/web\n")

    let again = try await box.airlock("promote", "production")
    #expect(again.code == 3, "\(again.output)")
    #expect(again.stdout.contains("quarantined"))
    #expect(box.current("production") == "1.0.0")
    let forced = try await box.airlock("promote", "production", "--force")
    #expect(forced.code == 0, "\(forced.output)")
    #expect(box.current("production") == "1.1.0")
  }

  @Test func rollbackWithNoEarlierGoodReleaseChangesNothing() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    let refs = try await box.ledgerRefs()
    let rollback = try await box.airlock("rollback", "staging")
    #expect(rollback.code == 3)
    #expect(rollback.stderr.contains("no earlier verified-good release"))
    #expect(try await box.ledgerRefs() == refs)
    #expect(box.current("staging") == "1.0.0")
  }

  @Test func haltLeavesTheFailedReleaseInPlaceWithExit5AndQuarantinesIt() async throws {
    let box = try ScratchProject()
    try box.pipeline(productionOnFailure: "halt")
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    // 2.0.0 is healthy against staging's database and broken against production's.
    let app = try box.artifact("2.0.0")
    try box.write(
      "#!/bin/sh\ncase \"$DATABASE_URL\" in *db-prod*) exit 1;; esac\nexit 0\n", to: "\(app)/bin/healthcheck",
      executable: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", app, "--version", "2.0.0").code == 0)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 5, "\(promote.output)")
    #expect(promote.stdout.contains("on_failure: halt"))
    #expect(box.current("production") == "2.0.0")
    #expect(
      try await box.git("log", "-1", "--format=%s", "web/production").stdout
        == "promote web 2.0.0 staging→production: failed\n")
    #expect(try await box.airlock("status").stdout.contains("quarantined: 2.0.0"))
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(box.current("production") == "1.0.0")
  }

  @Test func rollbackWorksFromTheLedgerSnapshotWhenThePipelineFileIsBroken() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    try box.write("pipeline: [this is: not valid\n", to: "pipelines/web.yml")
    #expect(try await box.airlock("validate").code == 2)
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(rollback.stderr.contains("snapshot"))
    #expect(box.current("production") == "1.0.0")
    #expect(
      try await box.git("log", "-1", "--format=%s", "web/production").stdout.hasPrefix(
        "rollback web production 1.1.0 → 1.0.0"))
  }

  @Test func rollbackWorksWhenTheCheckEndpointIsDownOnlyIfTheOldReleasePasses() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    // The check itself now fails for every release: rollback reports a suspect check and goes no further.
    try FileManager.default.removeItem(at: box.target("production").appendingPathComponent("releases/1.0.0/healthy"))
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 5, "\(rollback.output)")
    #expect(rollback.stdout.contains("suspect"))
    #expect(box.current("production") == "1.0.0")
    #expect(!(try await box.airlock("status").stdout.contains("quarantined: 1.1.0")))
  }

  @Test func aPreDeployHookThatFailsBlocksWithExit3AndRecordsOnlyTheRefusal() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    try box.write("#!/bin/sh\necho no deploys on fridays\nexit 1\n", to: "hooks/pre-deploy", executable: true)
    let blocked = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0")
    #expect(blocked.code == 3, "\(blocked.output)")
    #expect(blocked.stderr.contains("no deploys on fridays"))
    #expect(box.current("staging") == "1.0.0")
    #expect(!box.exists("targets/staging/releases/1.1.0"))
    #expect(
      try await box.git("log", "-1", "--format=%s", "web/staging").stdout == "deploy web 1.1.0 → staging: blocked\n")
  }

  @Test func aRefusedChangeKeepsTheSnapshotOfWhatRuns() async throws {
    let box = try ScratchProject()
    try box.pipeline(keep: 5)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    // The pipeline changes (keep 9), but the change that would use it is refused: the ledger's snapshot, which a
    // rollback with a broken pipeline file relies on, must still describe what runs.
    try box.pipeline(keep: 9)
    try box.write("#!/bin/sh\nexit 1\n", to: "hooks/pre-deploy", executable: true)
    let blocked = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0")
    #expect(blocked.code == 3)
    #expect(try await box.git("diff", "--quiet", "web/staging~1", "web/staging", "--", "environment.json").code == 0)
    #expect(try await box.git("show", "web/staging:environment.json").stdout.contains("\"keep\" : 5"))
  }
}
