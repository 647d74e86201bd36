import AirlockTestSupport
import Foundation
import Testing

/// `secrets:` sources: a program's output or a file's contents, resolved once per command, never recorded or shown.
@Suite struct SecretSourceTests {
  /// The value the secret scripts print; it must turn up in the target's config file and nowhere else.
  static let sentinel = "sentinel-Value-7f3a9c"
  /// What the secret scripts write on standard error; never shown.
  static let noise = "noise-on-stderr-51b2"

  /// The standard pipeline with staging's `secrets:` set to `secrets`, and a script `bin/secret` that counts its
  /// runs in `secret-runs`, complains on stderr and prints the sentinel (then exits `status`, after `sleep` seconds).
  static func project(secrets: String, status: Int = 0, sleep: Int = 0) throws -> ScratchProject {
    let box = try ScratchProject()
    try box.write(
      "#!/bin/sh\necho run >> secret-runs\necho \(noise) >&2\nsleep \(sleep)\necho \(sentinel)\nexit \(status)\n",
      to: "bin/secret", executable: true)
    try box.pipeline(stagingSecrets: secrets)
    return box
  }

  func deploy(_ box: ScratchProject, _ version: String) async throws -> ScratchProject.Run {
    try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version)
  }

  func configFile(_ box: ScratchProject) -> String {
    box.read("targets/staging/current/.airlock/config.env") ?? ""
  }

  @Test func aCommandSourceIsRunOnceAndItsValueReachesOnlyTheTarget() async throws {
    let box = try Self.project(secrets: "{API_TOKEN: {command: [bin/secret]}, PLAIN: env}")
    box.environment["PLAIN"] = "plain-value"
    try box.write("#!/bin/sh\nenv > hook-env-pre-deploy\n", to: "hooks/pre-deploy", executable: true)
    try box.write("#!/bin/sh\nenv > hook-env-post-deploy\n", to: "hooks/post-deploy", executable: true)
    let run = try await deploy(box, "1")
    #expect(run.code == 0, "\(run.output)")
    #expect(configFile(box).contains("API_TOKEN=\(Self.sentinel)\n"))
    #expect(configFile(box).contains("PLAIN=plain-value"))
    #expect(box.read("secret-runs") == "run\n")
    #expect(!run.output.contains(Self.sentinel) && !run.output.contains(Self.noise))
    for hook in ["hook-env-pre-deploy", "hook-env-post-deploy"] {
      let environment = box.read(hook) ?? ""
      #expect(environment.contains("AIRLOCK_ENVIRONMENT=staging"), "\(hook)")
      #expect(!environment.contains(Self.sentinel), "\(hook)")
    }
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(objects.contains("API_TOKEN=sha256:"))
    #expect(objects.contains("\"command\""), "the snapshot keeps the source")
    #expect(!objects.contains(Self.sentinel) && !objects.contains(Self.noise))
  }

  @Test func promoteAndVerifyAskACommandSourceOnceEachAndShipItsValueOnly() async throws {
    let box = try ScratchProject()
    try box.write("#!/bin/sh\necho run >> secret-runs\necho \(Self.sentinel)\n", to: "bin/secret", executable: true)
    let source = "{API_TOKEN: {command: [bin/secret, --field, token]}}"
    try box.pipeline(stagingSecrets: source, productionSecrets: source)
    box.environment["API_TOKEN"] = nil
    var runs: [ScratchProject.Run] = []
    runs.append(try await deploy(box, "1"))
    runs.append(try await box.airlock("verify", "staging"))
    runs.append(try await box.airlock("promote", "production"))
    runs.append(try await box.airlock("verify", "production"))

    #expect(runs.map(\.code) == [0, 0, 0, 0], "\(runs.map(\.output))")
    #expect(box.read("secret-runs") == "run\nrun\nrun\nrun\n", "once per command")
    #expect(
      box.read("targets/production/current/.airlock/config.env")?.contains("API_TOKEN=\(Self.sentinel)\n") == true)
    #expect(runs.allSatisfy { !$0.output.contains(Self.sentinel) })
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    let log = try await box.git("log", "-p", "--all").stdout
    #expect(!objects.contains(Self.sentinel) && !log.contains(Self.sentinel))
    #expect(log.contains("API_TOKEN=sha256:"))
  }

  @Test func aFileSourceIsReadRelativeToTheProjectRoot() async throws {
    let box = try Self.project(secrets: "[PLAIN, {DB_PASSWORD: {file: secrets/db}}]")
    box.environment["PLAIN"] = "plain-value"
    try box.write("\(Self.sentinel)\n", to: "secrets/db")
    let run = try await deploy(box, "1")
    #expect(run.code == 0, "\(run.output)")
    #expect(configFile(box).contains("DB_PASSWORD=\(Self.sentinel)\n"))
    #expect(!run.output.contains(Self.sentinel))
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(objects.contains("DB_PASSWORD=sha256:"))
    #expect(!objects.contains(Self.sentinel))
  }

  /// A source that fails, and the line it must be reported with.
  struct FailingSource: Sendable, CustomTestStringConvertible {
    var label: String
    var secrets: String
    var status = 0
    var sleep = 0
    var message: String
    var testDescription: String { label }
  }

  static let failing: [FailingSource] = [
    .init(
      label: "command exits 3", secrets: "{API_TOKEN: {command: [bin/secret, --vault, prod]}}", status: 3,
      message: "secret API_TOKEN: command bin/secret exited 3"),
    .init(
      label: "missing file", secrets: "{DB_PASSWORD: {file: /nonexistent/airlock/db}}",
      message: "secret DB_PASSWORD: file /nonexistent/airlock/db: no such file"),
    .init(
      label: "slow command", secrets: "{API_TOKEN: {command: [bin/secret], timeout: 100ms}}", sleep: 20,
      message: "secret API_TOKEN: command bin/secret did not finish within 100ms"),
    .init(
      label: "missing program", secrets: "{API_TOKEN: {command: [no-such-vault-cli, read]}}",
      message: "secret API_TOKEN: command no-such-vault-cli could not start (not found: no-such-vault-cli)"),
  ]

  @Test(arguments: failing)
  func aFailingSourceIsExit2NamingTheSecretNeverItsOutput(_ source: FailingSource) async throws {
    let box = try Self.project(secrets: source.secrets, status: source.status, sleep: source.sleep)
    let run = try await deploy(box, "1")
    #expect(run.code == 2)
    #expect(run.stderr.contains(source.message), "\(run.stderr)")
    #expect(!run.output.contains(Self.sentinel) && !run.output.contains(Self.noise))
    #expect(!run.output.contains("--vault"), "arguments may name a vault path; only the program is named")
    #expect(box.read("targets/staging/current/VERSION") == nil, "nothing changed")
    #expect(!(try await box.ledgerRefs()).contains("staging"), "nothing recorded")
  }

  @Test func rollbackWithoutThePipelineFileAsksTheRecordedSourceAgain() async throws {
    let box = try Self.project(secrets: "{API_TOKEN: {command: [bin/secret]}}")
    for hook in ["pre-rollback", "post-rollback"] {
      try box.write("#!/bin/sh\nenv > hook-env-\(hook)\n", to: "hooks/\(hook)", executable: true)
    }
    #expect(try await deploy(box, "1").code == 0)
    #expect(try await deploy(box, "2").code == 0)
    try FileManager.default.removeItem(at: box.url("pipelines/web.yml"))
    let run = try await box.airlock("rollback", "staging")
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stderr.contains("pipeline file unusable"), "\(run.stderr)")
    #expect(!run.stderr.contains("differs from the value"), "the command printed the same value")
    #expect(box.read("secret-runs") == "run\nrun\nrun\n", "one run per command, the rollback's included")
    #expect(box.read("targets/staging/current/VERSION") == "1\n")
    #expect(configFile(box).contains("API_TOKEN=\(Self.sentinel)\n"))
    #expect(!run.output.contains(Self.sentinel) && !run.output.contains(Self.noise))
    for hook in ["hook-env-pre-rollback", "hook-env-post-rollback"] {
      #expect(box.read(hook)?.contains("AIRLOCK_ENVIRONMENT=staging") == true, "\(hook)")
      #expect(box.read(hook)?.contains(Self.sentinel) == false, "\(hook)")
    }
    let history = try await box.git("log", "-p", "--all").stdout
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(!history.contains(Self.sentinel) && !objects.contains(Self.sentinel))
  }

  @Test func anAutomaticRollbackReusesTheValuesItsCommandResolved() async throws {
    let box = try Self.project(secrets: "{API_TOKEN: {command: [bin/secret]}}")
    #expect(try await deploy(box, "1").code == 0)
    let run = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("2", healthy: false), "--version", "2")
    #expect(run.code == 4, "failed verify, rolled back: \(run.output)")
    #expect(run.stderr.contains("rolling staging back to 1"), "\(run.stderr)")
    #expect(box.read("targets/staging/current/VERSION") == "1\n")
    #expect(box.read("secret-runs") == "run\nrun\n", "the failed deploy and its rollback asked the source once")
  }

  @Test func planShowsTheSourceWithoutRunningIt() async throws {
    let box = try Self.project(secrets: "{API_TOKEN: {command: [bin/secret]}}")
    let run = try await box.airlock("plan", "staging")
    #expect(run.code == 0, "\(run.output)")
    #expect(run.output.contains("secret API_TOKEN comes from command bin/secret (not resolved by plan)"))
    #expect(box.read("secret-runs") == nil)
  }
}
