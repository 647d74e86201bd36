import AirlockTestSupport
import Foundation
import Testing

/// `approval: required`: a promotion needs a named person's `airlock approve`, recorded in the ledger and bound to
/// the artifact tree id rather than to the label.
@Suite struct ApprovalTests {
  /// A second person: the deploys are made by the tests' default actor.
  let alice = ["AIRLOCK_ACTOR": "alice"]

  func approvalPipeline() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline(productionApproval: true)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    return box
  }

  @Test func aPromotionWaitsForAnApprovalRecordedInTheLedger() async throws {
    let box = try await approvalPipeline()
    let unapproved = try await box.airlock("promote", "production")
    #expect(unapproved.code == 3, "\(unapproved.output)")
    #expect(unapproved.stdout.contains("`airlock approve production --release 1.0.0`"), "\(unapproved.output)")
    // Nothing reached the target; the ledger only says it was blocked.
    #expect(box.current("production") == nil)
    #expect(!box.exists("targets/production/releases/1.0.0"))
    #expect(
      try await box.messages("web/production", count: 1) == ["promote web 1.0.0 staging→production: blocked"])

    let approve = try await box.airlock(
      "approve", "production", "--release", "1.0.0", environment: ["AIRLOCK_ACTOR": "alice"])
    #expect(approve.code == 0, "\(approve.output)")
    #expect(approve.stdout.contains("alice approved 1.0.0"))
    #expect(try await box.messages("web/production", count: 1) == ["approve web production 1.0.0: ok"])
    #expect(try await box.git("log", "-1", "--format=%an", "web/production").stdout == "alice\n")

    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(box.current("production") == "1.0.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func anApprovalCoversOneArtifactTreeNotALaterOne() async throws {
    let box = try await approvalPipeline()
    #expect(try await box.airlock(["approve", "production", "--release", "1.0.0"], environment: alice).code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    #expect(try await box.airlock(["approve", "production", "--release", "1.1.0"], environment: alice).code == 0)

    // Labels are immutable, so the approved label cannot be moved to another artifact …
    let other = try box.artifact("1.1.0-rebuilt")
    try box.write("1.1.0 rebuilt\n", to: "\(other)/VERSION")
    let relabel = try await box.airlock("deploy", "staging", "--artifact", other, "--version", "1.1.0")
    #expect(relabel.code == 2, "\(relabel.output)")

    // … and a different artifact verified upstream since is not covered by 1.1.0's approval.
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0").code == 0)
    let newest = try await box.airlock("promote", "production")
    #expect(newest.code == 3, "\(newest.output)")
    #expect(newest.stdout.contains("1.2.0 needs an approval for production"), "\(newest.output)")
    #expect(box.current("production") == "1.0.0")

    let approved = try await box.airlock("promote", "production", "--release", "1.1.0")
    #expect(approved.code == 0, "\(approved.output)")
    #expect(box.current("production") == "1.1.0")

    // An approval given by tree id is the same approval.
    let tree = try await box.git("rev-parse", "web/staging:artifact").stdout.prefix(12)
    #expect(try await box.airlock(["approve", "production", "--release", String(tree)], environment: alice).code == 0)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(box.current("production") == "1.2.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func anApprovedLabelBoundAgainToAnotherArtifactIsNotApproved() async throws {
    let box = try await approvalPipeline()
    #expect(try await box.airlock(["approve", "production", "--release", "1.0.0"], environment: alice).code == 0)
    // Airlock never moves a label; a tag deleted by hand is the only way to bind 1.0.0 to another tree.
    #expect(try await box.git("update-ref", "-d", "refs/tags/web/1.0.0").code == 0)
    let other = try box.artifact("other")
    try box.write("1.0.0 but different\n", to: "\(other)/VERSION")
    let redeploy = try await box.airlock("deploy", "staging", "--artifact", other, "--version", "1.0.0")
    #expect(redeploy.code == 0, "\(redeploy.output)")
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 3, "\(promote.output)")
    #expect(promote.stdout.contains("1.0.0 needs an approval for production"), "\(promote.output)")
    #expect(box.current("production") == nil)
  }

  @Test func approvingWhereNoApprovalIsRequiredIsAnError() async throws {
    let box = try await approvalPipeline()
    let refs = try await box.ledgerRefs()
    let approve = try await box.airlock("approve", "staging", "--release", "1.0.0")
    #expect(approve.code == 2, "\(approve.output)")
    #expect(approve.stderr.contains("staging does not require approval"))
    let unknown = try await box.airlock("approve", "production", "--release", "9.9.9")
    #expect(unknown.code == 2, "\(unknown.output)")
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func whoShippedAReleaseUpstreamCannotApproveItThemselves() async throws {
    let box = try await approvalPipeline()
    let refs = try await box.ledgerRefs()
    let own = try await box.airlock("approve", "production", "--release", "1.0.0")
    #expect(own.code == 3, "\(own.output)")
    #expect(
      own.stderr
        == "error: e2e-tester shipped 1.0.0 to staging, so production needs a second person's approval: anyone but "
        + "e2e-tester may run `airlock approve production --release 1.0.0` (or set `approval: self` on production)\n")
    #expect(try await box.ledgerRefs() == refs)
    #expect(try await box.airlock("promote", "production").code == 3)

    // Whoever promoted it upstream counts as a shipper too, so alice, who shipped nothing, approves.
    #expect(try await box.airlock(["approve", "production", "--release", "1.0.0"], environment: alice).code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
  }

  @Test func approvalSelfLetsTheShipperApprove() async throws {
    let box = try ScratchProject()
    try box.pipeline(productionApproval: true)
    let file = box.root.appendingPathComponent("pipelines/web.yml")
    let text = try String(contentsOf: file, encoding: .utf8)
    try text.replacingOccurrences(of: "approval: required", with: "approval: self").write(
      to: file, atomically: true, encoding: .utf8)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 3)
    let approve = try await box.airlock("approve", "production", "--release", "1.0.0")
    #expect(approve.code == 0, "\(approve.output)")
    #expect(approve.stdout.contains("e2e-tester approved 1.0.0"), "\(approve.output)")
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(box.current("production") == "1.0.0")
  }
}
