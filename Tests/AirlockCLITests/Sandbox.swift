import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A throwaway project folder for end-to-end tests of the built `airlock` binary: pipelines/, hooks/, artifacts,
/// local targets and the ledger all live inside it, and it is deleted when the test ends.
final class Sandbox: Sendable {
  let root: URL
  private let variables: Mutex<[String: String]>

  /// The environment every run of the binary gets.
  var environment: [String: String] {
    get { variables.withLock { $0 } }
    set { variables.withLock { $0 = newValue } }
  }

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    var environment = ProcessInfo.processInfo.environment.filter {
      ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key)
    }
    environment["AIRLOCK_ACTOR"] = "e2e-tester"
    variables = Mutex(environment)
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// The result of one run of the binary.
  struct Run {
    var code: Int32
    var stdout: String
    var stderr: String
    /// The signal that ended the process, when one did (then `code` is that signal's number).
    var signal: Int32? = nil
    var output: String { stdout + stderr }
  }

  /// A run of a program started in the background: its pid, to signal it, and its outcome.
  struct Started: Sendable {
    var pid: Int32
    var run: Task<Run, any Error>
  }

  /// The `airlock` binary built beside the test bundle.
  static let binary: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("airlock")
  }()

  /// Runs `airlock ARGS` in the sandbox and waits for it.
  @discardableResult
  func airlock(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> Run {
    try await run(Self.binary.path, arguments, environment: extra)
  }

  /// Runs `airlock ARGS` in `directory` (the sandbox when `nil`) and waits for it.
  @discardableResult
  func airlock(
    _ arguments: [String], environment extra: [String: String] = [:], in directory: URL? = nil
  ) async throws -> Run {
    try await run(Self.binary.path, arguments, environment: extra, directory: directory)
  }

  /// Starts `airlock ARGS` in a task of its own; await its `value` for the run.
  ///
  /// Not bounded by `ProcessSlots`: a race needs every run in flight at once.
  func launch(_ arguments: [String]) -> Task<Run, any Error> {
    Task { try await spawn(Self.binary.path, arguments, environment: [:], directory: nil, input: nil).run.value }
  }

  /// Starts `airlock ARGS` and returns at once with its pid, so a test can signal it while it runs.
  func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Started {
    try spawn(Self.binary.path, arguments, environment: extra, directory: nil, input: nil)
  }

  /// Runs stock git against the sandbox's ledger.
  @discardableResult
  func git(_ arguments: String...) async throws -> Run {
    try await run("/usr/bin/git", ["--git-dir", ledger.path] + arguments, environment: [:])
  }

  /// Runs stock git against the ledger with `input` on its standard input (for `mktree`, `hash-object --stdin`).
  @discardableResult
  func git(input: String, _ arguments: String...) async throws -> Run {
    try await run("/usr/bin/git", ["--git-dir", ledger.path] + arguments, environment: [:], input: input)
  }

  /// How many commits `branch` of the ledger has (0 when it does not exist).
  func commitCount(_ branch: String) async throws -> Int {
    let run = try await git("rev-list", "--count", branch, "--")
    return run.code == 0 ? Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 : 0
  }

  /// The one-line messages of `branch`'s newest `count` commits, newest first.
  func messages(_ branch: String, count: Int) async throws -> [String] {
    try await git("log", "--format=%s", "-\(count)", branch, "--").stdout.split(separator: "\n").map(String.init)
  }

  /// Runs `program ARGS` in `directory` (the sandbox when `nil`) and awaits its exit.
  ///
  /// Awaits the exit without blocking a thread: Swift's cooperative pool has one thread per core, and a test that
  /// blocked one would starve every other test's tasks.
  func run(
    _ program: String, _ arguments: [String], environment extra: [String: String], directory: URL? = nil,
    input: String? = nil
  ) async throws -> Run {
    await ProcessSlots.shared.acquire()
    do {
      let run = try await spawn(program, arguments, environment: extra, directory: directory, input: input).run.value
      await ProcessSlots.shared.release()
      return run
    } catch {
      await ProcessSlots.shared.release()
      throw error
    }
  }

  /// Starts `program ARGS`; the returned task ends with the process and never blocks a thread of the pool.
  ///
  /// posix_spawn rather than Foundation's `Process`: `Process` closes only the descriptors open when it lists them,
  /// so a socket a unit test opens meanwhile leaks into the child and outlives the test's server; it also crashed
  /// under dozens of concurrent launches. Here the child gets only 0, 1 and 2, an empty signal mask and default
  /// signal dispositions (a pool thread blocks every signal, and a child would inherit that).
  func spawn(
    _ program: String, _ arguments: [String], environment extra: [String: String], directory: URL?, input: String?
  ) throws -> Started {
    // Files, not pipes: a chatty child can never block on a full pipe while we wait for it.
    let scratch = root.appendingPathComponent(".run-\(UUID().uuidString)")
    let (outFile, errFile, inFile) = (
      scratch.appendingPathExtension("out"), scratch.appendingPathExtension("err"), scratch.appendingPathExtension("in")
    )
    _ = FileManager.default.createFile(atPath: inFile.path, contents: Data((input ?? "").utf8))
    let cleanUp = {
      for file in [outFile, errFile, inFile] { try? FileManager.default.removeItem(at: file) }
    }
    let pid: pid_t
    do {
      pid = try ChildProcess.spawn(
        [program] + arguments, environment: environment.merging(extra) { $1 }, directory: directory ?? root,
        stdin: input == nil ? "/dev/null" : inFile.path, stdout: outFile.path, stderr: errFile.path)
    } catch {
      cleanUp()
      throw error
    }
    let outcome = Task { () async throws -> Run in
      let status = await ChildProcess.exit(of: pid)
      defer { cleanUp() }
      return Run(
        code: status.code,
        stdout: String(decoding: (try? Data(contentsOf: outFile)) ?? Data(), as: UTF8.self),
        stderr: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self),
        signal: status.signal)
    }
    return Started(pid: pid, run: outcome)
  }

  var ledger: URL { root.appendingPathComponent(".airlock/ledger.git") }

  func target(_ environment: String) -> URL { root.appendingPathComponent("targets/\(environment)") }

  /// The label `current` points at on a local target, or nil.
  func current(_ environment: String) -> String? {
    (try? FileManager.default.destinationOfSymbolicLink(
      atPath: target(environment).appendingPathComponent("current").path))
      .map { URL(fileURLWithPath: $0).lastPathComponent }
  }

  func write(_ text: String, to path: String, executable: Bool = false) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
    if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
  }

  func read(_ path: String) -> String? {
    try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) }

  /// An artifact folder with a start script, a health check that passes only when `healthy`, and `VERSION`.
  func artifact(_ name: String, healthy: Bool = true) throws -> String {
    let path = "artifacts/\(name)"
    try write(name + "\n", to: "\(path)/VERSION")
    try write(
      "#!/bin/sh\nmkdir -p .airlock && echo \"$AIRLOCK_VERSION $DATABASE_URL\" > .airlock/started\n",
      to: "\(path)/bin/start", executable: true)
    try write(
      "#!/bin/sh\n[ -f .airlock/started ] && [ -f healthy ]\n", to: "\(path)/bin/healthcheck", executable: true)
    if healthy { try write("ok\n", to: "\(path)/healthy") }
    return path
  }

  /// The standard two-environment pipeline used by most tests, with knobs for what each test varies.
  func pipeline(
    keep: Int = 5, stagingVerify: String = "[health]", productionOnFailure: String = "rollback",
    extraChecks: String = "", secrets: Bool = true, productionApproval: Bool = false, stagingPreflight: String? = nil
  ) throws {
    try write(
      """
      pipeline: web
      keep: \(keep)
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            DATABASE_URL: postgres://db-staging.internal/web
          \(secrets ? "secrets: [API_TOKEN]" : "")
          start: bin/start
          verify: \(stagingVerify)
          \(stagingPreflight.map { "preflight: \($0)" } ?? "")
        - name: production
          requires: staging
          target:
            local: targets/production
          config:
            DATABASE_URL: postgres://db-prod.internal/web
          \(secrets ? "secrets: [API_TOKEN]" : "")
          start: bin/start
          verify: [health]
          on_failure: \(productionOnFailure)
          \(productionApproval ? "approval: required" : "")
      checks:
        health:
          command: [bin/healthcheck]
          attempts: 2
          pass: 1
          interval: 10ms
          timeout: 5s
      \(extraChecks)
      """, to: "pipelines/web.yml")
    environment["API_TOKEN"] = "s3cr3t-token-value-XYZ"
  }

  /// `refs` of the ledger with their targets, to prove a command changed nothing.
  func ledgerRefs() async throws -> String {
    guard FileManager.default.fileExists(atPath: ledger.path) else { return "<no ledger>" }
    return try await git("for-each-ref", "--format=%(refname) %(objectname)").stdout
  }

  /// An artifact like `artifact(_:)` whose `start` and health check pause while the sandbox holds `slow-start` or
  /// `slow-verify`: each writes its pid to `in-start` / `in-verify`, then waits (at most 30 s) for `gate`.
  ///
  /// The pid is the process group too (the runner starts every program in a group of its own), so a test can end
  /// everything the script started.
  func gatedArtifact(_ name: String) throws -> String {
    let path = try artifact(name)
    func pause(_ phase: String) -> String {
      let flag = root.appendingPathComponent("slow-\(phase)").path
      let marker = root.appendingPathComponent("in-\(phase)").path
      let gate = root.appendingPathComponent("gate").path
      return """
        if [ -f "\(flag)" ]; then
          echo $$ > "\(marker).tmp" && mv "\(marker).tmp" "\(marker)"
          i=0; while [ ! -f "\(gate)" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
        fi
        """
    }
    try write(
      "#!/bin/sh\nmkdir -p .airlock && echo \"$AIRLOCK_VERSION $DATABASE_URL\" > .airlock/started\n"
        + pause("start") + "\n", to: "\(path)/bin/start", executable: true)
    try write(
      "#!/bin/sh\n" + pause("verify") + "\n[ -f .airlock/started ] && [ -f healthy ]\n", to: "\(path)/bin/healthcheck",
      executable: true)
    return path
  }

  /// Waits (at most `seconds`) for a file in the sandbox and returns its text, or nil if it never came.
  func waitFor(_ path: String, seconds: Double = 30) async throws -> String? {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
      if let text = read(path) { return text }
      try await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  /// Pids of the processes still alive (zombies excluded) in process group `group`, read from /proc.
  static func livingProcesses(inGroup group: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
      guard let pid = Int32(entry),
        let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return nil }
      // After "(comm)": state, ppid, pgrp, ...
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 2, fields[0] != "Z", Int32(fields[2]) == group else { return nil }
      return pid
    }
  }
}

/// Bounds how many programs the sandboxes of all tests run to completion at once.
///
/// Dozens of end-to-end tests run in parallel, each starting process after process; unbounded, they bury the unit
/// tests' real-time probes (HTTP, TCP, command checks with second-scale timeouts) under their load. Runs started in
/// the background (`start`, `launch`) are not counted: a test that signals or races them needs them all in flight.
actor ProcessSlots {
  static let shared = ProcessSlots(limit: max(2, ProcessInfo.processInfo.activeProcessorCount))

  private var free: Int
  private var waiting: [CheckedContinuation<Void, Never>] = []

  init(limit: Int) {
    free = limit
  }

  func acquire() async {
    if free > 0 {
      free -= 1
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }

  func release() {
    if waiting.isEmpty {
      free += 1
    } else {
      waiting.removeFirst().resume()
    }
  }
}

/// Starting and awaiting child processes for the sandboxes, with posix_spawn.
enum ChildProcess {
  struct SpawnError: Error, CustomStringConvertible {
    var description: String
  }

  /// Starts `arguments[0]` (a path) with the standard streams opened on the given files; returns its pid.
  static func spawn(
    _ arguments: [String], environment: [String: String], directory: URL, stdin: String, stdout: String,
    stderr: String
  ) throws -> pid_t {
    guard let addChdir = addChdir, let addCloseFrom = addCloseFrom else {
      throw SpawnError(description: "posix_spawn_file_actions_addchdir_np/addclosefrom_np are missing")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = addCloseFrom(&actions, 3)
    _ = addChdir(&actions, directory.path)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var all = sigset_t()
    sigfillset(&all)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    var status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    // ETXTBSY: a script just written by this process is still open in another thread's child between fork and exec.
    for attempt in 1...20 where status == ETXTBSY {
      usleep(useconds_t(attempt * 2_000))
      status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    }
    guard status == 0 else {
      throw SpawnError(description: "cannot run \(arguments[0]): \(String(cString: strerror(status)))")
    }
    return pid
  }

  /// Waits for `pid` on a thread of its own (never one of the pool's) and returns how it ended.
  static func exit(of pid: pid_t) async -> (code: Int32, signal: Int32?) {
    await withCheckedContinuation { continuation in
      let thread = Thread {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // The W* macros are not imported into Swift; these follow their glibc definitions.
        let signal = status & 0x7f
        continuation.resume(returning: signal == 0 ? ((status >> 8) & 0xff, nil) : (signal, signal))
      }
      thread.start()
    }
  }

  private typealias AddChdir =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
  private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  private static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
  private static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

  private static func symbol<T>(_ name: String) -> T? {
    guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
    return unsafeBitCast(address, to: T.self)
  }
}
