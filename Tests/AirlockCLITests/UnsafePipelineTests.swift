import AirlockTestSupport
import Foundation
import Testing

/// Pipelines the commands could not run safely are refused by `validate` and by every command that loads them
/// (exit 2, file:line:column), and nothing is created.
@Suite struct UnsafePipelineTests {
  /// A one-environment pipeline whose lines the cases replace; `ledger:` is on line 2, `local:` on line 6.
  static func pipeline(
    name: String = "web", ledger: String = ".airlock/ledger.git", environment: String = "staging",
    local: String = "targets/staging", secrets: String = "[API_TOKEN]"
  ) -> String {
    """
    pipeline: \(name)
    ledger: \(ledger)
    environments:
      - name: \(environment)
        target:
          local: \(local)
        secrets: \(secrets)
        start: bin/start
        verify: [health]
    checks:
      health:
        command: [bin/healthcheck]
        attempts: 1

    """
  }

  /// Runs validate and deploy on `text`; both must exit 2 naming `location`, and nothing may be created.
  func expectRefused(_ text: String, location: String, fragment: String) async throws {
    let box = try ScratchProject()
    try box.write(text, to: "pipelines/web.yml")
    try box.write("#!/bin/sh\nenv > \"$AIRLOCK_PIPELINE.hook-env\"\n", to: "hooks/pre-deploy", executable: true)
    box.environment["API_TOKEN"] = "s3cr3t-token-value-XYZ"
    let artifact = try box.artifact("1.0.0")
    let validate = try await box.airlock("validate")
    #expect(validate.code == 2, "\(validate.output)")
    #expect(validate.stderr.contains("pipelines/web.yml:\(location): error: "), "\(validate.stderr)")
    #expect(validate.stderr.contains(fragment), "\(validate.stderr)")
    for command in [["deploy", "staging", "--artifact", artifact, "--version", "1.0.0"], ["plan", "staging"]] {
      let run = try await box.airlock(command, environment: ["TZ": "s3cr3t-tz"])
      #expect(run.code == 2, "\(command): \(run.output)")
      #expect(run.stderr.contains("pipelines/web.yml:\(location):"), "\(command): \(run.stderr)")
    }
    #expect(!box.exists(".airlock"))
    #expect(!box.exists("targets"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: box.root.path).allSatisfy { !$0.hasSuffix("hook-env") })
  }

  @Test func aLedgerInsideATargetsReleasesIsRefused() async throws {
    try await expectRefused(
      Self.pipeline(ledger: "targets/staging/releases/ledger.git"), location: "2:9",
      fragment: "releases/ledger.git) is inside the target of environment 'staging' (at 6:14, ")
  }

  @Test func aTargetInsideTheLedgerIsRefused() async throws {
    try await expectRefused(
      Self.pipeline(local: ".airlock/ledger.git/staging"), location: "2:9",
      fragment: "/.airlock/ledger.git) contains the target of environment 'staging' (at 6:14, ")
  }

  @Test func twoEnvironmentsInOneFolderAreRefused() async throws {
    let text = """
      pipeline: web
      environments:
        - name: staging
          target: {local: targets/staging}
        - name: production
          requires: staging
          target: {local: ./targets/staging/}

      """
    try await expectRefused(
      text, location: "7:21", fragment: "is the same folder as the target of environment 'staging' (at 4:21, ")
  }

  @Test(arguments: ["TZ", "TMPDIR", "HOME", "USER", "LANG", "PATH", "AIRLOCK_ACTOR"])
  func aSecretNamedLikeAVariableAirlockPassesOrSetsIsRefused(name: String) async throws {
    try await expectRefused(
      Self.pipeline(secrets: "[API_TOKEN, \(name)]"), location: "7:26", fragment: "secret '\(name)' in environment")
  }

  @Test func aSecretThatIsNoVariableNameIsRefused() async throws {
    try await expectRefused(
      Self.pipeline(secrets: "[API_TOKEN, 'API-KEY']"), location: "7:26",
      fragment: "invalid secret name 'API-KEY': it must be an environment variable name")
  }

  @Test(arguments: [
    (Self.pipeline(name: "web.lock"), "1:11", "invalid pipeline name 'web.lock'"),
    (Self.pipeline(name: "web."), "1:11", "invalid pipeline name 'web.'"),
    (Self.pipeline(environment: "stag..ing"), "4:11", "invalid environment name 'stag..ing'"),
    (Self.pipeline(environment: "staging.lock"), "4:11", "without '..' and not ending in '.' or '.lock'"),
  ])
  func aNameGitCannotStoreIsRefused(text: String, location: String, fragment: String) async throws {
    try await expectRefused(text, location: location, fragment: fragment)
  }

  @Test func aPipelineFileWithAByteOrderMarkLoadsAndKeepsItsPositions() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let text = try #require(box.read("pipelines/web.yml"))
    try box.write("\u{FEFF}" + text, to: "pipelines/web.yml")
    #expect(
      try Data(contentsOf: box.root.appendingPathComponent("pipelines/web.yml")).starts(with: [0xEF, 0xBB, 0xBF]))
    let validate = try await box.airlock("validate")
    #expect(validate.code == 0, "\(validate.output)")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(box.current("staging") == "1.0.0")

    try box.write("\u{FEFF}pipeline: Web\n" + text.drop { $0 != "\n" }.dropFirst(), to: "pipelines/web.yml")
    let broken = try await box.airlock("validate")
    #expect(broken.code == 2)
    #expect(broken.stderr.contains("pipelines/web.yml:1:11: error: invalid pipeline name 'Web'"), "\(broken.stderr)")
  }
}
