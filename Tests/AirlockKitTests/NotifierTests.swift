import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// Delivering one notification to one receiver: real HTTP servers (plain, and TLS with a generated authority),
/// failing, slow and unreachable ones, and real commands.
@Suite struct NotifierTests {
  /// A failed promotion with a failing check and its evidence, recorded as a made-up commit.
  static let notification: EventNotification = {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let release = Release(id: ObjectID(hex: String(repeating: "ab", count: 20))!, version: "1.4.2")
    let previous = Release(id: ObjectID(hex: String(repeating: "cd", count: 20))!, version: "1.4.1")
    let record = EventRecord(
      pipeline: "web", environment: "production", event: .promote, outcome: .failed, release: release,
      current: release, previous: previous, sourceEnvironment: "staging", actor: "alice", startedAt: now,
      finishedAt: now, detail: "verify failed: health: fail on 1 of 1 host (localhost: exit 2)")
    let probe = Probe(
      host: "localhost", attempt: 1, outcome: .failed, reason: "exit 2", startedAt: now, milliseconds: 3,
      evidence: "cannot reach db")
    let check = CheckResult(
      name: "health", kind: "command", dependency: false, verdict: .fail,
      hosts: [HostResult(host: "localhost", verdict: .fail, probes: [probe])])
    return EventNotification(record, commit: ObjectID(hex: String(repeating: "12", count: 20))!, checks: [check])
  }()

  static func notifier(
    _ receiver: NotifySpec.Receiver, timeout: TimeSpan? = nil, environment: [String: String] = [:]
  ) -> Notifier {
    Notifier(
      spec: NotifySpec(receiver: receiver, timeout: timeout), root: FileManager.default.temporaryDirectory,
      environment: environment, childEnvironment: ["PATH": "/usr/bin:/bin"], runner: ProcessRunner())
  }

  @Test func aWebhookGetsAPostOfTheEventJSONWithATextLine() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let url = server.urlString("/services/T0/hook?channel=deploys")

    let delivery = await Self.notifier(.webhook(url: url)).deliver(Self.notification, url: .success(url))

    #expect(
      delivery
        == NotificationDelivery(
          receiver: "webhook http://127.0.0.1:\(server.port)", delivered: true, attempts: 1, reason: "status 200"))
    let request = try #require(server.requests.first)
    #expect(request.method == "POST")
    #expect(request.path == "/services/T0/hook?channel=deploys")
    #expect(request.headers["content-type"] == "application/json")
    let received = try LedgerCoding.decode(EventNotification.self, from: request.body)
    #expect(received == Self.notification)
    #expect(
      received.text
        == "airlock: promote web 1.4.2 staging→production: failed — verify failed: health: fail on 1 of 1 host "
        + "(localhost: exit 2) (by alice)")
    #expect(received.failingChecks.first?.hosts.first?.evidence == "cannot reach db")
    #expect(received.triggers == [.failure])
  }

  @Test func aFailureThatMayPassIsTriedOnceMore() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 503), .init(status: 204)])
    defer { server.stop() }
    let url = server.urlString("/hook")

    let delivery = await Self.notifier(.webhookSecret(name: "HOOK")).deliver(Self.notification, url: .success(url))

    #expect(delivery.delivered)
    #expect(delivery.attempts == 2)
    #expect(delivery.reason == "status 204")
    #expect(server.requestCount == 2)
  }

  @Test(arguments: [(500, 2), (502, 2), (429, 2), (404, 1), (403, 1), (400, 1)])
  func aReceiverThatKeepsRefusingIsReportedNotRetriedForever(_ status: Int, _ attempts: Int) async throws {
    let server = try TestHTTPServer { _ in .init(status: status, body: "no") }
    defer { server.stop() }
    let url = server.urlString("/hook")

    let delivery = await Self.notifier(.webhook(url: url)).deliver(Self.notification, url: .success(url))

    #expect(!delivery.delivered)
    #expect(delivery.reason == "status \(status)")
    #expect(delivery.attempts == attempts)
    #expect(server.requestCount == attempts)
  }

  @Test func aSlowReceiverIsGivenUpOnAfterTheTimeoutTwice() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200, delay: .seconds(30)) }
    defer { server.stop() }
    let url = server.urlString("/hook")

    let delivery = await Self.notifier(.webhook(url: url), timeout: .milliseconds(200)).deliver(
      Self.notification, url: .success(url))

    #expect(!delivery.delivered)
    #expect(delivery.reason == "timeout after 200ms")
    #expect(delivery.attempts == 2)
  }

  @Test func anUnreachableReceiverIsReportedAfterTheRetry() async throws {
    let port = try TestHTTPServer.closedPort()
    let url = "http://127.0.0.1:\(port)/hook"

    let delivery = await Self.notifier(.webhook(url: url)).deliver(Self.notification, url: .success(url))

    #expect(!delivery.delivered)
    #expect(delivery.reason == "refused")
    #expect(delivery.attempts == 2)
  }

  @Test func aWebhookSecretThatCannotBeReadIsNotAttempted() async {
    let delivery = await Self.notifier(.webhookSecret(name: "SLACK_URL")).deliver(
      Self.notification, url: .failure(NotifyFailure(reason: "secret SLACK_URL is not set in the process environment")))

    #expect(
      delivery
        == NotificationDelivery(
          receiver: "webhook_secret SLACK_URL", delivered: false, attempts: 0,
          reason: "secret SLACK_URL is not set in the process environment"))
  }

  @Test func anHTTPSReceiverIsReachedThroughTheTrustedAuthority() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let tls = try TestTLSTerminator(forwardingTo: server.port)
    defer { tls.stop() }
    let url = tls.url("/hook")

    let delivery = await Self.notifier(.webhook(url: url), environment: ["SSL_CERT_FILE": tls.authorityFile])
      .deliver(Self.notification, url: .success(url))

    #expect(delivery.delivered, "\(delivery)")
    let request = try #require(server.requests.first)
    #expect(try LedgerCoding.decode(EventNotification.self, from: request.body).eventId == Self.notification.eventId)
  }

  @Test func anHTTPSReceiverWhoseCertificateIsNotTrustedGetsNothing() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200) }
    defer { server.stop() }
    let tls = try TestTLSTerminator(forwardingTo: server.port)
    defer { tls.stop() }
    let url = tls.url("/hook")

    // The system's bundle does not hold the test's authority.
    let delivery = await Self.notifier(.webhook(url: url)).deliver(Self.notification, url: .success(url))

    #expect(!delivery.delivered)
    #expect(delivery.reason.hasPrefix("TLS failure: certificate refused"), "\(delivery.reason)")
    #expect(server.requestCount == 0)
  }

  @Test func aCommandReadsTheEventOnStdinWithTheEventVariablesOnly() async throws {
    let box = try ScratchProject()
    let folder = box.root
    let script = "cat > '\(folder.path)/event.json'; env > '\(folder.path)/env.txt'"

    let delivery = await Self.notifier(.command(arguments: ["/bin/sh", "-c", script])).deliver(
      Self.notification, url: nil)

    #expect(
      delivery == NotificationDelivery(receiver: "command /bin/sh", delivered: true, attempts: 1, reason: "exit 0"))
    let event = try Data(contentsOf: folder.appendingPathComponent("event.json"))
    #expect(try LedgerCoding.decode(EventNotification.self, from: event) == Self.notification)
    let variables = Dictionary(
      uniqueKeysWithValues: try String(contentsOf: folder.appendingPathComponent("env.txt"), encoding: .utf8)
        .split(separator: "\n").compactMap { line -> (String, String)? in
          guard let equals = line.firstIndex(of: "=") else { return nil }
          return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        })
    #expect(variables["AIRLOCK_EVENT"] == "promote")
    #expect(variables["AIRLOCK_OUTCOME"] == "failed")
    #expect(variables["AIRLOCK_VERSION"] == "1.4.2")
    #expect(variables["AIRLOCK_PREVIOUS_RELEASE"] == "1.4.1")
    #expect(variables["AIRLOCK_EVENT_ID"] == Self.notification.eventId.hex)
    let allowed = Set(PipelineNames.passedThroughVariables + ["PWD", "SHLVL", "_"])
    #expect(variables.keys.filter { !$0.hasPrefix("AIRLOCK_") && !allowed.contains($0) }.isEmpty, "\(variables)")
  }

  @Test func aFailingCommandIsRunOnceMoreAndReported() async throws {
    let box = try ScratchProject()
    let folder = box.root
    let script = "echo ran >> '\(folder.path)/runs'; exit 3"

    let delivery = await Self.notifier(.command(arguments: ["/bin/sh", "-c", script])).deliver(
      Self.notification, url: nil)

    #expect(
      delivery == NotificationDelivery(receiver: "command /bin/sh", delivered: false, attempts: 2, reason: "exit 3"))
    #expect(try String(contentsOf: folder.appendingPathComponent("runs"), encoding: .utf8) == "ran\nran\n")
  }
}
