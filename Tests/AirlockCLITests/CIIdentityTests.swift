import AirlockTestSupport
import Foundation
import Testing

/// A deploy from a CI job records the person the job names and a link to the run.
@Suite struct CIIdentityTests {
  @Test func aGitHubActionsDeployRecordsTheActorAndRunURL() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    box.environment["AIRLOCK_ACTOR"] = nil
    box.environment.merge([
      "GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com",
      "GITHUB_REPOSITORY": "acme/web", "GITHUB_RUN_ID": "4242",
    ]) { $1 }
    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")
    #expect(run.code == 0, "\(run.output)")
    let record = try await box.git("show", "web/staging:release.json").stdout
    #expect(record.contains(#""actor" : "octocat""#), "\(record)")
    #expect(record.contains(#""runURL" : "https://github.com/acme/web/actions/runs/4242""#), "\(record)")
    let author = try await box.git("log", "-1", "--format=%an <%ae>", "web/staging").stdout
    #expect(author.hasPrefix("octocat <octocat@"), "\(author)")
    let history = try await box.airlock("history", "staging").stdout.split(separator: "\n")
    #expect(history.count == 2, "\(history)")
    #expect(history.first?.hasSuffix("deploy web 1 → staging: ok  [octocat]") == true, "\(history)")
    #expect(history.last == "    run: https://github.com/acme/web/actions/runs/4242")
    let head = try await box.git("rev-parse", "--short=12", "web/staging").trimmed
    let shown = try await box.airlock("show", head).stdout
    #expect(shown.contains("\n  run: https://github.com/acme/web/actions/runs/4242\n"), "\(shown)")
  }

  @Test func airlockActorStillWinsOverTheCIsUserButTheRunIsLinked() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    box.environment.merge([
      "GITLAB_CI": "true", "GITLAB_USER_LOGIN": "alice", "CI_JOB_URL": "https://gitlab.example.com/acme/web/-/jobs/7",
    ]) { $1 }
    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")
    #expect(run.code == 0, "\(run.output)")
    let record = try await box.git("show", "web/staging:release.json").stdout
    #expect(record.contains(#""actor" : "\#(ScratchProject.actor)""#), "\(record)")
    #expect(record.contains(#""runURL" : "https://gitlab.example.com/acme/web/-/jobs/7""#), "\(record)")
  }
}
