import AirlockTestSupport
import Foundation
import Testing

/// Two working copies (two runners) sharing one bare ledger through `ledger: file://…`.
@Suite struct SharedLedgerTests {
  /// Two projects whose pipelines point at one shared bare ledger and one shared target folder.
  struct Pair {
    let first: ScratchProject
    let second: ScratchProject
    let shared: URL
    let target: URL

    init(start: String? = nil) async throws {
      first = try ScratchProject()
      second = try ScratchProject()
      shared = first.root.appendingPathComponent("shared.git")
      target = first.root.appendingPathComponent("shared-target")
      let initialise = try await first.run("/usr/bin/git", ["init", "-q", "--bare", shared.path], environment: [:])
      #expect(initialise.code == 0)
      for box in [first, second] {
        try box.write(
          """
          pipeline: web
          ledger: file://\(shared.path)
          environments:
            - name: staging
              target:
                local: \(target.path)
              \(start.map { "start: \($0)" } ?? "")
          """, to: "pipelines/web.yml")
      }
    }

    func sharedGit(_ arguments: String...) async throws -> ScratchProject.Run {
      try await first.run("/usr/bin/git", ["--git-dir", shared.path] + arguments, environment: [:])
    }

    var current: String? {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("current").path))
        .map { URL(fileURLWithPath: $0).lastPathComponent }
    }
  }

  @Test func eachRunnerSeesTheOthersEventsAndTheSharedLedgerStaysValid() async throws {
    let pair = try await Pair()
    let deployed = try await pair.first.airlock(
      "deploy", "staging", "--artifact", pair.first.artifact("1"), "--version", "1")
    #expect(deployed.code == 0, "\(deployed.output)")
    let status = try await pair.second.airlock("status")
    #expect(status.stdout.contains("staging: 1 ("), "\(status.output)")
    let second = try await pair.second.airlock(
      "deploy", "staging", "--artifact", pair.second.artifact("2"), "--version", "2")
    #expect(second.code == 0, "\(second.output)")
    let history = try await pair.first.airlock("history")
    #expect(history.stdout.contains("deploy web 2 → staging: ok"))
    #expect(history.stdout.contains("deploy web 1 → staging: ok"))
    #expect(try await pair.sharedGit("log", "--format=%s", "web/staging").stdout.split(separator: "\n").count == 2)
    #expect(try await pair.sharedGit("fsck", "--strict").code == 0)
    #expect(try await pair.sharedGit("for-each-ref", "refs/airlock").stdout.isEmpty)
    // A label bound by one runner is bound for the other too.
    let rebound = try await pair.second.airlock(
      "deploy", "staging", "--artifact", pair.second.artifact("other"), "--version", "1")
    #expect(rebound.code == 2, "\(rebound.output)")
  }

  @Test func theSharedLeaseStopsTheOtherRunner() async throws {
    let pair = try await Pair(start: "bin/start")
    let gate = pair.first.root.appendingPathComponent("gate").path
    let waiting = pair.first.root.appendingPathComponent("waiting").path
    let slow = try pair.first.artifact("slow")
    try pair.first.write(
      """
      #!/bin/sh
      touch "\(waiting)"
      i=0; while [ ! -f "\(gate)" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
      """, to: "\(slow)/bin/start", executable: true)
    let first = pair.first.launch(["deploy", "staging", "--artifact", slow, "--version", "slow"])
    var started = false
    for _ in 0..<600 where !started {
      started = FileManager.default.fileExists(atPath: waiting)
      if !started { try await Task.sleep(for: .milliseconds(20)) }
    }
    #expect(started)
    let second = try await pair.second.airlock(
      "deploy", "staging", "--artifact", pair.second.artifact("fast"), "--version", "fast")
    _ = FileManager.default.createFile(atPath: gate, contents: nil)
    let winner = try await first.value
    #expect(winner.code == 0, "\(winner.output)")
    #expect(second.code == 6, "\(second.output)")
    #expect(second.stderr.contains("being changed by e2e-tester"))
    #expect(pair.current == "slow")
  }

  @Test func aRejectedPushMeansAnotherRunnerWonAndTheSwitchIsUndone() async throws {
    let pair = try await Pair(start: "bin/start")
    let one = try pair.second.artifact("1")
    let starts = pair.second.root.appendingPathComponent("starts.log").path
    try pair.second.write(
      "#!/bin/sh\necho \"$AIRLOCK_VERSION\" >> \"\(starts)\"\n", to: "\(one)/bin/start", executable: true)
    #expect(try await pair.second.airlock("deploy", "staging", "--artifact", one, "--version", "1").code == 0)
    // While the second runner's release starts, another writer moves the shared branch behind Airlock's back.
    let sneaky = try pair.second.artifact("2")
    try pair.second.write(
      """
      #!/bin/sh
      head=$(git --git-dir "\(pair.shared.path)" rev-parse web/staging)
      tree=$(git --git-dir "\(pair.shared.path)" rev-parse "web/staging^{tree}")
      next=$(echo "out-of-band event" | git --git-dir "\(pair.shared.path)" -c user.name=x -c user.email=x@y commit-tree "$tree" -p "$head")
      git --git-dir "\(pair.shared.path)" update-ref refs/heads/web/staging "$next" "$head"
      """, to: "\(sneaky)/bin/start", executable: true)
    let lost = try await pair.second.airlock("deploy", "staging", "--artifact", sneaky, "--version", "2")
    #expect(lost.code == 6, "\(lost.output)")
    #expect(lost.stderr.contains("the switch was undone: staging runs 1 again"), "\(lost.output)")
    #expect(pair.current == "1")
    // The restored release is started again, not only pointed at.
    #expect(pair.second.read("starts.log") == "1\n1\n")
    #expect(try await pair.sharedGit("log", "-1", "--format=%s", "web/staging").stdout == "out-of-band event\n")
  }
}
