import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// SIGINT and SIGTERM: the run stops what it started, records the event as `aborted`, gives the lease back and exits
/// 130 or 143, so the next run needs no stale-lease recovery.
@Suite struct SignalTests {
  static let signals: [Int32] = [SIGINT, SIGTERM]

  /// Sends `signal` to a run once the script that writes `marker` is waiting; returns the run and the script's group.
  func interrupt(
    _ box: ScratchProject, _ arguments: [String], marker: String, with signal: Int32
  ) async throws -> (ScratchProject.Run, Int32?) {
    let run = try box.start(arguments)
    let group = try await box.waitFor(marker).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    #expect(group != nil, "\(marker) never appeared")
    kill(run.pid, signal)
    let result = try await run.run.value
    return (result, group)
  }

  @Test(arguments: signals)
  func aSignalDuringStartAbortsTheDeployAndReleasesTheLease(signal: Int32) async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.gatedArtifact("1.0.0"), "--version", "1.0.0").code
        == 0)
    let slow = try box.gatedArtifact("1.1.0")
    try box.write("", to: "slow-start")
    let deploy = ["deploy", "staging", "--artifact", slow, "--version", "1.1.0"]
    let (run, group) = try await interrupt(box, deploy, marker: "in-start", with: signal)

    #expect(run.signal == nil && run.code == 128 + signal, "\(run.output)")
    #expect(run.stderr.contains(signal == SIGINT ? "airlock: interrupted" : "airlock: terminated"), "\(run.output)")
    #expect(try await box.messages("web/staging", count: 1) == ["deploy web 1.1.0 → staging: aborted"])
    let event = try await box.git("show", "web/staging:release.json").stdout
    #expect(event.contains("aborted by a signal after the switch: 1.1.0 runs unverified"), "\(event)")
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    // The start script and everything it started went with the run.
    if let group { #expect(ScratchProject.livingProcesses(inGroup: group).isEmpty) }
    // The ledger agrees with the target, so status reports nothing interrupted.
    let status = try await box.airlock("status").stdout
    #expect(status.contains("staging: 1.1.0 (") && status.contains("[unverified]"), "\(status)")
    #expect(!status.contains("! interrupted"), "\(status)")

    try FileManager.default.removeItem(at: box.root.appendingPathComponent("slow-start"))
    let again = try await box.airlock(deploy)
    #expect(again.code == 0, "\(again.output)")
    #expect(!again.stderr.contains("stale lease"), "\(again.output)")
    #expect(
      try await box.messages("web/staging", count: 2) == [
        "deploy web 1.1.0 → staging: ok", "deploy web 1.1.0 → staging: aborted",
      ])
    #expect(box.current("staging") == "1.1.0")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// Where a run waits before it switches anything.
  enum Stop: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case preDeployHook = "pre-deploy hook"
    case preflightCheck = "preflight check"
    case preRollbackHook = "pre-rollback hook"
    var testDescription: String { rawValue }
  }

  /// A script that, once the project holds `armed`, writes its pid to `in-wait`, then waits (at most 30 s) for
  /// `gate`; it succeeds either way.
  func waitingScript(_ box: ScratchProject) -> String {
    let armed = box.root.appendingPathComponent("armed").path
    let marker = box.root.appendingPathComponent("in-wait").path
    let gate = box.root.appendingPathComponent("gate").path
    return """
      #!/bin/sh
      [ -f "\(armed)" ] || exit 0
      echo $$ > "\(marker).tmp" && mv "\(marker).tmp" "\(marker)"
      i=0; while [ ! -f "\(gate)" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
      """
  }

  @Test(arguments: signals, Stop.allCases)
  func aSignalBeforeTheSwitchAbortsAndChangesNothing(signal: Int32, stop: Stop) async throws {
    let box = try ScratchProject()
    let check = box.root.appendingPathComponent("bin/waiting-check").path
    try box.pipeline(
      extraChecks: """
          waiting:
            command: [\(check)]
            attempts: 1
            pass: 1
            timeout: 60s
        """, stagingPreflight: stop == .preflightCheck ? "[waiting]" : nil)
    try box.write(waitingScript(box), to: "bin/waiting-check", executable: true)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    let command: [String]
    let environment: String
    let message: String
    switch stop {
    case .preDeployHook, .preflightCheck:
      if stop == .preDeployHook { try box.write(waitingScript(box), to: "hooks/pre-deploy", executable: true) }
      command = ["deploy", "staging", "--artifact", try box.artifact("1.1.0"), "--version", "1.1.0"]
      (environment, message) = ("staging", "deploy web 1.1.0 → staging: aborted")
    case .preRollbackHook:
      #expect(try await box.airlock("promote", "production").code == 0)
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code
          == 0)
      #expect(try await box.airlock("promote", "production").code == 0)
      try box.write(waitingScript(box), to: "hooks/pre-rollback", executable: true)
      command = ["rollback", "production"]
      (environment, message) = ("production", "rollback web production 1.1.0 → 1.0.0: aborted")
    }
    try box.write("", to: "armed")
    let before = box.current(environment)
    let (run, group) = try await interrupt(box, command, marker: "in-wait", with: signal)

    #expect(run.signal == nil && run.code == 128 + signal, "\(run.output)")
    #expect(box.current(environment) == before)
    #expect(try await box.messages("web/\(environment)", count: 1) == [message], "\(run.output)")
    let event = try await box.git("show", "web/\(environment):release.json").stdout
    #expect(event.contains("aborted by a signal before the switch; nothing changed"), "\(event)")
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    if let group { #expect(ScratchProject.livingProcesses(inGroup: group).isEmpty) }

    try box.write("", to: "gate")
    let again = try await box.airlock(command)
    #expect(again.code == 0, "\(again.output)")
    #expect(!again.stderr.contains("stale lease"), "\(again.output)")
    #expect(box.current(environment) != before)
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// Item 9: a signal while a verify check waits out a long quorum interval ends the run at once, every time: exit
  /// 143, the `aborted` event recorded, the lease given back. Ten runs, since the failure was intermittent.
  @Test func aSignalDuringALongCheckIntervalAbortsEveryTime() async throws {
    let box = try ScratchProject()
    let check = box.root.appendingPathComponent("bin/flaky-check").path
    let armed = box.root.appendingPathComponent("armed").path
    let marker = box.root.appendingPathComponent("in-probe").path
    try box.write(
      """
      #!/bin/sh
      [ -f "\(armed)" ] || exit 0
      echo $$ > "\(marker).tmp" && mv "\(marker).tmp" "\(marker)"
      exit 1
      """, to: "bin/flaky-check", executable: true)
    try box.pipeline(
      stagingVerify: "[flaky]",
      extraChecks: """
          flaky:
            command: [\(check)]
            attempts: 2
            pass: 1
            interval: 30s
            timeout: 5s
        """)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    try box.write("", to: "armed")

    for round in 1...10 {
      try? FileManager.default.removeItem(atPath: marker)
      let version = "1.1.\(round)"
      let run = try box.start(["deploy", "staging", "--artifact", try box.artifact(version), "--version", version])
      let group = try await box.waitFor("in-probe").flatMap {
        Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
      }
      let probe = try #require(group, "round \(round): the check never ran")
      // Once the failed probe is gone, the run waits out the 30 s interval before its second attempt.
      let gone = ContinuousClock.now + .seconds(30)
      while !ScratchProject.livingProcesses(inGroup: probe).isEmpty && ContinuousClock.now < gone {
        try await Task.sleep(for: .milliseconds(10))
      }
      kill(run.pid, SIGTERM)
      let result = try await run.run.value

      #expect(result.signal == nil && result.code == 143, "round \(round): \(result.output)")
      #expect(try await box.messages("web/staging", count: 1) == ["deploy web \(version) → staging: aborted"])
      #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    }
    let event = try await box.git("show", "web/staging:release.json").stdout
    #expect(event.contains("aborted by a signal after the switch"), "\(event)")
  }
}
