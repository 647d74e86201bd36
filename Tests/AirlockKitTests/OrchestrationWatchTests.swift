import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// The post-deploy watch window (help desk, 2016): verifying goes on after the switch, on the manual clock, and a
/// release that degrades inside the window meets the same failure policy as one that fails at once.
@Suite struct OrchestrationWatchTests {
  /// A project whose staging is watched for 5 minutes with one health round every 30 seconds, and a real HTTP
  /// server that plays the app: it answers for whichever release `current` points at, and release 2.0.0 starts
  /// answering 503 after its first `healthyRequests` requests. Only the probe timeout is real time; it is generous so a
  /// loaded machine cannot turn a stalled probe into a failed round.
  func watchedProject(healthyRequests: Int = .max) throws -> (
    ScratchProject, TestHTTPServer, LockedValue<[String: Int]>
  ) {
    let project = try ScratchProject()
    let served = LockedValue<[String: Int]>([:])
    let current = project.target("staging").appendingPathComponent("current")
    let server = try TestHTTPServer { _ in
      let version =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: current.path))
        .map { URL(fileURLWithPath: $0).lastPathComponent } ?? "nothing"
      let count = served.withLock { counts in
        counts[version, default: 0] += 1
        return counts[version]!
      }
      if version == "2.0.0" && count > healthyRequests { return .init(status: 503, body: "worker pool exhausted") }
      return .init(status: 200, body: "version \(version)")
    }
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [health]
          watch: 5m
      checks:
        health:
          http: \(server.urlString("/healthz"))
          attempts: 1
          pass: 1
          interval: 30s
          timeout: 30s

      """)
    try project.artifact(version: "1.0.0")
    try project.artifact(version: "2.0.0")
    return (project, server, served)
  }

  @Test func aWindowThatStaysHealthyRunsEveryRoundOnTheClockAndPasses() async throws {
    let (project, server, _) = try watchedProject()
    defer { server.stop() }
    let started = project.clock.now()

    let report = try await project.deploy("staging", "1.0.0")

    #expect(report.exitCode == 0, "\(report.summary)")
    #expect(report.outcome == .ok)
    // One verify, then a round every 30s while the 5-minute window lasts: at 30s, 60s … 270s.
    #expect(server.requestCount == 10)
    // Rounds that pass are reported as progress only; the report and checks.json keep the verify itself.
    #expect(report.checks.map(\.verdict) == [.pass])
    #expect(project.clock.sleeps == Array(repeating: .seconds(30), count: 10))
    #expect(project.clock.now().timeIntervalSince(started) == 300)
    #expect(project.progress.value.contains { $0.contains("watch round 9: pass") })
    #expect(project.current("staging") == "1.0.0")
    let head = try project.head("staging")
    #expect(head.state.currentStatus == .verified)
    #expect(head.state.good.map(\.release.version) == ["1.0.0"])
  }

  /// 0: 2.0.0 fails its first verify; 1 and 3: it passes verify, then degrades in watch round 1 or 3.
  @Test(arguments: [0, 1, 3])
  func degradationInsideTheWindowRollsBackExactlyLikeAnImmediateFailure(healthyRequests: Int) async throws {
    let (project, server, served) = try watchedProject(healthyRequests: healthyRequests)
    defer { server.stop() }
    #expect(try await project.deploy("staging", "1.0.0").exitCode == 0)
    let sleepsBefore = project.clock.sleeps.count

    let report = try await project.deploy("staging", "2.0.0")

    #expect(report.exitCode == 4, "\(report.summary)")
    #expect(report.summary.contains("rolled back to 1.0.0"))
    #expect(report.summary.contains("2.0.0 is quarantined in staging"))
    #expect(project.current("staging") == "1.0.0")
    // The window stopped at the first failing round: one round per healthy answer after the first verify.
    #expect(served.value["2.0.0"] == healthyRequests + 1)
    #expect(project.clock.sleeps.count - sleepsBefore == healthyRequests)
    // The failed verify of 2.0.0 (or its first verify and the round that failed), then 1.0.0's after the rollback.
    #expect(report.checks.map(\.verdict) == (healthyRequests == 0 ? [.fail, .pass] : [.pass, .fail, .pass]))
    let failing = try #require(report.checks.first { $0.verdict == .fail })
    #expect(failing.hosts.first?.probes.map(\.reason) == ["status 503"])
    let recorded = try project.pipelineLedger().checkResults(at: try #require(report.commits.first))
    #expect(recorded.map(\.verdict) == (healthyRequests == 0 ? [.fail] : [.pass, .fail]))
    if healthyRequests > 0 {
      #expect(project.progress.value.contains { $0.contains("watch round \(healthyRequests): staging degraded") })
    }

    let head = try project.head("staging")
    #expect(head.state.current?.version == "1.0.0")
    #expect(head.state.currentStatus == .verified)
    #expect(head.state.quarantined.map(\.release.version) == ["2.0.0"])
    let events = try project.events("staging")
    #expect(events.map(\.brief) == ["rollback ok", "deploy failed", "deploy ok"])
    #expect(events[0].automatic)
    #expect(events[1].detail.contains("status 503"))
  }
}
