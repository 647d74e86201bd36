import AirlockKit
import AirlockTestSupport
import Foundation
import Testing

/// `airlock releases`, `show` and `diff`: what they print on a scenario with deploys, a promotion, an automatic and
/// a manual rollback, read from the ledger alone, changing nothing.
@Suite struct InspectTests {
  /// The secret the failed deploy ran with, which must never be printed.
  static let otherSecret = "other-secret-value-ABC"

  /// Staging got 1.0.0, 1.1.0 (promoted to production), 1.2.0, then 1.3.0 with a changed DATABASE_URL and
  /// API_TOKEN, whose verify failed and which was rolled back to 1.2.0 automatically; then an operator rolled
  /// staging back to 1.1.0.
  static func scenario() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["1.0.0", "1.1.0"] {
      let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version)
      try #require(run.code == 0, "\(run.output)")
    }
    try #require(try await box.airlock("promote", "production").code == 0)
    try #require(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0").code == 0)
    let pipeline = try #require(box.read("pipelines/web.yml"))
    try box.pipeline(pipeline.replacingOccurrences(of: "db-staging.internal/web", with: "db-staging.internal/web2"))
    let failed = try await box.airlock(
      ["deploy", "staging", "--artifact", box.artifact("1.3.0", healthy: false), "--version", "1.3.0"],
      environment: ["API_TOKEN": otherSecret])
    try #require(failed.code == 4, "\(failed.output)")
    try box.pipeline(pipeline)
    try #require(try await box.airlock("rollback", "staging").code == 0)
    return box
  }

  /// `text` with times and durations replaced, as they differ from run to run.
  static func normalized(_ text: String) -> String {
    var text = text
    let rules: [(String, String)] = [
      (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"#, "<time>"), (#"\d+ ms\b"#, "<n> ms"),
    ]
    for (pattern, template) in rules {
      text = text.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
    }
    return text
  }

  @Test func releasesListsEveryReleaseOfTheEnvironmentWithItsStanding() async throws {
    let box = try await Self.scenario()
    let trees = try await box.trees("1.0.0", "1.1.0", "1.2.0", "1.3.0")
    let staging = try await box.airlock("releases", "staging")
    #expect(staging.code == 0, "\(staging.output)")
    #expect(staging.stderr.isEmpty)
    #expect(
      Self.normalized(staging.stdout) == """
        1.3.0  \(trees[3])  quarantined                shipped <time> by e2e-tester; last rollback <time>; \
        quarantined: rolled back to 1.2.0 automatically, after e2e-tester's deploy of 1.3.0 failed verify
        1.2.0  \(trees[2])  quarantined                shipped <time> by e2e-tester; last rollback <time>; \
        verified <time>; quarantined: rolled back to 1.1.0 by e2e-tester
        1.1.0  \(trees[1])  current, verified          shipped <time> by e2e-tester; last rollback <time>; \
        verified <time>
        1.0.0  \(trees[0])  verified, rollback target  shipped <time> by e2e-tester; last deploy <time>; \
        verified <time>

        """)
    let production = try await box.airlock("releases", "production")
    #expect(
      Self.normalized(production.stdout) == """
        1.1.0  \(trees[1])  current, verified  shipped <time> by e2e-tester; last promote <time>; verified <time>

        """)
    let unknown = try await box.airlock("releases", "prod")
    #expect(unknown.code == 2)
    #expect(
      unknown.stderr
        == "error: pipeline web has no environment 'prod' (it has: staging, production); did you mean 'production'?\n")
  }

  @Test func showOfAFailedVerifyEventShowsTheFailingCheckItsProbesAndTheConfigChange() async throws {
    let box = try await Self.scenario()
    // Newest first: the manual rollback, the automatic one, the failed deploy.
    let failed = try await box.commit("web/staging~2")
    let before = try await box.commit("web/staging~3")
    let trees = try await box.trees("1.2.0", "1.3.0")
    let run = try await box.airlock("show", String(failed.prefix(7)))
    #expect(run.code == 0, "\(run.output)")
    #expect(
      Self.normalized(run.stdout) == """
        event \(failed.prefix(12))  deploy web 1.3.0 → staging: failed
          deploy staging 1.3.0 (\(trees[1])): failed by e2e-tester at <time>, took <n> ms
          before: 1.2.0 (\(trees[0]))
          runs after: 1.3.0 (\(trees[1]))
          why: verify failed: health: fail on 1 of 1 host (localhost: exit 1, exit 1)
          check health (command): fail
            localhost #1 failed: exit 1 (<n> ms)
            localhost #2 failed: exit 1 (<n> ms)
          config changed API_TOKEN (secret): \(Self.fingerprint("s3cr3t-token-value-XYZ")) → \
        \(Self.fingerprint(Self.otherSecret))
          config changed DATABASE_URL: postgres://db-staging.internal/web → postgres://db-staging.internal/web2

        """)
    #expect(!run.output.contains(Self.otherSecret) && !run.output.contains("s3cr3t-token-value-XYZ"))

    let json = try await box.airlock("show", failed, "--json")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let event = try #require(document["event"] as? [String: Any])
    #expect(event["commit"] as? String == failed)
    #expect(event["previousEvent"] as? String == before)
    let checks = try #require(event["checks"] as? [[String: Any]])
    #expect(checks.map { $0["verdict"] as? String } == ["fail"])
  }

  @Test func showOfAnUnknownOrMalformedEventIsExit2NamingTheNewestEvents() async throws {
    let box = try await Self.scenario()
    let ids = try await box.git("log", "--format=%H", "-4", "web/staging").stdout.split(separator: "\n")
    let known = Set(try await box.git("log", "--format=%H", "--all").stdout.split(separator: "\n"))
    let unknown = try #require(["0000", "1111", "2222", "3333"].first { id in !known.contains { $0.hasPrefix(id) } })
    let run = try await box.airlock("show", unknown)
    #expect(run.code == 2)
    // The production promotion is older than the four newest staging events.
    #expect(
      run.stderr
        == "error: no event '\(unknown)' in pipeline web (newest first: "
        + ids.map { String($0.prefix(12)) }.joined(separator: ", ") + ", "
        + String(try await box.commit("web/production").prefix(12)) + ")\n")
    let json = try await box.airlock("show", unknown, "--json")
    #expect(json.code == 2)
    #expect(json.stdout.contains(#""exitCode" : 2"#) && json.stdout.contains(#""schemaVersion" : 1"#))
    let malformed = try await box.airlock("show", "12z")
    #expect(malformed.code == 2)
    #expect(malformed.stderr.contains("'12z' is not an event id"))
  }

  @Test func diffListsAddedRemovedChangedAndNewlyExecutableFiles() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let old = try box.artifact("1.0.0")
    try box.write("old\n", to: "\(old)/old.txt")
    try box.write("echo tool\n", to: "\(old)/tool.sh")
    let new = try box.artifact("2.0.0")
    try box.write("new\n", to: "\(new)/new.txt")
    try box.write("echo tool\n", to: "\(new)/tool.sh", executable: true)
    for (folder, version) in [(old, "1.0.0"), (new, "2.0.0")] {
      let run = try await box.airlock("deploy", "staging", "--artifact", folder, "--version", version)
      try #require(run.code == 0, "\(run.output)")
    }
    let trees = try await box.trees("1.0.0", "2.0.0")
    let events = [try await box.commit("web/staging~1"), try await box.commit("web/staging")]
    let run = try await box.airlock("diff", "1.0.0", "2.0.0")
    #expect(run.code == 0, "\(run.output)")
    #expect(
      run.stdout == """
        1.0.0 (\(trees[0])) → 2.0.0 (\(trees[1]))
          added    new.txt
          removed  old.txt
          changed  VERSION
          changed  tool.sh: file → executable
          config as last run in staging, where both ran (\(events[0].prefix(12)), \(events[1].prefix(12))):
            no differences

        """)
    // A tree-id prefix names a release as well as its label does.
    let same = try await box.airlock("diff", "2.0.0", String(trees[1].prefix(8)))
    #expect(same.code == 0)
    #expect(same.stdout == "2.0.0 (\(trees[1])) and 2.0.0 (\(trees[1])): same artifact tree\n")
    let unknown = try await box.airlock("diff", "1.0.0", "2.0")
    #expect(unknown.code == 2)
    #expect(
      unknown.stderr
        == "error: no release '2.0' in pipeline web (newest first: 2.0.0, 1.0.0); did you mean '2.0.0'?\n")
  }

  @Test func diffComparesTheConfigEachRanWithShowingSecretsByFingerprintOnly() async throws {
    let box = try ScratchProject()
    // The standard pipeline with production taking deploys of its own and one more key.
    try box.pipeline()
    let standard = try #require(box.read("pipelines/web.yml"))
    try box.pipeline(
      standard.replacingOccurrences(of: #"(?m)^ *requires: staging\n"#, with: "", options: .regularExpression)
        .replacingOccurrences(
          of: #"(?m)^( *)(DATABASE_URL: postgres://db-prod\.internal/web)$"#, with: "$1$2\n$1FEATURE: 'on'",
          options: .regularExpression))
    let (first, second) = ("first-secret-111", "second-secret-222")
    let old = try box.artifact("1.0.0")
    let new = try box.artifact("2.0.0")
    try FileManager.default.createSymbolicLink(atPath: box.path("\(old)/live"), withDestinationPath: "VERSION")
    try FileManager.default.createSymbolicLink(atPath: box.path("\(new)/live"), withDestinationPath: "bin/start")
    var output = ""
    func deploy(_ environment: String, _ folder: String, _ version: String, secret: String) async throws {
      let run = try await box.airlock(
        ["deploy", environment, "--artifact", folder, "--version", version], environment: ["API_TOKEN": secret])
      try #require(run.code == 0, "\(run.output)")
    }
    try await deploy("staging", old, "1.0.0", secret: first)
    try await deploy("production", new, "2.0.0", secret: second)
    let apart = try await box.airlock("diff", "1.0.0", "2.0.0")
    output += apart.output
    let (staging, production) = (try await box.commit("web/staging"), try await box.commit("web/production"))
    let changes = """
          config changed API_TOKEN (secret): \(Self.fingerprint(first)) → \(Self.fingerprint(second))
          config changed DATABASE_URL: postgres://db-staging.internal/web → postgres://db-prod.internal/web
          config added FEATURE: - → on

      """
    #expect(
      apart.stdout.split(separator: "\n").dropFirst(2).joined(separator: "\n") + "\n" == """
          changed  live: symlink VERSION → symlink bin/start
          config as last run: 1.0.0 in staging (\(staging.prefix(12))), 2.0.0 in production (\(production.prefix(12))); \
        no environment ran both:

        """ + changes)

    // Once both ran in staging, staging's records are compared.
    try await deploy("staging", new, "2.0.0", secret: second)
    let together = try await box.airlock("diff", "1.0.0", "2.0.0")
    output += together.output
    #expect(together.stdout.contains("config as last run in staging, where both ran"))
    #expect(together.stdout.contains("config changed API_TOKEN (secret): \(Self.fingerprint(first))"))
    #expect(!together.stdout.contains("FEATURE"))
    let json = try await box.airlock("diff", "1.0.0", "2.0.0", "--json")
    output += json.output
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let config = try #require(document["config"] as? [String: Any])
    #expect(config["sameEnvironment"] as? Bool == true)
    #expect(json.stdout.contains("sha256:"))
    #expect(!output.contains(first) && !output.contains(second))
  }

  @Test func theQueriesWorkFromTheLedgerAloneAndChangeNothing() async throws {
    let box = try await Self.scenario()
    for hook in ["pre-deploy", "post-deploy", "pre-rollback", "post-rollback", "on-failure"] {
      try box.write("#!/bin/sh\ntouch hook-ran\n", to: "hooks/\(hook)", executable: true)
    }
    let event = try await box.commit("web/staging~2")
    // Each query with its exit code: the last two name what does not exist.
    let queries: [([String], Int32)] = [
      (["releases", "staging"], 0), (["releases", "production", "--json"], 0), (["show", event], 0),
      (["show", event, "--json"], 0), (["diff", "1.0.0", "1.3.0"], 0), (["diff", "1.2.0", "1.3.0", "--json"], 0),
      (["show", "ffff0000"], 2), (["diff", "9.9", "1.0.0"], 2),
    ]
    let refs = try await box.ledgerRefs()
    var answers: [[String]: ScratchProject.Run] = [:]
    for (query, code) in queries {
      let run = try await box.airlock(query)
      #expect(run.code == code, "\(query): \(run.output)")
      answers[query] = run
    }
    try FileManager.default.removeItem(at: box.url("pipelines/web.yml"))
    for (query, _) in queries {
      let run = try await box.airlock(query)
      let before = try #require(answers[query])
      #expect(run.code == before.code, "\(query): \(run.output)")
      #expect(run.stdout == before.stdout, "\(query) without the pipeline file")
      #expect(run.stderr.hasPrefix("warning: pipeline not loaded"), "\(query): \(run.stderr)")
    }
    #expect(try await box.ledgerRefs() == refs)
    #expect(!box.exists("hook-ran"))
  }

  /// The `--json` documents of the three queries on the scenario, pinned by golden files in `Golden/json/` (regenerate
  /// with `AIRLOCK_UPDATE_GOLDEN=1 swift test --filter InspectTests`).
  @Test func theirJSONDocumentsArePinned() async throws {
    let box = try await Self.scenario()
    let failed = try await box.commit("web/staging~2")
    let documents = [
      ("releases", ["releases", "staging"]), ("show", ["show", String(failed.prefix(8))]),
      ("diff", ["diff", "1.2.0", "1.3.0"]),
    ]
    for (name, arguments) in documents {
      let run = try await box.airlock(arguments + ["--json"])
      #expect(run.code == 0, "\(name): \(run.output)")
      #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) != nil, "\(name) is not JSON")
      let text = JSONGoldenTests.normalized(run.stdout, root: box.root)
      let golden = JSONGoldenTests.folder.appendingPathComponent("\(name).json")
      if ProcessInfo.processInfo.environment["AIRLOCK_UPDATE_GOLDEN"] == "1" {
        try text.write(to: golden, atomically: true, encoding: .utf8)
      }
      #expect(
        text == (try String(contentsOf: golden, encoding: .utf8)), "airlock \(name) --json differs from \(golden.path)")
    }
  }

  /// The start of `value`'s API_TOKEN fingerprint, as `plan` and `show` print a secret.
  static func fingerprint(_ value: String) -> String {
    String(SecretSet.fingerprint(of: value, key: "API_TOKEN", pipeline: "web").prefix(19))
  }
}

extension ScratchProject {
  /// The short (12-digit) artifact tree ids of `labels`, read with stock git.
  func trees(_ labels: String...) async throws -> [String] {
    var trees: [String] = []
    for label in labels {
      let run = try await git("rev-parse", "refs/tags/web/\(label):artifact")
      trees.append(String(run.stdout.prefix(12)))
    }
    return trees
  }

  /// The full commit id `revision` names in the ledger.
  func commit(_ revision: String) async throws -> String {
    try await git("rev-parse", revision).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
