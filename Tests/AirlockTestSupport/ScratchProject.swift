import AirlockKit
import Foundation
import Synchronization

/// A throwaway project folder for one test: `pipelines/`, artifacts, local targets and the ledger all live inside it,
/// and it is deleted when the value is released.
///
/// Every test target builds on this one type: end-to-end tests run the built `airlock` in it, library tests drive
/// `Orchestrator` or `Ledger` over it, `airlock-bench` measures in it. The programs it runs, stock git included, see
/// only `environment`, so neither the developer's shell nor their git config leaks into a test.
public final class ScratchProject: Sendable {
  /// The folder, with symlinks resolved (so it compares equal to what `pwd` prints); a directory URL, so a URL made
  /// `relativeTo:` it lands inside it.
  public let root: URL
  /// The virtual clock operations over the project run on, unless a test passes a real one.
  public let clock: ManualClock
  /// Every progress line the operations over the project reported, in order.
  public let progress = LockedValue<[String]>([])
  private let variables: Mutex<[String: String]>

  /// The actor `environment` names in `AIRLOCK_ACTOR`.
  public static let actor = "e2e-tester"

  /// The environment every program run in the project gets, and the one operations read secrets from: `PATH`,
  /// `HOME`, `LANG` and `TMPDIR` of the test process, `AIRLOCK_ACTOR`, and whatever the test adds.
  public var environment: [String: String] {
    get { variables.withLock { $0 } }
    set { variables.withLock { $0 = newValue } }
  }

  /// A new project folder `LABEL-UUID` under the temporary folder, holding an empty `pipelines/`.
  public init(_ label: String = "airlock-test", clock: ManualClock = ManualClock()) throws {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath()
    root = base.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    self.clock = clock
    var environment = ProcessInfo.processInfo.environment.filter {
      ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key)
    }
    environment["AIRLOCK_ACTOR"] = Self.actor
    variables = Mutex(environment)
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  // MARK: Files

  /// The URL of `relative` inside the project (not created).
  public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

  /// The path of `relative` inside the project (not created).
  public func path(_ relative: String) -> String { url(relative).path }

  /// Writes `text` to `relative`, creating folders; an `executable` file gets mode 755.
  @discardableResult
  public func write(_ text: String, to relative: String, executable: Bool = false) throws -> URL {
    let file = url(relative)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: file, atomically: true, encoding: .utf8)
    if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
    return file
  }

  /// The text of `relative`, or nil when it cannot be read.
  public func read(_ relative: String) -> String? {
    try? String(contentsOf: url(relative), encoding: .utf8)
  }

  /// Whether anything exists at `relative`.
  public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

  /// Makes the folder `relative` holding `files` (path inside it → contents); folders are created as needed.
  @discardableResult
  public func folder(_ relative: String, files: [String: String]) throws -> URL {
    let folder = url(relative)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (file, contents) in files { try write(contents, to: "\(relative)/\(file)") }
    return folder
  }

  /// Waits (at most `seconds`) for the file `relative` and returns its text, or nil if it never came.
  public func waitFor(_ relative: String, seconds: Double = 30) async throws -> String? {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
      if let text = read(relative) { return text }
      try await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  // MARK: Pipelines, artifacts and targets

  /// Writes `text` as the pipeline file `pipelines/NAME.yml`.
  @discardableResult
  public func pipeline(_ text: String, named name: String = "web") throws -> URL {
    try write(text, to: "pipelines/\(name).yml")
  }

  /// The artifact folder `artifacts/VERSION`: a `VERSION` file, an executable `bin/start` when `start` is given (a
  /// shell script body), and `files` (path inside the artifact → contents).
  @discardableResult
  public func artifact(version: String, start: String? = nil, files: [String: String] = [:]) throws -> URL {
    let base = "artifacts/\(version)"
    try write(version + "\n", to: "\(base)/VERSION")
    if let start { try write("#!/bin/sh\n" + start + "\n", to: "\(base)/bin/start", executable: true) }
    for (path, contents) in files { try write(contents, to: "\(base)/\(path)") }
    return url(base)
  }

  /// The local target folder of `environment`, `targets/ENVIRONMENT` (where the standard pipelines put it).
  public func target(_ environment: String) -> URL { url("targets/\(environment)") }

  /// The label `current` points at on the local target of `environment`, or nil.
  public func current(_ environment: String) -> String? {
    (try? FileManager.default.destinationOfSymbolicLink(
      atPath: target(environment).appendingPathComponent("current").path))
      .map { URL(fileURLWithPath: $0).lastPathComponent }
  }

  // MARK: The ledger, seen with stock git

  /// Where the project's ledger lives by default, `.airlock/ledger.git`.
  public var ledgerURL: URL { url(".airlock/ledger.git") }

  /// Opens the project's ledger, creating it unless `create` is false.
  public func openLedger(create: Bool = true) throws -> Ledger {
    try Ledger.open(at: ledgerURL, create: create)
  }

  /// Runs stock git against the project's ledger, with `input` on its standard input (for `mktree`,
  /// `hash-object --stdin`).
  @discardableResult
  public func git(_ arguments: String..., input: Data? = nil) async throws -> Run {
    try await git(arguments: arguments, input: input)
  }

  /// Runs stock git in `directory` (`git -C DIRECTORY`), for repositories other than the project's ledger.
  @discardableResult
  public func git(in directory: URL, _ arguments: String..., input: Data? = nil) async throws -> Run {
    try await git(arguments: arguments, in: directory, input: input)
  }

  /// Runs stock git in `directory`, or against the project's ledger when it is nil, with the system's and the
  /// user's git config shut out.
  @discardableResult
  public func git(arguments: [String], in directory: URL? = nil, input: Data? = nil) async throws -> Run {
    let location = directory.map { ["-C", $0.path] } ?? ["--git-dir", ledgerURL.path]
    return try await run(
      "/usr/bin/git", location + arguments,
      environment: ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_PAGER": "cat"], input: input)
  }

  /// How many commits `branch` of the ledger has (0 when it does not exist).
  public func commitCount(_ branch: String) async throws -> Int {
    let run = try await git("rev-list", "--count", branch, "--")
    return run.code == 0 ? Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 : 0
  }

  /// The one-line messages of `branch`'s newest `count` commits, newest first.
  public func messages(_ branch: String, count: Int) async throws -> [String] {
    try await git("log", "--format=%s", "-\(count)", branch, "--").stdout.split(separator: "\n").map(String.init)
  }

  /// `refs` of the ledger with their targets, to prove a command changed nothing.
  public func ledgerRefs() async throws -> String {
    guard FileManager.default.fileExists(atPath: ledgerURL.path) else { return "<no ledger>" }
    return try await git("for-each-ref", "--format=%(refname) %(objectname)").stdout
  }

  // MARK: Programs

  /// The result of one run of a program.
  public struct Run: Sendable {
    /// The exit status, or the number of the signal that ended the process.
    public var code: Int32
    /// Everything the program wrote to standard output.
    public var stdout: String
    /// Everything the program wrote to standard error.
    public var stderr: String
    /// The signal that ended the process, when one did (then `code` is that signal's number).
    public var signal: Int32? = nil
    /// Standard output followed by standard error, for failure messages.
    public var output: String { stdout + stderr }
    /// Standard output without its final newlines.
    public var trimmed: String { stdout.trimmingCharacters(in: .newlines) }
  }

  /// A program started in the background: its pid, to signal it, and its outcome.
  public struct Started: Sendable {
    /// The process id, which is also its process group when the program makes one of its own.
    public var pid: Int32
    /// Ends with the process.
    public var run: Task<Run, any Error>
  }

  /// Runs `program ARGS` in `directory` (the project when nil) with `environment` plus `extra`, and awaits its exit.
  ///
  /// Awaits the exit without blocking a thread: Swift's cooperative pool has one thread per core, and a test that
  /// blocked one would starve every other test's tasks.
  public func run(
    _ program: String, _ arguments: [String], environment extra: [String: String], directory: URL? = nil,
    input: Data? = nil
  ) async throws -> Run {
    await ProcessSlots.shared.acquire()
    do {
      let run = try spawn(program, arguments, environment: extra, directory: directory, input: input)
      let outcome = try await run.run.value
      await ProcessSlots.shared.release()
      return outcome
    } catch {
      await ProcessSlots.shared.release()
      throw error
    }
  }

  /// Starts `program ARGS`; the returned task ends with the process and never blocks a thread of the pool.
  ///
  /// Not bounded like `run`: a test that signals or races programs needs them all in flight at once.
  ///
  /// posix_spawn rather than Foundation's `Process`: `Process` closes only the descriptors open when it lists them,
  /// so a socket a unit test opens meanwhile leaks into the child and outlives the test's server; it also crashed
  /// under dozens of concurrent launches. Here the child gets only 0, 1 and 2, an empty signal mask and default
  /// signal dispositions (a pool thread blocks every signal, and a child would inherit that).
  public func spawn(
    _ program: String, _ arguments: [String], environment extra: [String: String], directory: URL?, input: Data?
  ) throws -> Started {
    // Files, not pipes: a chatty child can never block on a full pipe while we wait for it.
    let scratch = root.appendingPathComponent(".run-\(UUID().uuidString)")
    let (outFile, errFile, inFile) = (
      scratch.appendingPathExtension("out"), scratch.appendingPathExtension("err"), scratch.appendingPathExtension("in")
    )
    _ = FileManager.default.createFile(atPath: inFile.path, contents: input ?? Data())
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
}
