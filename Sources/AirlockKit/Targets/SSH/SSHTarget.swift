internal import CMbedCrypto
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A fleet of hosts reached with the system OpenSSH client, each holding `PATH/releases/<label>/` and a `current`
/// symlink exactly as a `local` target does.
///
/// One command opens one master connection per host (`connect`), in parallel, before anything is read or sent; every
/// later step rides on it. A release is exported from the ledger once per command, packed once, and streamed to each
/// host that does not already hold the same artifact tree (the mark `.airlock/release.json` beside the files says
/// which tree a folder holds); a host that holds it only gets the fresh `.airlock/config.env`. The switch is a new
/// symlink renamed over `current` on each host. `start` and `command` checks run on the hosts (`hostRunner`).
///
/// The rolling steps come from `batch`; the engine switches and verifies them in order.
public final class SSHTarget: Target {
  /// The target as the pipeline declares it.
  public let spec: SSHTargetSpec
  /// The pipeline whose releases the hosts hold; retention deletes only folders marked with it.
  public let pipeline: String
  /// The hosts, parsed, in rollout order; `hosts` holds their names.
  public let fleet: [SSHHost]
  /// How connections are made: the project's ssh_config and known_hosts, if it keeps them, and the connect timeout.
  public let options: SSHConnections.Options
  private let state = Mutex(State())
  private let environment: [String: String]

  private struct State {
    var connections: SSHConnections?
    var progress: (@Sendable (String) -> Void)?
    var started = ContinuousClock.now
    /// Packed releases, by tree id and config: one export and one tar per command, however many steps.
    var bundles: [String: Bundle] = [:]
    /// What each host holds, as read once the connections are open and kept up to date by this command's own
    /// switches and installs (it holds the environment's lease, so nobody else changes the hosts meanwhile).
    var known: [String: HostState] = [:]
    /// Config writes for hosts that already hold the release's tree, sent with the switch in the same exchange.
    var pendingConfig: [String: String] = [:]
    /// The hosts `connect` could not reach, with why: not tried again within the command.
    var unreachable: [String: String]?
  }

  /// One host's `current`, the marks of its release folders, and the SHA-256 of each one's config file.
  struct HostState {
    var current: HostVersion
    var marks: [ReleaseMark]
    var configs: [String: String] = [:]
  }

  /// What is streamed to hosts: a tar of the release, mark and config included.
  private struct Bundle {
    var folder: URL
    var archive: URL
  }

  /// A fleet for `spec`, whose `ssh_config` and `known_hosts` resolve against the project `root`.
  ///
  /// Throws `TargetError` when a host entry cannot be parsed, two entries name the same host (`{host}` could not tell
  /// them apart), or a configured file does not exist.
  public init(
    _ spec: SSHTargetSpec, pipeline: String, root: URL,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws {
    self.spec = spec
    self.pipeline = pipeline
    self.environment = environment.filter { Self.clientVariables.contains($0.key) }
    var fleet: [SSHHost] = []
    for entry in spec.hosts {
      guard let host = SSHHost(entry, user: spec.user, port: spec.port) else {
        throw TargetError(.io, "invalid ssh host '\(entry)': use a name, user@name or name:port")
      }
      if fleet.contains(where: { $0.name == host.name }) {
        throw TargetError(
          .io, "host \(host.name) is listed twice in the ssh target; {host} names one host, so list each once")
      }
      fleet.append(host)
    }
    self.fleet = fleet
    func file(_ path: String?, _ key: String) throws -> URL? {
      guard let path else { return nil }
      let url = URL(resolving: path, under: root)
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw TargetError(.io, "the ssh target's \(key) \(url.path) does not exist")
      }
      return url
    }
    options = SSHConnections.Options(
      configFile: try file(spec.sshConfig, "ssh_config"), knownHosts: try file(spec.knownHosts, "known_hosts"),
      connectTimeout: spec.connectTimeout?.duration ?? .seconds(10))
  }

  deinit {
    disconnect()
  }

  /// What the ssh client inherits from this process: enough to find the user's config, keys and agent.
  static let clientVariables: Set<String> = [
    "PATH", "HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR",
  ]

  /// The hosts' names, in rollout order; `{host}` stands for them.
  public var hosts: [String] { fleet.map(\.name) }

  /// The rolling steps `batch` gives for this many hosts.
  public var steps: [SwitchStep] {
    var steps: [SwitchStep] = []
    var done = 0
    for size in Self.stepSizes(spec.batch, hosts: fleet.count) {
      steps.append(SwitchStep(hosts: hosts[done..<done + size].map { $0 }))
      done += size
    }
    return steps
  }

  /// How many hosts each step switches: `batch` lists how many are switched once each step is done, and its last
  /// entry repeats as an increment until every host is covered (`[5]` is batches of five; `[1, 25%]` a canary, then
  /// quarters). Every step switches at least one host.
  public static func stepSizes(_ batch: [Share], hosts count: Int) -> [Int] {
    guard count > 0 else { return [] }
    let batch = batch.isEmpty ? [Share.count(1)] : batch
    var sizes: [Int] = []
    var done = 0
    while done < count {
      let index = sizes.count
      let total =
        index < batch.count ? max(batch[index].of(count), done + 1) : done + batch[batch.count - 1].of(count)
      let next = min(total, count)
      sizes.append(next - done)
      done = next
    }
    return sizes
  }

  var root: String { spec.path.count > 1 && spec.path.hasSuffix("/") ? String(spec.path.dropLast()) : spec.path }

  /// `PATH/releases/<version>` on every host.
  public func releaseDirectory(_ version: String) -> URL {
    URL(fileURLWithPath: root).appendingPathComponent("releases").appendingPathComponent(version)
  }

  // MARK: Connections

  /// Opens a master connection to every host at once; answers the hosts that failed (unreachable, host key unknown or
  /// changed), each with ssh's reason. Hosts already open are not opened again.
  public func connect(progress: @escaping @Sendable (String) -> Void) async -> [String: String] {
    let connections: SSHConnections
    do {
      connections = try self.connections()
    } catch {
      return Dictionary(uniqueKeysWithValues: hosts.map { ($0, "\(error)") })
    }
    state.withLock {
      $0.progress = progress
      $0.started = ContinuousClock.now
    }
    // What each host holds is read in the exchange that confirms its connection.
    let (failures, answers) = await connections.open(fleet, running: Self.readScript(root: root))
    let reasons = Dictionary(uniqueKeysWithValues: failures.map { ($0.key.name, $0.value) })
    say("connected to \(fleet.count - reasons.count) of \(fleet.count) hosts")
    let opened = fleet.filter { answers[$0] != nil }
    let states = parse(zip(opened, opened.map { answers[$0]! }))
    state.withLock {
      $0.known.merge(states) { $1 }
      $0.unreachable = reasons
    }
    return reasons
  }

  /// Closes every master connection and deletes the packed releases.
  public func disconnect() {
    let (connections, bundles) = state.withLock { state in
      defer {
        state.connections = nil
        state.bundles = [:]
        state.known = [:]
        state.pendingConfig = [:]
        state.unreachable = nil
      }
      return (state.connections, state.bundles.values)
    }
    // The command is done with the hosts; nothing waits for the masters to finish exiting.
    connections?.closeNow(waiting: false)
    for bundle in bundles { try? FileManager.default.removeItem(at: bundle.folder) }
  }

  private func connections() throws -> SSHConnections {
    try state.withLock { state in
      if let connections = state.connections { return connections }
      let made = try SSHConnections(options: options, environment: environment)
      state.connections = made
      return made
    }
  }

  private func say(_ line: String) {
    let (progress, started) = state.withLock { ($0.progress, $0.started) }
    guard let progress else { return }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    progress("  [\(String(format: "%.2f", seconds))s] \(line)")
  }

  private func host(named name: String) -> SSHHost? { fleet.first { $0.name == name } }

  /// Runs `script` on each of `names` at once (at most `parallelism` at a time), with `input` as standard input;
  /// answers one result per host, in order.
  private func each(
    _ names: [String], timeout: Duration?, input: URL? = nil, script: @escaping @Sendable (SSHHost) -> String
  ) async throws -> [(String, ProcessResult)] {
    let connections = try self.connections()
    let fleet = names.map { name in (name, host(named: name)) }
    var results = [(String, ProcessResult)?](repeating: nil, count: fleet.count)
    await withTaskGroup(of: (Int, ProcessResult).self) { group in
      var next = 0
      func startNext() {
        guard next < fleet.count else { return }
        let index = next
        next += 1
        group.addTask {
          guard let host = fleet[index].1 else {
            return (index, ProcessResult(termination: .failedToStart("not a host of this target")))
          }
          return (index, await connections.run(script(host), on: host, timeout: timeout, input: input))
        }
      }
      for _ in 0..<min(Self.parallelism, fleet.count) { startNext() }
      for await (index, result) in group {
        results[index] = (fleet[index].0, result)
        startNext()
      }
    }
    return results.compactMap { $0 }
  }

  /// How many hosts are worked on at once.
  static let parallelism = 32

  /// The outcome of one remote step: succeeded when the script printed `marker`, else why not, naming the host.
  private func outcome(_ name: String, _ result: ProcessResult, marker: String, doing what: String) -> HostSwitch {
    if result.succeeded && result.output.contains(marker) { return .succeeded(name) }
    return .failed(name, failure(name, result, doing: what))
  }

  private func failure(_ name: String, _ result: ProcessResult, doing what: String) -> TargetError {
    let said = result.output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
    switch result.termination {
    case .exited(255):
      return TargetError(.unreachable, "\(name): cannot reach the host to \(what): \(said)")
    case .timedOut:
      return TargetError(.unreachable, "\(name): no answer in time to \(what)")
    case .failedToStart(let why):
      return TargetError(.io, "\(name): cannot run ssh to \(what): \(why)")
    default:
      return TargetError(.io, "\(name): cannot \(what) in \(root): \(said.isEmpty ? result.termination.reason : said)")
    }
  }

  /// How long one remote step may take before the host counts as failed.
  static let stepTimeout: Duration = .seconds(300)

  // MARK: Reading

  /// The label the first reachable host's `current` points at; throws `.unmanaged` when any host's `current` is
  /// not Airlock's, and `.unreachable` when no host can be read.
  public func currentVersion() throws -> String? {
    let versions = try currentVersions()
    if let unmanaged = versions.first(where: { $0.problem != nil && $0.version == nil && isUnmanaged($0) }) {
      throw TargetError(.unmanaged, unmanaged.problem!)
    }
    guard let read = versions.first(where: { $0.problem == nil }) else {
      throw TargetError(.unreachable, versions.compactMap(\.problem).joined(separator: "; "))
    }
    return read.version
  }

  private func isUnmanaged(_ version: HostVersion) -> Bool {
    version.problem?.contains("Airlock did not make") ?? false
  }

  /// Each host's `current`, read in parallel; a host that cannot be read carries its `problem`.
  public func currentVersions() throws -> [HostVersion] {
    let (known, unreachable) = state.withLock { ($0.known, $0.unreachable ?? [:]) }
    let unread = fleet.filter { known[$0.name] == nil && unreachable[$0.name] == nil }
    let read = unread.isEmpty ? [:] : self.read(unread, with: try connections())
    return fleet.map { host in
      if let reason = unreachable[host.name] { return HostVersion(host: host.name, version: nil, problem: reason) }
      return (known[host.name] ?? read[host.name])?.current ?? HostVersion(host: host.name, version: nil)
    }
  }

  /// Reads `current` and the release marks of each of `hosts` at once: one step over each open connection.
  private func read(_ hosts: [SSHHost], with connections: SSHConnections) -> [String: HostState] {
    let script = Self.readScript(root: root)
    return parse(zip(hosts, connections.runAll(script, on: hosts, timeout: options.connectTimeout + .seconds(5))))
  }

  /// What `readScript` printed on each host.
  private func parse(_ answers: some Sequence<(SSHHost, ProcessResult)>) -> [String: HostState] {
    var states: [String: HostState] = [:]
    for (host, result) in answers {
      let lines = result.output.split(whereSeparator: \.isNewline)
      guard result.succeeded, let line = lines.last(where: { $0.hasPrefix("airlock-current ") }) else {
        states[host.name] = HostState(
          current: HostVersion(
            host: host.name, version: nil, problem: failure(host.name, result, doing: "read current").message),
          marks: [])
        continue
      }
      // Each mark is one line of JSON; a line that does not decode (a damaged mark) holds no release.
      let marks = lines.filter { $0.hasPrefix("{") }.compactMap {
        try? JSONDecoder().decode(ReleaseMark.self, from: Data($0.utf8))
      }
      // `HASH  PATH/releases/LABEL/.airlock/config.env`, from sha256sum.
      var configs: [String: String] = [:]
      for line in lines where line.hasSuffix("/.airlock/config.env") && line.count > 66 {
        let hash = String(line.prefix(64))
        let label = line.dropLast("/.airlock/config.env".count).split(separator: "/").last.map(String.init)
        if let label, hash.allSatisfy(\.isHexDigit) { configs[label] = hash }
      }
      states[host.name] = HostState(
        current: parseCurrent(String(line), host: host.name), marks: marks, configs: configs)
    }
    return states
  }

  func parseCurrent(_ line: String, host: String) -> HostVersion {
    let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
    let current = "\(host):\(root)/current"
    switch parts.count >= 2 ? parts[1] : "" {
    case "none":
      return HostVersion(host: host, version: nil)
    case "link" where parts.count == 4:
      let destination = parts[3]
      let label = URL(fileURLWithPath: destination).lastPathComponent
      let inReleases = destination == "releases/\(label)" || destination == "\(root)/releases/\(label)"
      if inReleases && parts[2] == "dir" && !label.hasPrefix(".") { return HostVersion(host: host, version: label) }
      return HostVersion(
        host: host, version: nil,
        problem:
          "\(current) points at \(destination), which is not a release folder under \(root)/releases: a state Airlock "
          + "did not make; point it back (`ln -sfn releases/LABEL \(root)/current` on \(host)) or move it away, then "
          + "run the command again")
    default:
      return HostVersion(
        host: host, version: nil,
        problem:
          "\(current) is not a symlink, so Airlock did not make it; move it away on \(host), then run the command "
          + "again")
    }
  }

  /// Whether every host that can be read holds `version` complete (its folder with a mark).
  public func hasRelease(_ version: String) -> Bool {
    guard let connections = try? self.connections() else { return false }
    let mark = Shell.quote("\(root)/releases/\(version)/\(ReleaseMark.path)")
    let results = connections.runAll("test -f \(mark) && echo airlock-held", on: fleet, timeout: .seconds(30))
    return results.allSatisfy { $0.output.contains("airlock-held") }
  }

  // MARK: Installing and switching

  /// Streams the release to each of `hosts` that does not hold the same tree, and the config to every one of them;
  /// one outcome per host. `export` runs once per command, into a folder on this machine.
  public func install(
    _ release: Release, configText: String, on hosts: [String], export: (URL) throws -> Void
  ) async throws -> [HostSwitch] {
    guard !hosts.isEmpty else { return [] }
    let connections = try self.connections()
    let unread = hosts.compactMap(host(named:)).filter { name in state.withLock { $0.known[name.name] == nil } }
    if !unread.isEmpty {
      let read = await SSHConnections.offThePool { self.read(unread, with: connections) }
      state.withLock { $0.known.merge(read) { $1 } }
    }
    let known = state.withLock { $0.known }
    var fresh: [String] = []
    var held: [String] = []
    var outcomes: [String: HostSwitch] = [:]
    for name in hosts {
      guard let host = known[name], host.current.problem == nil else {
        let problem = known[name]?.current.problem ?? "\(name): not a host of this target"
        outcomes[name] = .failed(name, TargetError(.unreachable, problem))
        continue
      }
      if host.marks.contains(where: { $0.version == release.version && $0.tree == release.id }) {
        held.append(name)
      } else {
        fresh.append(name)
      }
    }
    let shipScript = Self.installScript(root: root, version: release.version)
    // Packed only when some host needs the files: a rollback to a release every host keeps packs nothing.
    let archive = fresh.isEmpty ? nil : try bundle(release, configText: configText, export: export).archive
    for (name, result) in try await each(
      fresh, timeout: Self.stepTimeout, input: archive, script: { _ in shipScript })
    {
      let outcome = outcome(name, result, marker: "airlock-installed", doing: "install \(release.version)")
      outcomes[name] = outcome
      remember(name) { host in
        host.marks.removeAll { $0.version == release.version }
        if outcome.succeeded {
          host.marks.append(ReleaseMark(pipeline: self.pipeline, version: release.version, tree: release.id))
        }
      }
      say("\(name): \(outcome.succeeded ? "sent \(release.version)" : outcome.failure!.message)")
    }
    // A host that holds the tree gets its config with the switch, in one exchange: until then it runs the release it
    // ran, with that release's own config.
    let configScript = Self.configScript(root: root, version: release.version, config: configText)
    let digest = Self.sha256(configText)
    for name in held {
      outcomes[name] = .succeeded(name)
      if known[name]?.configs[release.version] == digest {
        say("\(name): holds \(release.version) already, with the same tree and config")
        continue
      }
      state.withLock { $0.pendingConfig[name] = configScript }
      say("\(name): holds \(release.version) already (same tree): only the config goes, with the switch")
    }
    return hosts.map { outcomes[$0] ?? .failed($0, TargetError(.io, "\($0): not a host of this target")) }
  }

  /// The SHA-256 of `text` in hex, as `sha256sum` prints it.
  static func sha256(_ text: String) -> String {
    let bytes = Array(text.utf8)
    var digest = [UInt8](repeating: 0, count: 32)
    let status = airlock_sha256(bytes, bytes.count, &digest)
    precondition(status == 0, "SHA-256 failed (mbed TLS error \(status))")
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
  }

  /// Updates what this command knows `name` holds.
  private func remember(_ name: String, _ change: @Sendable (inout HostState) -> Void) {
    state.withLock { state in
      guard var host = state.known[name] else { return }
      change(&host)
      state.known[name] = host
    }
  }

  /// Points `current` at `releases/<version>` on each of `hosts` (a fresh symlink renamed over it); one outcome per
  /// host.
  public func activate(_ version: String, on hosts: [String], context: SwitchContext) async throws -> [HostSwitch] {
    let script = Self.activateScript(root: root, version: version)
    let connections = try self.connections()
    let targets = hosts.compactMap(host(named:))
    // A pending config is written first, in a subshell of its own; the switch happens only once it is in place.
    let work = state.withLock { state in
      targets.map { host in
        (host, (state.pendingConfig.removeValue(forKey: host.name).map { "(\n\($0)\n) && " } ?? "") + script)
      }
    }
    let results = await SSHConnections.offThePool {
      connections.runAll(work, timeout: Self.stepTimeout, isolated: false)
    }
    var outcomes: [String: HostSwitch] = [:]
    for (host, result) in zip(targets, results) {
      let outcome = outcome(host.name, result, marker: "airlock-switched", doing: "switch to \(version)")
      outcomes[host.name] = outcome
      remember(host.name) { state in
        state.current =
          outcome.succeeded
          ? HostVersion(host: host.name, version: version)
          : HostVersion(host: host.name, version: nil, problem: outcome.failure!.message)
      }
      if !outcome.succeeded { state.withLock { _ = $0.known.removeValue(forKey: host.name) } }
      say("\(host.name): \(outcome.succeeded ? "current → \(version)" : outcome.failure!.message)")
    }
    return hosts.map { outcomes[$0] ?? .failed($0, TargetError(.io, "\($0): not a host of this target")) }
  }

  /// Deletes this pipeline's releases beyond the newest `keep` on every host, never `current` nor one in
  /// `protecting`; returns the labels deleted anywhere. A host that cannot be reached is reported as an error.
  public func prune(keep: Int, protecting: Set<String>) throws -> [String] {
    let connections = try self.connections()
    let script = Self.pruneScript(root: root, pipeline: pipeline, keep: keep, protecting: protecting)
    // A host known to hold no more than `keep` of this pipeline's releases has nothing to delete.
    let known = state.withLock { $0.known }
    let fleet = self.fleet.filter { host in
      guard let held = known[host.name] else { return true }
      return held.marks.filter { $0.pipeline == pipeline }.count > keep
    }
    let results = connections.runAll(script, on: fleet, timeout: .seconds(120))
    var deleted: [String] = []
    var problems: [String] = []
    for (host, result) in zip(fleet, results) {
      guard result.succeeded else {
        problems.append(failure(host.name, result, doing: "delete old releases").message)
        continue
      }
      for line in result.output.split(whereSeparator: \.isNewline) where line.hasPrefix("airlock-deleted ") {
        let label = String(line.dropFirst("airlock-deleted ".count))
        if !deleted.contains(label) { deleted.append(label) }
        remember(host.name) { $0.marks.removeAll { $0.version == label } }
      }
    }
    if !problems.isEmpty { throw TargetError(.io, problems.joined(separator: "; ")) }
    return deleted
  }

  /// The release packed once for this command: exported, marked, its config written at mode 0600, then tarred.
  private func bundle(_ release: Release, configText: String, export: (URL) throws -> Void) throws -> Bundle {
    let key = release.id.hex + "\u{0}" + release.version + "\u{0}" + configText
    if let bundle = state.withLock({ $0.bundles[key] }) { return bundle }
    var template = Array((NSTemporaryDirectory() + "/airlock-bundle-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw TargetError(.io, "cannot make a folder to pack the release in: \(String(cString: strerror(errno)))")
    }
    let folder = URL(fileURLWithPath: String(cString: made))
    let tree = folder.appendingPathComponent("release")
    do {
      try export(tree)
      try ReleaseFiles.writeMark(
        ReleaseMark(pipeline: pipeline, version: release.version, tree: release.id), into: tree)
      try ReleaseFiles.writeConfig(configText, into: tree)
      let archive = folder.appendingPathComponent("release.tar")
      try Tar.pack(tree, into: archive)
      let bundle = Bundle(folder: folder, archive: archive)
      state.withLock { $0.bundles[key] = bundle }
      return bundle
    } catch {
      try? FileManager.default.removeItem(at: folder)
      throw error
    }
  }

  // MARK: Running on hosts

  /// Runs `start` and `command` checks on the hosts, in the release folder, with the release's config.
  public var hostRunner: (any HostRunner)? { SSHHostRunner(target: self) }

  fileprivate func run(
    _ arguments: [String], on name: String, in directory: String, environment: [String: String], timeout: Duration?
  ) async -> ProcessResult {
    guard let host = host(named: name) else {
      return ProcessResult(termination: .failedToStart("\(name) is not a host of this target"))
    }
    let connections: SSHConnections
    do {
      connections = try self.connections()
    } catch {
      return ProcessResult(termination: .failedToStart("\(error)"))
    }
    // Only the AIRLOCK_* variables travel on the command line; config and secrets come from the release's own
    // config.env on the host, which install wrote at mode 0600, so no secret is ever in a process list.
    let variables = environment.filter { $0.key.hasPrefix("AIRLOCK_") }.sorted { $0.key < $1.key }
      .map { Shell.quote("\($0.key)=\($0.value)") }
    let exports = variables.isEmpty ? "" : "export \(variables.joined(separator: " ")) && "
    let command =
      "cd -- \(Shell.quote(directory)) && set -a && . ./.airlock/config.env && set +a && \(exports)exec "
      + arguments.map(Shell.quote).joined(separator: " ")
    // Over the host's open shell when it has one: one exchange, not one more ssh process per host and probe.
    if let answered = await connections.runInSession(command, on: host, timeout: timeout) { return answered }
    return await connections.run(command, on: host, timeout: timeout)
  }
}

/// Runs processes on the hosts of an ssh target.
struct SSHHostRunner: HostRunner {
  let target: SSHTarget

  func run(
    _ arguments: [String], on host: String, in directory: String, environment: [String: String], timeout: Duration?
  ) async -> ProcessResult {
    await target.run(arguments, on: host, in: directory, environment: environment, timeout: timeout)
  }
}
