import AirlockTestSupport
import Foundation
import Testing

/// The evidence of a failure: what a failing probe saw is shown under the failing check, recorded in `checks.json`
/// and shown by `show` and `verify`, secret values masked; hooks are told how the event ended, get it as JSON on
/// stdin, and their output is shown and recorded.
@Suite struct EvidenceTests {
  static let secret = "s3cr3t-token-value-XYZ"

  /// An artifact whose health check prints the release's config (secrets included) and a reason, then fails.
  func talkativeArtifact(_ box: ScratchProject, _ version: String) throws -> String {
    let path = try box.artifact(version)
    try box.write(
      "#!/bin/sh\ncat .airlock/config.env\necho \"release is broken: no database\" >&2\nexit 2\n",
      to: "\(path)/bin/healthcheck", executable: true)
    return path
  }

  @Test func aFailingCommandCheckShowsAndRecordsWhatItPrintedWithSecretsMasked() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    let deploy = try await box.airlock(
      "deploy", "staging", "--artifact", talkativeArtifact(box, "1.1.0"), "--version", "1.1.0")
    #expect(deploy.code == 4, "\(deploy.output)")
    #expect(
      deploy.stderr.contains(
        "  ✗ health: fail on 1 of 1 host (localhost: exit 2, exit 2)\n    | DATABASE_URL=postgres://db-staging.internal/web\n"
      ),
      "\(deploy.stderr)")
    #expect(deploy.stderr.contains("    | API_TOKEN=[secret API_TOKEN]\n"), "\(deploy.stderr)")
    #expect(deploy.stderr.contains("    | release is broken: no database\n"), "\(deploy.stderr)")

    let failed = try await box.git("rev-parse", "web/staging~1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let checks = try await box.git("show", "\(failed):checks.json").stdout
    #expect(checks.contains(#""evidence" : "#), "\(checks)")
    #expect(checks.contains("release is broken: no database"), "\(checks)")
    #expect(checks.contains("[secret API_TOKEN]"), "\(checks)")

    let show = try await box.airlock("show", String(failed.prefix(12)))
    #expect(show.code == 0, "\(show.output)")
    #expect(show.stdout.contains("      | release is broken: no database\n"), "\(show.stdout)")
    for text in [deploy.output, checks, show.output] { #expect(!text.contains(Self.secret)) }
    let commits = try await box.git("rev-list", "--all").stdout.split(separator: "\n").map(String.init)
    #expect(try await box.git(arguments: ["grep", "-e", Self.secret] + commits).stdout.isEmpty)
  }

  @Test func aFailingHTTPCheckKeepsTheStartOfTheBody() async throws {
    let server = try TestHTTPServer { _ in .init(status: 503, body: "database connection refused\nretry later\n") }
    defer { server.stop() }
    let box = try await ScratchProject.verifying(
      "[api]",
      checks: """
          api:
            http: \(server.urlString("/healthz"))
            attempts: 1
            pass: 1
            timeout: 5s
        """)
    let verify = try await box.airlock("verify", "staging")
    #expect(verify.code == 5, "\(verify.output)")
    #expect(
      verify.stdout.contains("\napi:\n    | database connection refused\n    | retry later\n"), "\(verify.stdout)")
    #expect(
      verify.stderr.contains(
        "  ✗ api: fail on 1 of 1 host (localhost: status 503)\n    | database connection refused\n"),
      "\(verify.stderr)")
    let checks = try await box.git("show", "web/staging:checks.json").stdout
    #expect(checks.contains(#""evidence" : "database connection refused\nretry later""#), "\(checks)")
  }

  @Test func hooksAreToldTheOutcomeGetTheEventAndTheirOutputIsRecorded() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let script = """
      #!/bin/sh
      echo "$0 outcome=${AIRLOCK_OUTCOME-unset} id=${AIRLOCK_EVENT_ID-unset} detail=${AIRLOCK_DETAIL-unset}"
      cat > "$(basename "$0").json"

      """
    for hook in ["pre-deploy", "post-deploy", "on-failure"] {
      try box.write(script, to: "hooks/\(hook)", executable: true)
    }
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    let commit = try await box.git("rev-parse", "web/staging").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(deploy.stderr.contains("pre-deploy outcome=unset id=unset detail=unset\n"), "\(deploy.stderr)")
    #expect(
      deploy.stderr.contains("post-deploy outcome=ok id=\(commit) detail=verified\n"), "\(deploy.stderr)")

    let pre = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: box.url("pre-deploy.json"))) as? [String: Any])
    #expect(pre["schemaVersion"] as? Int == 1)
    #expect(pre["hook"] as? String == "pre-deploy")
    #expect(pre["event"] as? String == "deploy")
    #expect((pre["release"] as? [String: Any])?["version"] as? String == "1.0.0")
    #expect(pre["outcome"] == nil)
    let post = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: box.url("post-deploy.json"))) as? [String: Any])
    #expect(post["outcome"] as? String == "ok")
    #expect(post["eventId"] as? String == commit)

    // Recorded as a git note on the event, readable with stock git, and shown by `show`.
    let note = try await box.git("notes", "--ref", "airlock/web/staging", "show", commit)
    #expect(note.code == 0, "\(note.output)")
    #expect(note.stdout.contains(#""hook" : "pre-deploy""#), "\(note.stdout)")
    #expect(note.stdout.contains("post-deploy outcome=ok id=\(commit)"), "\(note.stdout)")
    let show = try await box.airlock("show", String(commit.prefix(12)))
    #expect(show.stdout.contains("  hook post-deploy: ok (exit 0)\n    | "), "\(show.stdout)")

    let broken = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("1.1.0", healthy: false), "--version", "1.1.0")
    #expect(broken.code == 4, "\(broken.output)")
    let failed = try await box.git("rev-parse", "web/staging~1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(
      broken.stderr.contains(
        "on-failure outcome=failed id=\(failed) detail=verify failed: health: fail on 1 of 1 host"),
      "\(broken.stderr)")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }
}
