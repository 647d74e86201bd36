import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Bounds how many programs the scratch projects of all tests run to completion at once.
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

/// Starting and awaiting child processes for the scratch projects and the benchmarks, with posix_spawn.
public enum ChildProcess {
  /// Why a program could not be started.
  public struct SpawnError: Error, CustomStringConvertible {
    /// One line naming the program and the reason.
    public var description: String
  }

  /// Starts `arguments[0]` (a path) with the standard streams opened on the given files; returns its pid.
  public static func spawn(
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
      let thread = Thread { continuation.resume(returning: waitForExit(of: pid)) }
      thread.start()
    }
  }

  /// Blocks the calling thread until `pid` ends and returns how it ended: the exit status, or the signal (then also
  /// as `code`). For a caller that owns its thread and must not pay a hop to another one (a benchmark's timing).
  public static func waitForExit(of pid: pid_t) -> (code: Int32, signal: Int32?) {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // The W* macros are not imported into Swift; these follow their glibc definitions.
    let signal = status & 0x7f
    return signal == 0 ? ((status >> 8) & 0xff, nil) : (signal, signal)
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
