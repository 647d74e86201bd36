import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct CheckCommandTests {
  @Test(arguments: [
    ("exit 0", Verdict.pass, ["ok"]),
    ("exit 3", .fail, ["exit 3"]),
    ("kill -9 $$", .fail, ["signal 9"]),
  ])
  func judgesTheExitStatus(script: String, verdict: Verdict, reasons: [String]) async {
    let check = CommandCheck(
      name: "worker", arguments: ["/bin/sh", "-c", script], policy: ProbePolicy(attempts: 1, pass: 1))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == verdict)
    #expect(result.reasons() == reasons)
    #expect(result.kind == "command")
  }

  @Test func retriesUnderTheQuorum() async throws {
    let directory = try ScratchProject()
    // Fails on the first run only: the counter file does not exist yet.
    let script = "if [ -f ran ]; then exit 0; else touch ran; exit 4; fi"
    let check = CommandCheck(name: "worker", arguments: ["/bin/sh", "-c", script])

    let result = await check.evaluate(in: .testing(releaseDirectory: directory.root))

    #expect(result.verdict == .pass)
    #expect(result.reasons() == ["exit 4", "ok", "ok"])
  }

  @Test func runsInTheReleaseDirectoryWithTheGivenEnvironmentAndSubstitutions() async throws {
    let directory = try ScratchProject()
    try directory.write(
      "#!/bin/sh\n[ \"$1\" = 1.4.2 ] && [ \"$2\" = abc123 ] && [ \"$DATABASE_URL\" = db ]\n", to: "bin/smoke",
      executable: true)
    let check = CommandCheck(
      name: "smoke", arguments: ["bin/smoke", "{version}", "{release}"], policy: ProbePolicy(attempts: 1, pass: 1))

    let passing = await check.evaluate(
      in: .testing(
        releaseDirectory: directory.root, processEnvironment: ["PATH": "/usr/bin:/bin", "DATABASE_URL": "db"]))
    let failing = await check.evaluate(
      in: .testing(
        releaseDirectory: directory.root, processEnvironment: ["PATH": "/usr/bin:/bin", "DATABASE_URL": "x"]))

    #expect(passing.verdict == .pass)
    #expect(failing.reasons() == ["exit 1"])
  }

  @Test func aMissingProgramIsInconclusiveAfterOneProbe() async {
    let check = CommandCheck(name: "worker", arguments: ["airlock-no-such-program", "--check"])

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .inconclusive)
    #expect(result.reasons() == ["not found: airlock-no-such-program"])
    #expect(result.hosts[0].probes[0].outcome == .error)
  }

  @Test func aMissingReleaseDirectoryIsInconclusive() async {
    let check = CommandCheck(name: "worker", arguments: ["/bin/true"])
    let result = await check.evaluate(in: .testing(releaseDirectory: URL(fileURLWithPath: "/nonexistent/release")))
    #expect(result.verdict == .inconclusive)
    #expect(result.reasons() == ["no such directory: /nonexistent/release"])
  }

  @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
    let directory = try ScratchProject()
    let script = "sleep 30 & echo $! >> pids; sleep 30 & echo $! >> pids; echo $$ >> pids; wait"
    let check = CommandCheck(
      name: "worker", arguments: ["/bin/sh", "-c", script],
      // Generous: on a loaded machine the shell must still get to write its pids before the timeout fires.
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(6)),
      runner: ProcessRunner(killGrace: .milliseconds(200)))

    let result = await check.evaluate(in: .testing(releaseDirectory: directory.root))

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["timeout"])
    let pids = try String(contentsOfFile: directory.path("pids"), encoding: .utf8)
      .split(separator: "\n").compactMap { pid_t($0) }
    #expect(pids.count == 3)
    for pid in pids { #expect(await eventuallyGone(pid), "process \(pid) survived the timeout") }
  }
}
