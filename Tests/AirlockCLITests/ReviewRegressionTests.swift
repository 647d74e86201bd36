import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Regressions found in review: each scenario broke an invariant before its fix.
@Suite struct ReviewRegressionTests {
  @Test func rollbackAfterACrashLeavesWhatReallyRunsAndKeepsTheGoodRelease() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["z", "a"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
    }
    let crashed = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("b"), "--version", "b",
      environment: ["AIRLOCK_FAULT": "after-switch"])
    #expect(crashed.signal == SIGKILL, "\(crashed.output)")
    #expect(box.current("staging") == "b")
    let rollback = try await box.airlock("rollback", "staging")
    #expect(rollback.code == 0, "\(rollback.output)")
    // Back to a (the newest good release), not z; b, which really ran, is the one quarantined.
    #expect(box.current("staging") == "a")
    let status = try await box.airlock("status").stdout
    #expect(status.contains("quarantined: b"), "\(status)")
    #expect(!status.contains("quarantined: a"), "\(status)")
  }

  @Test func afterACrashVerifyRefusesUntilAChangeConverges() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a").code == 0)
    let crashed = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("b"), "--version", "b",
      environment: ["AIRLOCK_FAULT": "before-ref-update"])
    #expect(crashed.signal == SIGKILL, "\(crashed.output)")
    // b runs but was never verified: its verdict must not be recorded against a.
    let verify = try await box.airlock("verify", "staging")
    #expect(verify.code == 3, "\(verify.output)")
    #expect(verify.stderr.contains("staging runs b but the ledger last recorded a"))
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("b"), "--version", "b").code == 0)
    #expect(try await box.airlock("verify", "staging").code == 0)
  }

  @Test func verifyRefusesWhileTheTargetAndTheLedgerDisagree() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["a", "b"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
    }
    // Someone points the target elsewhere by hand: verify must not record b's verdict for what a does.
    let link = box.target("staging").appendingPathComponent("current")
    try FileManager.default.removeItem(at: link)
    try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "releases/a")
    let verify = try await box.airlock("verify", "staging")
    #expect(verify.code == 3, "\(verify.output)")
    #expect(verify.stderr.contains("staging runs a but the ledger last recorded b"))
  }

  @Test func aReleaseThatFailsVerifyUpstreamIsNoLongerPromotable() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a").code == 0)
    try FileManager.default.removeItem(at: box.target("staging").appendingPathComponent("current/healthy"))
    #expect(try await box.airlock("verify", "staging").code == 5)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 3, "\(promote.output)")
    #expect(box.current("production") == nil)
  }

  @Test func anApprovalGatesADeployToo() async throws {
    let box = try ScratchProject()
    try box.write(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          approval: required
      """, to: "pipelines/web.yml")
    let app = try box.artifact("1")
    let refused = try await box.airlock("deploy", "staging", "--artifact", app, "--version", "1")
    #expect(refused.code == 3, "\(refused.output)")
    #expect(refused.stdout.contains("airlock approve staging --release 1"))
    #expect(box.current("staging") == nil)
    #expect(try await box.airlock("approve", "staging", "--release", "1").code == 0)
    #expect(try await box.airlock("deploy", "staging", "--artifact", app, "--version", "1").code == 0)
    #expect(box.current("staging") == "1")
  }

  @Test func anAutomaticRollbackThatCannotRunLeavesTheReleaseWithExit5() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    // The secret 1 was verified with is renamed since; the rollback cannot restore 1's config without it.
    let text = box.read("pipelines/web.yml")!.replacingOccurrences(of: "API_TOKEN", with: "NEW_TOKEN")
    try box.write(text, to: "pipelines/web.yml")
    box.environment.removeValue(forKey: "API_TOKEN")
    box.environment["NEW_TOKEN"] = "new-secret-value"
    let broken = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("2", healthy: false), "--version", "2")
    #expect(broken.code == 5, "\(broken.output)")
    #expect(broken.stdout.contains("could not run"))
    #expect(broken.stdout.contains("API_TOKEN"))
    #expect(box.current("staging") == "2")
  }
}
