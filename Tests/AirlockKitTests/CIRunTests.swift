import Foundation
import Testing

@testable import AirlockKit

/// The actor and run link a CI service's own variables give (docs/ledger.md, "Actor").
@Suite struct CIRunTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var label: String
    var environment: [String: String]
    var service: CIRun.Service?
    var actor: String?
    var url: String?
    var testDescription: String { label }
  }

  static let cases: [Case] = [
    .init(
      label: "GitHub Actions",
      environment: [
        "GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/web", "GITHUB_RUN_ID": "4242",
      ],
      service: .githubActions, actor: "octocat", url: "https://github.com/acme/web/actions/runs/4242"),
    .init(
      label: "GitHub Actions without a run id", environment: ["GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat"],
      service: .githubActions, actor: "octocat", url: nil),
    .init(
      label: "GITHUB_ACTIONS not true", environment: ["GITHUB_ACTIONS": "false", "GITHUB_ACTOR": "octocat"],
      service: nil, actor: nil, url: nil),
    .init(
      label: "GitLab",
      environment: [
        "GITLAB_CI": "true", "GITLAB_USER_LOGIN": "alice", "CI_JOB_URL": "https://gitlab.example.com/acme/web/-/jobs/7",
      ],
      service: .gitLab, actor: "alice", url: "https://gitlab.example.com/acme/web/-/jobs/7"),
    .init(
      label: "Buildkite creator",
      environment: [
        "BUILDKITE": "true", "BUILDKITE_BUILD_CREATOR": "Bob Builder", "BUILDKITE_BUILD_AUTHOR": "Carol",
        "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/web/builds/9",
      ],
      service: .buildkite, actor: "Bob Builder", url: "https://buildkite.com/acme/web/builds/9"),
    .init(
      label: "Buildkite author", environment: ["BUILDKITE": "true", "BUILDKITE_BUILD_AUTHOR": "Carol"],
      service: .buildkite, actor: "Carol", url: nil),
    .init(
      label: "Jenkins user",
      environment: [
        "JENKINS_URL": "https://ci.example.com/", "BUILD_USER_ID": "dave",
        "BUILD_URL": "https://ci.example.com/job/web/12/",
      ],
      service: .jenkins, actor: "dave", url: "https://ci.example.com/job/web/12/"),
    .init(
      label: "Jenkins without a user", environment: ["JENKINS_URL": "https://ci.example.com/"], service: .jenkins,
      actor: "jenkins", url: nil),
    .init(label: "no CI", environment: ["USER": "erin"], service: nil, actor: nil, url: nil),
  ]

  @Test(arguments: cases)
  func readsTheServicesOwnVariables(_ ciCase: Case) {
    let run = CIRun.detect(in: ciCase.environment)
    #expect(run?.service == ciCase.service)
    #expect(run?.actor == ciCase.actor)
    #expect(run?.url == ciCase.url)
  }

  @Test(arguments: cases)
  func theCIActorComesAfterAirlockActorAndBeforeGit(_ ciCase: Case) {
    let git = Signature(name: "Git User", email: "git@example.com")
    let fromCI = OperationOptions.actor(from: ciCase.environment, gitIdentity: git)
    #expect(fromCI.name == ciCase.actor ?? "Git User")
    var overridden = ciCase.environment
    overridden["AIRLOCK_ACTOR"] = "release-bot@example.com"
    let explicit = OperationOptions.actor(from: overridden, gitIdentity: git)
    #expect(explicit == Signature(name: "release-bot@example.com", email: "release-bot@example.com"))
  }

  @Test func anOldRecordWithoutRunURLDecodes() throws {
    let json = """
      {"pipeline": "web", "environment": "staging", "event": "deploy", "outcome": "ok", "automatic": false,
       "actor": "alice", "startedAt": "2026-01-02T03:04:05Z", "finishedAt": "2026-01-02T03:04:06Z",
       "durationMilliseconds": 1000, "detail": "ok"}
      """
    var record = try LedgerCoding.decode(EventRecord.self, from: Data(json.utf8))
    #expect(record.runURL == nil && record.actor == "alice")
    #expect(!String(decoding: try LedgerCoding.encode(record), as: UTF8.self).contains("runURL"))
    record.runURL = "https://ci.example.com/job/web/12/"
    #expect(try LedgerCoding.decode(EventRecord.self, from: LedgerCoding.encode(record)) == record)
  }
}
