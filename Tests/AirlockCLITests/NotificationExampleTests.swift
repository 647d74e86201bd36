import AirlockTestSupport
import Foundation
import Testing

/// `examples/notifications` does what its README says, run by the built binary: Slack is told through the
/// webhook secret, and `bin/page-oncall` triggers and then resolves a PagerDuty alert, both at local receivers.
@Suite struct NotificationExampleTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let example = repository.appendingPathComponent("examples/notifications")

  /// The routing key in the pager's key file: it may reach PagerDuty's body and nothing else.
  static let routingKey = "R0UT1NG-key-5c2e"

  @Test func slackIsToldAndThePagerTriggersThenResolves() async throws {
    let slack = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { slack.stop() }
    let pager = try TestHTTPServer { _ in .init(status: 202, body: #"{"status":"success"}"#) }
    defer { pager.stop() }
    let box = try ScratchProject()
    let pipeline = try String(
      contentsOf: Self.example.appendingPathComponent("pipelines/web.yml"), encoding: .utf8)
    let pointed = pipeline.replacingOccurrences(
      of: "[bin/page-oncall, --key-file, /run/secrets/pagerduty-routing-key]",
      with: "[bin/page-oncall, --key-file, secrets/pagerduty, --url, '\(pager.urlString("/v2/enqueue"))']")
    try #require(pointed != pipeline, "the example's pager line changed; update this test")
    try box.pipeline(pointed)
    try FileManager.default.createDirectory(at: box.url("bin"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: Self.example.appendingPathComponent("bin/page-oncall"), to: box.url("bin/page-oncall"))
    try box.write("\(Self.routingKey)\n", to: "secrets/pagerduty")
    box.environment["SLACK_WEBHOOK_URL"] = slack.urlString("/services/T0/B0/slack-token")
    box.environment["API_TOKEN"] = "demo-token-3e1f"
    try FileManager.default.copyItem(
      at: Self.repository.appendingPathComponent("examples/web-app"), to: box.url("web-app"))
    // 1.1.0 passes in staging and cannot reach production's database.
    try FileManager.default.copyItem(at: box.url("web-app"), to: box.url("web-app-1.1"))
    try box.write(
      "#!/bin/sh\ncase \"$DATABASE_URL\" in *prod*) echo 'cannot reach db-prod'; exit 2 ;; esac\nexit 0\n",
      to: "web-app-1.1/bin/healthcheck", executable: true)

    var codes: [Int32] = []
    for arguments in [
      ["deploy", "staging", "--artifact", "web-app", "--version", "1.0.0"], ["promote", "production"],
      ["deploy", "staging", "--artifact", "web-app-1.1", "--version", "1.1.0"], ["promote", "production"],
    ] {
      let run = try await box.airlock(arguments)
      codes.append(run.code)
      #expect(!run.stderr.contains("warning:"), "\(arguments): \(run.stderr)")
    }

    #expect(codes == [0, 0, 0, 4])
    let told = try slack.requests.map { request in
      try #require(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
    }
    #expect(
      told.map { "\($0["environment"] ?? "") \($0["event"] ?? "") \($0["outcome"] ?? "")" } == [
        "production promote ok", "production promote failed", "production rollback ok",
      ])
    #expect(
      (told[1]["text"] as? String)?.hasPrefix(
        "airlock: promote web 1.1.0 staging→production: failed — verify failed: health: fail on 1 of 1 host") == true)
    let pages = try pager.requests.map { request in
      try #require(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
    }
    #expect(pages.map { $0["event_action"] as? String } == ["trigger", "resolve"])
    #expect(
      pages.map { $0["dedup_key"] as? String } == ["airlock/web/production/1.1.0", "airlock/web/production/1.1.0"])
    #expect(pages.allSatisfy { $0["routing_key"] as? String == Self.routingKey })
    let payload = try #require(pages.first?["payload"] as? [String: Any])
    #expect(
      (payload["summary"] as? String)?.hasPrefix("web promote 1.1.0 in production: failed — verify failed") == true,
      "\(payload)")
    #expect(payload["severity"] as? String == "critical")

    let ledger =
      try await box.git("log", "-p", "--all").stdout
      + (try await box.git("cat-file", "--batch-all-objects", "--batch").stdout)
    for secret in ["slack-token", Self.routingKey, "demo-token-3e1f"] {
      #expect(!ledger.contains(secret), "\(secret) reached the ledger")
    }
  }
}
