import AirlockTestSupport
import Foundation
import Testing

/// `plan`: what a deploy, promotion or rollback would do, where a rollback would go after it, and exit 3 when it
/// would be refused, so CI can gate on it; nothing changes.
@Suite struct PlanTests {
  /// `text` with the short artifact ids, which depend on file contents, replaced.
  func shown(_ run: ScratchProject.Run) -> String {
    run.stdout.replacingOccurrences(of: #"\([0-9a-f]{12}\)"#, with: "(<id>)", options: .regularExpression)
  }

  @Test func aPromotionSaysWhereARollbackWouldGoNowAndAfterIt() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let before = try await box.airlock("plan", "production")
    #expect(before.code == 3, "\(before.output)")
    #expect(
      shown(before) == """
        production: runs nothing
          promote would ship nothing from staging
          refused: nothing has been verified in staging yet
          verify: health
          config added DATABASE_URL: - → postgres://db-prod.internal/web
          rollback now would go to nothing (no earlier verified release)

        """)

    let box2 = try await ScratchProject.twoGoodReleases()
    #expect(
      try await box2.airlock("deploy", "staging", "--artifact", box2.artifact("1.2.0"), "--version", "1.2.0").code == 0)
    let refs = try await box2.ledgerRefs()
    let plan = try await box2.airlock("plan", "production")
    #expect(plan.code == 0, "\(plan.output)")
    #expect(
      shown(plan) == """
        production: runs 1.1.0 (<id>)
          promote would ship 1.2.0 (<id>) from staging
          verify: health
          rollback now would go to 1.0.0 (<id>)
          after this promotion, rollback would go to 1.1.0 (<id>)

        """)
    let json = try await box2.airlock("plan", "production", "--json")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect((document["rollbackTarget"] as? [String: Any])?["version"] as? String == "1.0.0")
    #expect((document["rollbackAfter"] as? [String: Any])?["version"] as? String == "1.1.0")
    #expect(try await box2.ledgerRefs() == refs)
  }

  @Test func aRefusedPromotionIsExit3() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    #expect(
      try await box.airlock(
        "deploy", "staging", "--artifact", box.artifact("1.2.0", healthy: false), "--version", "1.2.0"
      )
      .code == 4)
    let refs = try await box.ledgerRefs()
    let plan = try await box.airlock("plan", "production", "--release", "1.2.0")
    #expect(plan.code == 3, "\(plan.output)")
    #expect(plan.stdout.contains("  refused: 1.2.0 was not verified in staging\n"), "\(plan.output)")
    #expect(!plan.stdout.contains("after this promotion"), "\(plan.output)")
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func anUnapprovedPromotionIsExit3() async throws {
    let box = try ScratchProject()
    try box.pipeline(productionApproval: true)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    let plan = try await box.airlock("plan", "production")
    #expect(plan.code == 3, "\(plan.output)")
    #expect(
      plan.stdout.contains(
        "  refused: 1.0.0 needs an approval for production: `airlock approve production --release 1.0.0`\n"),
      "\(plan.output)")
    #expect(
      try await box.airlock(["approve", "production", "--release", "1.0.0"], environment: ["AIRLOCK_ACTOR": "alice"])
        .code == 0)
    #expect(try await box.airlock("plan", "production").code == 0)
  }

  @Test func aRollbackIsPlannedWithItsTargetConfigAndWhatComesAfter() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let refs = try await box.ledgerRefs()
    let plan = try await box.airlock("plan", "production", "--rollback")
    #expect(plan.code == 0, "\(plan.output)")
    #expect(
      shown(plan) == """
        production: runs 1.1.0 (<id>)
          rollback would switch to 1.0.0 (<id>) with the config it was verified with (no preflight)
          verify: health
          after this rollback, rollback would go to nothing (no earlier verified release)

        """)
    let json = try await box.airlock("plan", "production", "--rollback", "--json")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(document["action"] as? String == "rollback")
    #expect((document["release"] as? [String: Any])?["version"] as? String == "1.0.0")
    #expect(document["rollbackAfter"] == nil)

    let current = try await box.airlock("plan", "production", "--rollback", "--to", "1.1.0")
    #expect(current.code == 3, "\(current.output)")
    #expect(current.stdout.contains("  refused: 1.1.0 is what production runs now; nothing to roll back to\n"))
    let misplaced = try await box.airlock("plan", "production", "--to", "1.0.0")
    #expect(misplaced.code == 2, "\(misplaced.output)")
    #expect(misplaced.stderr.contains("--to plans a rollback: add --rollback"), "\(misplaced.output)")
    #expect(try await box.ledgerRefs() == refs)
    #expect(box.current("production") == "1.1.0")
  }

  @Test func aRollbackIsPlannedWhileThePipelineFileIsBroken() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    try box.write("pipeline: web\nenvironments: [", to: "pipelines/web.yml")
    let plan = try await box.airlock("plan", "production", "--rollback")
    #expect(plan.code == 0, "\(plan.output)")
    #expect(plan.stdout.contains("rollback would switch to 1.0.0"), "\(plan.output)")
    #expect(plan.stdout.contains("  verify: health\n"), "\(plan.output)")
    #expect(
      plan.stdout.contains("  note: the pipeline file does not load: planned from the ledger's snapshot"),
      "\(plan.output)")
    let nowhere = try await box.airlock("plan", "staging", "--rollback", "--to", "1.1.0")
    #expect(nowhere.code == 3, "\(nowhere.output)")
  }
}
