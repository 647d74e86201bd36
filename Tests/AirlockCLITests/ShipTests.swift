import AirlockTestSupport
import Foundation
import Testing

/// Deploy, promote and the ledger they leave, through the built binary and stock git.
@Suite struct ShipTests {
  @Test func deployThenPromoteShipsTheSameArtifactAndWritesValidGit() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let app = try box.artifact("1.0.0")

    let deploy = try await box.airlock("deploy", "staging", "--artifact", app, "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(deploy.stdout.contains("deployed 1.0.0 to staging"))
    #expect(box.current("staging") == "1.0.0")
    #expect(box.read("targets/staging/current/.airlock/started")?.contains("1.0.0 postgres://db-staging") == true)

    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(box.current("production") == "1.0.0")
    #expect(box.read("targets/production/current/.airlock/started")?.contains("postgres://db-prod") == true)

    // Invariant 1: the very same tree id runs in both environments.
    let stagingTree = try await box.git("rev-parse", "web/staging:artifact").stdout
    let productionTree = try await box.git("rev-parse", "web/production:artifact").stdout
    #expect(!stagingTree.isEmpty && stagingTree == productionTree)
    #expect(try await box.git("rev-parse", "refs/tags/web/1.0.0:artifact").stdout == stagingTree)

    // Invariant 3: valid git, readable with stock tools.
    let fsck = try await box.git("fsck", "--strict")
    #expect(fsck.code == 0, "\(fsck.output)")
    #expect(!fsck.output.contains("error"))
    let log = try await box.git("log", "--format=%s|%an", "web/production")
    #expect(log.stdout == "promote web 1.0.0 staging→production: ok|e2e-tester\n")
    let release = try await box.git("show", "web/production:release.json").stdout
    #expect(release.contains("\"event\" : \"promote\""))
    #expect(release.contains("\"sourceEnvironment\" : \"staging\""))
    #expect(release.contains("\"version\" : \"1.0.0\""))
    let diff = try await box.git("diff", "web/staging", "web/production", "--", "config.env").stdout
    #expect(diff.contains("-DATABASE_URL=postgres://db-staging.internal/web"))
    #expect(diff.contains("+DATABASE_URL=postgres://db-prod.internal/web"))
    for file in ["environment.json", "checks.json", "config.env", "state.json", "artifact/VERSION"] {
      #expect(try await box.git("cat-file", "-e", "web/production:\(file)").code == 0, "missing \(file)")
    }
    #expect(try await box.git("show", "web/production:checks.json").stdout.contains("\"reason\" : \"ok\""))
  }

  @Test func promoteShipsTheNewestVerifiedReleaseAndRedeployIsANoOp() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(box.current("production") == "1.1.0")

    let again = try await box.airlock("promote", "production")
    #expect(again.code == 0)
    #expect(again.stdout.contains("nothing to do"))
    #expect(try await box.git("rev-list", "--count", "web/production").stdout == "1\n")

    let older = try await box.airlock("promote", "production", "--release", "1.0.0")
    #expect(older.code == 0, "\(older.output)")
    #expect(box.current("production") == "1.0.0")
  }

  @Test func theDefaultLabelIsTheTreeIdPrefixAndLabelsAreImmutable() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let app = try box.artifact("a")
    #expect(try await box.airlock("deploy", "staging", "--artifact", app).code == 0)
    let tree = try await box.git("rev-parse", "web/staging:artifact").stdout.trimmingCharacters(
      in: .whitespacesAndNewlines)
    #expect(box.current("staging") == String(tree.prefix(12)))

    #expect(try await box.airlock("deploy", "staging", "--artifact", app, "--version", "2.0").code == 0)
    try box.write("changed\n", to: "\(app)/VERSION")
    let refs = try await box.ledgerRefs()
    let rebound = try await box.airlock("deploy", "staging", "--artifact", app, "--version", "2.0")
    #expect(rebound.code == 2)
    #expect(rebound.stderr.contains("already bound"))
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func retentionKeepsTheNewestReleasesAndNeverTheCurrentOne() async throws {
    let box = try ScratchProject()
    try box.pipeline(keep: 2)
    for version in ["1", "2", "3", "4"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
    }
    let kept = try FileManager.default.contentsOfDirectory(
      atPath: box.target("staging").appendingPathComponent("releases").path)
    #expect(Set(kept) == ["3", "4"])
    #expect(box.current("staging") == "4")
    // The rollback target is kept too, so rolling back is a symlink switch.
    let rollback = try await box.airlock("rollback", "staging")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(box.current("staging") == "3")
  }

  @Test func aReleaseDroppedByRetentionIsReExportedFromTheLedger() async throws {
    let box = try ScratchProject()
    try box.pipeline(keep: 1)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("2"), "--version", "2").code == 0)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("3"), "--version", "3").code == 0)
    #expect(!box.exists("targets/staging/releases/1"))
    let rollback = try await box.airlock("rollback", "staging", "--to", "1")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(box.current("staging") == "1")
    #expect(box.read("targets/staging/current/VERSION") == "1\n")
    #expect(
      FileManager.default.isExecutableFile(
        atPath: box.root.appendingPathComponent("targets/staging/current/bin/start").path))
  }
}
