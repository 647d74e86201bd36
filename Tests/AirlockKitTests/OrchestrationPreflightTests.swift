import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// Config preflight (leave planner, 2016) and drift detection (email design, 2024): rules and key sets are checked
/// before anything changes, a failure is recorded as one `blocked` event, and secrets never show.
@Suite struct OrchestrationPreflightTests {
  /// One rule set and a production config, and what promoting to production must say (`nil`: it passes).
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var rules: [String]
    var config: [String: String]
    var blocked: String?

    var testDescription: String { name }
  }

  static let configCases: [Case] = [
    Case(
      name: "required, missing", rules: ["- {key: DATABASE_URL, required: true}"], config: ["LOG_LEVEL": "info"],
      blocked: "DATABASE_URL: required but missing in production"),
    Case(
      name: "required, empty", rules: ["- {key: DATABASE_URL, required: true}"], config: ["DATABASE_URL": "''"],
      blocked: "DATABASE_URL: required but empty in production"),
    Case(
      name: "required, present", rules: ["- {key: DATABASE_URL, required: true}"],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web"], blocked: nil),
    Case(
      name: "match, temporary database", rules: [#"- {key: DATABASE_URL, match: '^postgres://db-prod\.'}"#],
      config: ["DATABASE_URL": "postgres://tmp-db-7.internal/web"],
      blocked: #"DATABASE_URL: 'postgres://tmp-db-7.internal/web' does not match ^postgres://db-prod\. in production"#),
    Case(
      name: "match, production database", rules: [#"- {key: DATABASE_URL, match: '^postgres://db-prod\.'}"#],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web"], blocked: nil),
    Case(
      name: "forbid with a key", rules: ["- {key: DATABASE_URL, forbid: '(?i)(tmp|temp)'}"],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web_TEMP"],
      blocked:
        "DATABASE_URL: 'postgres://db-prod.internal/web_TEMP' matches forbidden pattern (?i)(tmp|temp) in production"
    ),
    Case(
      name: "forbid with a key, another key matches", rules: ["- {key: DATABASE_URL, forbid: '(?i)(tmp|temp)'}"],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web", "SCRATCH_DIR": "/tmp/web"], blocked: nil),
    Case(
      name: "forbid without a key", rules: [#"- {forbid: 'localhost|127\.0\.0\.1'}"#],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web", "CACHE_URL": "redis://127.0.0.1:6379"],
      blocked: #"CACHE_URL: 'redis://127.0.0.1:6379' matches forbidden pattern localhost|127\.0\.0\.1 in production"#),
    Case(
      name: "forbid without a key, clean", rules: [#"- {forbid: 'localhost|127\.0\.0\.1'}"#],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web", "CACHE_URL": "redis://cache.internal:6379"],
      blocked: nil),
    Case(
      name: "differs_from, same database as staging", rules: ["- {key: DATABASE_URL, differs_from: staging}"],
      config: ["DATABASE_URL": "postgres://db-staging.internal/web"],
      blocked: "DATABASE_URL: production has the same value as staging ('postgres://db-staging.internal/web'); "
        + "it must differ"),
    Case(
      name: "differs_from, own database", rules: ["- {key: DATABASE_URL, differs_from: staging}"],
      config: ["DATABASE_URL": "postgres://db-prod.internal/web"], blocked: nil),
    Case(
      name: "one_of, not allowed", rules: ["- {key: LOG_LEVEL, one_of: [info, warn, error]}"],
      config: ["LOG_LEVEL": "debug"], blocked: "LOG_LEVEL: 'debug' is not one of info, warn, error in production"),
    Case(
      name: "one_of, allowed", rules: ["- {key: LOG_LEVEL, one_of: [info, warn, error]}"],
      config: ["LOG_LEVEL": "warn"], blocked: nil),
  ]

  /// staging (no preflight) and production with `preflight: [config]`, and 1.0.0 verified in staging.
  func project(rules: [String], production config: [String: String], secrets: [String] = []) async throws
    -> ScratchProject
  {
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            DATABASE_URL: postgres://db-staging.internal/web
            LOG_LEVEL: info
          secrets: [\(secrets.joined(separator: ", "))]
        - name: production
          requires: staging
          target:
            local: targets/production
          config:
      \(config.sorted { $0.key < $1.key }.map { "      \($0.key): \($0.value)" }.joined(separator: "\n"))
          secrets: [\(secrets.joined(separator: ", "))]
          preflight: [config]
      checks:
        config:
          config:
      \(rules.map { "      " + $0 }.joined(separator: "\n"))

      """)
    try project.artifact(version: "1.0.0")
    let deployed = try await project.deploy("staging", "1.0.0")
    #expect(deployed.exitCode == 0, "\(deployed.summary)")
    return project
  }

  @Test(arguments: configCases)
  func configRulesDecideThePromotion(_ example: Case) async throws {
    let project = try await project(rules: example.rules, production: example.config)

    let report = try await project.promote()

    if let blocked = example.blocked {
      #expect(report.exitCode == 3, "\(report.summary)")
      #expect(report.outcome == .blocked)
      #expect(report.summary.contains("preflight failed: config: fail (\(blocked))"), "\(report.summary)")
      #expect(report.checks.map(\.verdict) == [.fail])
      #expect(project.current("production") == nil)
      #expect(try project.listing("production").isEmpty)
      #expect(try project.events("production").map(\.brief) == ["promote blocked"])
    } else {
      #expect(report.exitCode == 0, "\(report.summary)")
      #expect(report.checks.map(\.verdict) == [.pass])
      #expect(project.current("production") == "1.0.0")
    }
  }

  @Test func aSecretsValueNeverAppearsWhenRulesOnItFail() async throws {
    let secret = "tok-localhost-9f8e7d6c5b4a"
    let rules = [
      "- {key: API_TOKEN, match: '^prod_'}",
      "- {key: API_TOKEN, one_of: [prod_a, prod_b]}",
      "- {key: API_TOKEN, differs_from: staging}",
      "- {key: API_TOKEN, forbid: localhost}",
      "- {forbid: '(?i)localhost'}",
    ]
    let project = try ScratchProject()
    project.environment["API_TOKEN"] = secret
    // Staging is deployed with the same token production is about to get.
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          secrets: [API_TOKEN]
        - name: production
          requires: staging
          target:
            local: targets/production
          config:
            DATABASE_URL: postgres://db-prod.internal/web
          secrets: [API_TOKEN]
          preflight: [config]
      checks:
        config:
          config:
      \(rules.map { "      " + $0 }.joined(separator: "\n"))

      """)
    try project.artifact(version: "1.0.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)

    let report = try await project.promote()

    #expect(report.exitCode == 3, "\(report.summary)")
    let reasons = report.checks.first?.hosts.first?.probes.filter { $0.outcome == .failed }.map(\.reason) ?? []
    #expect(
      reasons == [
        "API_TOKEN: [secret] does not match ^prod_ in production",
        "API_TOKEN: [secret] is not one of prod_a, prod_b in production",
        "API_TOKEN: production has the same value as staging ([secret]); it must differ",
        "API_TOKEN: [secret] matches forbidden pattern localhost in production",
        "API_TOKEN: [secret] matches forbidden pattern (?i)localhost in production",
      ])
    #expect(!(try ScratchProject.json(report)).contains(secret))
    #expect(!project.progress.value.joined(separator: "\n").contains(secret))
    // Nor in any object of the ledger (Invariant 4).
    let objects = try await project.git("cat-file", "--batch-all-objects", "--batch")
    #expect(objects.code == 0)
    #expect(!objects.stdout.isEmpty && !objects.stdout.contains(secret))
  }

  // MARK: Drift

  @Test(
    arguments: [
      (["DATABASE_URL", "SMTP_HOST", "API_TOKEN"], [], nil),
      (["DATABASE_URL", "API_TOKEN"], [], "SMTP_HOST only in staging, missing in production"),
      (["DATABASE_URL", "SMTP_HOST"], [], "API_TOKEN only in staging, missing in production"),
      (
        ["DATABASE_URL", "SMTP_HOST", "API_TOKEN", "DEBUG_TOOLBAR"], [],
        "DEBUG_TOOLBAR only in production, not in staging"
      ),
      (["DATABASE_URL", "SMTP_HOST", "API_TOKEN", "DEBUG_TOOLBAR"], ["DEBUG_TOOLBAR"], nil),
      (["DATABASE_URL", "API_TOKEN"], ["SMTP_HOST"], nil),
    ] as [([String], [String], String?)])
  func driftComparesTheKeySetsWithStaging(production keys: [String], allow: [String], blocked: String?) async throws {
    let project = try ScratchProject()
    project.environment["API_TOKEN"] = "drift-test-token"
    // Values always differ between the environments; only the key sets matter.
    let config = keys.filter { $0 != "API_TOKEN" }.map { "      \($0): production-\($0.lowercased())" }
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            DATABASE_URL: postgres://db-staging.internal/web
            SMTP_HOST: smtp-staging.internal
          secrets: [API_TOKEN]
        - name: production
          requires: staging
          target:
            local: targets/production
          config:
      \(config.joined(separator: "\n"))
          secrets: [\(keys.contains("API_TOKEN") ? "API_TOKEN" : "")]
          preflight: [drift]
      checks:
        drift:
          drift: staging
          allow: [\(allow.joined(separator: ", "))]

      """)
    try project.artifact(version: "1.0.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)

    let report = try await project.promote()

    if let blocked {
      #expect(report.exitCode == 3, "\(report.summary)")
      #expect(report.summary.contains("preflight failed: drift: fail (\(blocked))"), "\(report.summary)")
      #expect(project.current("production") == nil)
    } else {
      #expect(report.exitCode == 0, "\(report.summary)")
      #expect(project.current("production") == "1.0.0")
    }
  }

  // MARK: Nothing changes

  @Test func aBlockedPromotionChangesNothingButOneLedgerEvent() async throws {
    let project = try ScratchProject()
    func pipeline(productionDatabase: String) throws {
      try project.pipeline(
        """
        pipeline: web
        environments:
          - name: staging
            target:
              local: targets/staging
            config:
              DATABASE_URL: postgres://db-staging.internal/web
            start: bin/start
          - name: production
            requires: staging
            target:
              local: targets/production
            config:
              DATABASE_URL: \(productionDatabase)
            start: bin/start
            preflight: [config]
        checks:
          config:
            config:
              - key: DATABASE_URL
                required: true
                match: '^postgres://db-prod\\.'
                differs_from: staging
              - forbid: '(?i)(localhost|tmp|temp)'

        """)
    }
    try pipeline(productionDatabase: "postgres://db-prod.internal/web")
    // Every start leaves a line in the release, so a start that should not have run shows in the listing.
    let start = #"echo "$AIRLOCK_VERSION $DATABASE_URL" >> .airlock/starts"#
    try project.artifact(version: "1.0.0", start: start)
    try project.artifact(version: "1.1.0", start: start)
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    #expect(try await project.promote().exitCode == 0)
    #expect(try await project.deploy("staging", "1.1.0").exitCode == 0)
    // The leave planner incident: production's config now points at a temporary database.
    try pipeline(productionDatabase: "postgres://tmp-db.internal/web")
    let listing = try project.listing("production")
    let headBefore = try #require(try project.head("production").commit)
    let countBefore = try await project.git("rev-list", "--count", "web/production").trimmed
    #expect(listing.contains { $0.hasPrefix("releases/1.0.0/.airlock/starts ") })

    let report = try await project.promote()

    #expect(report.exitCode == 3, "\(report.summary)")
    #expect(
      report.summary
        == "promote 1.1.0 to production blocked: preflight failed: config: fail ("
        + #"DATABASE_URL: 'postgres://tmp-db.internal/web' does not match ^postgres://db-prod\. in production; "#
        + "DATABASE_URL: 'postgres://tmp-db.internal/web' matches forbidden pattern (?i)(localhost|tmp|temp) "
        + "in production); nothing changed")
    #expect(try project.listing("production") == listing)
    #expect(project.current("production") == "1.0.0")
    #expect(try await project.git("rev-list", "--count", "web/production").trimmed == "\(Int(countBefore)! + 1)")
    let head = try project.head("production")
    let commit = try #require(head.commit)
    #expect(try await project.git("rev-parse", "web/production~1").trimmed == headBefore.hex)
    #expect(head.state.current?.version == "1.0.0")
    #expect(head.state.currentStatus == .verified)

    let record = try project.pipelineLedger().record(at: commit)
    #expect(record.outcome == .blocked)
    #expect(record.event == .promote)
    #expect(record.release?.version == "1.1.0")
    #expect(record.current?.version == "1.0.0")
    #expect(try await project.git("show", "web/production:release.json").stdout.contains(#""outcome" : "blocked""#))
    let checks = try project.pipelineLedger().checkResults(at: commit)
    #expect(checks.map(\.name) == ["config"])
    #expect(checks.first?.verdict == .fail)
    let failed = checks.first?.hosts.first?.probes.filter { $0.outcome == .failed }.map(\.reason) ?? []
    #expect(failed.count == 2)
    #expect(failed.allSatisfy { $0.hasPrefix("DATABASE_URL: 'postgres://tmp-db.internal/web'") })
    // The environment keeps the artifact and the config snapshot it ran with.
    #expect(
      try await project.git("diff", "--stat", "web/production~1", "web/production", "--", "artifact", "config.env")
        .stdout
        .isEmpty)
  }
}
