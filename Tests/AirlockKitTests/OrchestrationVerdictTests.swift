import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// What a failed check does to an environment: a dependency blocks or is reported but never rolls back, a broken
/// check is inconclusive, a check that also fails against the restored release is suspect, and a release that is
/// not what serves, or whose workers are dead, is rolled back.
@Suite struct OrchestrationVerdictTests {
  /// A quick quorum for checks against local things: two attempts, one pass needed, 10ms apart. The timeout is
  /// generous because it is real time: a loaded machine can stall a probe for seconds, and a local answer is
  /// immediate anyway.
  static let quick = """
        attempts: 2
        pass: 1
        interval: 10ms
        timeout: 30s
    """

  /// A server that answers 200 (`version 1.0.0` as body) until `outage` is set, then 503 on the paths it covers.
  static func provider(outage: LockedValue<Bool>, failing prefix: String = "/") throws -> TestHTTPServer {
    try TestHTTPServer { request in
      if outage.value && request.path.hasPrefix(prefix) { return .init(status: 503, body: "down") }
      return .init(status: 200, body: "ok")
    }
  }

  // MARK: Dependency checks (screen sharing, 2018)

  @Test func aFailingDependencyInPreflightBlocksThePromotionAndChangesNothing() async throws {
    let outage = LockedValue(false)
    let auth = try Self.provider(outage: outage)
    defer { auth.stop() }
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
        - name: production
          requires: staging
          target:
            local: targets/production
          preflight: [auth-provider]
      checks:
        auth-provider:
          http: \(auth.urlString("/health"))
          dependency: true
      \(Self.quick)

      """)
    try project.artifact(version: "1.0.0")
    try project.artifact(version: "1.1.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    #expect(try await project.promote().exitCode == 0)
    #expect(try await project.deploy("staging", "1.1.0").exitCode == 0)
    outage.value = true
    let listing = try project.listing("production")
    let eventsBefore = try project.events("production").count

    let report = try await project.promote()

    #expect(report.exitCode == 3, "\(report.summary)")
    #expect(report.outcome == .blocked)
    #expect(report.summary.contains("preflight failed: dependency auth-provider: fail"))
    #expect(report.summary.contains("status 503"))
    #expect(report.checks.map(\.dependency) == [true])
    #expect(project.current("production") == "1.0.0")
    #expect(try project.listing("production") == listing)
    let events = try project.events("production")
    #expect(events.count == eventsBefore + 1)
    #expect(events.filter { $0.outcome == .blocked }.count == 1)
    #expect(events.first?.brief == "promote blocked")
    #expect(events.first?.release?.version == "1.1.0")
    let head = try project.head("production")
    #expect(head.state.current?.version == "1.0.0")
    #expect(head.state.currentStatus == .verified)
    #expect(head.state.quarantined.isEmpty)
  }

  @Test func aFailingDependencyInVerifyIsReportedAndNeverRollsBack() async throws {
    let outage = LockedValue(false)
    let server = try Self.provider(outage: outage, failing: "/auth")
    defer { server.stop() }
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [health, auth-provider]
      checks:
        health:
          http: \(server.urlString("/healthz"))
      \(Self.quick)
        auth-provider:
          http: \(server.urlString("/auth/health"))
          dependency: true
      \(Self.quick)

      """)
    try project.artifact(version: "1.0.0")
    try project.artifact(version: "1.1.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    outage.value = true

    let report = try await project.deploy("staging", "1.1.0")

    #expect(report.exitCode == 5, "\(report.summary)")
    #expect(report.outcome == .failed)
    #expect(report.summary.contains("dependency down: auth-provider: fail"))
    #expect(report.summary.contains("rolling back cannot fix someone else's outage"))
    #expect(report.checks.map(\.verdict) == [.pass, .fail])
    #expect(project.current("staging") == "1.1.0")
    let head = try project.head("staging")
    #expect(head.state.current?.version == "1.1.0")
    #expect(head.state.currentStatus == .unverified)
    #expect(head.state.quarantined.isEmpty)
    // Not verified either: it cannot be promoted while the dependency is down.
    #expect(head.state.good.map(\.release.version) == ["1.0.0"])
    #expect(try project.events("staging").map(\.brief) == ["deploy failed", "deploy ok"])
  }

  // MARK: Broken checks

  @Test func aCommandCheckWhoseProgramDoesNotExistIsInconclusiveAndNeverRollsBack() async throws {
    let project = try ScratchProject()
    func pipeline(smoke: String) throws {
      try project.pipeline(
        """
        pipeline: web
        environments:
          - name: staging
            target:
              local: targets/staging
            verify: [smoke]
        checks:
          smoke:
            command: \(smoke)
        \(Self.quick)

        """)
    }
    try pipeline(smoke: "[/bin/sh, -c, 'exit 0']")
    try project.artifact(version: "1.0.0")
    try project.artifact(version: "2.0.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    // Someone edits the check and mistypes the program.
    try pipeline(smoke: "[/nonexistent/bin/smoke-test, --quick]")

    let report = try await project.deploy("staging", "2.0.0")

    #expect(report.exitCode == 5, "\(report.summary)")
    #expect(report.outcome == .inconclusive)
    #expect(report.summary.contains("inconclusive: check smoke: inconclusive"))
    #expect(report.summary.contains("is broken"))
    #expect(report.summary.contains("not found: /nonexistent/bin/smoke-test"))
    // An error ends probing at once: retrying cannot make a missing program appear.
    #expect(report.checks.first?.hosts.first?.probes.count == 1)
    #expect(project.current("staging") == "2.0.0")
    let head = try project.head("staging")
    #expect(head.state.currentStatus == .unverified)
    #expect(head.state.quarantined.isEmpty)
    #expect(try project.events("staging").map(\.brief) == ["deploy inconclusive", "deploy ok"])
  }

  // MARK: Suspect checks (in/out board, 2023)

  @Test func aCheckThatFailsAgainstTheRestoredReleaseTooIsSuspectAndStopsAfterOneRollback() async throws {
    let outage = LockedValue(false)
    let server = try Self.provider(outage: outage)
    defer { server.stop() }
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [health]
      checks:
        health:
          http: \(server.urlString("/healthz?release={version}"))
      \(Self.quick)

      """)
    for version in ["1.0.0", "1.1.0", "2.0.0"] { try project.artifact(version: version) }
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    #expect(try await project.deploy("staging", "1.1.0").exitCode == 0)
    // The health endpoint breaks for everyone (a new load balancer rule, say), just as 2.0.0 ships.
    outage.value = true
    let requestsBefore = server.requestCount

    let report = try await project.deploy("staging", "2.0.0")

    #expect(report.exitCode == 5, "\(report.summary)")
    #expect(report.outcome == .suspect)
    #expect(report.summary.contains("verify fails against 1.1.0 too"))
    #expect(report.summary.contains("the check health or the environment is suspect, not the release"))
    #expect(report.summary.contains("not rolling back further"))
    #expect(project.current("staging") == "1.1.0")
    let head = try project.head("staging")
    #expect(head.state.current?.version == "1.1.0")
    #expect(head.state.currentStatus == .suspect)
    #expect(head.state.quarantined.isEmpty, "2.0.0 must not be blamed for the check's failure")
    #expect(head.state.good.map(\.release.version) == ["1.1.0", "1.0.0"])
    let events = try project.events("staging")
    #expect(events.map(\.brief) == ["rollback suspect", "deploy failed", "deploy ok", "deploy ok"])
    #expect(events.filter { $0.event == .rollback }.count == 1)
    // 2.0.0 was probed, then 1.1.0; 1.0.0 never was: no rollback chain.
    let probed = server.requests.dropFirst(requestsBefore).map(\.path)
    #expect(
      probed == Array(repeating: "/healthz?release=2.0.0", count: 2)
        + Array(repeating: "/healthz?release=1.1.0", count: 2))
  }

  // MARK: What actually serves

  @Test func aServerStillServingTheOldVersionFailsTheNewReleasesVerify() async throws {
    // The new release never took over: whatever is deployed, the endpoint answers with 1.0.0.
    let server = try TestHTTPServer { _ in .init(status: 200, body: "{\"version\":\"1.0.0\"}") }
    defer { server.stop() }
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [serving]
      checks:
        serving:
          http: \(server.urlString("/version"))
          contains: '"version":"{version}"'
      \(Self.quick)

      """)
    try project.artifact(version: "1.0.0")
    try project.artifact(version: "2.0.0")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)

    let report = try await project.deploy("staging", "2.0.0")

    #expect(report.exitCode == 4, "\(report.summary)")
    let failed = try #require(report.checks.first)
    #expect(failed.verdict == .fail)
    #expect(failed.hosts.first?.probes.map(\.reason) == Array(repeating: #"body lacks ""version":"2.0.0"""#, count: 2))
    #expect(report.checks.last?.verdict == .pass)
    #expect(project.current("staging") == "1.0.0")
    #expect(try project.head("staging").state.quarantined.map(\.release.version) == ["2.0.0"])
  }

  // MARK: Background workers (help desk, 2016)

  @Test func aStaleWorkerHeartbeatBehindAHealthyWebAppRollsBack() async throws {
    let web = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { web.stop() }
    // Heartbeat ages are measured against the clock, so it starts at the real time the workers touch files in.
    let project = try ScratchProject(clock: ManualClock(now: Date()))
    let heartbeat = project.root.appendingPathComponent("shared/worker.heartbeat")
    try FileManager.default.createDirectory(
      at: heartbeat.deletingLastPathComponent(), withIntermediateDirectories: true)
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            WORKER_HEARTBEAT: \(heartbeat.path)
          start: bin/start
          verify: [health, worker]
      checks:
        health:
          http: \(web.urlString("/healthz"))
      \(Self.quick)
        worker:
          heartbeat: \(heartbeat.path)
          max_age: 60s
      \(Self.quick)

      """)
    // 1.0.0's worker beats when it starts; 2.0.0's instrumentation library kills its worker before the first beat.
    try project.artifact(version: "1.0.0", start: #"touch "$WORKER_HEARTBEAT""#)
    try project.artifact(version: "2.0.0", start: "echo 'worker: instrumentation init failed' >&2")
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    // Ten minutes pass; the old worker is stopped by the restart, so its last beat is what 2.0.0 is judged by.
    try FileManager.default.setAttributes(
      [.modificationDate: project.clock.now().addingTimeInterval(-600)], ofItemAtPath: heartbeat.path)

    let report = try await project.deploy("staging", "2.0.0")

    #expect(report.exitCode == 4, "\(report.summary)")
    #expect(report.checks.map(\.name) == ["health", "worker", "health", "worker"])
    #expect(report.checks.map(\.verdict) == [.pass, .fail, .pass, .pass])
    let reasons = report.checks[1].hosts.first?.probes.map(\.reason) ?? []
    #expect(reasons.count == 2 && reasons.allSatisfy { $0.hasPrefix("stale by 9m") }, "\(reasons)")
    #expect(project.current("staging") == "1.0.0")
    let head = try project.head("staging")
    #expect(head.state.quarantined.map(\.release.version) == ["2.0.0"])
    #expect(try project.events("staging").first?.detail.contains("rolled back to 1.0.0") == true)
    #expect(try project.events("staging")[1].detail.contains("worker: fail"))
  }
}
