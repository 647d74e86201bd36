import AirlockTestSupport
import Foundation
import Testing
import Yams

/// The CI recipe in `docs/ci/` runs as written: its shell steps, in order, against a copy of the bundled example
/// with the built `airlock` on `PATH`, as GitHub Actions would run them (`bash -e -o pipefail`), deciding on
/// Airlock's exit codes. A recipe that stops working fails the build.
@Suite struct CIRecipeTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A workflow of the recipe, parsed.
  struct Workflow {
    var env: [String: String]
    var jobs: [(name: String, condition: String?, needs: String?, steps: [(name: String, script: String)])]

    init(_ url: URL) throws {
      let text = try String(contentsOf: url, encoding: .utf8)
      let root = try #require(try Yams.compose(yaml: text)?.mapping)
      env = Dictionary(
        uniqueKeysWithValues: (root["env"]?.mapping ?? [:]).map { ($0.key.string ?? "", $0.value.string ?? "") })
      jobs = (root["jobs"]?.mapping ?? [:]).map { job in
        let steps = (job.value.mapping?["steps"]?.sequence ?? []).compactMap { step -> (String, String)? in
          guard let script = step.mapping?["run"]?.string else { return nil }
          return (step.mapping?["name"]?.string ?? script, script)
        }
        return (
          job.key.string ?? "", job.value.mapping?["if"]?.string, job.value.mapping?["needs"]?.string, steps
        )
      }
    }
  }

  /// One run of the workflow: the repository's example copied in, `airlock` on PATH, the expressions filled in.
  struct Runner {
    let box: ScratchProject
    let workflow: Workflow
    let ledger: URL

    init(_ workflow: Workflow) throws {
      box = try ScratchProject()
      self.workflow = workflow
      ledger = box.url("shared-ledger.git")
      for folder in ["pipelines", "hooks", "examples/web-app"] {
        let target = box.url(folder)
        try FileManager.default.createDirectory(
          at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CIRecipeTests.repository.appendingPathComponent(folder), to: target)
      }
      _ = try box.write("", to: "github-path")
    }

    /// `${{ expression }}` replaced from `values`.
    func filled(_ text: String, _ values: [String: String]) -> String {
      var text = text
      for (expression, value) in values {
        text = text.replacingOccurrences(of: "${{ \(expression) }}", with: value)
      }
      return text
    }

    /// Runs the jobs whose `if:` holds, each step in order until one fails; answers every step's run by name.
    func run(sha: String, rollback: String = "") async throws -> [(job: String, step: String, run: ScratchProject.Run)]
    {
      let values = [
        "vars.AIRLOCK_LEDGER": ledger.path, "secrets.API_TOKEN": "ci-token-value", "inputs.rollback": rollback,
        "github.sha": sha,
      ]
      var environment = workflow.env.mapValues { filled($0, values) }
      environment["PATH"] = ScratchProject.binary.deletingLastPathComponent().path + ":/usr/bin:/bin"
      environment["GITHUB_PATH"] = box.url("github-path").path
      // The actor comes from GitHub's variables, as on a runner, not from the tests' default.
      environment["AIRLOCK_ACTOR"] = ""
      environment["GITHUB_ACTIONS"] = "true"
      environment["GITHUB_ACTOR"] = "octocat"
      environment["GITHUB_SERVER_URL"] = "https://github.com"
      environment["GITHUB_REPOSITORY"] = "acme/web"
      environment["GITHUB_RUN_ID"] = "42"
      var runs: [(String, String, ScratchProject.Run)] = []
      var done: Set<String> = []
      for job in workflow.jobs {
        // A job runs when its `if:` holds and the job it `needs` ran and succeeded.
        if let condition = job.condition {
          let wantsRollback = condition.contains("!= ''")
          guard wantsRollback == !rollback.isEmpty else { continue }
        }
        if let needs = job.needs, !done.contains(needs) { continue }
        for step in job.steps {
          let run = try await box.run(
            "/bin/bash", ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", filled(step.script, values)],
            environment: environment)
          runs.append((job.name, step.name, run))
          if run.code != 0 { return runs }
        }
        done.insert(job.name)
      }
      return runs
    }
  }

  static let first = "1a2b3c4d5e6f" + String(repeating: "0", count: 28)
  static let second = "2b3c4d5e6f70" + String(repeating: "1", count: 28)
  static let broken = "3c4d5e6f7081" + String(repeating: "2", count: 28)

  @Test func theGitHubActionsRecipeDeploysPromotesRefusesABrokenReleaseAndRollsBack() async throws {
    let workflow = try Workflow(Self.repository.appendingPathComponent("docs/ci/github-actions.yml"))
    #expect(workflow.jobs.map(\.name).sorted() == ["production", "rollback", "staging"])
    let runner = try Runner(workflow)
    let box = runner.box

    for sha in [Self.first, Self.second] {
      let runs = try await runner.run(sha: sha)
      #expect(runs.allSatisfy { $0.run.code == 0 }, "\(runs.map { "\($0.job)/\($0.step): \($0.run.output)" })")
      #expect(runs.map(\.step).contains("Promote to production"))
      let promoted = try #require(runs.last)
      #expect(promoted.run.stdout.contains("production runs \(sha.prefix(12)), verified"), "\(promoted.run.output)")
    }
    let history = try await box.airlock(
      ["history", "production", "--limit", "1"], environment: ["AIRLOCK_LEDGER": runner.ledger.path])
    #expect(
      history.stdout.contains("promote web \(Self.second.prefix(12)) staging→production: ok  [octocat]"),
      "\(history.output)")

    // A release that fails verify in staging stops the run there: the step fails and production is untouched.
    try FileManager.default.removeItem(at: box.url("examples/web-app/healthy"))
    let failing = try await runner.run(sha: Self.broken)
    let last = try #require(failing.last)
    #expect(last.step == "Deploy to staging" && last.run.code == 1, "\(last.run.output)")
    #expect(last.run.stdout.contains("::error::\(Self.broken.prefix(12)) failed verify in staging and was rolled back"))
    #expect(!failing.contains { $0.job == "production" })

    // The manual rollback job takes production back to the first release.
    let rollback = try await runner.run(sha: Self.second, rollback: "production")
    #expect(rollback.map(\.job).allSatisfy { $0 == "rollback" })
    #expect(rollback.last?.run.code == 0, "\(rollback.map(\.run.output))")
    #expect(rollback.last?.run.stdout.contains("production rolled back") == true)
    let status = try await box.airlock(["status", "--json"], environment: ["AIRLOCK_LEDGER": runner.ledger.path])
    let document = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
    let production = (document["environments"] as? [[String: Any]])?.first {
      $0["environment"] as? String == "production"
    }
    #expect((production?["current"] as? [String: Any])?["version"] as? String == String(Self.first.prefix(12)))
  }

  /// The GitLab recipe's jobs for one pipeline run, in stage order: each with `default.before_script` and its
  /// `script` as one shell script, as a runner runs them.
  static func gitlabJobs(rollback: Bool) throws -> [(name: String, script: String)] {
    let url = repository.appendingPathComponent("docs/ci/gitlab-ci.yml")
    let root = try #require(try Yams.compose(yaml: String(contentsOf: url, encoding: .utf8))?.mapping)
    let stages = (root["stages"]?.sequence ?? []).compactMap(\.string)
    let before = (root["default"]?.mapping?["before_script"]?.sequence ?? []).compactMap(\.string)
    let jobs = root.compactMap { key, value -> (stage: Int, name: String, script: String)? in
      guard let name = key.string, !["stages", "default", "variables"].contains(name), let job = value.mapping else {
        return nil
      }
      let condition = job["rules"]?.sequence?.first?.mapping?["if"]?.string ?? ""
      guard (condition == "$ROLLBACK") == rollback else { return nil }
      let lines = before + (job["script"]?.sequence ?? []).compactMap(\.string)
      return (stages.firstIndex(of: job["stage"]?.string ?? "") ?? 0, name, lines.joined(separator: "\n"))
    }
    return jobs.sorted { $0.stage < $1.stage }.map { ($0.name, $0.script) }
  }

  @Test func theGitLabRecipeDeploysPromotesAndRollsBack() async throws {
    let runner = try Runner(try Workflow(Self.repository.appendingPathComponent("docs/ci/github-actions.yml")))
    let box = runner.box
    func pipeline(sha: String, rollback: String = "") async throws -> [(String, ScratchProject.Run)] {
      var runs: [(String, ScratchProject.Run)] = []
      for (name, script) in try Self.gitlabJobs(rollback: !rollback.isEmpty) {
        let run = try await box.run(
          "/bin/bash", ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
          environment: [
            "PATH": ScratchProject.binary.deletingLastPathComponent().path + ":/usr/bin:/bin",
            "AIRLOCK_LEDGER": runner.ledger.path, "API_TOKEN": "ci-token-value", "CI_COMMIT_SHA": sha,
            "ROLLBACK": rollback, "AIRLOCK_ACTOR": "", "GITLAB_CI": "true", "GITLAB_USER_LOGIN": "gitlab-user",
            "CI_JOB_URL": "https://gitlab.example/acme/web/-/jobs/7",
          ])
        runs.append((name, run))
        if run.code != 0 { break }
      }
      return runs
    }
    for sha in [Self.first, Self.second] {
      let runs = try await pipeline(sha: sha)
      #expect(runs.map(\.0) == ["deploy-staging", "promote-production"])
      #expect(runs.allSatisfy { $0.1.code == 0 }, "\(runs.map { "\($0.0): \($0.1.output)" })")
      #expect(runs.last?.1.stdout.contains("production runs \(sha.prefix(12)), verified") == true)
    }
    let rollback = try await pipeline(sha: Self.second, rollback: "production")
    #expect(rollback.map(\.0) == ["rollback"])
    #expect(rollback.last?.1.code == 0, "\(rollback.map(\.1.output))")
    let history = try await box.airlock(
      ["history", "production", "--limit", "1"], environment: ["AIRLOCK_LEDGER": runner.ledger.path])
    #expect(history.stdout.contains("rollback web production"), "\(history.output)")
    #expect(history.stdout.contains("[gitlab-user]"), "\(history.output)")
  }
}
