import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How a program run by `ProcessRunner` ended, and what it printed.
public struct ProcessResult: Sendable, Hashable {
  /// Why the program stopped running.
  public enum Termination: Sendable, Hashable {
    /// The program exited with this status.
    case exited(Int32)
    /// The program was ended by this signal (not by the runner's timeout).
    case signaled(Int32)
    /// The timeout elapsed; the runner terminated the program's whole process group.
    case timedOut
    /// The program never ran; the reason is one short line such as `not found: NAME`,
    /// `permission denied: PATH` or `no such directory: DIR`.
    case failedToStart(String)
  }

  /// Why the program stopped running.
  public var termination: Termination
  /// The last 64 KiB of standard output and standard error, interleaved as written, decoded as UTF-8 (lossy).
  public var output: String
  /// Wall time from the start of the program to the end of the run.
  public var duration: Duration

  /// Creates a result; the runner does this, tests and callers that fake a runner may too.
  public init(termination: Termination, output: String = "", duration: Duration = .zero) {
    self.termination = termination
    self.output = output
    self.duration = duration
  }

  /// Whether the program exited with status 0.
  public var succeeded: Bool { termination == .exited(0) }
}

/// Runs a program without a shell, in its own process group, with a timeout that ends the whole group.
///
/// The child starts with standard input from `/dev/null`, standard output and standard error captured together,
/// default signal dispositions, an empty signal mask and no inherited descriptors beyond those three. Because the
/// child leads a new process group, a timeout reaches everything it started (a shell's background jobs included):
/// the group gets `SIGTERM`, then `SIGKILL` once the program has exited or `killGrace` has passed, whichever is
/// first, so nothing it started outlives a timeout.
///
/// When the program exits on its own, processes it left running in its group are not touched, so a `start` script
/// may launch a server; their output after that moment is not captured, and they should redirect it.
///
/// The waiting happens on a dedicated thread, never on Swift's cooperative pool. Cancelling the calling task
/// terminates the process group the same way a timeout does (the result is then `signaled`); a task cancelled
/// before the call starts nothing and gets `failedToStart("cancelled")`.
public struct ProcessRunner: Sendable {
  /// How long the process group may take to exit after `SIGTERM` before it gets `SIGKILL`.
  public var killGrace: Duration

  /// Runs `body` with a temporary file holding `data`, for a program's standard input, and removes the file
  /// afterwards; `body` gets why the file could not be written instead, when it could not.
  static func withInputFile<T>(_ data: Data, _ body: (Result<URL, any Error>) async -> T) async -> T {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-input-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: file) }
    do {
      try data.write(to: file)
    } catch {
      return await body(.failure(error))
    }
    return await body(.success(file))
  }

  /// Creates a runner whose timeouts allow `killGrace` between `SIGTERM` and `SIGKILL`.
  public init(killGrace: Duration = .seconds(2)) {
    self.killGrace = killGrace
  }

  /// Runs `arguments[0]` with the remaining arguments and waits for it to end.
  ///
  /// A bare program name is looked up in the `PATH` of `environment` (or, when that has none, the `PATH` of this
  /// process); a relative path containing a slash resolves against `directory`.
  /// - Parameters:
  ///   - arguments: the program and its arguments; never interpreted by a shell.
  ///   - directory: the child's working directory; `nil` keeps this process's.
  ///   - environment: the complete environment of the child (callers merge what they need).
  ///   - timeout: how long the program may run; `nil` for no limit.
  ///   - input: a file the program reads as standard input (a release's tar for `ssh`, say); `nil` for
  ///     `/dev/null`. One that cannot be opened is `failedToStart("cannot read input: PATH")`.
  ///   - discardingStandardError: send standard error to `/dev/null`, so `output` is standard output alone (a
  ///     secret's value, which must not be mixed with a program's complaints).
  public func run(
    _ arguments: [String], in directory: URL?, environment: [String: String], timeout: Duration?,
    input: URL? = nil, discardingStandardError: Bool = false
  ) async -> ProcessResult {
    let start = ContinuousClock.now
    if Task.isCancelled { return ProcessResult(termination: .failedToStart("cancelled")) }
    let spawned: SpawnedProcess
    switch SpawnedProcess.spawn(
      arguments, in: directory, environment: environment, input: input, discardingStandardError: discardingStandardError
    )
    {
    case .failure(let failure):
      return ProcessResult(termination: .failedToStart(failure.reason), duration: ContinuousClock.now - start)
    case .success(let process):
      spawned = process
    }
    let grace = killGrace
    let result = await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<ProcessResult, Never>) in
        // A dedicated thread, because the run blocks in poll(2) for as long as the program runs.
        let thread = Thread {
          continuation.resume(returning: spawned.supervise(timeout: timeout, killGrace: grace, start: start))
        }
        thread.name = "airlock.process.\(spawned.pid)"
        thread.start()
      }
    } onCancel: {
      spawned.requestTermination()
    }
    return result
  }
}

extension ProcessRunner {
  /// Starts every command of `commands` at once, then waits for all of them on the calling thread; one result per
  /// command, in order.
  ///
  /// For synchronous callers that must not wait on Swift's cooperative pool, such as a fleet's `currentVersion()`
  /// read by `status`: the programs run in parallel, so the wait is the slowest one's, each bounded by `timeout`.
  public func runAll(
    _ commands: [[String]], environment: [String: String], timeout: Duration?
  ) -> [ProcessResult] {
    let start = ContinuousClock.now
    let spawned = commands.map { SpawnedProcess.spawn($0, in: nil, environment: environment, input: nil) }
    return spawned.map { outcome in
      switch outcome {
      case .failure(let failure):
        return ProcessResult(termination: .failedToStart(failure.reason), duration: ContinuousClock.now - start)
      case .success(let process):
        return process.supervise(timeout: timeout, killGrace: killGrace, start: start)
      }
    }
  }
}

/// Why a program could not be started; `reason` is the line reported in `failedToStart`.
private struct SpawnFailure: Error {
  var reason: String
}

/// A started child: its pid and the descriptors the supervising thread watches.
///
/// A class so the cancellation handler and the supervising thread share one wake-up pipe; the pipe's write end is
/// guarded by a mutex so a late cancellation never writes to a descriptor that was closed and perhaps reused.
private final class SpawnedProcess: Sendable {
  let pid: pid_t
  /// Read end of the pipe carrying the child's standard output and standard error.
  let outputFD: Int32
  /// Read end of the wake-up pipe: a byte arrives when the child exits or the caller cancels.
  let wakeFD: Int32
  /// Write end of the wake-up pipe; `nil` once the run is over.
  private let wakeWriter: Mutex<Int32?>

  private init(pid: pid_t, outputFD: Int32, wakeFD: Int32, wakeWriter: Int32) {
    self.pid = pid
    self.outputFD = outputFD
    self.wakeFD = wakeFD
    self.wakeWriter = Mutex(wakeWriter)
  }

  private static let exitedByte: UInt8 = 0x78  // "x"
  private static let cancelByte: UInt8 = 0x63  // "c"
  private static let outputLimit = 64 * 1024

  // MARK: Starting

  static func spawn(
    _ arguments: [String], in directory: URL?, environment: [String: String], input: URL?,
    discardingStandardError: Bool = false
  ) -> Result<SpawnedProcess, SpawnFailure> {
    guard let name = arguments.first, !name.isEmpty else { return .failure(SpawnFailure(reason: "empty command")) }
    if let input, access(input.path, R_OK) != 0 {
      return .failure(SpawnFailure(reason: "cannot read input: \(input.path)"))
    }
    let workingDirectory = directory?.path
    if let workingDirectory {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: workingDirectory, isDirectory: &isDirectory), isDirectory.boolValue
      else { return .failure(SpawnFailure(reason: "no such directory: \(workingDirectory)")) }
    }
    let executable: String
    switch resolveExecutable(name, in: workingDirectory, environment: environment) {
    case .failure(let failure): return .failure(failure)
    case .success(let path): executable = path
    }

    guard let output = makePipe(), let wake = makePipe() else {
      return .failure(SpawnFailure(reason: "cannot create a pipe: \(String(cString: strerror(errno)))"))
    }
    var fileActions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fileActions)
    defer { posix_spawn_file_actions_destroy(&fileActions) }
    posix_spawn_file_actions_addopen(&fileActions, 0, input?.path ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&fileActions, output.write, 1)
    if discardingStandardError {
      posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
    } else {
      posix_spawn_file_actions_adddup2(&fileActions, output.write, 2)
    }
    // Descriptors other threads open without O_CLOEXEC (sockets of a test server, say) must not leak into the child.
    _ = GNUExtensions.addCloseFrom?(&fileActions, 3)
    if let workingDirectory {
      guard let addChdir = GNUExtensions.addChdir else {
        closeAll(output.read, output.write, wake.read, wake.write)
        return .failure(SpawnFailure(reason: "cannot set a working directory on this system"))
      }
      _ = addChdir(&fileActions, workingDirectory)
    }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    var status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
    // ETXTBSY: another thread's child, between fork and exec, still holds a descriptor from which a script was
    // just written. It closes within moments; retry briefly, as Go's os/exec does.
    for attempt in 1...20 where status == ETXTBSY {
      usleep(useconds_t(attempt * 2_000))
      status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
    }
    close(output.write)
    guard status == 0 else {
      closeAll(output.read, wake.read, wake.write)
      switch status {
      case EACCES: return .failure(SpawnFailure(reason: "permission denied: \(executable)"))
      case ENOENT: return .failure(SpawnFailure(reason: "not found: \(executable)"))
      default:
        return .failure(SpawnFailure(reason: "cannot execute \(executable): \(String(cString: strerror(status)))"))
      }
    }
    _ = fcntl(output.read, F_SETFL, fcntl(output.read, F_GETFL) | O_NONBLOCK)
    let process = SpawnedProcess(pid: pid, outputFD: output.read, wakeFD: wake.read, wakeWriter: wake.write)
    process.watchForExit()
    return .success(process)
  }

  /// Finds the file `posix_spawn` should execute, reporting a missing or non-executable program as a reason.
  private static func resolveExecutable(
    _ name: String, in directory: String?, environment: [String: String]
  ) -> Result<String, SpawnFailure> {
    if name.contains("/") {
      let path: String
      if name.hasPrefix("/") {
        path = name
      } else {
        let base = directory ?? FileManager.default.currentDirectoryPath
        path = URL(fileURLWithPath: base).appendingPathComponent(name).path
      }
      return checkExecutable(path).map { .failure($0) } ?? .success(path)
    }
    let searchPath =
      environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    var denied: String?
    for folder in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
      // An empty PATH entry means the current directory, as in execvp(3).
      let base = folder.isEmpty ? (directory ?? FileManager.default.currentDirectoryPath) : String(folder)
      let candidate = URL(fileURLWithPath: base).appendingPathComponent(name).path
      switch checkExecutable(candidate) {
      case nil: return .success(candidate)
      case .some(let failure) where failure.reason.hasPrefix("permission denied"):
        denied = denied ?? candidate
      case .some: continue
      }
    }
    if let denied { return .failure(SpawnFailure(reason: "permission denied: \(denied)")) }
    return .failure(SpawnFailure(reason: "not found: \(name)"))
  }

  /// `nil` when `path` is an executable regular file, else why it cannot be run.
  private static func checkExecutable(_ path: String) -> SpawnFailure? {
    var info = stat()
    guard stat(path, &info) == 0 else {
      if errno == EACCES { return SpawnFailure(reason: "permission denied: \(path)") }
      return SpawnFailure(reason: "not found: \(path)")
    }
    if (info.st_mode & S_IFMT) == S_IFDIR || access(path, X_OK) != 0 {
      return SpawnFailure(reason: "permission denied: \(path)")
    }
    return nil
  }

  private static func makePipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    if let pipe2 = GNUExtensions.pipe2 {
      guard pipe2(&fds, O_CLOEXEC) == 0 else { return nil }
    } else {
      guard pipe(&fds) == 0 else { return nil }
      _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
      _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
  }

  private static func closeAll(_ fds: Int32...) {
    for fd in fds { close(fd) }
  }

  // MARK: Supervising

  /// Starts a thread that notices the child's exit without reaping it.
  ///
  /// `WNOWAIT` leaves the child a zombie until `supervise` reaps it, so its pid (which is also the process group
  /// id) cannot be reused while the runner may still signal the group.
  private func watchForExit() {
    let thread = Thread { [self] in
      var info = siginfo_t()
      while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
      wake(Self.exitedByte)
    }
    thread.name = "airlock.wait.\(pid)"
    thread.start()
  }

  /// Terminates the process group and tells the supervising thread; used when the calling task is cancelled.
  ///
  /// `SIGTERM` goes out here, not only from the supervising thread: a caller that abandons the run on cancellation
  /// (a probe under `withDeadline`) may let this process exit before that thread wakes, and the group must not
  /// outlive it. Under the wake lock, so the child is not reaped yet and its group id is still ours.
  func requestTermination() {
    wakeWriter.withLock { fd in
      guard let fd else { return }
      kill(-pid, SIGTERM)
      var byte = Self.cancelByte
      _ = write(fd, &byte, 1)
    }
  }

  private func wake(_ byte: UInt8) {
    wakeWriter.withLock { fd in
      guard let fd else { return }
      var byte = byte
      _ = write(fd, &byte, 1)
    }
  }

  /// Collects output until the child exits, enforcing the timeout; then reaps the child. Blocks the calling thread.
  func supervise(timeout: Duration?, killGrace: Duration, start: ContinuousClock.Instant) -> ProcessResult {
    var tail = OutputTail(limit: Self.outputLimit)
    var outputOpen = true
    var exited = false
    var timedOut = false
    let deadline = timeout.map { start + $0 }
    var killAt: ContinuousClock.Instant?  // set once SIGTERM went out
    var killed = false

    while !exited {
      let now = ContinuousClock.now
      if killAt == nil, let deadline, now >= deadline {
        timedOut = true
        killAt = now + killGrace
        kill(-pid, SIGTERM)
      }
      if let due = killAt, !killed, now >= due {
        killed = true
        kill(-pid, SIGKILL)
      }
      let wakeAt = killed ? nil : (killAt ?? deadline)
      var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
      if outputOpen { fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
      let ready = poll(&fds, nfds_t(fds.count), Self.pollTimeout(until: wakeAt))
      if ready < 0 && errno != EINTR { break }
      if fds[0].revents != 0 {
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = read(wakeFD, &bytes, bytes.count)
        if count > 0 {
          for byte in bytes[..<count] {
            if byte == Self.exitedByte { exited = true }
            if byte == Self.cancelByte && killAt == nil {
              killAt = ContinuousClock.now + killGrace
              kill(-pid, SIGTERM)
            }
          }
        }
      }
      if outputOpen, fds.count > 1, fds[1].revents != 0 {
        outputOpen = Self.drain(outputFD, into: &tail)
      }
    }
    // Whatever the child wrote before exiting is already in the pipe; take it, but do not wait for descendants
    // that still hold the pipe open.
    if outputOpen { _ = Self.drain(outputFD, into: &tail) }
    if killAt != nil && !killed {
      // The leader is gone but is not reaped yet, so the group id is still ours: no member outlives a timeout.
      kill(-pid, SIGKILL)
    }

    // Closed before reaping: `requestTermination` signals the group only while the writer is open.
    wakeWriter.withLock { fd in
      if let writer = fd { close(writer) }
      fd = nil
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    close(wakeFD)
    close(outputFD)

    let termination: ProcessResult.Termination
    if timedOut {
      termination = .timedOut
    } else if Self.exitedNormally(status) {
      termination = .exited(Self.exitStatus(status))
    } else {
      termination = .signaled(Self.terminatingSignal(status))
    }
    return ProcessResult(termination: termination, output: tail.text, duration: ContinuousClock.now - start)
  }

  /// Reads everything available now; returns whether the pipe is still open.
  private static func drain(_ fd: Int32, into tail: inout OutputTail) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      let count = read(fd, &buffer, buffer.count)
      if count > 0 {
        tail.append(buffer[..<count])
      } else if count == 0 {
        return false
      } else if errno == EINTR {
        continue
      } else {
        return errno == EAGAIN || errno == EWOULDBLOCK
      }
    }
  }

  private static func pollTimeout(until instant: ContinuousClock.Instant?) -> Int32 {
    guard let instant else { return -1 }
    let remaining = instant - ContinuousClock.now
    guard remaining > .zero else { return 0 }
    let (seconds, attoseconds) = remaining.components
    let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(min(milliseconds, Int64(Int32.max)))
  }

  // The W* macros are not imported into Swift; these follow their glibc definitions.
  private static func exitedNormally(_ status: Int32) -> Bool { status & 0x7f == 0 }
  private static func exitStatus(_ status: Int32) -> Int32 { (status >> 8) & 0xff }
  private static func terminatingSignal(_ status: Int32) -> Int32 { status & 0x7f }
}

/// The last `limit` bytes of a stream.
private struct OutputTail {
  let limit: Int
  private var bytes: [UInt8] = []

  init(limit: Int) {
    self.limit = limit
  }

  mutating func append(_ chunk: ArraySlice<UInt8>) {
    bytes.append(contentsOf: chunk)
    // Trim in batches so a chatty program does not cost a shift of the whole buffer per read.
    if bytes.count > limit * 2 { bytes.removeFirst(bytes.count - limit) }
  }

  var text: String {
    var kept = bytes.suffix(limit)
    // A cut in the middle of a multi-byte character would decode as U+FFFD; skip its continuation bytes instead.
    while let first = kept.first, first & 0xC0 == 0x80 { kept = kept.dropFirst() }
    return String(decoding: kept, as: UTF8.self)
  }
}

/// glibc functions that Swift's Glibc module hides behind `_GNU_SOURCE`, looked up at run time.
private enum GNUExtensions {
  typealias AddChdir =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) ->
    Int32
  typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
  typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

  static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
  static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
  static let pipe2: Pipe2? = symbol("pipe2")

  private static func symbol<T>(_ name: String) -> T? {
    guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
    return unsafeBitCast(address, to: T.self)
  }
}
