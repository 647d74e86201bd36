import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct CheckHeartbeatTests {
  /// Creates `relative` in `directory` with a modification time `age` before the clock's now.
  func touch(_ relative: String, in directory: ScratchProject, age: TimeInterval, clock: ManualClock) throws {
    let file = try directory.write("", to: relative)
    let modified = clock.now().timeIntervalSince1970 - age
    let seconds = Int(modified)
    var times = [
      timeval(tv_sec: seconds, tv_usec: 0),
      timeval(tv_sec: seconds, tv_usec: 0),
    ]
    #expect(utimes(file.path, &times) == 0)
  }

  @Test(arguments: [
    (10.0, Verdict.pass, ["ok", "ok"]),
    (60.0, .pass, ["ok", "ok"]),
    (155.0, .fail, ["stale by 95s", "stale by 95s", "stale by 95s", "stale by 95s"]),
  ])
  func judgesTheAgeAgainstTheClock(age: TimeInterval, verdict: Verdict, reasons: [String]) async throws {
    let directory = try ScratchProject()
    let clock = ManualClock()
    try touch("worker.heartbeat", in: directory, age: age, clock: clock)
    // The interval must not age the file between probes, or the reasons would drift.
    let check = HeartbeatCheck(
      name: "worker", path: directory.path("worker.heartbeat"), maxAge: .seconds(60),
      policy: ProbePolicy(interval: .milliseconds(0)))

    let result = await check.evaluate(in: .testing(clock: clock))

    #expect(result.verdict == verdict)
    #expect(result.reasons() == reasons)
  }

  @Test func aFileThatAgesBetweenProbesTurnsStale() async throws {
    let directory = try ScratchProject()
    let clock = ManualClock()
    try touch("worker.heartbeat", in: directory, age: 58, clock: clock)
    let check = HeartbeatCheck(
      name: "worker", path: directory.path("worker.heartbeat"), maxAge: .seconds(60),
      policy: ProbePolicy(attempts: 3, pass: 2, interval: .seconds(1)))

    let result = await check.evaluate(in: .testing(clock: clock))

    #expect(result.reasons() == ["ok", "ok"])
    clock.advance(by: .seconds(8))
    let later = await check.evaluate(in: .testing(clock: clock))
    #expect(later.reasons() == ["stale by 7s", "stale by 8s"])
  }

  @Test func aMissingFileFails() async throws {
    let directory = try ScratchProject()
    let check = HeartbeatCheck(name: "worker", path: directory.path("nope/worker.heartbeat"), maxAge: .seconds(60))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["missing", "missing", "missing", "missing"])
  }

  @Test func resolvesRelativePathsAndPlaceholdersInTheReleaseDirectory() async throws {
    let directory = try ScratchProject()
    let clock = ManualClock()
    try touch("tmp/web1-1.4.2.heartbeat", in: directory, age: 1, clock: clock)
    let check = HeartbeatCheck(name: "worker", path: "tmp/{host}-{version}.heartbeat", maxAge: .seconds(60))

    let result = await check.evaluate(in: .testing(hosts: ["web1"], releaseDirectory: directory.root, clock: clock))

    #expect(result.verdict == .pass)
  }

  @Test func aRelativePathWithoutAReleaseDirectoryIsInconclusive() async {
    let check = HeartbeatCheck(name: "worker", path: "tmp/worker.heartbeat", maxAge: .seconds(60))
    let result = await check.evaluate(in: .testing())
    #expect(result.verdict == .inconclusive)
  }

  @Test(.enabled(if: getuid() != 0, "root reads any file"))
  func anUnreadableFolderIsInconclusive() async throws {
    let directory = try ScratchProject()
    defer {
      try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path("locked"))
    }
    try directory.write("", to: "locked/worker.heartbeat")
    try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: directory.path("locked"))
    let check = HeartbeatCheck(name: "worker", path: directory.path("locked/worker.heartbeat"), maxAge: .seconds(60))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .inconclusive)
    #expect(result.reasons() == ["permission denied: \(directory.path("locked/worker.heartbeat"))"])
  }

  @Test(arguments: [(95.0, "95s"), (0.2, "1s"), (155.0, "2m35s"), (3600.0, "60m"), (7200.0, "2h"), (7500.0, "2h5m")])
  func formatsStaleness(seconds: Double, text: String) {
    #expect(HeartbeatCheck.format(seconds: seconds) == text)
  }
}
