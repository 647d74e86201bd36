import AirlockTestSupport
import Foundation
import Testing

/// `airlock init` writes a starter project that validates, deploys and promotes on this machine at once, and never
/// overwrites anything.
@Suite struct InitTests {
  static let files = [
    "pipelines/app.yml", "hooks/pre-deploy", "hooks/post-deploy", "hooks/on-failure", "release/VERSION",
    "release/bin/start", "release/bin/healthcheck",
  ]
  static let executables: Set<String> = [
    "hooks/pre-deploy", "hooks/post-deploy", "hooks/on-failure", "release/bin/start", "release/bin/healthcheck",
  ]

  @Test func theStarterValidatesDeploysToStagingAndPromotesToProduction() async throws {
    let box = try ScratchProject()
    let folder = box.url("fresh")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let written = try await box.airlock(["init"], in: folder)
    #expect(written.code == 0, "\(written.output)")
    #expect(
      written.stdout == """
        wrote a starter project in \(folder.path):
        \(Self.files.map { "  " + $0 }.joined(separator: "\n"))
        next: airlock validate
          then: airlock deploy staging --artifact release --version 1.0.0
          then: airlock promote production

        """)
    for file in Self.files {
      let mode =
        try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)[
          .posixPermissions] as? Int
      #expect(mode == (Self.executables.contains(file) ? 0o755 : 0o644), "\(file)")
    }

    let validated = try await box.airlock(["validate"], in: folder)
    #expect(validated.code == 0, "\(validated.output)")
    #expect(validated.stdout == "\(folder.path)/pipelines/app.yml: ok (pipeline app, 2 environments)\n")
    let deployed = try await box.airlock(
      ["deploy", "staging", "--artifact", "release", "--version", "1.0.0"], in: folder)
    #expect(deployed.code == 0, "\(deployed.output)")
    #expect(deployed.stdout == "deployed 1.0.0 to staging: verified\n")
    let promoted = try await box.airlock(["promote", "production"], in: folder)
    #expect(promoted.code == 0, "\(promoted.output)")
    #expect(promoted.stdout == "promoted 1.0.0 staging→production: verified\n")

    // The example start ran with each environment's config, and the hooks saw the release they were told about.
    let started = try String(
      contentsOf: folder.appendingPathComponent(".airlock/targets/production/current/.airlock/started"),
      encoding: .utf8)
    #expect(started == "1.0.0 started in production: hello from production\n")
    let log = try String(contentsOf: folder.appendingPathComponent(".airlock/hooks.log"), encoding: .utf8)
    let lines = log.split(separator: "\n").map { $0.replacing(/release [0-9a-f]{40}/, with: "release <id>") }
    #expect(
      lines == [
        "pre-deploy: deploy app/staging 1.0.0 (release <id>, previous none) by \(ScratchProject.actor)",
        "post-deploy: deploy app/staging 1.0.0 (release <id>, previous none) by \(ScratchProject.actor)",
      ])
  }

  @Test func theJSONDocumentListsTheFilesAndTheNextCommands() async throws {
    let box = try ScratchProject()
    let run = try await box.airlock("init", "--json")
    #expect(run.code == 0, "\(run.output)")
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
    #expect(document["schemaVersion"] as? Int == 1)
    #expect(document["directory"] as? String == box.root.path)
    #expect(document["files"] as? [String] == Self.files)
    #expect((document["next"] as? [String])?.last == "airlock promote production")
  }

  @Test(arguments: [false, true])
  func anExistingPipelineMakesItWriteNothing(json: Bool) async throws {
    let box = try ScratchProject()
    try box.write("pipeline: mine\n", to: "pipelines/app.yml")
    let run = try await box.airlock(["init"] + (json ? ["--json"] : []))
    #expect(run.code == 2, "\(run.output)")
    let message =
      "airlock init wrote nothing: pipelines/app.yml already exists in \(box.root.path); move it away or run "
      + "airlock init in an empty folder"
    #expect(run.stderr == "error: \(message)\n")
    if json {
      #expect(run.stdout.contains("\"exitCode\" : 2") && run.stdout.contains(message), "\(run.stdout)")
    } else {
      #expect(run.stdout.isEmpty)
    }
    #expect(box.read("pipelines/app.yml") == "pipeline: mine\n")
    for folder in ["hooks", "release", ".airlock"] { #expect(!box.exists(folder), "\(folder) was written") }
  }

  @Test func everyFileInTheWayIsNamed() async throws {
    let box = try ScratchProject()
    try box.write("#!/bin/sh\n", to: "hooks/post-deploy")
    try box.write("not a folder\n", to: "release")
    let run = try await box.airlock("init")
    #expect(run.code == 2, "\(run.output)")
    #expect(run.stderr.contains("wrote nothing: hooks/post-deploy, release already exist"), "\(run.stderr)")
    for file in ["pipelines/app.yml", "hooks/pre-deploy", "hooks/on-failure"] { #expect(!box.exists(file)) }
  }
}
