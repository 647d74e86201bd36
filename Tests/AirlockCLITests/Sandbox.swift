import AirlockTestSupport
import Foundation
import Testing

/// A throwaway project folder for end-to-end tests of the built `airlock` binary: pipelines/, hooks/, artifacts,
/// local targets and the ledger all live inside it, and it is deleted when the test ends.
final class Sandbox {
  let root: URL
  var environment: [String: String]

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key) }
    environment["AIRLOCK_ACTOR"] = "e2e-tester"
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// The result of one run of the binary.
  struct Run {
    var code: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
  }

  /// The `airlock` binary built beside the test bundle.
  static let binary: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("airlock")
  }()

  /// Starts `airlock ARGS` without waiting; `finish` waits for it.
  func start(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = Self.binary
    process.arguments = arguments
    process.currentDirectoryURL = root
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// Runs `airlock ARGS` and waits for it without holding a thread of Swift's cooperative pool.
  ///
  /// Use this form in `async` tests: a synchronous wait blocks one of the pool's few threads for the whole run, and
  /// probes in concurrently running tests, bounded by real-time deadlines, then starve and time out.
  @discardableResult
  func airlock(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> Run {
    await Self.slots.acquire()
    defer { Self.slots.release() }
    return try await run(Self.binary.path, arguments, environment: extra)
  }

  /// At most one `airlock` run per processor at a time across all tests: dozens of tests start at once, and as many
  /// binaries at once would starve every test that measures real time (probe timeouts, heartbeats).
  static let slots = RunSlots(ProcessInfo.processInfo.activeProcessorCount)

  /// Runs stock git against the sandbox's ledger, without holding a thread of the cooperative pool.
  @discardableResult
  func git(_ arguments: String...) async throws -> Run {
    try await run("/usr/bin/git", ["--git-dir", ledger.path] + arguments, environment: [:])
  }

  /// Runs `program` in the sandbox and waits for it to exit, suspended rather than blocking a thread.
  func run(_ program: String, _ arguments: [String], environment extra: [String: String]) async throws -> Run {
    // Whether the child has exited, and the waiter parked until it does (when the waiter comes first).
    let state = LockedValue<(exited: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
    let launched = try launch(program, arguments, environment: extra) { _ in
      let waiter = state.withLock { state in
        state.exited = true
        defer { state.waiter = nil }
        return state.waiter
      }
      waiter?.resume()
    }
    await withCheckedContinuation { continuation in
      let exited = state.withLock { state in
        if !state.exited { state.waiter = continuation }
        return state.exited
      }
      if exited { continuation.resume() }
    }
    launched.process.waitUntilExit()
    return launched.collect()
  }

  /// A started child whose output goes to files (not pipes: a chatty child can never block on a full pipe while we
  /// wait for it).
  struct Launched {
    var process: Process
    var outFile: URL
    var errFile: URL

    /// The exit status and output of the finished child; removes the output files.
    func collect() -> Run {
      defer {
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
      }
      return Run(
        code: process.terminationStatus,
        stdout: String(decoding: (try? Data(contentsOf: outFile)) ?? Data(), as: UTF8.self),
        stderr: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self))
    }
  }

  func launch(
    _ program: String, _ arguments: [String], environment extra: [String: String],
    onExit: (@Sendable (Process) -> Void)? = nil
  ) throws -> Launched {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = root
    process.environment = environment.merging(extra) { $1 }
    let outFile = root.appendingPathComponent(".run-\(UUID().uuidString).out")
    let errFile = root.appendingPathComponent(".run-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outFile)
    process.standardError = try FileHandle(forWritingTo: errFile)
    process.standardInput = FileHandle.nullDevice
    process.terminationHandler = onExit
    do {
      try process.run()
    } catch {
      try? FileManager.default.removeItem(at: outFile)
      try? FileManager.default.removeItem(at: errFile)
      throw error
    }
    return Launched(process: process, outFile: outFile, errFile: errFile)
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
    extraChecks: String = "", secrets: Bool = true
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

  /// Waits for a process from `start` to exit, without holding a thread of the cooperative pool.
  func finish(_ process: Process) async {
    while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    process.waitUntilExit()
  }
}

/// A counting semaphore for async code: `acquire` suspends (never blocks a thread) until a slot is free.
final class RunSlots: Sendable {
  private let state: LockedValue<(free: Int, waiting: [CheckedContinuation<Void, Never>])>

  init(_ count: Int) {
    state = LockedValue((max(count, 1), []))
  }

  func acquire() async {
    await withCheckedContinuation { continuation in
      let granted = state.withLock { state in
        guard state.free > 0 else {
          state.waiting.append(continuation)
          return false
        }
        state.free -= 1
        return true
      }
      if granted { continuation.resume() }
    }
  }

  /// Hands the slot to the longest waiter, or frees it.
  func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.waiting.isEmpty else {
        state.free += 1
        return nil
      }
      return state.waiting.removeFirst()
    }
    next?.resume()
  }
}
