import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A fleet of real OpenSSH servers on this machine, for the `ssh` target's tests.
///
/// Each host is an `sshd` listening on its own loopback address (all of 127/8 is loopback) in its own mount
/// namespace (`unshare --mount`), where its own folder is bind-mounted on `path`: every host sees its own copy of the
/// same path, as a real fleet does, and the test reads each copy at `Host.root`. Host keys and the client key are
/// generated per fleet; `sshConfig` names every host (`web1` … `webN`) with strict host key checking against
/// `knownHosts`, so the system OpenSSH client reaches them exactly as a user's would. The daemons are stopped by
/// `stop()` or when the fleet is released. Needs root (sshd, unshare, mount) and `openssh-server` (scripts/setup).
public final class TestFleet: @unchecked Sendable {
  /// One host of the fleet.
  public struct Host: Sendable {
    /// Its name in `sshConfig` (`web1`, …).
    public var name: String
    /// The loopback address its sshd listens on.
    public var address: String
    /// The port its sshd listens on.
    public var port: Int
    /// This host's own copy of the fleet's `path`, as the test sees it from outside the host's namespace.
    public var root: URL
    /// The folder of its sshd: configuration, host key, log.
    public var folder: URL
  }

  /// The path every host sees its own copy of.
  public let path: String
  /// The hosts, in order.
  public private(set) var hosts: [Host] = []
  /// An ssh_config naming every host, with the client key and strict host key checking against `knownHosts`.
  public let sshConfig: URL
  /// The known_hosts file with every host's key.
  public let knownHosts: URL
  /// The client's private key, authorised on every host (as root).
  public let clientKey: URL

  private let scratch: ScratchProject
  private let daemons = Mutex<[Int: ScratchProject.Started]>([:])

  /// The mount point every host's namespace binds its own folder on; it exists, empty, outside them.
  public static let defaultPath = "/srv/airlock-fleet"
  /// The port every host's sshd listens on, on its own address.
  public static let port = 2222

  /// Addresses 127.77.F.H: F is this process's next fleet, offset by the pid so parallel test processes differ.
  private static let nextFleet = Atomic<Int>(0)

  /// One fleet starts at a time: the key generations and daemon starts of several fleets at once, at the start of a
  /// test run when every suite starts, would crowd out the real-time probes of the check suites.
  private static let starts = ProcessSlots(limit: 1)

  /// Starts `count` hosts (at most 250) and returns once every one accepts ssh connections.
  public convenience init(hosts count: Int, in scratch: ScratchProject, path: String = TestFleet.defaultPath)
    async throws
  {
    await Self.starts.acquire()
    do {
      try await self.init(starting: count, in: scratch, path: path)
      await Self.starts.release()
    } catch {
      await Self.starts.release()
      throw error
    }
  }

  private init(starting count: Int, in scratch: ScratchProject, path: String) async throws {
    precondition((1...250).contains(count), "a test fleet has 1 to 250 hosts")
    self.scratch = scratch
    self.path = path
    let base = scratch.url("fleet")
    sshConfig = base.appendingPathComponent("ssh_config")
    knownHosts = base.appendingPathComponent("known_hosts")
    clientKey = base.appendingPathComponent("client_ed25519")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    // sshd's privilege separation folder; on a machine where sshd never ran as a service it is missing.
    try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    try await Self.keygen(clientKey, in: scratch)
    let fleet = (Int(getpid()) + Self.nextFleet.add(1, ordering: .relaxed).newValue) % 250 + 1
    for index in 1...count {
      let folder = base.appendingPathComponent("host\(index)")
      let root = folder.appendingPathComponent("root")
      try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
      let host = Host(
        name: "web\(index)", address: "127.77.\(fleet).\(index)", port: Self.port, root: root, folder: folder)
      try await Self.keygen(folder.appendingPathComponent("host_ed25519"), in: scratch)
      hosts.append(host)
    }
    try writeClientFiles()
    for host in hosts { try start(host) }
    for host in hosts { try await waitUntilListening(host) }
  }

  deinit { stop() }

  /// Stops every host's sshd (and with it the host's namespace).
  public func stop() {
    let running = daemons.withLock { daemons in
      defer { daemons = [:] }
      return Array(daemons.values)
    }
    for daemon in running { kill(daemon.pid, SIGKILL) }
  }

  /// Runs `command` on `host` through the system ssh client with the fleet's configuration.
  public func ssh(_ host: Host, _ command: String, options: [String] = []) async throws -> ScratchProject.Run {
    try await scratch.run("/usr/bin/ssh", ["-F", sshConfig.path] + options + [host.name, command], environment: [:])
  }

  /// The known_hosts line of `host`'s current key.
  public func knownHostsLine(_ host: Host) throws -> String {
    let key = try String(contentsOf: host.folder.appendingPathComponent("host_ed25519.pub"), encoding: .utf8)
    let fields = key.split(separator: " ")
    return "[\(host.address)]:\(host.port) \(fields[0]) \(fields[1])"
  }

  /// Rewrites known_hosts with the given hosts' keys only (to make a host unknown, leave it out).
  public func trust(only trusted: [Host]) throws {
    try (trusted.map(knownHostsLine).joined(separator: "\n") + "\n").write(
      to: knownHosts, atomically: true, encoding: .utf8)
  }

  /// Gives `host` a new host key and restarts its sshd: a client that trusted the old key must refuse it.
  public func changeHostKey(of host: Host) async throws {
    guard let index = hosts.firstIndex(where: { $0.name == host.name }) else { return }
    if let daemon = daemons.withLock({ $0.removeValue(forKey: index) }) {
      kill(daemon.pid, SIGKILL)
      _ = try? await daemon.run.value
    }
    let key = host.folder.appendingPathComponent("host_ed25519")
    try? FileManager.default.removeItem(at: key)
    try? FileManager.default.removeItem(at: key.appendingPathExtension("pub"))
    try await Self.keygen(key, in: scratch)
    try start(host)
    try await waitUntilListening(host)
  }

  private static func keygen(_ key: URL, in scratch: ScratchProject) async throws {
    let made = try await scratch.run(
      "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "airlock-test", "-f", key.path],
      environment: [:])
    guard made.code == 0 else { throw ChildProcess.SpawnError(description: "ssh-keygen failed: \(made.output)") }
  }

  private func writeClientFiles() throws {
    try trust(only: hosts)
    let authorized = try String(contentsOf: clientKey.appendingPathExtension("pub"), encoding: .utf8)
    for host in hosts {
      try authorized.write(to: host.folder.appendingPathComponent("authorized_keys"), atomically: true, encoding: .utf8)
      try """
      ListenAddress \(host.address):\(host.port)
      HostKey \(host.folder.path)/host_ed25519
      AuthorizedKeysFile \(host.folder.path)/authorized_keys
      PidFile none
      PermitRootLogin prohibit-password
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      UsePAM no
      StrictModes no
      MaxStartups 100:30:200
      MaxSessions 100
      LogLevel ERROR

      """.write(to: host.folder.appendingPathComponent("sshd_config"), atomically: true, encoding: .utf8)
    }
    var config = hosts.map { host in
      "Host \(host.name)\n  HostName \(host.address)\n  Port \(host.port)\n"
    }
    config.append(
      """
      Host *
        User root
        IdentityFile \(clientKey.path)
        IdentitiesOnly yes
        UserKnownHostsFile \(knownHosts.path)
        GlobalKnownHostsFile /dev/null
        StrictHostKeyChecking yes
        BatchMode yes
        ConnectTimeout 5
        LogLevel ERROR

      """)
    try config.joined().write(to: sshConfig, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: sshConfig.path)
  }

  /// Starts `host`'s sshd in a mount namespace of its own, with the host's folder bound on `path`.
  private func start(_ host: Host) throws {
    // The host's root account gets a plain ~/.bashrc of its own: bash reads it for every ssh command, and the one
    // of this machine's root (a language version manager, say) would cost each command a hundred milliseconds that
    // a fleet host's deploy account does not spend.
    let bashrc = host.folder.appendingPathComponent("bashrc")
    try "".write(to: bashrc, atomically: true, encoding: .utf8)
    let script = #"""
      mount --bind "$1" "$2" && { [ ! -f /root/.bashrc ] || mount --bind "$4" /root/.bashrc; }         && exec /usr/sbin/sshd -D -e -f "$3"
      """#
    let daemon = try scratch.spawn(
      "/usr/bin/unshare",
      [
        "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", host.root.path, path,
        host.folder.appendingPathComponent("sshd_config").path, bashrc.path,
      ], environment: [:], directory: host.folder, input: nil)
    guard let index = hosts.firstIndex(where: { $0.name == host.name }) else { return }
    daemons.withLock { $0[index] = daemon }
  }

  /// Polls `host`'s port until it accepts a TCP connection (or its sshd has died, or five seconds pass).
  private func waitUntilListening(_ host: Host) async throws {
    for _ in 0..<500 {
      if Loopback.accepts(host.address, host.port) { return }
      try await Task.sleep(for: .milliseconds(10))
    }
    throw ChildProcess.SpawnError(
      description: "the sshd of \(host.name) never listened on \(host.address):\(host.port)")
  }
}
