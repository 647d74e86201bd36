import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench fleet`: `airlock rollback` and `airlock promote` of an ssh fleet of real sshd daemons on this
/// machine (the tests' `TestFleet`), for 1, 5 and 20 hosts, printed beside the floor measured in the same run: every
/// host reached at once by a fresh `ssh` that flips a symlink, which is the least any tool restoring a fleet over ssh
/// must do (with the same fast key exchange Airlock asks for, so the floor is not slowed by OpenSSH's default).
///
/// Each run times, in turn: the floor, a promotion of a fresh small release (batches of 5, a `start` and a command
/// check on every host), and a rollback to the release before it (kept on the hosts: a symlink switch plus `start`,
/// then the check).
struct FleetBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fleet", abstract: "Median wall time of rollback and promote on an ssh fleet, beside its floor.")

  @Option(help: "Runs per fleet size.") var runs = 7
  @Option(help: "Fleet sizes, comma-separated.") var hosts = "1,5,20"
  @Flag(help: "Print the progress of one more promotion and rollback per size, with the time of each line.")
  var trace = false

  func run() async throws {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let airlock = folder.appendingPathComponent("airlock")
    guard FileManager.default.isExecutableFile(atPath: airlock.path) else {
      throw ValidationError("\(airlock.path) is missing: build it first with scripts/build")
    }
    let sizes = hosts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    print(
      "ssh fleet of real sshd daemons on 127.77.x.y (one mount namespace each), \(runs) runs per size; floor: every "
        + "host at once by a fresh ssh that flips a symlink")
    for size in sizes {
      let samples = try await measure(airlock: airlock, hosts: size)
      print("\(size) host\(size == 1 ? "" : "s"):")
      print(Summary(samples: samples.floor).row("  floor: \(size) parallel ssh + ln -sfn"))
      print(Summary(samples: samples.rollback).row("  airlock rollback (all hosts at once)"))
      print(Summary(samples: samples.promote).row("  airlock promote (batches of 5, check)"))
      let ratio = Summary(samples: samples.rollback).median / Summary(samples: samples.floor).median
      print("  rollback / floor: \(String(format: "%.2f", ratio))×")
    }
  }

  struct Samples {
    var floor: [Double] = []
    var rollback: [Double] = []
    var promote: [Double] = []
  }

  func measure(airlock: URL, hosts count: Int) async throws -> Samples {
    let scratch = try ScratchProject("airlock-bench")
    let fleet = try await TestFleet(hosts: count, in: scratch)
    defer { fleet.stop() }
    let names = fleet.hosts.map(\.name).joined(separator: ", ")
    try scratch.pipeline(
      """
      pipeline: bench
      keep: 3
      environments:
        - name: staging
          target:
            local: targets/staging
        - name: production
          requires: staging
          target:
            ssh:
              hosts: [\(names)]
              path: \(fleet.path)
              batch: 5
              ssh_config: \(fleet.sshConfig.path)
          config:
            DATABASE_URL: postgres://db-prod.internal/bench
          start: bin/start
          verify: [ready]
      checks:
        ready:
          command: [bin/ready]
          attempts: 1
          timeout: 10s
      """, named: "bench")
    var environment = ProcessInfo.processInfo.environment
    environment["AIRLOCK_ACTOR"] = "bench"
    func airlockRun(_ arguments: [String]) throws -> Double {
      var status: Int32 = 0
      let sample = try milliseconds {
        status = try runQuietly(airlock, arguments, in: scratch.root, environment: environment)
      }
      guard status == 0 else { throw ValidationError("airlock \(arguments.joined(separator: " ")) exited \(status)") }
      return sample
    }
    func release(_ version: String) throws {
      let artifact = try scratch.benchArtifact(version)
      try scratch.write(
        "#!/bin/sh\necho \"$AIRLOCK_VERSION\" > .airlock/started\n", to: "artifacts/\(version)/bin/start",
        executable: true)
      try scratch.write("#!/bin/sh\ntest -f .airlock/started\n", to: "artifacts/\(version)/bin/ready", executable: true)
      _ = try airlockRun(["deploy", "staging", "--artifact", artifact.path, "--version", version])
    }
    try release("v0")
    _ = try airlockRun(["promote", "production"])
    var samples = Samples()
    for index in 1...runs {
      samples.floor.append(try floor(fleet))
      try release("v\(index)")
      samples.promote.append(try airlockRun(["promote", "production"]))
      samples.rollback.append(try airlockRun(["rollback", "production"]))
    }
    if trace {
      try release("traced")
      for arguments in [["promote", "production"], ["rollback", "production"]] {
        let log = scratch.url("trace.log")
        let begin = DispatchTime.now().uptimeNanoseconds
        let pid = try ChildProcess.spawn(
          [airlock.path] + arguments, environment: environment, directory: scratch.root, stdin: "/dev/null",
          stdout: "/dev/null", stderr: log.path)
        _ = ChildProcess.waitForExit(of: pid)
        let took = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
        print("  trace: airlock \(arguments.joined(separator: " ")) took \(String(format: "%.1f", took)) ms")
        for line in (try String(contentsOf: log, encoding: .utf8)).split(separator: "\n") { print("    \(line)") }
      }
    }
    return samples
  }

  /// Every host at once: a fresh ssh connection (no master) that renames a new symlink over an old one.
  func floor(_ fleet: TestFleet) throws -> Double {
    let command = "cd \(fleet.path) && ln -sfn releases .floor-new && mv -T -f .floor-new floor-link"
    return try milliseconds {
      let pids = try fleet.hosts.map { host in
        try ChildProcess.spawn(
          [
            "/usr/bin/ssh", "-F", fleet.sshConfig.path, "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o",
            "KexAlgorithms=^curve25519-sha256,curve25519-sha256@libssh.org", host.name, command,
          ],
          environment: ProcessInfo.processInfo.environment, directory: fleet.hosts[0].root, stdin: "/dev/null",
          stdout: "/dev/null",
          stderr: "/dev/null")
      }
      for pid in pids {
        let end = ChildProcess.waitForExit(of: pid)
        guard end.code == 0 else { throw ValidationError("the floor's ssh exited \(end.code)") }
      }
    }
  }
}
