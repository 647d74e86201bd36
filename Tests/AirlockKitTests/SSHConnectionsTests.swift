import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

@Suite struct SSHHostTests {
  @Test(
    arguments: [
      ("web1", "web1", nil, nil), ("deploy@web1", "web1", "deploy", nil), ("web1:2222", "web1", nil, 2222),
      ("deploy@web1:2222", "web1", "deploy", 2222), ("[2001:db8::1]:22", "2001:db8::1", nil, 22),
      ("[2001:db8::1]", "2001:db8::1", nil, nil), ("10.0.0.5", "10.0.0.5", nil, nil),
    ] as [(String, String, String?, Int?)])
  func parsesAHostsEntry(entry: String, name: String, user: String?, port: Int?) throws {
    let host = try #require(SSHHost(entry))
    #expect(host == SSHHost(name: name, user: user, port: port))
  }

  @Test func theEntryWinsOverTheTargetsUserAndPort() throws {
    #expect(SSHHost("web1", user: "app", port: 22) == SSHHost(name: "web1", user: "app", port: 22))
    #expect(SSHHost("root@web1:2200", user: "app", port: 22) == SSHHost(name: "web1", user: "root", port: 2200))
  }

  @Test(arguments: [
    "", "@web1", "web1:", "web1:0", "web1:70000", "web1:ssh", "-oProxyCommand=x", "web 1", "[::1", "[::1]x",
  ])
  func refusesWhatIsNotAHost(entry: String) {
    #expect(SSHHost(entry) == nil)
  }

  @Test func printsAsWritten() throws {
    #expect(try #require(SSHHost("deploy@web1:2222")).description == "deploy@web1:2222")
    #expect(try #require(SSHHost("[::1]:22")).description == "[::1]:22")
  }
}

/// The connection pool against the real test fleet: one master per host, commands over it, refusals before
/// anything runs.
@Suite struct SSHConnectionsTests {
  func pool(_ fleet: TestFleet, timeout: Duration = .seconds(5)) throws -> SSHConnections {
    try SSHConnections(
      options: SSHConnections.Options(configFile: fleet.sshConfig, connectTimeout: timeout),
      environment: ["PATH": "/usr/bin:/bin", "HOME": "/root"])
  }

  @Test func oneMasterPerHostCarriesEveryCommandAndCloseEndsThem() async throws {
    let scratch = try ScratchProject()
    let fleet = try await TestFleet(hosts: 3, in: scratch)
    defer { fleet.stop() }
    let connections = try pool(fleet)
    let hosts = fleet.hosts.map { SSHHost(name: $0.name) }

    #expect(await connections.open(hosts).isEmpty)
    for (host, fleetHost) in zip(hosts, fleet.hosts) {
      let check = await connections.run("true", on: host, timeout: .seconds(10))
      #expect(check.succeeded, "\(check.output)")
      let master = await ProcessRunner().run(
        connections.arguments(for: host, ["-O", "check"]), in: nil, environment: [:], timeout: .seconds(5))
      #expect(master.succeeded, "\(master.output)")
      let wrote = await connections.run("echo \(host.name) > \(fleet.path)/who", on: host, timeout: .seconds(10))
      #expect(wrote.succeeded, "\(wrote.output)")
      #expect(try String(contentsOf: fleetHost.root.appendingPathComponent("who"), encoding: .utf8) == "\(host.name)\n")
    }
    await connections.close()
    #expect(!FileManager.default.fileExists(atPath: connections.folder.path))
    // No master outlives the pool: nothing runs with the control folder on its command line.
    let left = await ProcessRunner().run(
      ["/usr/bin/pgrep", "-f", connections.folder.path], in: nil, environment: [:], timeout: .seconds(5))
    #expect(left.termination == .exited(1), "\(left.output)")
  }

  /// The shell each master carries runs Airlock's steps one exchange at a time; a step that outlives its timeout
  /// ends that connection (it would answer into the next step), and later steps reach the host afresh.
  @Test func stepsRunOverTheMastersShellAndATimedOutOneEndsOnlyThatConnection() async throws {
    let scratch = try ScratchProject()
    let fleet = try await TestFleet(hosts: 2, in: scratch)
    defer { fleet.stop() }
    let connections = try pool(fleet)
    let hosts = fleet.hosts.map { SSHHost(name: $0.name) }
    #expect(await connections.open(hosts).isEmpty)

    let answers = connections.runAll(
      [(hosts[0], "set -e; cd /; false; echo never"), (hosts[1], "echo $(( 6 * 7 )); exit 3")], timeout: .seconds(10))
    #expect(answers.map(\.termination) == [.exited(1), .exited(3)])
    #expect(answers[1].output == "42\n")
    // `set -e` and `exit` ended the step's subshell, not the session: the next step runs in the same shell.
    let again = connections.runAll("echo $PPID", on: hosts, timeout: .seconds(10))
    #expect(again.allSatisfy { $0.succeeded }, "\(again)")

    let slow = await connections.runInSession("sleep 5", on: hosts[0], timeout: .milliseconds(300))
    #expect(slow?.termination == .timedOut)
    #expect(await connections.runInSession("true", on: hosts[0], timeout: .seconds(5)) == nil)
    let fresh = connections.runAll("echo back", on: [hosts[0]], timeout: .seconds(10))
    #expect(fresh.first?.output == "back\n", "\(fresh)")
    let other = await connections.runInSession("echo still", on: hosts[1], timeout: .seconds(5))
    #expect(other?.output == "still\n")
    await connections.close()
  }

  @Test func anUnknownHostKeyAndAnUnreachableHostFailAtOpenAndAreNamed() async throws {
    let scratch = try ScratchProject()
    let fleet = try await TestFleet(hosts: 2, in: scratch)
    defer { fleet.stop() }
    try fleet.trust(only: [fleet.hosts[1]])
    let connections = try pool(fleet, timeout: .seconds(2))
    let unknown = SSHHost(name: fleet.hosts[0].name)
    let known = SSHHost(name: fleet.hosts[1].name)
    // Nothing listens on this address of the fleet's range.
    let unreachable = SSHHost(
      name: (fleet.hosts[0].address.split(separator: ".").dropLast() + ["250"]).joined(separator: "."), port: 2222)

    let failures = await connections.open([unknown, known, unreachable])

    #expect(Set(failures.keys) == [unknown, unreachable])
    #expect(failures[unknown]?.contains("Host key verification failed") == true, "\(failures)")
    #expect(failures[unreachable]?.contains("cannot reach \(unreachable): ") == true, "\(failures)")
    #expect(failures[unreachable]?.contains("Connection refused") == true, "\(failures)")
    let ran = await connections.run("touch \(fleet.path)/ran", on: unknown, timeout: .seconds(10))
    #expect(!ran.succeeded)
    #expect(!FileManager.default.fileExists(atPath: fleet.hosts[0].root.appendingPathComponent("ran").path))
    await connections.close()
  }
}
