import Foundation
import Testing

@testable import AirlockKit

/// The ssh target's own logic, without a fleet: rolling steps, reading a host's `current`, and refusing a target that
/// cannot be built. The fleet tests (AirlockCLITests) cover what it does on real hosts.
@Suite struct SSHTargetTests {
  @Test(
    arguments: [
      ([Share.count(5)], 20, [5, 5, 5, 5]),
      ([.count(1), .percent(25), .percent(100)], 20, [1, 4, 15]),
      ([.count(1), .percent(25), .percent(100)], 8, [1, 1, 6]),
      ([.count(1), .percent(25), .percent(100)], 1, [1]),
      ([.count(1), .percent(25)], 20, [1, 4, 5, 5, 5]),
      ([.percent(100)], 20, [20]),
      ([.count(50)], 3, [3]),
      ([.count(1)], 3, [1, 1, 1]),
      ([.percent(34)], 6, [3, 3]),
    ] as [([Share], Int, [Int])])
  func batchGivesTheRollingSteps(batch: [Share], hosts: Int, sizes: [Int]) {
    #expect(SSHTarget.stepSizes(batch, hosts: hosts) == sizes)
  }

  @Test func stepsHoldEveryHostOnceInOrder() throws {
    let spec = SSHTargetSpec(
      hosts: (1...7).map { "web\($0)" }, path: "/srv/web", batch: [.count(1), .percent(50)])
    let target = try SSHTarget(spec, pipeline: "web", root: URL(fileURLWithPath: "/project"))
    #expect(target.steps.map(\.hosts) == [["web1"], ["web2", "web3", "web4"], ["web5", "web6", "web7"]])
    #expect(target.releaseDirectory("1.0").path == "/srv/web/releases/1.0")
  }

  @Test func readsAHostsCurrentAsLocalDoes() throws {
    let target = try SSHTarget(
      SSHTargetSpec(hosts: ["web1"], path: "/srv/web/"), pipeline: "web", root: URL(fileURLWithPath: "/p"))
    #expect(target.parseCurrent("airlock-current none", host: "web1") == HostVersion(host: "web1", version: nil))
    #expect(
      target.parseCurrent("airlock-current link dir releases/1.0", host: "web1")
        == HostVersion(host: "web1", version: "1.0"))
    #expect(
      target.parseCurrent("airlock-current link dir /srv/web/releases/2.0", host: "web1")
        == HostVersion(host: "web1", version: "2.0"))
    let elsewhere = target.parseCurrent("airlock-current link dir /opt/app", host: "web1")
    #expect(elsewhere.version == nil)
    #expect(elsewhere.problem?.contains("web1:/srv/web/current points at /opt/app") == true)
    let dangling = target.parseCurrent("airlock-current link missing releases/3.0", host: "web1")
    #expect(dangling.version == nil && dangling.problem?.contains("Airlock did not make") == true)
    let directory = target.parseCurrent("airlock-current other", host: "web1")
    #expect(directory.problem?.contains("is not a symlink") == true)
  }

  @Test func refusesATargetThatCannotBeBuilt() throws {
    let root = URL(fileURLWithPath: "/nonexistent-project")
    let twice = #expect(throws: TargetError.self) {
      try SSHTarget(SSHTargetSpec(hosts: ["web1", "deploy@web1:2222"], path: "/srv"), pipeline: "web", root: root)
    }
    #expect(twice?.message.contains("host web1 is listed twice") == true)
    let missing = #expect(throws: TargetError.self) {
      try SSHTarget(
        SSHTargetSpec(hosts: ["web1"], path: "/srv", sshConfig: "deploy/ssh_config"), pipeline: "web", root: root)
    }
    #expect(missing?.message == "the ssh target's ssh_config /nonexistent-project/deploy/ssh_config does not exist")
  }

  @Test func quotesForTheRemoteShell() {
    #expect(Shell.quote("plain") == "'plain'")
    #expect(Shell.quote("it's $HOME") == #"'it'\''s $HOME'"#)
  }

  @Test func leavesTheKeyExchangeToAConfigThatSetsOne() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kex-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let plain = folder.appendingPathComponent("plain")
    try "Host *\n  User deploy\n".write(to: plain, atomically: true, encoding: .utf8)
    let pinned = folder.appendingPathComponent("pinned")
    try "Host *\n  KexAlgorithms diffie-hellman-group14-sha256\n".write(to: pinned, atomically: true, encoding: .utf8)
    for (file, fast) in [(plain, true), (pinned, false)] {
      let pool = try SSHConnections(options: .init(configFile: file), environment: [:])
      let arguments = pool.arguments(for: SSHHost(name: "web1"))
      #expect(arguments.contains("KexAlgorithms=^curve25519-sha256,curve25519-sha256@libssh.org") == fast)
      pool.closeNow()
    }
  }
}
