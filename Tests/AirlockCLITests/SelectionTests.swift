import AirlockTestSupport
import Foundation
import Testing

/// Choosing the pipeline (`-p`, `-f`, the single default) and the read-only `drift` and `verify` views.
@Suite struct SelectionTests {
  @Test func severalPipelinesNeedDashPAndDashFNamesAFileAnywhere() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    try box.write(
      "pipeline: api\nenvironments:\n  - name: dev\n    target:\n      local: targets/api-dev\n",
      to: "pipelines/api.yml")
    let app = try box.artifact("1")
    let ambiguous = try await box.airlock("deploy", "dev", "--artifact", app)
    #expect(ambiguous.code == 2)
    #expect(ambiguous.stderr.contains("-p NAME"))
    let chosen = try await box.airlock("-p", "api", "deploy", "dev", "--artifact", app, "--version", "1")
    #expect(chosen.code == 0, "\(chosen.output)")
    #expect(box.current("api-dev") == "1")
    #expect(try await box.git("rev-parse", "--verify", "-q", "api/dev").code == 0)

    try box.write(
      "pipeline: scratch\nenvironments:\n  - name: dev\n    target:\n      local: targets/scratch-dev\n",
      to: "elsewhere/scratch.yml")
    let file = try await box.airlock(
      "-f", "elsewhere/scratch.yml", "deploy", "dev", "--artifact", app, "--version", "1")
    #expect(file.code == 0, "\(file.output)")
    #expect(box.current("scratch-dev") == "1")
  }

  @Test func driftShowsKeysReleasesAndSecretsByFingerprint() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    let drift = try await box.airlock("drift", "staging", "production")
    #expect(drift.code == 0, "\(drift.output)")
    #expect(drift.stdout.contains("same release"))
    #expect(drift.stdout.contains("differs DATABASE_URL: postgres://db-staging.internal/web ≠ postgres://db-prod"))
    #expect(drift.stdout.contains("equal: API_TOKEN"))
    #expect(!drift.output.contains(box.environment["API_TOKEN"]!))
    let json = try await box.airlock("drift", "staging", "production", "--json")
    let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(decoded?["sameRelease"] as? Bool == true)
  }

  @Test func verifyPrintsATableAndRecordsTheVerdict() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    let verify = try await box.airlock("verify", "staging")
    #expect(verify.code == 0, "\(verify.output)")
    #expect(verify.stdout.contains("CHECK   KIND     HOST       VERDICT  PROBES"))
    #expect(verify.stdout.contains("health  command  localhost  pass     ok"))
    try FileManager.default.removeItem(at: box.target("staging").appendingPathComponent("current/healthy"))
    let failing = try await box.airlock("verify", "staging")
    #expect(failing.code == 5)
    #expect(failing.stdout.contains("health  command  localhost  fail     exit 1, exit 1"))
    #expect(box.current("staging") == "1")
    #expect(try await box.git("log", "-1", "--format=%s", "web/staging").stdout == "verify web staging 1: failed\n")
    #expect(try await box.git("show", "web/staging:checks.json").stdout.contains("\"reason\" : \"exit 1\""))
  }
}

/// `--version` belongs to deploy (the release label); a misplaced one must never be taken for a request to print
/// Airlock's version and exit 0, which would tell a CI script that a deploy succeeded.
@Suite struct VersionFlagTests {
  @Test func aMisplacedVersionFlagIsAnErrorNotASuccess() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let run = try await box.airlock("--bogus", "deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")
    #expect(run.code == 2)
    #expect(!box.exists(".airlock"))
  }
}
