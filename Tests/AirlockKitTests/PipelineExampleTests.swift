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

  @Test func referencePipelineLoadsClean() throws {
    let file = root.appendingPathComponent("docs/pipeline-reference.yml")
    let pipeline = try PipelineLoader.load(file: file, root: root)
    #expect(pipeline.environments.map(\.name) == ["staging", "production", "k8s-mirror"])
    let production = try #require(pipeline.environment(named: "production"))
    guard case .ssh(let ssh) = production.target else {
      Issue.record("production must be an ssh target")
      return
    }
    #expect(ssh.hosts.count == 3)
    #expect(production.approvalRequired)
    #expect(production.watch == TimeSpan(milliseconds: 300_000))
    #expect(pipeline.checks["auth-provider"]?.dependency == true)
    #expect(pipeline.checks["health"]?.policy == ProbePolicy(attempts: 5, pass: 3, timeout: .seconds(2)))
    let kinds = Set(pipeline.checks.values.map(\.kind.keyword))
    #expect(kinds == ["http", "tcp", "command", "heartbeat", "config", "drift"])
  }
}
