import AirlockTestSupport
import Foundation
import Testing

/// A name that does not exist is exit 2 naming what does exist, with a did-you-mean when one is close, in every
/// command; nothing changes and nothing answers with an empty success.
@Suite struct UnknownNameTests {
  func deployed() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    return box
  }

  static let environmentCommands: [[String]] = [
    ["deploy", "prod", "--artifact", "artifacts/1.0.0"], ["promote", "prod"], ["rollback", "prod"], ["verify", "prod"],
    ["plan", "prod"], ["history", "prod"], ["drift", "staging", "prod"], ["drift", "prod", "staging"],
    ["lock", "prod", "--reason", "typo"], ["unlock", "prod"], ["approve", "prod", "--release", "1.0.0"],
  ]

  @Test func aMistypedEnvironmentIsRefusedWithTheNameMeantInEveryCommand() async throws {
    let box = try await deployed()
    let refs = try await box.ledgerRefs()
    for command in Self.environmentCommands {
      let run = try await box.airlock(command)
      #expect(run.code == 2, "\(command): \(run.output)")
      #expect(run.stdout.isEmpty, "\(command): \(run.output)")
      #expect(
        run.stderr
          == "error: pipeline web has no environment 'prod' (it has: staging, production); did you mean 'production'?\n",
        "\(command)")
    }
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func aMistypedPipelineIsRefusedInReadingAndChangingCommands() async throws {
    let box = try await deployed()
    let refs = try await box.ledgerRefs()
    let expected =
      "error: no pipeline 'wbe' in \(box.root.path)/pipelines or its ledger (pipelines: web); did you mean 'web'?\n"
    for command in [["status"], ["history"], ["rollback", "production"], ["lock", "production", "--reason", "x"]] {
      let run = try await box.airlock(command + ["--pipeline", "wbe"])
      #expect(run.code == 2, "\(command): \(run.output)")
      #expect(run.stderr == expected, "\(command)")
    }
    let json = try await box.airlock(["status", "-p", "wbe", "--json"])
    #expect(json.code == 2)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(document["schemaVersion"] as? Int == 1)
    #expect(document["exitCode"] as? Int == 2)
    #expect((document["error"] as? String)?.hasPrefix("no pipeline 'wbe'") == true, "\(json.output)")
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func aPipelineTheLedgerRecordsStillRollsBackWithoutItsFile() async throws {
    let box = try await deployed()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    try FileManager.default.removeItem(at: box.root.appendingPathComponent("pipelines/web.yml"))
    try box.write(
      "pipeline: other\nenvironments:\n  - name: qa\n    target:\n      local: targets/qa\n", to: "pipelines/other.yml")
    #expect(try await box.airlock("validate").code == 0)
    let run = try await box.airlock("rollback", "staging", "-p", "web")
    #expect(run.code == 0, "\(run.output)")
    #expect(box.current("staging") == "1.0.0")
  }

  @Test func aMistypedReleaseListsTheReleasesNewestFirst() async throws {
    let box = try await deployed()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    let refs = try await box.ledgerRefs()
    for command in [
      ["promote", "production", "--release", "1.1"], ["rollback", "staging", "--to", "1.1"],
      ["plan", "production", "--release", "1.1"],
    ] {
      let run = try await box.airlock(command)
      #expect(run.code == 2, "\(command): \(run.output)")
      #expect(
        run.stderr == "error: no release '1.1' in pipeline web (newest first: 1.1.0, 1.0.0); did you mean '1.1.0'?\n",
        "\(command)")
    }
    #expect(try await box.ledgerRefs() == refs)
  }

  @Test func aMistypedCommandGetsTheCommandMeant() async throws {
    let box = try await deployed()
    let run = try await box.airlock("promte", "production")
    #expect(run.code == 2)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr.hasPrefix("error: unknown command 'promte' (commands: validate, plan, deploy, promote,"))
    #expect(run.stderr.hasSuffix("; did you mean 'promote'?\n"), "\(run.stderr)")
    let json = try await box.airlock("rollbak", "production", "--json")
    #expect(json.code == 2)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect((document["error"] as? String)?.hasSuffix("did you mean 'rollback'?") == true, "\(json.stdout)")
    #expect(document["schemaVersion"] as? Int == 1)
  }

  @Test func anArgumentErrorIsAJSONDocumentWithJSON() async throws {
    let box = try await deployed()
    let run = try await box.airlock("rollback", "--json")
    #expect(run.code == 2)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(document["schemaVersion"] as? Int == 1)
    #expect((document["error"] as? String)?.contains("<environment>") == true, "\(run.stdout)")
  }
}
