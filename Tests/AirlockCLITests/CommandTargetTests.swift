import AirlockTestSupport
import Foundation
import Testing

/// The `command` target end to end: `apply` run in a release folder Airlock keeps, `current` reporting what really
/// runs, rollback as `apply` of an older release, and a failing `apply` as a failed verify.
@Suite struct CommandTargetTests {
  @Test func promotesThroughApplyAndRollsBackByApplyingTheOlderRelease() async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    #expect(box.read("live") == "1.0\n")
    let folder = ".airlock/targets/web-production/releases/1.0"
    #expect(box.read("\(folder)/applied-in") == box.path(folder) + "\n")
    let config = box.url("\(folder)/.airlock/config.env")
    #expect(try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int == 0o600)
    #expect(box.read("\(folder)/.airlock/config.env")?.contains("API_TOKEN=s3cr3t-token-value-XYZ") == true)

    try await box.shipThroughCommand("2.0")
    #expect(box.read("live") == "2.0\n")
    let status = try await box.airlock("status")
    #expect(status.stdout.contains("production: 2.0"), "\(status.stdout)")
    #expect(!status.stdout.contains("interrupted"), "\(status.stdout)")

    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(rollback.stderr.contains("→ apply: bin/apply"), "\(rollback.stderr)")
    #expect(box.read("live") == "1.0\n")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  @Test func aFailingHealthCheckReappliesThePreviousReleaseWhichIsThenRefused() async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    try box.commandArtifact("2.0", healthy: false)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    // Production's check looks for a file this release lacks.
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 4, "\(promote.output)")
    #expect(box.read("live") == "1.0\n")
    let again = try await box.airlock("promote", "production", "--release", "2.0")
    #expect(again.code == 3, "\(again.output)")
    #expect(again.stdout.contains("2.0 is quarantined in production"), "\(again.output)")
    #expect(box.read("live") == "1.0\n")
  }

  @Test func aFailingApplyIsAFailedVerifyRecordedWithItsStatusAndOutputTail() async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    try box.commandArtifact("3.0")
    try box.write(
      "#!/bin/sh\necho \"token is $API_TOKEN\" >&2\necho 'cluster refused the manifest' >&2\nexit 3\n",
      to: "artifacts/3.0/bin/apply", executable: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/3.0", "--version", "3.0").code == 0)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 4, "\(promote.output)")
    #expect(promote.stderr.contains("✗ apply: fail on 1 of 1 host"), "\(promote.stderr)")
    #expect(promote.stderr.contains("cluster refused the manifest"), "\(promote.stderr)")
    #expect(!promote.output.contains("s3cr3t-token-value-XYZ"))
    #expect(box.read("live") == "1.0\n")
    let checks = try await box.git("show", "web/production~1:checks.json").stdout
    #expect(checks.contains("\"name\" : \"apply\""), "\(checks)")
    #expect(checks.contains("apply exit 3: token is [secret API_TOKEN] / cluster refused the manifest"), "\(checks)")
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(!objects.contains("s3cr3t-token-value-XYZ"))
  }

  @Test func currentReportsAHandMadeChangeAndTheNextPromotionConvergesIt() async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    try box.write("hand-made\n", to: "live")

    let status = try await box.airlock("status")
    #expect(
      status.stdout.contains("the target runs hand-made but the ledger says 1.0; the next change converges it"),
      "\(status.stdout)")
    let verify = try await box.airlock("verify", "production")
    #expect(verify.code == 3, "\(verify.output)")
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(promote.stderr.contains("→ apply: bin/apply"), "\(promote.stderr)")
    #expect(box.read("live") == "1.0\n")
  }

  @Test func aPromotionKilledDuringApplyIsReportedAndTheNextOneAppliesAgain() async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    try box.commandArtifact("2.0")
    try box.write(
      "#!/bin/sh\necho $$ > \"$MARKS/in-apply\"\ni=0; while [ ! -f \"$MARKS/gate\" ] && [ $i -lt 600 ]; do "
        + "sleep 0.05; i=$((i+1)); done\necho \"$AIRLOCK_VERSION\" > \"$MARKS/live\"\n",
      to: "artifacts/2.0/bin/apply", executable: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    let promote = try box.start(["promote", "production"])
    let pid = try #require(try await box.waitFor("in-apply")).trimmingCharacters(in: .whitespacesAndNewlines)
    kill(promote.pid, SIGKILL)
    _ = try? await promote.run.value
    // The apply's process group is the apply's own; it outlived airlock, as a kubectl would. End it.
    kill(-(Int32(pid) ?? 0), SIGKILL)

    let status = try await box.airlock("status")
    #expect(status.stdout.contains("! interrupted: promote by e2e-tester was interrupted"), "\(status.stdout)")
    // The release folder is complete and kept: the next promotion applies it again, and this time the gate is open.
    try box.write("", to: "gate")
    let again = try await box.airlock("promote", "production")
    #expect(again.code == 0, "\(again.output)")
    #expect(box.read("live") == "2.0\n")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }
}

/// Invariant 6 for the command target: a promotion or rollback killed at any step boundary leaves a release live,
/// `status` reports the interrupted run, and the same command run again converges.
@Suite struct CommandTargetCrashTests {
  @Test(arguments: ["promote", "rollback"], CrashTests.faultPoints)
  func aRunKilledAtAStepBoundaryIsReportedAndTheNextRunConverges(command: String, point: String) async throws {
    let box = try ScratchProject()
    try box.commandPipeline()
    try await box.shipThroughCommand("1.0")
    let arguments: [String]
    let intended: String
    if command == "promote" {
      try box.commandArtifact("2.0")
      #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
      (arguments, intended) = (["promote", "production"], "2.0")
    } else {
      try await box.shipThroughCommand("2.0")
      (arguments, intended) = (["rollback", "production", "--to", "1.0"], "1.0")
    }
    let before = box.read("live")

    let crash = try box.start(arguments, environment: ["AIRLOCK_FAULT": point])
    let killed = try await crash.run.value
    #expect(killed.signal == SIGKILL, "\(killed.output)")
    // What runs is either release, whole: apply ran to its end or not at all.
    let live = box.read("live")
    #expect(live == before || live == intended + "\n", "\(live ?? "nothing")")

    let status = try await box.airlock("status")
    #expect(status.code == 0, "\(status.output)")
    #expect(status.stdout.contains("! interrupted: "), "\(status.stdout)")
    let again = try await box.airlock(arguments)
    #expect(again.code == 0, "\(again.output)")
    #expect(box.read("live") == intended + "\n")
    let settled = try await box.airlock("status")
    #expect(!settled.stdout.contains("! interrupted"), "\(settled.output)")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }
}

extension ScratchProject {
  /// Staging on a local folder; production through a `command` target whose `apply` writes the release's label to
  /// the project's `live` file and whose `current` prints that file.
  func commandPipeline() throws {
    try pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            MARKS: \(root.path)
            HEALTH: healthy
          secrets: [API_TOKEN]
        - name: production
          requires: staging
          target:
            command:
              apply: [bin/apply]
              current: [bin/live]
              timeout: 30s
          config:
            MARKS: \(root.path)
            HEALTH: healthy-in-production
          secrets: [API_TOKEN]
          verify: [health]
          on_failure: rollback
      checks:
        health:
          command: [bin/healthcheck]
          attempts: 1
          timeout: 10s
      """)
    environment["API_TOKEN"] = "s3cr3t-token-value-XYZ"
  }

  /// An artifact whose `apply` records where it ran and makes it live, and whose health check passes where the
  /// release holds the file the environment's `HEALTH` names (unless `healthy` is false).
  func commandArtifact(_ version: String, healthy: Bool = true) throws {
    try artifact(version: version)
    let base = "artifacts/\(version)"
    try write(
      "#!/bin/sh\npwd > applied-in\necho \"$AIRLOCK_VERSION\" > \"$MARKS/live\"\n", to: "\(base)/bin/apply",
      executable: true)
    try write("#!/bin/sh\ncat \"$MARKS/live\"\n", to: "\(base)/bin/live", executable: true)
    try write("#!/bin/sh\n[ -f \"$HEALTH\" ]\n", to: "\(base)/bin/healthcheck", executable: true)
    if healthy {
      try write("", to: "\(base)/healthy")
      try write("", to: "\(base)/healthy-in-production")
    }
  }

  /// Deploys `version` to staging and promotes it through the command target, expecting both to succeed.
  func shipThroughCommand(_ version: String) async throws {
    try commandArtifact(version)
    let deploy = try await airlock("deploy", "staging", "--artifact", "artifacts/\(version)", "--version", version)
    #expect(deploy.code == 0, "\(deploy.output)")
    let promote = try await airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
  }
}
