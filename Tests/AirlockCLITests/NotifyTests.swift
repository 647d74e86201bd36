import AirlockTestSupport
import Foundation
import Testing

/// `notify:` end to end: the built binary tells a real webhook receiver (over TLS with a generated authority, or
/// plain) and a real command about recorded events, never changes an outcome when a receiver fails, records every
/// delivery, and lets no secret value reach a body, an environment, an output or the ledger.
@Suite struct NotifyTests {
  /// The webhook URL's secret part: it must never be recorded or shown.
  static let hookToken = "T0-B0-hook-token-9d1e"

  /// The standard pipeline with `notify` at the top level; the health check prints the release's config (secret
  /// included) before it decides, so masking is what keeps the secret out of the evidence.
  static func project(notify: String) throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline(extraChecks: notify)
    return box
  }

  /// An artifact whose health check shows the config it runs with, then passes only when `healthy`.
  static func artifact(_ box: ScratchProject, _ name: String, healthy: Bool = true) throws -> String {
    let path = try box.artifact(name, healthy: healthy)
    try box.write(
      "#!/bin/sh\ncat .airlock/config.env\n[ -f .airlock/started ] && [ -f healthy ] || { echo 'cannot reach db'; exit 2; }\n",
      to: "\(path)/bin/healthcheck", executable: true)
    return path
  }

  /// The event documents `server` received, in order.
  static func received(_ server: TestHTTPServer) throws -> [[String: Any]] {
    try server.requests.map { try #require(JSONSerialization.jsonObject(with: $0.body) as? [String: Any]) }
  }

  /// Every ledger object, every commit's patch and every note: where a leaked value would show.
  static func ledgerText(_ box: ScratchProject) async throws -> String {
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    let log = try await box.git("log", "-p", "--all").stdout
    return objects + log
  }

  @Test func aFailedDeployTellsTheWebhookWhyAndTheAutomaticRollbackFollows() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { server.stop() }
    let tls = try TestTLSTerminator(forwardingTo: server.port)
    defer { tls.stop() }
    let box = try Self.project(
      notify: """
        notify:
          - webhook_secret: HOOK_URL
            on: [deploy, failure, rollback]
          - command: [sh, -c, 'cat >> notified.json; env >> notified.env']
        """)
    box.environment["HOOK_URL"] = tls.url("/services/\(Self.hookToken)")
    box.environment["SSL_CERT_FILE"] = tls.authorityFile
    try box.write("#!/bin/sh\nenv >> hook.env\n", to: "hooks/on-failure", executable: true)
    let good = try await box.airlock("deploy", "staging", "--artifact", Self.artifact(box, "1"), "--version", "1")
    #expect(good.code == 0, "\(good.output)")
    #expect(
      good.stderr.contains("→ notified webhook_secret HOOK_URL of deploy web 1 → staging: ok (status 200)"),
      "\(good.stderr)")
    #expect(box.read("notified.json") == nil, "the command asks for failures and rollbacks only")

    let bad = try await box.airlock(
      "deploy", "staging", "--artifact", Self.artifact(box, "2", healthy: false), "--version", "2")
    #expect(bad.code == 4, "\(bad.output)")

    let documents = try Self.received(server)
    #expect(documents.map { $0["event"] as? String } == ["deploy", "deploy", "rollback"])
    #expect(documents.map { $0["outcome"] as? String } == ["ok", "failed", "ok"])
    let failure = documents[1]
    #expect(failure["triggers"] as? [String] == ["failure"])
    #expect((failure["release"] as? [String: Any])?["version"] as? String == "2")
    #expect((failure["previous"] as? [String: Any])?["version"] as? String == "1")
    #expect(failure["actor"] as? String == ScratchProject.actor)
    #expect((failure["detail"] as? String)?.hasPrefix("verify failed: health: fail on 1 of 1 host") == true)
    let checks = try #require(failure["failingChecks"] as? [[String: Any]])
    #expect(checks.map { $0["name"] as? String } == ["health"])
    let evidence = try #require((checks[0]["hosts"] as? [[String: Any]])?.first?["evidence"] as? String)
    #expect(evidence.contains("cannot reach db"), "\(evidence)")
    #expect(evidence.contains("API_TOKEN=[secret API_TOKEN]"), "the secret is masked in the evidence: \(evidence)")
    #expect((failure["text"] as? String)?.hasPrefix("airlock: deploy web 2 → staging: failed — verify failed") == true)
    let rollback = documents[2]
    #expect(rollback["triggers"] as? [String] == ["rollback"])
    #expect(rollback["automatic"] as? Bool == true)
    let commits = try await box.git("rev-list", "web/staging").stdout.split(separator: "\n").map(String.init)
    #expect(documents.map { $0["eventId"] as? String } == [commits[2], commits[1], commits[0]])

    // The command got the failure and the rollback, with the event's variables and no secret.
    let told = box.read("notified.json") ?? ""
    #expect(told.components(separatedBy: "\"schemaVersion\"").count - 1 == 2, "\(told)")
    let environment = box.read("notified.env") ?? ""
    let hook = box.read("hook.env") ?? ""
    #expect(hook.contains("AIRLOCK_EVENT=deploy\n"), "the on-failure hook ran: \(hook)")
    #expect(environment.contains("AIRLOCK_EVENT=deploy\n") && environment.contains("AIRLOCK_EVENT=rollback\n"))
    #expect(
      !environment.contains("API_TOKEN") && !environment.contains("HOOK_URL") && !environment.contains("SSL_CERT"))

    // Every delivery is recorded beside its event and shown by `show`.
    let shown = try await box.airlock("show", String(commits[1].prefix(10)))
    #expect(shown.stdout.contains("  notified webhook_secret HOOK_URL: ok (status 200)\n"), "\(shown.stdout)")
    #expect(shown.stdout.contains("  notified command sh: ok (exit 0)\n"), "\(shown.stdout)")
    let note = try await box.git("notes", "--ref", "airlock-notify/web/staging", "show", commits[1])
    #expect(note.code == 0 && note.stdout.contains("\"delivered\" : true"), "\(note.output)")

    // No secret anywhere: not the API token, not the webhook URL.
    let secret = box.environment["API_TOKEN"] ?? "unset"
    let bodies = server.requests.map { String(decoding: $0.body, as: UTF8.self) }.joined()
    let ledger = try await Self.ledgerText(box)
    for (place, text) in [
      ("output", good.output + bad.output + shown.output), ("webhook bodies", bodies), ("command", told + environment),
      ("hook", hook),
      ("ledger", ledger),
    ] {
      #expect(!text.contains(secret), "the secret reached the \(place)")
      #expect(!text.contains(Self.hookToken), "the webhook URL reached the \(place)")
    }
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// A receiver that fails, and how the warning must say so.
  struct Failing: Sendable, CustomTestStringConvertible {
    var label: String
    var response: TestHTTPServer.Response?
    var timeout = ""
    var reason: String
    var testDescription: String { label }
  }

  static let failing: [Failing] = [
    .init(label: "answers 500", response: .init(status: 500, body: "oops"), reason: "status 500, 2 attempts"),
    .init(label: "answers 404", response: .init(status: 404), reason: "status 404"),
    .init(
      label: "is too slow", response: .init(status: 200, delay: .seconds(30)), timeout: "\n    timeout: 300ms",
      reason: "timeout after 300ms, 2 attempts"),
    .init(label: "is down", response: nil, reason: "refused, 2 attempts"),
  ]

  @Test(arguments: failing)
  func aReceiverThatFailsChangesNoOutcomeAndIsRecorded(_ receiver: Failing) async throws {
    let server = try receiver.response.map { response in try TestHTTPServer { _ in response } }
    defer { server?.stop() }
    let port = try server?.port ?? TestHTTPServer.closedPort()
    let url = "http://127.0.0.1:\(port)/hook"
    let box = try Self.project(notify: "notify:\n  - webhook: \(url)\n    on: [deploy]\(receiver.timeout)")

    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1", "--json")

    #expect(run.code == 0, "\(run.output)")
    #expect(box.current("staging") == "1")
    let warning = "webhook http://127.0.0.1:\(port) was not told of deploy web 1 → staging: ok (\(receiver.reason))"
    #expect(run.stderr.contains("warning: \(warning)\n"), "\(run.stderr)")
    let report = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(report["warnings"] as? [String] == [warning])
    #expect(report["exitCode"] as? Int == 0)
    let head = try await box.git("rev-parse", "web/staging").trimmed
    let note = try await box.git("notes", "--ref", "airlock-notify/web/staging", "show", head).stdout
    #expect(note.contains("\"delivered\" : false"), "\(note)")
    #expect(!note.contains("/hook"), "a plain webhook is recorded by scheme and host only")
  }

  @Test func aWebhookSecretThatIsNotSetIsAWarningNotARefusal() async throws {
    let box = try Self.project(notify: "notify:\n  - webhook_secret: HOOK_URL\n    on: [deploy]")

    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")

    #expect(run.code == 0, "\(run.output)")
    #expect(
      run.stderr.contains(
        "warning: webhook_secret HOOK_URL was not told of deploy web 1 → staging: ok (secret HOOK_URL is not set in "
          + "the process environment)\n"), "\(run.stderr)")
  }

  @Test func aWebhookSecretFromACommandIsAskedOncePerCommand() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let box = try ScratchProject()
    try box.write(
      "#!/bin/sh\necho run >> url-runs\necho '\(server.urlString("/\(Self.hookToken)"))'\n", to: "bin/hook-url",
      executable: true)
    try box.pipeline(
      extraChecks: "notify:\n  - webhook_secret: HOOK_URL\n    on: [failure, rollback]",
      stagingSecrets: "{API_TOKEN: env, HOOK_URL: {command: [bin/hook-url]}}")

    _ = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")
    try #require(box.read("url-runs") == "run\n", "nothing to tell: the deploy passed, the source ran once")
    let bad = try await box.airlock("deploy", "staging", "--artifact", box.artifact("2", healthy: false))

    #expect(bad.code == 4, "\(bad.output)")
    #expect(server.requestCount == 2, "the failure and the rollback")
    #expect(box.read("url-runs") == "run\nrun\nrun\n", "once for the config, once for both notifications")
    #expect(!bad.output.contains(Self.hookToken))
  }

  @Test func aWebhookSecretFromAFileIsReadAndNeverShown() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let box = try ScratchProject()
    try box.write(server.urlString("/\(Self.hookToken)") + "\n", to: "secrets/hook-url")
    try box.pipeline(
      extraChecks: "notify:\n  - webhook_secret: HOOK_URL\n    on: [deploy]",
      stagingSecrets: "[API_TOKEN, {HOOK_URL: {file: secrets/hook-url}}]")

    let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")

    #expect(run.code == 0, "\(run.output)")
    #expect(server.requests.map(\.path) == ["/\(Self.hookToken)"], "the file's final newline is not part of the URL")
    #expect(!run.output.contains(Self.hookToken))
    #expect(!(try await Self.ledgerText(box)).contains(Self.hookToken))
  }

  @Test func aRollbackWithABrokenPipelineFileStillTellsTheReceivers() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let box = try Self.project(notify: "notify:\n  - webhook: \(server.urlString("/hook"))")
    for version in ["1", "2"] {
      let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version)
      try #require(run.code == 0, "\(run.output)")
    }
    try #require(server.requestCount == 0, "deploys are not among the default events")
    try box.write("pipeline: web\nenvironments: [\n", to: "pipelines/web.yml")

    let run = try await box.airlock("rollback", "staging")

    #expect(run.code == 0, "\(run.output)")
    let documents = try Self.received(server)
    #expect(documents.map { $0["event"] as? String } == ["rollback"])
    #expect((documents.first?["current"] as? [String: Any])?["version"] as? String == "1")
  }

  @Test func locksAndRefusalsReachTheReceiversThatAskForThem() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let box = try ScratchProject()
    try box.pipeline(
      extraChecks: "notify:\n  - webhook: \(server.urlString("/hook"))\n    on: [lock, blocked]",
      productionApproval: true)
    let deployed = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1")
    try #require(deployed.code == 0, "\(deployed.output)")

    let refused = try await box.airlock("promote", "production")
    let locked = try await box.airlock("lock", "production", "--reason", "incident 42")
    let unlocked = try await box.airlock("unlock", "production")

    #expect([refused.code, locked.code, unlocked.code] == [3, 0, 0], "\(refused.output)\(locked.output)")
    let documents = try Self.received(server)
    #expect(documents.map { $0["event"] as? String } == ["promote", "lock", "unlock"])
    #expect(documents.map { $0["triggers"] as? [String] } == [["blocked"], ["lock"], ["lock"]])
    #expect((documents[0]["detail"] as? String)?.contains("needs an approval") == true)
    #expect(locked.stderr.contains("→ notified webhook http://127.0.0.1:\(server.port) of lock web production: ok"))
  }
}
