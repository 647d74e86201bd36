import AirlockTestSupport
import Foundation
import Testing

/// Bad input gets one clear error line, the documented exit code, and changes nothing.
@Suite struct BadInputTests {
  func deployed() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    return box
  }

  @Test(arguments: [
    "../x", "-rf", "a b", String(repeating: "v", count: 300), ".hidden", "x/y", "1.0\n", "v1.lock", "1..2", "1.0.",
  ])
  func invalidVersionLabelsAreRefused(label: String) async throws {
    let box = try await deployed()
    let refs = try await box.ledgerRefs()
    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version=\(label)")
    #expect(run.code == 2, "\(run.output)")
    #expect(run.stderr.contains("invalid version label"))
    #expect(
      run.stderr.contains(
        "use 1-64 characters of [A-Za-z0-9._+-], starting with a letter or digit, without '..' and not ending in "
          + "'.' or '.lock'"), "\(run.stderr)")
    #expect(try await box.ledgerRefs() == refs)
    #expect(box.current("staging") == "1.0.0")
  }

  @Test func aMissingArtifactOrAFileIsRefused() async throws {
    let box = try await deployed()
    let refs = try await box.ledgerRefs()
    let missing = try await box.airlock("deploy", "staging", "--artifact", "nope", "--version", "2")
    #expect(missing.code == 2)
    #expect(missing.stderr.contains("does not exist"))
    try box.write("just a file", to: "file.txt")
    let file = try await box.airlock("deploy", "staging", "--artifact", "file.txt", "--version", "2")
    #expect(file.code == 2)
    #expect(file.stderr.contains("is a file"))
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func anUnknownEnvironmentIsRefusedEverywhere() async throws {
    let box = try await deployed()
    let refs = try await box.ledgerRefs()
    for command in [
      ["deploy", "qa", "--artifact", "artifacts/1.0.0"], ["promote", "qa"], ["rollback", "qa"], ["verify", "qa"],
      ["plan", "qa"],
    ] {
      let run = try await box.run(ScratchProject.binary.path, command, environment: [:])
      #expect(run.code == 2, "\(command): \(run.output)")
      #expect(run.stderr.contains("qa"), "\(command)")
    }
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func deployToAnEnvironmentWithRequiresIsRefused() async throws {
    let box = try await deployed()
    let run = try await box.airlock("deploy", "production", "--artifact", "artifacts/1.0.0")
    #expect(run.code == 2)
    #expect(run.stderr.contains("airlock promote production"))
    #expect(box.current("production") == nil)
  }

  @Test func aMissingSecretIsRefusedBeforeAnythingChanges() async throws {
    let box = try await deployed()
    let run = try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("1.1.0"), environment: ["API_TOKEN": ""])
    // An empty value is a value; unset is what is refused.
    #expect(run.code == 0)
    let refs = try await box.ledgerRefs()
    box.environment.removeValue(forKey: "API_TOKEN")
    let unset = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0")
    #expect(unset.code == 2)
    #expect(unset.stderr.contains("API_TOKEN"))
    #expect(try await box.ledgerRefs() == refs)
    #expect(box.current("staging") != "1.2.0")
  }

  static let commands = ["", "validate", "plan", "deploy", "promote", "rollback", "verify", "history", "status"]

  @Test(arguments: commands)
  func helpNeverActs(command: String) async throws {
    let box = try ScratchProject()
    try box.pipeline()
    try box.write("#!/bin/sh\ntouch hook-ran\n", to: "hooks/pre-deploy", executable: true)
    let arguments = (command.isEmpty ? [] : [command]) + ["staging", "--help"]
    let run = try await box.run(ScratchProject.binary.path, arguments, environment: [:])
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stdout.contains("USAGE"))
    #expect(!box.exists(".airlock"))
    #expect(!box.exists("hook-ran"))
    #expect(!box.exists("targets"))
  }

  @Test func unknownFlagsAndMissingArgumentsExit2() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging").code == 2)
    #expect(try await box.airlock("deploy").code == 2)
    #expect(try await box.airlock("status", "--frobnicate").code == 2)
    #expect(try await box.airlock("history", "--limit", "0").code == 2)
    #expect(!box.exists(".airlock"))
  }
}

/// Pipelines that cannot be loaded: the error names file, line and column, and nothing runs.
@Suite struct BadPipelineTests {
  static let cases: [(name: String, text: String, fragment: String)] = [
    ("not yaml", "pipeline: web\nenvironments: [\n  - {name: x\n", "web.yml:"),
    ("empty", "", "web.yml:1:1"),
    (
      "unknown key", "pipeline: web\nenvironments:\n  - name: staging\n    target: {local: t}\n    verfy: []\n",
      "web.yml:5:5"
    ),
    ("alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\npipeline: web\n", "web.yml:2"),
  ]

  @Test(arguments: cases)
  func validateAndDeployReportTheLocation(name: String, text: String, fragment: String) async throws {
    let box = try ScratchProject()
    try box.write(text, to: "pipelines/web.yml")
    _ = try box.artifact("1")
    let validate = try await box.airlock("validate")
    #expect(validate.code == 2, "\(name): \(validate.output)")
    #expect(validate.stderr.contains(fragment), "\(name): \(validate.stderr)")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", "artifacts/1")
    #expect(deploy.code == 2, "\(name)")
    #expect(!box.exists(".airlock"))
  }

  @Test func aTenMegabyteFileIsRefusedBySize() async throws {
    let box = try ScratchProject()
    let line = "# " + String(repeating: "x", count: 1022) + "\n"
    try box.write("pipeline: web\n" + String(repeating: line, count: 10 * 1024), to: "pipelines/web.yml")
    let validate = try await box.airlock("validate")
    #expect(validate.code == 2)
    #expect(validate.stderr.contains("1 MiB"))
  }

  @Test func validateReportsEveryErrorOfEveryPipeline() async throws {
    let box = try ScratchProject()
    try box.write(
      "pipeline: Web!\nkeep: lots\nenvironments:\n  - name: s\n    target: {local: t}\n    verify: [nope]\n",
      to: "pipelines/a.yml")
    try box.write("pipeline: b\nenvironments: 3\n", to: "pipelines/b.yml")
    let validate = try await box.airlock("validate")
    #expect(validate.code == 2)
    #expect(validate.stderr.contains("a.yml:1:"))
    #expect(validate.stderr.contains("a.yml:2:"))
    #expect(validate.stderr.contains("a.yml:6:"))
    #expect(validate.stderr.contains("b.yml:2:"))
  }
}
