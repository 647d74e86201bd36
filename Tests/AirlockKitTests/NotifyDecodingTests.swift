import Foundation
import Testing

@testable import AirlockKit

/// `notify:` as the pipeline loader reads it: receivers, `on:`, `timeout:`, the environment override, and every
/// mistake named at its line and column.
@Suite struct NotifyDecodingTests {
  static let environments = """
    environments:
      - name: staging
        target: {local: /srv/web-staging}
      - name: production
        requires: staging
        target: {local: /srv/web}

    """

  static func pipeline(_ notify: String, environments: String = environments) throws -> Pipeline {
    try PipelineLoader.parse(
      "pipeline: web\n" + environments + notify, file: "pipelines/web.yml", root: URL(fileURLWithPath: "/project"))
  }

  @Test func everyEnvironmentGetsTheTopLevelReceiversWithTheDefaultEvents() throws {
    let pipeline = try Self.pipeline(
      """
      notify:
        - webhook_secret: SLACK_URL
        - webhook: https://hooks.example.com/airlock
          on: [promote, failure, deploy]
          timeout: 2s
        - command: [bin/page-oncall, --team, web]
          on: [failure]

      """)
    let expected = [
      NotifySpec(receiver: .webhookSecret(name: "SLACK_URL")),
      NotifySpec(
        receiver: .webhook(url: "https://hooks.example.com/airlock"), on: [.deploy, .promote, .failure],
        timeout: .seconds(2)),
      NotifySpec(receiver: .command(arguments: ["bin/page-oncall", "--team", "web"]), on: [.failure]),
    ]
    #expect(pipeline.environments.map(\.notify) == [expected, expected])
    #expect(expected[0].on == [.rollback, .failure])
    #expect(expected[1].on == [.deploy, .promote, .failure], "kept in the documented order, whatever the file's")
  }

  @Test func anEnvironmentsOwnListReplacesTheTopLevelOneAndAnEmptyListSilencesIt() throws {
    let pipeline = try Self.pipeline(
      "notify:\n  - webhook_secret: SLACK_URL\n",
      environments: """
        environments:
          - name: staging
            target: {local: /srv/web-staging}
            notify: []
          - name: production
            requires: staging
            target: {local: /srv/web}
            notify:
              - command: [bin/page-oncall]
                on: [failure, blocked, lock]

        """)
    #expect(pipeline.environments[0].notify == nil)
    #expect(
      pipeline.environments[1].notify == [
        NotifySpec(receiver: .command(arguments: ["bin/page-oncall"]), on: [.failure, .blocked, .lock])
      ])
  }

  @Test func aPipelineWithoutNotifyTellsNobody() throws {
    #expect(try Self.pipeline("").environments.allSatisfy { $0.notify == nil })
  }

  @Test(arguments: [
    ("notify: {webhook: https://x.example}\n", 8, 9, "'notify' must be a list of receivers"),
    ("notify:\n  - {on: [failure]}\n", 9, 5, "needs one of 'webhook', 'webhook_secret' or 'command'"),
    (
      "notify:\n  - {webhook: https://x.example, command: [a]}\n", 9, 5,
      "has 'webhook' and 'command'; give one receiver per entry"
    ),
    ("notify:\n  - webhook: hooks.slack.com/services/T0\n", 9, 14, "'webhook' must be an http:// or https:// URL"),
    ("notify:\n  - webhook: ftp://example.com/x\n", 9, 14, "'webhook' must be an http:// or https:// URL"),
    ("notify:\n  - webhook_secret: slack-url\n", 9, 21, "'webhook_secret' names the variable that holds the URL"),
    ("notify:\n  - webhook_secret: AIRLOCK_URL\n", 9, 21, "not starting with 'AIRLOCK_'"),
    ("notify:\n  - command: bin/page-oncall --now\n", 9, 14, "write [bin/page-oncall, --now]"),
    ("notify:\n  - command: []\n", 9, 14, "is empty; give at least the program"),
    (
      "notify:\n  - command: [a]\n    on: [failures]\n", 10, 10,
      "unknown event 'failures' in 'on' (did you mean 'failure'?)"
    ),
    ("notify:\n  - command: [a]\n    on: []\n", 10, 9, "'on' is empty, so the receiver would never be told anything"),
    ("notify:\n  - command: [a]\n    on: failure\n", 10, 9, "'on' must be a list of events"),
    ("notify:\n  - command: [a]\n    timeout: 0s\n", 10, 14, "'timeout' of a 'notify' entry"),
    ("notify:\n  - command: [a]\n    retries: 3\n", 10, 5, "unknown key 'retries' in a 'notify' entry"),
  ])
  func mistakesAreNamedWhereTheyAre(_ yaml: String, _ line: Int, _ column: Int, _ fragment: String) {
    let diagnostics = PipelineTestSupport.diagnostics("pipeline: web\n" + Self.environments + yaml)
    #expect(diagnostics.count == 1, "\(diagnostics)")
    #expect(diagnostics.first?.line == line, "\(diagnostics)")
    #expect(diagnostics.first?.column == column, "\(diagnostics)")
    #expect(diagnostics.first?.message.contains(fragment) == true, "\(diagnostics)")
  }

  @Test func aPlainWebhookIsNamedByItsSchemeAndHostOnly() {
    #expect(
      NotifySpec(receiver: .webhook(url: "https://hooks.slack.com/services/T0/B0/token")).description
        == "webhook https://hooks.slack.com")
    #expect(
      NotifySpec(receiver: .webhook(url: "http://127.0.0.1:8080/x")).description == "webhook http://127.0.0.1:8080")
    #expect(NotifySpec(receiver: .webhookSecret(name: "SLACK_URL")).description == "webhook_secret SLACK_URL")
    #expect(NotifySpec(receiver: .command(arguments: ["bin/page", "--now"])).description == "command bin/page")
  }
}
