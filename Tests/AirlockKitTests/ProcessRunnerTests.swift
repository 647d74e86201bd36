import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct ProcessRunnerTests {
  let runner = ProcessRunner(killGrace: .milliseconds(300))
  let environment = ["PATH": "/usr/bin:/bin"]

  @Test func capturesStandardOutputAndErrorTogether() async {
    let result = await runner.run(
      ["/bin/sh", "-c", "echo out; echo err >&2; exit 7"], in: nil, environment: environment, timeout: .seconds(10))
    #expect(result.termination == .exited(7))
    #expect(result.output == "out\nerr\n")
    #expect(!result.succeeded)
  }

  @Test func passesExactlyTheGivenEnvironment() async {
    let result = await runner.run(
      ["/usr/bin/env"], in: nil, environment: ["AIRLOCK_VERSION": "1.4.2"], timeout: .seconds(10))
    #expect(result.succeeded)
    #expect(result.output == "AIRLOCK_VERSION=1.4.2\n")
  }

  @Test func readsStandardInputFromTheGivenFile() async throws {
    let scratch = try ScratchProject()
    let input = try scratch.write(String(repeating: "release bytes\n", count: 10_000), to: "release.tar")
    let result = await runner.run(
      ["/bin/sh", "-c", "wc -c"], in: nil, environment: environment, timeout: .seconds(10), input: input)
    #expect(result.succeeded)
    #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "140000")
  }

  @Test func anInputThatCannotBeReadStartsNothing() async throws {
    let scratch = try ScratchProject()
    let marker = scratch.url("ran")
    let result = await runner.run(
      ["/bin/sh", "-c", "touch \(marker.path)"], in: nil, environment: environment, timeout: .seconds(10),
      input: scratch.url("missing.tar"))
    #expect(result.termination == .failedToStart("cannot read input: \(scratch.url("missing.tar").path)"))
    #expect(!FileManager.default.fileExists(atPath: marker.path))
  }

  @Test func standardInputIsEmptyWithoutAnInputFile() async {
    let result = await runner.run(["/bin/sh", "-c", "wc -c"], in: nil, environment: environment, timeout: .seconds(10))
    #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
  }

  @Test func runsInTheGivenDirectory() async throws {
    let directory = try ScratchProject()
    let result = await runner.run(["/bin/pwd"], in: directory.root, environment: environment, timeout: .seconds(10))
    #expect(result.output == directory.root.path + "\n")
  }

  @Test func findsABareNameOnThePath() async {
    let result = await runner.run(["sh", "-c", "echo found"], in: nil, environment: environment, timeout: nil)
    #expect(result.succeeded)
    #expect(result.output == "found\n")
  }

  @Test func resolvesARelativePathAgainstTheWorkingDirectory() async throws {
    let directory = try ScratchProject()
    try directory.write("#!/bin/sh\necho \"probe $1\"\n", to: "bin/probe", executable: true)
    let result = await runner.run(
      ["bin/probe", "ready"], in: directory.root, environment: environment, timeout: .seconds(10))
    #expect(result.output == "probe ready\n", "\(result.termination)")
  }

  @Test func runsScriptsWrittenWhileOtherThreadsSpawn() async throws {
    // A script written by one thread while another spawns can fail with ETXTBSY; the runner retries.
    let directory = try ScratchProject()
    let runner = self.runner
    let failures = await withTaskGroup(of: String?.self) { group in
      for index in 0..<64 {
        group.addTask {
          do {
            try directory.write("#!/bin/sh\necho ok\n", to: "bin/probe\(index)", executable: true)
          } catch {
            return "\(error)"
          }
          let result = await runner.run(
            ["bin/probe\(index)"], in: directory.root, environment: [:], timeout: .seconds(10))
          return result.output == "ok\n" ? nil : "\(result.termination)"
        }
      }
      return await group.reduce(into: [String]()) { failures, failure in
        if let failure { failures.append(failure) }
      }
    }
    #expect(failures == [])
  }

  @Test func readsStandardInputFromDevNull() async {
    let result = await runner.run(["/bin/cat"], in: nil, environment: environment, timeout: .seconds(10))
    #expect(result.termination == .exited(0))
    #expect(result.output == "")
  }

  @Test func keepsOnlyTheTailOfLongOutput() async {
    let script =
      "i=0; while [ $i -lt 3000 ]; do echo 'line of forty-one characters, give or take'; i=$((i+1)); done; echo END"
    let result = await runner.run(["/bin/sh", "-c", script], in: nil, environment: environment, timeout: .seconds(10))
    #expect(result.succeeded)
    #expect(result.output.utf8.count <= 64 * 1024)
    #expect(result.output.utf8.count > 60 * 1024)
    #expect(result.output.hasSuffix("give or take\nEND\n"))
  }

  @Test func reportsTheSignalThatEndedTheProgram() async {
    let result = await runner.run(["/bin/sh", "-c", "kill -9 $$"], in: nil, environment: environment, timeout: nil)
    #expect(result.termination == .signaled(SIGKILL))
  }

  @Test func doesNotWaitForBackgroundProcessesThatKeepTheOutputOpen() async throws {
    let result = await runner.run(
      ["/bin/sh", "-c", "sleep 30 & echo $!"], in: nil, environment: environment, timeout: .seconds(20))
    #expect(result.succeeded)
    let pid = try #require(pid_t(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
    // Left running on purpose (a start script may launch a server); this test cleans up after itself.
    #expect(isRunning(pid))
    kill(pid, SIGKILL)
  }

  struct StartFailure: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    var directory: String?
    var reason: String
    var testDescription: String { reason }
  }

  static let startFailures: [StartFailure] = [
    StartFailure(arguments: ["airlock-no-such-program"], reason: "not found: airlock-no-such-program"),
    StartFailure(arguments: ["/nonexistent/airlock/program"], reason: "not found: /nonexistent/airlock/program"),
    StartFailure(arguments: ["/bin"], reason: "permission denied: /bin"),
    StartFailure(
      arguments: ["/bin/true"], directory: "/nonexistent/dir", reason: "no such directory: /nonexistent/dir"),
    StartFailure(arguments: [], reason: "empty command"),
  ]

  @Test(arguments: startFailures)
  func explainsWhyAProgramDidNotStart(row: StartFailure) async {
    let directory = row.directory.map { URL(fileURLWithPath: $0) }
    let result = await runner.run(row.arguments, in: directory, environment: environment, timeout: .seconds(10))
    #expect(result.termination == .failedToStart(row.reason))
  }

  @Test func reportsANonExecutableRelativeScript() async throws {
    let directory = try ScratchProject()
    let check = try directory.write("#!/bin/sh\nexit 0\n", to: "bin/check")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: check.path)
    let result = await runner.run(["bin/check"], in: directory.root, environment: environment, timeout: .seconds(10))
    #expect(result.termination == .failedToStart("permission denied: \(directory.path("bin/check"))"))
  }

  @Test func timesOutAndEndsTheProgram() async {
    let result = await runner.run(
      ["/bin/sh", "-c", "echo started; sleep 30"], in: nil, environment: environment, timeout: .milliseconds(300))
    #expect(result.termination == .timedOut)
    #expect(result.output == "started\n")
  }

  @Test func killsAProgramThatIgnoresTerminate() async throws {
    let directory = try ScratchProject()
    let pidFile = directory.path("pid")
    let script = "trap '' TERM; echo $$ > '\(pidFile)'; while :; do sleep 1; done"
    let result = await runner.run(
      ["/bin/sh", "-c", script], in: nil, environment: environment, timeout: .milliseconds(300))
    #expect(result.termination == .timedOut)
    let pid = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .newlines)))
    #expect(!isRunning(pid))
  }

  @Test func timeoutEndsTheWholeProcessGroup() async throws {
    let directory = try ScratchProject()
    let pidFile = directory.path("pids")
    let script = "sleep 30 & echo $! >> '\(pidFile)'; sleep 30 & echo $! >> '\(pidFile)'; wait"
    let result = await runner.run(
      ["/bin/sh", "-c", script], in: nil, environment: environment, timeout: .milliseconds(500))
    #expect(result.termination == .timedOut)
    let pids = try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
    #expect(pids.count == 2)
    for pid in pids { #expect(await eventuallyGone(pid), "process \(pid) survived the timeout") }
  }

  @Test func cancellingTheCallerEndsTheProgram() async throws {
    let directory = try ScratchProject()
    let runner = self.runner
    let environment = self.environment
    let marker = directory.path("started")
    let task = Task {
      await runner.run(
        ["/bin/sh", "-c", "touch '\(marker)'; sleep 30"], in: nil, environment: environment, timeout: nil)
    }
    while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(10)) }
    task.cancel()
    let result = await task.value
    #expect(result.termination == .signaled(SIGTERM))
  }

  @Test func startsNothingForACancelledCaller() async throws {
    let directory = try ScratchProject()
    let runner = self.runner
    let marker = directory.path("started")
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return await runner.run(["/usr/bin/touch", marker], in: nil, environment: [:], timeout: nil)
    }
    #expect(await task.value.termination == .failedToStart("cancelled"))
    #expect(!FileManager.default.fileExists(atPath: marker))
  }
}

/// Whether `pid` is a live process; a zombie waiting for a parent that does not reap counts as gone.
func isRunning(_ pid: pid_t) -> Bool {
  guard kill(pid, 0) == 0 else { return false }
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
  // The state follows the parenthesised command name: "123 (sleep) Z ...".
  guard let close = stat.lastIndex(of: ")") else { return true }
  return !stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Whether `pid` is gone within a few seconds; signals are delivered asynchronously.
func eventuallyGone(_ pid: pid_t) async -> Bool {
  for _ in 0..<100 {
    if !isRunning(pid) { return true }
    try? await Task.sleep(for: .milliseconds(50))
  }
  return false
}
