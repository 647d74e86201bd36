import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One multiplexed OpenSSH connection per host for the length of one command, through the system `ssh` client.
///
/// `open(_:)` starts a master connection to each host (`ControlMaster`), all in parallel: the key exchange, the host
/// key check and the login happen once per host, and a host that cannot be reached or whose key is unknown or
/// changed fails there, before anything is sent to it. Each master carries a shell (`SSHSession`) that `runAll`
/// sends Airlock's own short steps to; every `run` (a release's program, the release's tar) is a session of its own
/// over the host's master. The control sockets live in a folder of their own under /tmp (mode 0700; a socket path
/// may not exceed 108 bytes, so not under a long `TMPDIR`), and `close()` ends every master and removes the folder.
/// A master also ends when this process does, however it ends: its shell reads end of file.
///
/// The user's ssh configuration keeps working (`~/.ssh/config`, agents, ProxyJump, known_hosts) unless `Options`
/// names a config file or a known_hosts file of the project's; host key checking is always strict and ssh never
/// prompts (`BatchMode`).
public final class SSHConnections: Sendable {
  /// How to reach the hosts.
  public struct Options: Sendable, Hashable {
    /// An ssh_config file to use instead of the user's (`-F`), e.g. one kept in the repository.
    public var configFile: URL?
    /// A known_hosts file to check host keys against instead of the user's.
    public var knownHosts: URL?
    /// How long a host may take to accept the connection.
    public var connectTimeout: Duration
    /// The ssh client to run.
    public var program: String

    /// Options with the user's own ssh configuration and a ten-second connect timeout.
    public init(
      configFile: URL? = nil, knownHosts: URL? = nil, connectTimeout: Duration = .seconds(10), program: String = "ssh"
    ) {
      self.configFile = configFile
      self.knownHosts = knownHosts
      self.connectTimeout = connectTimeout
      self.program = program
    }
  }

  /// How to reach the hosts.
  public let options: Options
  /// The folder holding the control sockets and the masters' log.
  public let folder: URL
  private let runner: ProcessRunner
  private let environment: [String: String]
  private let sessions = Mutex<[SSHHost: SSHSession]>([:])
  /// Whether the ssh configuration in use names its own `KexAlgorithms`, which Airlock then leaves alone.
  private let configSetsKeyExchange: Bool

  /// A pool with no connection yet; `environment` is the ssh client's (an agent's `SSH_AUTH_SOCK`, `HOME`).
  public init(options: Options, environment: [String: String], runner: ProcessRunner = ProcessRunner()) throws {
    self.options = options
    self.environment = environment
    self.runner = runner
    let home = environment["HOME"] ?? NSHomeDirectory()
    let configFile = options.configFile ?? URL(fileURLWithPath: home).appendingPathComponent(".ssh/config")
    configSetsKeyExchange = Self.setsKeyExchange(configFile)
    var template = Array("/tmp/airlock-ssh-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw TargetError(
        .io, "cannot make a folder for ssh control sockets under /tmp: \(String(cString: strerror(errno)))")
    }
    folder = URL(fileURLWithPath: String(cString: made))
  }

  deinit {
    // `close()` is the orderly end; this only reclaims what a caller forgot, without waiting for the masters.
    try? FileManager.default.removeItem(at: folder)
  }

  /// The arguments before the remote command: the client, its options and the destination.
  public func arguments(for host: SSHHost, _ extra: [String] = []) -> [String] {
    var arguments = [options.program]
    if let configFile = options.configFile { arguments += ["-F", configFile.path] }
    // A host whose master is gone (ended after a step outlived its timeout, say) is reached directly: its socket
    // may linger for a moment, and a client that found it would fail rather than connect on its own.
    let master = sessions.withLock { $0[host]?.isAlive == true }
    let opening = extra.contains("ControlMaster=yes")
    var settings = [
      "ControlPath=\(master || opening ? "\(folder.path)/%C" : "none")", "StrictHostKeyChecking=yes", "BatchMode=yes",
      "ConnectTimeout=\(max(1, Int(options.connectTimeout.components.seconds)))",
    ]
    if let knownHosts = options.knownHosts {
      settings += ["UserKnownHostsFile=\(knownHosts.path)", "GlobalKnownHostsFile=/dev/null"]
    }
    if !configSetsKeyExchange {
      // Curve25519 first: OpenSSH 9's default, the post-quantum sntrup761 hybrid, costs several milliseconds of CPU
      // per connection, which a fleet of parallel connections on a small runner feels.
      settings.append("KexAlgorithms=^curve25519-sha256,curve25519-sha256@libssh.org")
    }
    for setting in settings { arguments += ["-o", setting] }
    if let user = host.user { arguments += ["-l", user] }
    if let port = host.port { arguments += ["-p", String(port)] }
    return arguments + extra + ["--", host.name]
  }

  /// Opens a master connection to each host, in parallel, each carrying a shell for `runAll`; returns the hosts that
  /// failed, each with ssh's reason.
  ///
  /// A host already open is not opened again.
  public func open(_ hosts: [SSHHost]) async -> [SSHHost: String] {
    await Self.offThePool { self.openNow(hosts) }
  }

  /// `open`, then `script` run on each host that opened, in the same exchange that confirms the connection; answers
  /// the failures and each opened host's result. The script runs in the session's shell itself: it must not exit,
  /// set options or change folder.
  public func open(
    _ hosts: [SSHHost], running script: String
  ) async -> (failures: [SSHHost: String], answers: [SSHHost: ProcessResult]) {
    await Self.offThePool {
      let answers = Mutex<[SSHHost: ProcessResult]>([:])
      let failures = self.openNow(hosts, greeting: script) { host, result in answers.withLock { $0[host] = result } }
      return (failures, answers.withLock { $0 })
    }
  }

  /// `open`, waiting on the calling thread; `greeting` (default: an echo) is the first step of each new connection,
  /// and `answered` receives its result for each host that opened.
  func openNow(
    _ hosts: [SSHHost], greeting: String = "true",
    answered: (SSHHost, ProcessResult) -> Void = { _, _ in }
  ) -> [SSHHost: String] {
    let fresh = Array(Set(sessions.withLock { sessions in hosts.filter { sessions[$0]?.isAlive != true } }))
    var failures: [SSHHost: String] = [:]
    // At most `handshakes` key exchanges at once: a fleet of hundreds connects in waves, not in one burst.
    for start in stride(from: 0, to: fresh.count, by: Self.handshakes) {
      let wave = fresh[start..<min(start + Self.handshakes, fresh.count)]
      failures.merge(openWave(Array(wave), numbering: start, greeting: greeting, answered: answered)) { $1 }
    }
    return failures
  }

  /// How many connections are opened at once.
  static let handshakes = 64

  private func openWave(
    _ fresh: [SSHHost], numbering first: Int, greeting: String, answered: (SSHHost, ProcessResult) -> Void
  ) -> [SSHHost: String] {
    var failures: [SSHHost: String] = [:]
    var started: [(SSHHost, SSHSession, String)] = []
    for (offset, host) in fresh.enumerated() {
      let index = first + offset
      // -E: ssh's own messages go to a file of the host's, read when the connection fails.
      let log = folder.appendingPathComponent("\(index).log").path
      let arguments =
        self.arguments(
          for: host, ["-M", "-E", log, "-o", "ControlMaster=yes", "-o", "ControlPersist=no"]) + ["exec /bin/sh"]
      guard let session = SSHSession.start(arguments, environment: environment) else {
        failures[host] = "cannot run \(options.program) for \(host): \(String(cString: strerror(errno)))"
        continue
      }
      started.append((host, session, log))
    }
    let ready = SSHSession.runAll(
      started.map { ($0.1, greeting) }, timeout: options.connectTimeout + .seconds(5), isolated: false)
    for ((host, session, log), result) in zip(started, ready) {
      // The step ran to its end marker: the shell is there, whatever the step itself answered.
      if let status = result.status {
        sessions.withLock { $0[host] = session }
        answered(host, ProcessResult(termination: .exited(status), output: result.output))
      } else {
        session.close()
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        failures[host] = Self.reason(
          ProcessResult(termination: result.timedOut ? .timedOut : .exited(255)), said: said, host: host)
      }
    }
    return failures
  }

  /// Runs each script on its host, all at once, waiting on the calling thread: over the host's open shell when it
  /// has one (a few lines over an open channel), else with a new ssh connection. One result per entry, in order.
  /// Without `isolated`, a script runs in the session's shell itself rather than a subshell (see `SSHSession`).
  public func runAll(_ work: [(SSHHost, String)], timeout: Duration?, isolated: Bool = true) -> [ProcessResult] {
    let open = sessions.withLock { sessions in work.map { sessions[$0.0].flatMap { $0.isAlive ? $0 : nil } } }
    var results = [ProcessResult?](repeating: nil, count: work.count)
    let viaSession = work.indices.filter { open[$0] != nil }
    let answered = SSHSession.runAll(
      viaSession.map { (open[$0]!, work[$0].1) }, timeout: timeout ?? .seconds(3600), isolated: isolated)
    for (index, answer) in zip(viaSession, answered) {
      let termination: ProcessResult.Termination =
        answer.timedOut ? .timedOut : answer.status.map { .exited($0) } ?? .exited(255)
      results[index] = ProcessResult(termination: termination, output: answer.output)
    }
    let direct = work.indices.filter { open[$0] == nil }
    let ran = runner.runAll(
      direct.map { arguments(for: work[$0].0, ["-o", "ControlMaster=no"]) + [work[$0].1] }, environment: environment,
      timeout: timeout)
    for (index, result) in zip(direct, ran) { results[index] = result }
    return results.map { $0! }
  }

  /// Runs `command` on `host` over its open shell, bounded by `timeout`; `nil` when the host has no open shell. A
  /// command that outlives its timeout ends the host's connection (later steps connect afresh).
  public func runInSession(_ command: String, on host: SSHHost, timeout: Duration?) async -> ProcessResult? {
    guard let session = sessions.withLock({ $0[host] }), session.isAlive else { return nil }
    return await Self.offThePool {
      let answer = SSHSession.runAll([(session, command)], timeout: timeout ?? .seconds(3600))[0]
      let termination: ProcessResult.Termination =
        answer.timedOut ? .timedOut : answer.status.map { .exited($0) } ?? .exited(255)
      return ProcessResult(termination: termination, output: answer.output)
    }
  }

  /// Runs `body` on a thread of its own, so a wait on ssh never holds one of Swift's cooperative threads.
  static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      let thread = Thread { continuation.resume(returning: body()) }
      thread.name = "airlock.ssh"
      thread.start()
    }
  }

  /// Runs `command` (a shell command line, as ssh always passes it) on `host` over its master connection, with
  /// `input` as its standard input.
  ///
  /// Without an open master ssh connects on its own, with the same checks.
  public func run(_ command: String, on host: SSHHost, timeout: Duration?, input: URL? = nil) async -> ProcessResult {
    await runner.run(
      arguments(for: host, ["-o", "ControlMaster=no"]) + [command], in: nil, environment: environment,
      timeout: timeout, input: input)
  }

  /// Runs `command` on each of `hosts` at once and waits on the calling thread; one result per host, in order.
  public func runAll(_ command: String, on hosts: [SSHHost], timeout: Duration?) -> [ProcessResult] {
    runAll(hosts.map { ($0, command) }, timeout: timeout)
  }

  /// Ends every master connection and removes the control folder; with `waiting`, returns once every master has
  /// exited, else at once (they are ending: their shells read end of file) while a thread reaps them.
  public func closeNow(waiting: Bool = true) {
    let open = sessions.withLock { sessions in
      defer { sessions = [:] }
      return Array(sessions.values)
    }
    SSHSession.close(open, waiting: waiting)
    try? FileManager.default.removeItem(at: folder)
  }

  /// Whether `file` (an ssh_config) sets `KexAlgorithms` anywhere; files it includes are not followed.
  static func setsKeyExchange(_ file: URL) -> Bool {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { return false }
    return text.split(whereSeparator: \.isNewline).contains { line in
      line.drop { $0 == " " || $0 == "\t" }.lowercased().hasPrefix("kexalgorithms")
    }
  }

  /// Ends every master connection and removes the control folder.
  public func close() async {
    await Self.offThePool { self.closeNow() }
  }

  /// One line saying why ssh could not reach `host`: the last line it said, or how it ended.
  static func reason(_ result: ProcessResult, said output: String, host: SSHHost) -> String {
    let said = output.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) }
    switch result.termination {
    case .failedToStart(let why): return "cannot run ssh for \(host): \(why)"
    case .timedOut: return "\(host) did not answer in time"
    default: return "cannot reach \(host): \(said ?? "ssh exited without a message")"
    }
  }
}
