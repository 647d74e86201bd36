@_spi(Testing) import AirlockKit
import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Invariant 6: a deploy, promotion or rollback killed with SIGKILL at any step leaves `current` on a complete
/// release; `status` reports the interrupted run, and the same command run again breaks the dead run's lease with a
/// `recover` event and converges.
///
/// Step boundaries are hit with the test-only switch `AIRLOCK_FAULT=<point>`; "during start" and "during verify"
/// by killing the process from here while its start script or command check waits.
@Suite struct CrashTests {
  /// The changing commands under test.
  enum Command: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case deploy, promote, rollback
    var testDescription: String { rawValue }
  }

  /// Every documented fault point, by the name users of `AIRLOCK_FAULT` type.
  static let faultPoints = [
    "after-lease", "before-export", "after-export", "after-switch", "after-start", "after-verify",
    "before-ref-update", "after-record",
  ]

  @Test func theListedFaultPointsAreEveryPointTheBinaryKnows() {
    #expect(Self.faultPoints == FaultPoint.allCases.map(\.rawValue))
  }

  /// Points at which the killed run had already switched `current`.
  static let switchedPoints: Set = ["after-switch", "after-start", "after-verify", "before-ref-update", "after-record"]

  /// One command to kill and run again, with what it should leave behind.
  struct Scenario {
    var environment: String
    var arguments: [String]
    /// What `current` points at before the command.
    var before: String
    /// What the command ships.
    var intended: String
    /// The commit message of its successful event.
    var success: String
    var branch: String { "web/\(environment)" }
  }

  /// A project where `command` has something to do: staging runs 1.0.0 (deploy ships 1.1.0 there); production
  /// runs 1.0.0 while staging has verified 1.1.0 (promote ships it); production runs 1.1.0 after 1.0.0 (rollback
  /// goes back to 1.0.0).
  func prepare(_ command: Command) async throws -> (ScratchProject, Scenario) {
    let box = try ScratchProject()
    try box.pipeline()
    let old = try box.gatedArtifact("1.0.0")
    let new = try box.gatedArtifact("1.1.0")
    #expect(try await box.airlock("deploy", "staging", "--artifact", old, "--version", "1.0.0").code == 0)
    switch command {
    case .deploy:
      return (
        box,
        Scenario(
          environment: "staging", arguments: ["deploy", "staging", "--artifact", new, "--version", "1.1.0"],
          before: "1.0.0", intended: "1.1.0", success: "deploy web 1.1.0 → staging: ok")
      )
    case .promote:
      #expect(try await box.airlock("promote", "production").code == 0)
      #expect(try await box.airlock("deploy", "staging", "--artifact", new, "--version", "1.1.0").code == 0)
      return (
        box,
        Scenario(
          environment: "production", arguments: ["promote", "production"], before: "1.0.0", intended: "1.1.0",
          success: "promote web 1.1.0 staging→production: ok")
      )
    case .rollback:
      #expect(try await box.airlock("promote", "production").code == 0)
      #expect(try await box.airlock("deploy", "staging", "--artifact", new, "--version", "1.1.0").code == 0)
      #expect(try await box.airlock("promote", "production").code == 0)
      // Named with --to, so running it again is the same request rather than one more step back.
      return (
        box,
        Scenario(
          environment: "production", arguments: ["rollback", "production", "--to", "1.0.0"], before: "1.1.0",
          intended: "1.0.0", success: "rollback web production 1.1.0 → 1.0.0: ok")
      )
    }
  }

  /// `current` of `environment` is a symlink into `releases/` at a complete release directory.
  func expectCompleteRelease(
    _ box: ScratchProject, _ environment: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let link = box.target(environment).appendingPathComponent("current").path
    let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: link)
    guard let destination, let label = box.current(environment) else {
      Issue.record("\(environment) has no current symlink", sourceLocation: sourceLocation)
      return
    }
    #expect(destination == "releases/\(label)", sourceLocation: sourceLocation)
    #expect(!label.hasPrefix("."), "current points at a leftover: \(label)", sourceLocation: sourceLocation)
    #expect(box.read("targets/\(environment)/current/VERSION") == label + "\n", sourceLocation: sourceLocation)
    #expect(
      box.read("targets/\(environment)/current/.airlock/config.env")?.contains("DATABASE_URL=") == true,
      sourceLocation: sourceLocation)
  }

  /// What the dead run left must be reported, and running the same command again must converge.
  func expectRecovery(
    _ box: ScratchProject, _ scenario: Scenario, deadPid: Int32, countBefore: Int, recordedByDeadRun: Bool,
    switched: Bool, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let environment = scenario.environment
    // A half-exported release (as a kill in the middle of an export leaves) is never taken for a release.
    try box.write("partial\n", to: "targets/\(environment)/releases/.incoming-\(scenario.intended)-99999/PARTIAL")

    // The dead run's lease is still there, naming its pid.
    let lease = try await box.git("show", "refs/airlock/leases/\(scenario.branch):lease.json")
    #expect(lease.stdout.contains("\"pid\" : \(deadPid)"), "\(lease.output)", sourceLocation: sourceLocation)

    let status = try await box.airlock("status")
    #expect(status.code == 0, "\(status.output)", sourceLocation: sourceLocation)
    #expect(
      status.stdout.contains("! interrupted: ") && status.stdout.contains("its process \(deadPid) on"),
      "\(status.output)", sourceLocation: sourceLocation)
    #expect(!status.output.contains(".incoming"), sourceLocation: sourceLocation)

    let again = try await box.airlock(scenario.arguments)
    #expect(again.code == 0, "\(again.output)", sourceLocation: sourceLocation)
    #expect(again.stderr.contains("breaking the stale lease"), "\(again.output)", sourceLocation: sourceLocation)
    #expect(box.current(environment) == scenario.intended, sourceLocation: sourceLocation)
    expectCompleteRelease(box, environment, sourceLocation: sourceLocation)
    if !recordedByDeadRun {
      // Retention, which runs after a change, clears what interrupted installs left.
      #expect(
        !box.exists("targets/\(environment)/releases/.incoming-\(scenario.intended)-99999"),
        sourceLocation: sourceLocation)
    }

    // Exactly two new events: the dead run's own (when it got that far) or the rerun's, and the recovery.
    #expect(
      try await box.commitCount(scenario.branch) == countBefore + 2, "\(again.output)", sourceLocation: sourceLocation)
    let recover = "recover web \(environment): interrupted"
    let newest = try await box.messages(scenario.branch, count: 2)
    if recordedByDeadRun {
      #expect(newest == [recover, scenario.success], sourceLocation: sourceLocation)
      #expect(again.stdout.contains("nothing to do"), "\(again.output)", sourceLocation: sourceLocation)
    } else {
      #expect(newest == [scenario.success, recover], sourceLocation: sourceLocation)
    }
    let recoverCommit = recordedByDeadRun ? scenario.branch : "\(scenario.branch)~1"
    let detail = try await box.git("show", "\(recoverCommit):release.json").stdout
    #expect(detail.contains("pid \(deadPid) on"), "\(detail)", sourceLocation: sourceLocation)
    #expect(detail.contains("is gone"), "\(detail)", sourceLocation: sourceLocation)
    if switched && !recordedByDeadRun {
      #expect(
        detail.contains("left the target on \(scenario.intended) while the ledger says \(scenario.before)"),
        "\(detail)", sourceLocation: sourceLocation)
    }

    #expect(try await box.git("fsck", "--strict").code == 0, sourceLocation: sourceLocation)
    #expect(try await box.git("rev-list", "--merges", "--all").stdout.isEmpty, sourceLocation: sourceLocation)
    #expect(
      try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty, sourceLocation: sourceLocation)
    let settled = try await box.airlock("status")
    #expect(!settled.stdout.contains("! interrupted"), "\(settled.output)", sourceLocation: sourceLocation)
  }

  @Test(arguments: Command.allCases, faultPoints)
  func aRunKilledAtAStepBoundaryLeavesACompleteReleaseAndTheNextRunConverges(
    command: Command, point: String
  ) async throws {
    let (box, scenario) = try await prepare(command)
    let countBefore = try await box.commitCount(scenario.branch)

    let crash = try box.start(scenario.arguments, environment: ["AIRLOCK_FAULT": point])
    let killed = try await crash.run.value
    #expect(killed.signal == SIGKILL, "\(killed.output)")

    let switched = Self.switchedPoints.contains(point)
    #expect(box.current(scenario.environment) == (switched ? scenario.intended : scenario.before))
    expectCompleteRelease(box, scenario.environment)
    let recorded = point == "after-record"
    #expect(try await box.commitCount(scenario.branch) == countBefore + (recorded ? 1 : 0))

    try await expectRecovery(
      box, scenario, deadPid: crash.pid, countBefore: countBefore, recordedByDeadRun: recorded, switched: switched)
  }

  /// The phases a test interrupts from outside, by killing the process while a script of the release waits.
  enum Phase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case start, verify
    var testDescription: String { "during \(rawValue)" }
  }

  @Test(arguments: Command.allCases, Phase.allCases)
  func aRunKilledDuringStartOrVerifyLeavesACompleteReleaseAndTheNextRunConverges(
    command: Command, phase: Phase
  ) async throws {
    let (box, scenario) = try await prepare(command)
    let countBefore = try await box.commitCount(scenario.branch)
    try box.write("", to: "slow-\(phase.rawValue)")

    let run = try box.start(scenario.arguments)
    let marker = try await box.waitFor("in-\(phase.rawValue)")
    let scriptGroup = marker.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    #expect(scriptGroup != nil, "the \(phase.rawValue) script never ran")
    kill(run.pid, SIGKILL)
    let killed = try await run.run.value
    #expect(killed.signal == SIGKILL, "\(killed.output)")
    // SIGKILL leaves the release's script orphaned; end it, as an operator would.
    if let scriptGroup { kill(-scriptGroup, SIGKILL) }
    try FileManager.default.removeItem(at: box.root.appendingPathComponent("slow-\(phase.rawValue)"))

    #expect(box.current(scenario.environment) == scenario.intended)
    expectCompleteRelease(box, scenario.environment)
    #expect(try await box.commitCount(scenario.branch) == countBefore)

    try await expectRecovery(
      box, scenario, deadPid: run.pid, countBefore: countBefore, recordedByDeadRun: false, switched: true)
  }
}
