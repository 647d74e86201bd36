import AirlockTestSupport
import Foundation
import Testing

/// The fleet the `ssh` target's tests run against: real sshd daemons on their own loopback addresses, each host in
/// its own mount namespace, reached by the system ssh client with strict host key checking.
@Suite struct TestFleetTests {
  @Test func everyHostSeesItsOwnCopyOfThePath() async throws {
    let scratch = try ScratchProject()
    let fleet = try await TestFleet(hosts: 3, in: scratch)
    defer { fleet.stop() }

    for host in fleet.hosts {
      let wrote = try await fleet.ssh(host, "echo \(host.name) > \(fleet.path)/who && cat \(fleet.path)/who")
      #expect(wrote.code == 0, "\(wrote.output)")
      #expect(wrote.stdout == "\(host.name)\n")
    }
    for host in fleet.hosts {
      #expect(try String(contentsOf: host.root.appendingPathComponent("who"), encoding: .utf8) == "\(host.name)\n")
    }
    // Outside the hosts' namespaces the mount point stays empty.
    #expect(try FileManager.default.contentsOfDirectory(atPath: fleet.path).isEmpty)
  }

  @Test func anUnknownOrChangedHostKeyIsRefusedBeforeAnythingRuns() async throws {
    let scratch = try ScratchProject()
    let fleet = try await TestFleet(hosts: 2, in: scratch)
    defer { fleet.stop() }
    let (first, second) = (fleet.hosts[0], fleet.hosts[1])

    try fleet.trust(only: [second])
    let unknown = try await fleet.ssh(first, "touch \(fleet.path)/ran")
    #expect(unknown.code == 255)
    #expect(unknown.stderr.contains("Host key verification failed"), "\(unknown.stderr)")

    try fleet.trust(only: fleet.hosts)
    try await fleet.changeHostKey(of: second)
    let changed = try await fleet.ssh(second, "touch \(fleet.path)/ran")
    #expect(changed.code == 255)
    #expect(changed.stderr.contains("HOST IDENTIFICATION HAS CHANGED"), "\(changed.stderr)")

    for host in fleet.hosts {
      #expect(!FileManager.default.fileExists(atPath: host.root.appendingPathComponent("ran").path))
    }
    // The host that kept its key still answers.
    let trusted = try await fleet.ssh(first, "true")
    #expect(trusted.code == 0, "\(trusted.output)")
  }
}
