import Foundation
import Testing

@testable import AirlockKit

/// The pipelines shipped with the repository must always load clean: newcomers run them first.
@Suite struct PipelineExampleTests {
  let root = PipelineTestSupport.packageRoot

  @Test func bundledWebPipelineIsTheDefaultAndLoadsClean() throws {
    let project = try #require(Project.locate(from: root.appendingPathComponent("Sources")))
    #expect(project.root.path == root.path)
    #expect(project.pipelineFiles().map(\.lastPathComponent) == ["web.yml"])
    let pipeline = try project.selectPipeline(name: nil, file: nil)
    #expect(pipeline.name == "web")
    #expect(pipeline.environments.map(\.name) == ["staging", "production"])
    for environment in pipeline.environments {
      // Local targets under the project root, so the demo runs in a temporary copy of the project.
      guard case .local(let path) = environment.target else {
        Issue.record("\(environment.name) must have a local target")
        continue
      }
      #expect(!path.hasPrefix("/"))
      #expect(environment.secrets == ["API_TOKEN"])
      #expect(environment.config["DATABASE_URL"] != nil)
      #expect(environment.start == "bin/start")
      #expect(environment.verify == ["health"])
    }
    #expect(pipeline.environment(named: "production")?.requires == "staging")
    #expect(pipeline.environment(named: "production")?.onFailure == .rollback)
    let health = try #require(pipeline.checks["health"])
    #expect(health.kind == .command(arguments: ["bin/healthcheck"]))
    #expect(health.policy.interval <= .seconds(1))
  }

  /// The reference documents every key, every target kind included, and loads clean.
  @Test func referencePipelineDecodesAndLoadsClean() throws {
    let file = root.appendingPathComponent("docs/pipeline-reference.yml")
    let text = try String(contentsOf: file, encoding: .utf8)
    _ = try PipelineLoader.load(
      file: URL(fileURLWithPath: "docs/pipeline-reference.yml", relativeTo: root), root: root)
    let (targets, diagnostics) = PipelineTestSupport.decoded(text, file: "docs/pipeline-reference.yml")
    #expect(diagnostics.isEmpty)
    #expect(targets.keys.sorted() == ["k8s-mirror", "production", "staging"])
    guard case .ssh(let ssh) = targets["production"] else {
      Issue.record("production must be an ssh target")
      return
    }
    #expect(ssh.hosts.count == 3)
    guard case .command(let command) = targets["k8s-mirror"] else {
      Issue.record("k8s-mirror must be a command target")
      return
    }
    #expect(command.apply == ["kubectl", "apply", "-k", "."])
    #expect(command.current != nil && command.timeout == .seconds(120) && command.hosts == ["k8s-a", "k8s-b"])
  }

  /// The rest of the reference (every environment key, every check kind) loads as well with local targets instead.
  @Test func referencePipelineLoadsCleanWithLocalTargets() throws {
    let text = try String(contentsOf: root.appendingPathComponent("docs/pipeline-reference.yml"), encoding: .utf8)
    let local = Self.replacingPlannedTargets(in: text)
    let pipeline = try PipelineLoader.parse(local, file: "docs/pipeline-reference.yml", root: root)
    #expect(pipeline.environments.map(\.name) == ["staging", "production", "k8s-mirror"])
    let production = try #require(pipeline.environment(named: "production"))
    #expect(production.approvalRequired)
    #expect(production.watch == TimeSpan(milliseconds: 300_000))
    #expect(production.notify?.map(\.description) == ["webhook_secret SLACK_WEBHOOK_URL", "command bin/page-oncall"])
    #expect(
      pipeline.environment(named: "staging")?.notify?.map(\.description) == [
        "webhook_secret SLACK_WEBHOOK_URL", "webhook https://audit.example.com",
      ], "the top-level list, which production replaces")
    #expect(pipeline.checks["auth-provider"]?.dependency == true)
    #expect(pipeline.checks["health"]?.policy == ProbePolicy(attempts: 5, pass: 3, timeout: .seconds(2)))
    let kinds = Set(pipeline.checks.values.map(\.kind.keyword))
    #expect(kinds == Set(CheckKinds.builtIn))
  }

  /// `text` with each planned target's block (its key line and the deeper-indented lines under it) replaced by a
  /// local target of its own.
  static func replacingPlannedTargets(in text: String) -> String {
    var result: [Substring] = []
    var skipping = false
    var count = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if skipping && line.hasPrefix("        ") { continue }
      skipping = false
      if line.hasPrefix("      ssh:") || line.hasPrefix("      command:") {
        count += 1
        result.append("      local: /srv/planned-\(count)")
        skipping = true
        continue
      }
      result.append(line)
    }
    return result.joined(separator: "\n")
  }
}
