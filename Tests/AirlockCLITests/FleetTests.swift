import AirlockTestSupport
import Foundation
import Testing

/// The `ssh` target end to end: the built binary against a fleet of real sshd daemons, each host with its own copy of
/// the target path.
@Suite struct FleetTests {
  /// Promotes 1.0 to a 20-host fleet in batches of 5, then ships 2.0, which fails its health check on web12 (the
  /// third batch): the rollout stops there, every host it switched goes back to 1.0 and the last batch never changes.
  @Test func rollsOutInBatchesAndRevertsTheHostsSwitchedWhenTheThirdBatchFails() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 20, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "5")
    try await box.ship("1.0", to: fleet)

    for host in fleet.hosts {
      #expect(fleet.current(host) == "1.0", "\(host.name)")
      let started = try String(contentsOf: host.started, encoding: .utf8)
      #expect(started == "1.0 postgres://db-prod.internal/web \(host.name)\n", "\(host.name)")
      let config = host.root.appendingPathComponent("releases/1.0/.airlock/config.env")
      let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int
      #expect(mode == 0o600, "\(host.name)")
      #expect(try String(contentsOf: config, encoding: .utf8).contains("API_TOKEN=s3cr3t-token-value-XYZ"))
    }
    let untouched = try fleet.hosts[15...].map { try $0.currentLinkIdentity() }

    try box.fleetArtifact("2.0")
    try box.write("", to: "fail-2.0-web12")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 4, "\(promote.output)")
    for step in 1...3 { #expect(promote.stderr.contains("→ batch \(step) of 4"), "\(promote.stderr)") }
    #expect(!promote.stderr.contains("→ batch 4 of 4"))
    #expect(promote.stderr.contains("health: fail on 1 of 5 hosts (web12: exit 1, exit 1)"), "\(promote.stderr)")
    for host in fleet.hosts { #expect(fleet.current(host) == "1.0", "\(host.name)") }
    for host in fleet.hosts[15...] {
      #expect(!FileManager.default.fileExists(atPath: host.root.appendingPathComponent("releases/2.0").path))
    }
    #expect(try fleet.hosts[15...].map { try $0.currentLinkIdentity() } == untouched)
    // The ledger says what each host runs after the revert.
    let record = try await box.git("show", "web/production:release.json").stdout
    for host in fleet.hosts { #expect(record.contains("\"\(host.name)\" : \"1.0\""), "\(record)") }
    // The revert restarted 1.0 on the hosts that had switched, and left the rest alone.
    #expect(promote.stderr.contains("5 of 20 hosts already run 1.0"), "\(promote.stderr)")
    let status = try await box.airlock("status")
    #expect(status.code == 0)
    #expect(status.stdout.contains("production: 1.0"), "\(status.stdout)")
    #expect(!status.stdout.contains("interrupted"), "\(status.stdout)")

    // Invariant 3 and 4 over ssh: valid git, and the secret only in the hosts' config.env.
    #expect(try await box.git("fsck", "--strict").code == 0)
    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(!objects.contains("s3cr3t-token-value-XYZ"))
  }

  /// A canary step that fails changes only the canary: `[1, 25%, 100%]` on 8 hosts stops after web1.
  @Test func aFailingCanaryIsTheOnlyHostThatEverChanges() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 8, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "[1, 25%, 100%]")
    let first = try await box.ship("1.0", to: fleet)
    #expect(first.stderr.contains("→ batch 1 of 3"), "\(first.stderr)")
    #expect(first.stderr.contains("): web1\n"), "\(first.stderr)")
    #expect(first.stderr.contains("): web2\n"), "\(first.stderr)")
    #expect(first.stderr.contains("): web3, web4, web5, web6, web7, web8\n"), "\(first.stderr)")
    let others = try fleet.hosts.dropFirst().map { try $0.currentLinkIdentity() }

    try box.fleetArtifact("2.0")
    try box.write("", to: "fail-2.0-web1")
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 4, "\(promote.output)")
    #expect(!promote.stderr.contains("→ batch 2 of 3"), "\(promote.stderr)")
    for host in fleet.hosts { #expect(fleet.current(host) == "1.0", "\(host.name)") }
    #expect(try fleet.hosts.dropFirst().map { try $0.currentLinkIdentity() } == others)
    for host in fleet.hosts.dropFirst() {
      #expect(!FileManager.default.fileExists(atPath: host.root.appendingPathComponent("releases/2.0").path))
    }
  }

  /// `on_failure: halt` leaves the switched hosts on the failed release (exit 5), and `status` shows the fleet per
  /// host; a full-fleet rollback then puts every host back at once, not batch by batch.
  @Test func haltLeavesTheFleetMixedAndRollbackRestoresEveryHostAtOnce() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 6, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "2", onFailure: "halt")
    try await box.ship("1.0", to: fleet)
    try box.fleetArtifact("2.0")
    try box.write("", to: "fail-2.0-web3")
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 5, "\(promote.output)")
    #expect(fleet.hosts.map { fleet.current($0) } == ["2.0", "2.0", "2.0", "2.0", "1.0", "1.0"])

    let status = try await box.airlock("status")
    #expect(status.stdout.contains("  web1  2.0\n  web2  2.0\n  web3  2.0\n  web4  2.0\n  web5  1.0\n  web6  1.0\n"))

    // A rotated secret: the kept release's files stay, its config is rewritten with the value of now.
    box.environment["API_TOKEN"] = "rotated-token-value-123"
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(!rollback.stderr.contains("→ batch"), "\(rollback.stderr)")
    #expect(rollback.stderr.contains("2 of 6 hosts already run 1.0"), "\(rollback.stderr)")
    // A kept release: only the config travels, the files are already there.
    #expect(rollback.stderr.contains("web1: holds 1.0 already (same tree): only the config goes"), "\(rollback.stderr)")
    for host in fleet.hosts { #expect(fleet.current(host) == "1.0", "\(host.name)") }
    let started = try String(contentsOf: fleet.hosts[0].started, encoding: .utf8)
    #expect(started.hasPrefix("1.0 "))
    // The config sent with the switch replaced the kept release's, still at mode 0600.
    let config = fleet.hosts[0].root.appendingPathComponent("releases/1.0/.airlock/config.env")
    #expect(try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int == 0o600)
    #expect(try String(contentsOf: config, encoding: .utf8).contains("API_TOKEN=rotated-token-value-123"))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: config.deletingLastPathComponent().path).sorted()
        == ["config.env", "release.json"])

    // Restoring service comes first: a host that cannot be reached does not stop the rollback of the others, and
    // the rollback says so (exit 5). Hosts whose kept release has
    // the same config get only the switch.
    try await box.ship("3.0", to: fleet)
    try box.fleetPipeline(fleet, batch: "2", onFailure: "halt", extraHosts: ["root@127.0.0.1:1"])
    let partial = try await box.airlock("rollback", "production")
    #expect(partial.code == 5, "\(partial.output)")
    // The pipeline set the first token again: web5 and web6 kept theirs, web1 to web4 hold the rotated one.
    #expect(partial.stderr.contains("web5: holds 1.0 already, with the same tree and config"), "\(partial.stderr)")
    #expect(partial.stderr.contains("web1: holds 1.0 already (same tree): only the config goes"), "\(partial.stderr)")
    #expect(partial.stderr.contains("! 127.0.0.1 cannot be reached: "), "\(partial.stderr)")
    #expect(partial.stdout.contains("1 of 7 hosts could not be reached and were not rolled back"), "\(partial.output)")
    for host in fleet.hosts { #expect(fleet.current(host) == "1.0", "\(host.name)") }
  }

  /// A host whose key is unknown, one whose key changed, and one that does not answer: each refuses the promotion
  /// before anything is sent to any host (exit 3), naming the host.
  @Test func refusesUnknownAndChangedHostKeysAndUnreachableHostsBeforeSendingAnything() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 3, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "1")
    try box.fleetArtifact("1.0")
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/1.0", "--version", "1.0").code == 0)
    func nothingSent() -> Bool {
      fleet.hosts.allSatisfy {
        !FileManager.default.fileExists(atPath: $0.root.appendingPathComponent("releases").path)
      }
    }

    try fleet.trust(only: Array(fleet.hosts.prefix(2)))
    let unknown = try await box.airlock("promote", "production")
    #expect(unknown.code == 3, "\(unknown.output)")
    #expect(unknown.stdout.contains("cannot reach 1 of 3 hosts (web3: "), "\(unknown.output)")
    #expect(unknown.stdout.contains("Host key verification failed"), "\(unknown.output)")
    #expect(unknown.stdout.contains("nothing was sent to any host"))
    #expect(nothingSent())

    try fleet.trust(only: fleet.hosts)
    try await fleet.changeHostKey(of: fleet.hosts[1])
    let changed = try await box.airlock("promote", "production")
    #expect(changed.code == 3, "\(changed.output)")
    #expect(changed.stdout.contains("web2: "), "\(changed.output)")
    #expect(changed.stdout.contains("Host key verification failed"), "\(changed.output)")
    #expect(nothingSent())

    try fleet.trust(only: fleet.hosts)
    try box.fleetPipeline(fleet, batch: "1", extraHosts: ["root@127.0.0.1:1"])
    let unreachable = try await box.airlock("promote", "production")
    #expect(unreachable.code == 3, "\(unreachable.output)")
    #expect(unreachable.stdout.contains("127.0.0.1: "), "\(unreachable.output)")
    #expect(unreachable.output.contains("Connection refused"), "\(unreachable.output)")
    #expect(nothingSent())
    let log = try await box.git("log", "--format=%s", "web/production").stdout
    #expect(log.split(separator: "\n").count == 3)
  }
}

/// Retention on a fleet: the newest `keep` releases by last switch stay on every host.
@Suite struct FleetRetentionTests {
  @Test func keepsTheReleasesSwitchedToLastOnEveryHost() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 2, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "1", keep: 2)
    for version in ["1.0", "2.0", "3.0"] { try await box.ship(version, to: fleet) }
    func held(_ host: TestFleet.Host) throws -> [String] {
      try FileManager.default.contentsOfDirectory(atPath: host.root.appendingPathComponent("releases").path).sorted()
    }
    for host in fleet.hosts { #expect(try held(host) == ["2.0", "3.0"], "\(host.name)") }
    // The rollback switches to 2.0 last, so 3.0, installed after it, is the one that goes when 4.0 arrives.
    #expect(try await box.airlock("rollback", "production").code == 0)
    try await box.ship("4.0", to: fleet)
    for host in fleet.hosts { #expect(try held(host) == ["2.0", "4.0"], "\(host.name)") }
  }
}

/// A run killed mid-rollout, and a ledger shared over ssh by two working copies.
@Suite struct FleetRecoveryTests {
  /// kill -9 while the first batch's `start` runs: `status` shows the mixed fleet host by host, and the next
  /// promotion converges every host.
  @Test func aRolloutKilledMidwayIsReportedPerHostAndConvergedByTheNextCommand() async throws {
    let box = try ScratchProject()
    let fleet = try await TestFleet(hosts: 4, in: box)
    defer { fleet.stop() }
    try box.fleetPipeline(fleet, batch: "2")
    try await box.ship("1.0", to: fleet)
    try box.fleetArtifact("2.0", pausing: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)

    try box.write("", to: "slow-start")
    let promote = try box.start(["promote", "production"])
    #expect(try await box.waitFor("in-start") != nil)
    kill(promote.pid, SIGKILL)
    _ = try? await promote.run.value
    try box.write("", to: "gate")

    let status = try await box.airlock("status")
    #expect(status.code == 0, "\(status.output)")
    #expect(status.stdout.contains("  web1  2.0\n  web2  2.0\n  web3  1.0\n  web4  1.0\n"), "\(status.stdout)")
    #expect(status.stdout.contains("! interrupted: promote by e2e-tester was interrupted"), "\(status.stdout)")

    try FileManager.default.removeItem(at: box.url("slow-start"))
    let again = try await box.airlock("promote", "production")
    #expect(again.code == 0, "\(again.output)")
    #expect(again.stderr.contains("an earlier run was interrupted; this run converges it"), "\(again.stderr)")
    for host in fleet.hosts { #expect(fleet.current(host) == "2.0", "\(host.name)") }
    let log = try await box.git("log", "--format=%s", "web/production").stdout
    #expect(log.hasPrefix("promote web 2.0 staging→production: ok\nrecover web production: interrupted"), "\(log)")
    // The recover event recorded the fleet as the killed run left it.
    let recovered = try await box.git("show", "web/production~1:release.json").stdout
    #expect(recovered.contains("\"web2\" : \"2.0\""), "\(recovered)")
    #expect(recovered.contains("\"web3\" : \"1.0\""), "\(recovered)")
    let settled = try await box.airlock("status")
    #expect(!settled.stdout.contains("interrupted"), "\(settled.stdout)")
  }

  /// Two working copies share one ledger, an `ssh://` remote on a host of the fleet, and take turns shipping to the
  /// fleet: each sees the other's events, and the remote is valid git.
  @Test func twoWorkingCopiesShareALedgerOverSSHAndShipToTheSameFleet() async throws {
    let box = try ScratchProject()
    let other = try ScratchProject()
    let fleet = try await TestFleet(hosts: 3, in: box)
    defer { fleet.stop() }
    let agent = try SSHAgent(in: box, key: fleet.clientKey)
    defer { agent.stop() }
    let ledgerHost = fleet.hosts[0]
    #expect(try await fleet.ssh(ledgerHost, "git init -q --bare \(fleet.path)/ledger.git").code == 0)
    let remote = "ssh://root@\(ledgerHost.address):\(ledgerHost.port)\(fleet.path)/ledger.git"
    for copy in [box, other] {
      let home = copy.url("home/.ssh")
      try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
      try (fleet.knownHostsLine(ledgerHost) + "\n").write(
        to: home.appendingPathComponent("known_hosts"), atomically: true, encoding: .utf8)
      copy.environment["HOME"] = copy.path("home")
      copy.environment["SSH_AUTH_SOCK"] = agent.socket
      try copy.fleetPipeline(fleet, batch: "3", ledger: remote, stagingPath: box.path("targets/staging"))
    }

    try await box.ship("1.0", to: fleet)
    try await other.ship("2.0", to: fleet)
    for host in fleet.hosts { #expect(fleet.current(host) == "2.0", "\(host.name)") }
    // A rotated secret: the kept release's files stay, its config is rewritten with the value of now.
    box.environment["API_TOKEN"] = "rotated-token-value-123"
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    for host in fleet.hosts { #expect(fleet.current(host) == "1.0", "\(host.name)") }

    let history = try await other.airlock("history", "production")
    #expect(history.code == 0, "\(history.output)")
    let lines = history.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
    #expect(lines.count == 3, "\(history.stdout)")
    #expect(lines[0].contains("rollback web production"), "\(history.stdout)")
    #expect(lines[1].contains("promote web 2.0 staging→production: ok"), "\(history.stdout)")
    #expect(lines[2].contains("promote web 1.0 staging→production: ok"), "\(history.stdout)")
    let bare = ledgerHost.root.appendingPathComponent("ledger.git")
    #expect(try await box.git(in: bare, "fsck", "--strict").code == 0)
    let remoteLog = try await box.git(in: bare, "log", "--format=%s", "web/production").stdout
    #expect(remoteLog.split(separator: "\n").count == 3, "\(remoteLog)")
  }
}

/// An ssh-agent holding one key, for libgit2's ssh transport to a shared ledger; stopped by `stop()`.
final class SSHAgent: Sendable {
  let socket: String
  private let agent: ScratchProject.Started

  init(in box: ScratchProject, key: URL) throws {
    socket = box.path("agent.sock")
    agent = try box.spawn("/usr/bin/ssh-agent", ["-D", "-a", socket], environment: [:], directory: nil, input: nil)
    // On a busy machine the agent may take a while to listen: add the key until the agent has it.
    for _ in 0..<500 {
      if FileManager.default.fileExists(atPath: socket), Self.addKey(key, socket: socket) == 0 { return }
      usleep(20_000)
    }
    kill(agent.pid, SIGKILL)
    throw AgentError(description: "ssh-agent at \(socket) never took the key \(key.path)")
  }

  struct AgentError: Error, CustomStringConvertible {
    var description: String
  }

  private static func addKey(_ key: URL, socket: String) -> Int32 {
    let add = Process()
    add.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
    add.arguments = ["-q", key.path]
    add.environment = ["SSH_AUTH_SOCK": socket]
    add.standardError = FileHandle.nullDevice
    guard (try? add.run()) != nil else { return -1 }
    add.waitUntilExit()
    return add.terminationStatus
  }

  func stop() { kill(agent.pid, SIGKILL) }
}

extension ScratchProject {
  /// A pipeline whose staging is a local folder and whose production is `fleet`, switched in steps of `batch`; the
  /// health check fails on a host where the project holds `fail-VERSION-HOST`.
  func fleetPipeline(
    _ fleet: TestFleet, batch: String, onFailure: String = "rollback", extraHosts: [String] = [],
    ledger: String? = nil, stagingPath: String = "targets/staging", keep: Int = 5
  ) throws {
    let hosts = (fleet.hosts.map(\.name) + extraHosts).joined(separator: ", ")
    let configFile = fleet.sshConfig.path.replacingOccurrences(of: root.path + "/", with: "")
    try pipeline(
      """
      pipeline: web
      keep: \(keep)
      \(ledger.map { "ledger: \($0)" } ?? "")
      environments:
        - name: staging
          target:
            local: \(stagingPath)
          config:
            DATABASE_URL: postgres://db-staging.internal/web
            FAIL_MARKS: \(root.path)
          secrets: [API_TOKEN]
          start: bin/start
        - name: production
          requires: staging
          target:
            ssh:
              hosts: [\(hosts)]
              path: \(fleet.path)
              batch: \(batch)
              ssh_config: \(configFile)
              connect_timeout: 5s
          config:
            DATABASE_URL: postgres://db-prod.internal/web
            FAIL_MARKS: \(root.path)
          secrets: [API_TOKEN]
          start: bin/start
          verify: [health]
          on_failure: \(onFailure)
      checks:
        health:
          command: [bin/healthcheck, "{host}"]
          attempts: 2
          pass: 1
          interval: 10ms
          timeout: 10s
      """)
    environment["API_TOKEN"] = "s3cr3t-token-value-XYZ"
  }

  /// An artifact whose `start` records the version, the database and the host it runs on, and whose health check
  /// fails where the project holds `fail-VERSION-HOST`.
  func fleetArtifact(_ version: String, pausing: Bool = false) throws {
    // With `pausing`, start waits (at most 30 s) for `gate` while the project holds `slow-start`, after writing
    // `in-start`: the hosts see the project's folder, only the target path is their own.
    let pause = """
      if [ -f "$FAIL_MARKS/slow-start" ]; then
        echo $$ > "$FAIL_MARKS/in-start.tmp" && mv "$FAIL_MARKS/in-start.tmp" "$FAIL_MARKS/in-start"
        i=0; while [ ! -f "$FAIL_MARKS/gate" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
      fi

      """
    try artifact(
      version: version,
      start: (pausing ? pause : "")
        + #"echo "$AIRLOCK_VERSION $DATABASE_URL $(cat /srv/airlock-fleet/.name 2>/dev/null)" > ../../started"#,
      files: [:])
    try write(
      "#!/bin/sh\n[ ! -f \"$FAIL_MARKS/fail-$AIRLOCK_VERSION-$1\" ]\n", to: "artifacts/\(version)/bin/healthcheck",
      executable: true)
  }

  /// Deploys `version` to staging and promotes it to the fleet, expecting both to succeed.
  @discardableResult
  func ship(_ version: String, to fleet: TestFleet) async throws -> Run {
    try fleetArtifact(version)
    for host in fleet.hosts {
      try host.name.write(to: host.root.appendingPathComponent(".name"), atomically: true, encoding: .utf8)
    }
    let deploy = try await airlock("deploy", "staging", "--artifact", "artifacts/\(version)", "--version", version)
    #expect(deploy.code == 0, "\(deploy.output)")
    let promote = try await airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    return promote
  }
}

extension TestFleet {
  /// The label `host`'s `current` points at, or nil.
  func current(_ host: Host) -> String? {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: host.root.appendingPathComponent("current").path))
      .map { URL(fileURLWithPath: $0).lastPathComponent }
  }
}

extension TestFleet.Host {
  /// What the release's `start` wrote on this host: version, database and host name.
  var started: URL { root.appendingPathComponent("started") }

  /// The inode and change time of the host's `current` symlink: equal before and after only if it was never
  /// replaced.
  func currentLinkIdentity() throws -> String {
    var info = stat()
    guard lstat(root.appendingPathComponent("current").path, &info) == 0 else { return "none" }
    return "\(info.st_ino)-\(info.st_ctim.tv_sec)-\(info.st_ctim.tv_nsec)"
  }
}
