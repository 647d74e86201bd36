import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// The names shell completion offers (`Workspace.environmentNames()`, `releaseLabels()`, `eventIDs()`) come from the
/// pipeline and the ledger as they are, and reading them creates nothing; the project is `airlock init`'s starter.
@Suite struct OrchestrationWorkspaceNamesTests {
  @Test func namesComeFromThePipelineAndTheLedger() async throws {
    let box = try ScratchProject()
    _ = try StarterProject.write(into: box.root)
    let before = try Workspace.open(Workspace.Request(directory: box.root))
    #expect(before.environmentNames() == ["staging", "production"])
    #expect(before.releaseLabels().isEmpty && before.eventIDs().isEmpty)
    #expect(!box.exists(".airlock"), "reading names created the ledger")

    for version in ["1.1.0", "1.0.0"] {
      try box.write(version + "\n", to: "\(StarterProject.artifact)/VERSION")
      let report = try await box.orchestrator().deploy(
        environment: "staging", artifact: box.url(StarterProject.artifact), version: version)
      try #require(report.exitCode == 0, "\(report.summary)")
      box.clock.advance(by: .seconds(2))
    }
    _ = try await box.promote()
    let workspace = try Workspace.open(Workspace.Request(directory: box.root))
    #expect(workspace.releaseLabels() == ["1.0.0", "1.1.0"])
    let history = try box.orchestrator().history(environment: nil, limit: 100).map(\.commit.short)
    #expect(history.count == 3)
    #expect(workspace.eventIDs() == history)
    #expect(workspace.eventIDs(limit: 1) == Array(history.prefix(1)))

    // A broken pipeline: the environments that have events, by the ledger's branches.
    try box.write("pipeline: app\nenvironments: {\n", to: "pipelines/app.yml")
    let broken = try Workspace.open(Workspace.Request(directory: box.root))
    #expect(broken.pipeline == nil)
    #expect(broken.environmentNames() == ["production", "staging"])
  }
}
