import AirlockTestSupport
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

/// A clock whose sleeps never end on their own and ignore cancellation, as a clock that misses a cancellation
/// would: only `AirlockClock.pause` gets a cancelled task out of one. Tests await `sleepsBegun(_:)` instead of
/// sleeping, and `wake()` ends every sleep so nothing is left suspended; `wakingOnCancel(_:)` wakes them when the test's
/// time limit cancels it, so a regression fails instead of hanging.
final class StalledClock: AirlockClock {
  private struct State {
    var sleepers: [CheckedContinuation<Void, Never>] = []
    var awake = false
    var begun = 0
    var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
  }

  private let state = Mutex(State())

  func now() -> Date { Date(timeIntervalSince1970: 1_800_000_000) }

  func sleep(for duration: Duration) async throws {
    if state.withLock({ $0.awake }) { return try Task.checkCancellation() }
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
        guard !state.awake else { return [continuation] }
        state.sleepers.append(continuation)
        state.begun += 1
        let begun = state.begun
        let ready = state.watchers.filter { $0.count <= begun }.map(\.continuation)
        state.watchers.removeAll { $0.count <= begun }
        return ready
      }
      ready.forEach { $0.resume() }
    }
  }

  /// Returns once `count` sleeps have begun.
  func sleepsBegun(_ count: Int) async {
    await withCheckedContinuation { continuation in
      let already = state.withLock { state in
        if state.begun >= count { return true }
        state.watchers.append((count, continuation))
        return false
      }
      if already { continuation.resume() }
    }
  }

  /// Ends every sleep, and makes later ones return at once (throwing if the task is cancelled).
  func wake() {
    state.withLock { state in
      state.awake = true
      defer { state.sleepers = [] }
      return state.sleepers
    }.forEach { $0.resume() }
  }

  /// Runs `body` (awaiting a task's value); should the waiting test be cancelled (its time limit), every sleep
  /// ends so the task can.
  func wakingOnCancel<T>(_ body: () async throws -> T) async rethrows -> T {
    try await withTaskCancellationHandler(operation: body) {
      wake()
    }
  }
}

/// Item 9: cancellation (a signal) reaches every wait of the check and watch paths, so a cancelled run returns at
/// once instead of waiting out a quorum interval or a watch round.
@Suite(.timeLimit(.minutes(1))) struct CheckCancellationTests {
  @Test func pauseSleepsOnTheClock() async throws {
    let clock = ManualClock()

    try await clock.pause(for: .seconds(30))

    #expect(clock.sleeps == [.seconds(30)])
  }

  @Test func aCancelledPauseThrowsWhileTheClockSleepsOn() async throws {
    let clock = StalledClock()
    defer { clock.wake() }
    let pause = Task { try await clock.pause(for: .seconds(30)) }
    await clock.sleepsBegun(1)

    pause.cancel()

    await #expect(throws: CancellationError.self) { try await clock.wakingOnCancel { try await pause.value } }
  }

  @Test func aCancelledQuorumLeavesItsIntervalAtOnce() async throws {
    let clock = StalledClock()
    defer { clock.wake() }
    let check = ScriptedCheck(
      policy: ProbePolicy(attempts: 5, pass: 2, interval: .seconds(30)), script: ["web1": [.failed]])
    let evaluation = Task { await check.evaluate(host: "web1", in: .testing(clock: clock)) }
    await clock.sleepsBegun(1)

    evaluation.cancel()
    let result = await clock.wakingOnCancel { await evaluation.value }

    #expect(result.verdict == .inconclusive)
    #expect(result.probes.map(\.reason) == ["refused"])
    #expect(check.calls.value == 1)
  }

  /// What a deploy run in a task of its own left behind: its error, the environment's events, the progress lines.
  struct Outcome: Sendable {
    var error: (any Error)?
    var events: [EventRecord]
    var progress: [String]
  }

  @Test func aCancelledWatchRecordsTheAbortAtOnce() async throws {
    let clock = StalledClock()
    defer { clock.wake() }
    // The project lives inside the task: the orchestrator is not Sendable.
    let deploy = Task { () async throws -> Outcome in
      let project = try ScratchProject()
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
            command: [/bin/true]
            attempts: 1
            pass: 1
            interval: 30s

        """)
      let artifact = try project.artifact(version: "1.0.0")
      var failure: (any Error)?
      do {
        _ = try await project.orchestrator(clock: clock).deploy(
          environment: "staging", artifact: artifact, version: "1.0.0")
      } catch {
        failure = error
      }
      return Outcome(error: failure, events: try project.events("staging"), progress: project.progress.value)
    }
    await clock.sleepsBegun(1)

    deploy.cancel()
    let outcome = try await clock.wakingOnCancel { try await deploy.value }

    #expect((outcome.error as? AirlockError)?.code == .aborted, "\(String(describing: outcome.error))")
    let event = try #require(outcome.events.first)
    #expect(event.outcome == .aborted)
    #expect(event.detail.contains("aborted by a signal after the switch"), "\(event.detail)")
    #expect(!outcome.progress.contains { $0.contains("watch round") }, "\(outcome.progress)")
  }

  /// A cancelled HTTP probe lets go of its connection at once, not when its 60 s timeout would have passed.
  @Test func aCancelledHTTPProbeClosesItsConnection() async throws {
    let server = try TestHTTPServer { _ in .endless(chunk: "still going\n", pause: .milliseconds(20)) }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "version", url: server.urlString(), contains: "version {version}",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(60)))
    let probe = Task { await check.probe(host: "localhost", attempt: 1, in: .testing()) }
    let connected = ContinuousClock.now + .seconds(30)
    while server.requestCount == 0 && ContinuousClock.now < connected {
      try await Task.sleep(for: .milliseconds(10))
    }
    #expect(server.requestCount == 1)

    probe.cancel()
    let (outcome, _) = await probe.value

    #expect(outcome == .failed)
    #expect(try await CheckHTTPBodyLimitTests.transfersStopped(server))
  }
}
