import AirlockTestSupport
import Foundation
import Synchronization
import Testing

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
    var output: String { stdout + stderr }
  }

  /// The `airlock` binary built beside the test bundle.
  static let binary: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("airlock")
  }()

  /// Runs `airlock ARGS` in the sandbox and waits for it.
  @discardableResult
  func airlock(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> Run {
    await Self.slots.acquire()
    defer { Self.slots.release() }
    return try await run(Self.binary.path, arguments, environment: extra)
  }

  /// At most one `airlock` run per processor at a time across all tests: dozens of tests start at once, and as many
  /// binaries at once would starve every test that measures real time (probe timeouts, heartbeats).
  static let slots = RunSlots(ProcessInfo.processInfo.activeProcessorCount)

  /// Starts `airlock ARGS` in a task of its own; await its `value` for the run.
  ///
  /// It takes no slot: a test that races two runs must be able to start the second while the first waits.
  func launch(_ arguments: [String]) -> Task<Run, any Error> {
    Task { try await run(Self.binary.path, arguments, environment: [:]) }
  }

  /// Runs stock git against the sandbox's ledger.
  @discardableResult
  func git(_ arguments: String...) async throws -> Run {
    try await run("/usr/bin/git", ["--git-dir", ledger.path] + arguments, environment: [:])
  }

  ///
  /// Awaits the exit without blocking a thread: Swift's cooperative pool has one thread per core, and a test that
  /// blocked one would starve every other test's tasks.
  func run(_ program: String, _ arguments: [String], environment extra: [String: String]) async throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = root
    process.environment = environment.merging(extra) { $1 }
    // Files, not pipes: a chatty child can never block on a full pipe while we wait for it.
    let outFile = root.appendingPathComponent(".run-\(UUID().uuidString).out")
    let errFile = root.appendingPathComponent(".run-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: outFile)
      try? FileManager.default.removeItem(at: errFile)
    }
    process.standardOutput = try FileHandle(forWritingTo: outFile)
    process.standardError = try FileHandle(forWritingTo: errFile)
    process.standardInput = FileHandle.nullDevice
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      process.terminationHandler = { _ in continuation.resume() }
      do {
        try process.run()
      } catch {
        process.terminationHandler = nil
        continuation.resume(throwing: error)
      }
    }
    return Run(
      code: process.terminationStatus,
      stdout: String(decoding: (try? Data(contentsOf: outFile)) ?? Data(), as: UTF8.self),
      stderr: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self))
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
