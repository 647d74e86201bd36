import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One host's master connection, which also carries a shell that Airlock's own steps (read `current`, write the
/// config, switch, prune) are sent to, one after another.
///
/// The master is `ssh -M … exec /bin/sh` with its standard input and output on a socket pair held by this process:
/// a step is a few lines written to the shell and its output read back up to an end marker carrying its exit status,
/// so it costs one exchange over an open channel instead of a new ssh process. Programs of the release (`start`,
/// command checks) and the release's tar still go over the master as ssh sessions of their own (`ControlMaster`), so
/// they get their own timeouts and standard input. When this process ends, even by `kill -9`, the socket closes, the
/// shell reads end of file, and the master exits: no connection outlives the command.
final class SSHSession: Sendable {
  let pid: pid_t
  /// This process's end of the socket pair: the shell's standard input and output.
  private let channel: Int32
  private let state = Mutex(Buffer())
  private let counter = Atomic<Int>(0)
  /// Held for the length of one exchange: the shell runs one step at a time.
  private let exchange = NSLock()

  private struct Buffer {
    var bytes: [UInt8] = []
    /// The shell's output ended.
    var closed = false
    /// `close()` ran: the socket is closed and the master reaped.
    var shut = false
  }

  /// What one step printed (standard output and error together) and its exit status; `nil` status when the session
  /// ended or the step outlived its timeout.
  struct Result: Sendable {
    var status: Int32?
    var output: String
    var timedOut = false
    var succeeded: Bool { status == 0 }
  }

  private init(pid: pid_t, channel: Int32) {
    self.pid = pid
    self.channel = channel
  }

  deinit {
    close()
  }

  /// Starts `arguments` (an ssh command line ending in the remote command) with its standard input and output on a
  /// fresh socket pair; `nil` when it cannot be started.
  static func start(_ arguments: [String], environment: [String: String]) -> SSHSession? {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
      return nil
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
    posix_spawn_file_actions_adddup2(&actions, pair[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    // A group of its own, so a Ctrl-C meant for airlock does not cut the connection its abort still needs.
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
    Glibc.close(pair[1])
    guard status == 0 else {
      Glibc.close(pair[0])
      return nil
    }
    _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
    return SSHSession(pid: pid, channel: pair[0])
  }

  /// Whether the master still runs.
  var isAlive: Bool { state.withLock { !$0.closed } }

  /// Runs each script on its session, all at once, and waits on the calling thread; one result per entry, in order.
  ///
  /// Each script runs in a subshell with standard input from /dev/null, so `set -e` or `cd` in it never ends or
  /// moves the session's shell; without `isolated`, in the session's shell itself (a fork less, for a script that
  /// neither exits nor sets options nor changes folder).
  static func runAll(_ work: [(SSHSession, String)], timeout: Duration, isolated: Bool = true) -> [Result] {
    // Every session of the batch is taken in one order (by pid), so two batches never wait on each other in a circle.
    let locked = Set(work.map(\.0.pid)).sorted().compactMap { pid in work.first { $0.0.pid == pid }?.0 }
    for session in locked { session.exchange.lock() }
    defer { for session in locked.reversed() { session.exchange.unlock() } }
    let deadline = ContinuousClock.now + timeout
    var markers: [String] = []
    var results = [Result?](repeating: nil, count: work.count)
    for (index, (session, script)) in work.enumerated() {
      let marker = "airlock-end-\(getpid())-\(session.counter.add(1, ordering: .relaxed).newValue)"
      markers.append(marker)
      let (open, close) = isolated ? ("(", ")") : ("{", "}")
      let text = "\(open)\n\(script)\n\(close) </dev/null 2>&1; printf '\\n\(marker) %s\\n' \"$?\"\n"
      if !session.write(Array(text.utf8), until: deadline) {
        results[index] = Result(status: nil, output: "the connection is closed")
      }
    }
    while results.contains(where: { $0 == nil }) {
      let waiting = results.indices.filter { results[$0] == nil }
      var fds = waiting.map { pollfd(fd: work[$0].0.channel, events: Int16(POLLIN), revents: 0) }
      let left = deadline - ContinuousClock.now
      let milliseconds = max(
        0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
      if milliseconds == 0 {
        for index in waiting {
          results[index] = Result(status: nil, output: "no answer in \(timeout)", timedOut: true)
          // The step still runs there and would answer into the next one: this connection is done.
          work[index].0.end()
        }
        break
      }
      _ = poll(&fds, nfds_t(fds.count), min(milliseconds, 1000))
      for (position, index) in waiting.enumerated() where fds[position].revents != 0 {
        let session = work[index].0
        session.drain()
        if let found = session.take(marker: markers[index]) {
          results[index] = found
        } else if session.state.withLock({ $0.closed }) {
          results[index] = Result(
            status: nil, output: session.state.withLock { String(decoding: $0.bytes, as: UTF8.self) })
        }
      }
    }
    return results.map { $0! }
  }

  /// Writes `bytes` to the shell, waiting for room until `deadline`; false when the session is gone.
  private func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let sent = bytes[offset...].withUnsafeBytes { send(channel, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if sent > 0 {
        offset += sent
      } else if sent < 0 && (errno == EAGAIN || errno == EINTR) {
        guard ContinuousClock.now < deadline else { return false }
        var fd = pollfd(fd: channel, events: Int16(POLLOUT), revents: 0)
        _ = poll(&fd, 1, 100)
      } else {
        return false
      }
    }
    return true
  }

  /// Reads what the shell has written so far.
  private func drain() {
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = chunk.withUnsafeMutableBytes { recv(channel, $0.baseAddress, $0.count, 0) }
      if count > 0 {
        state.withLock { $0.bytes += chunk[0..<count] }
      } else {
        if count == 0 || (errno != EAGAIN && errno != EINTR) { state.withLock { $0.closed = true } }
        return
      }
    }
  }

  /// The output up to `marker` and the status after it, removed from the buffer; `nil` until the marker's line is
  /// complete.
  private func take(marker: String) -> Result? {
    state.withLock { buffer in
      let needle = Array("\n\(marker) ".utf8)
      guard let start = Self.find(needle, in: buffer.bytes),
        let end = buffer.bytes[(start + needle.count)...].firstIndex(of: UInt8(ascii: "\n"))
      else { return nil }
      let output = String(decoding: buffer.bytes[..<start], as: UTF8.self)
      let status = Int32(String(decoding: buffer.bytes[(start + needle.count)..<end], as: UTF8.self))
      buffer.bytes.removeSubrange(..<(end + 1))
      return Result(status: status, output: output)
    }
  }

  private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
      if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
    }
    return nil
  }

  /// Ends the connection at once, from within an exchange: the master is killed and reaped by `close()`.
  private func end() {
    state.withLock { $0.closed = true }
    kill(pid, SIGTERM)
  }

  /// Ends the shell (end of file on its input), which ends the master; reaps it, killing it if it lingers.
  func close() {
    Self.close([self])
  }

  /// Closes every session at once, then reaps their masters together (each ends within a round trip of its shell
  /// reading end of file); one still there after a second is killed. Without `waiting`, the reaping happens on a
  /// thread of its own and this returns at once: the masters are ending already.
  static func close(_ sessions: [SSHSession], waiting: Bool = true) {
    let closing = sessions.filter { session in
      session.state.withLock { buffer in
        defer {
          buffer.closed = true
          buffer.shut = true
        }
        return !buffer.shut
      }
    }
    for session in closing {
      shutdown(session.channel, Int32(SHUT_RDWR))
      Glibc.close(session.channel)
    }
    guard waiting else {
      let pids = closing.map(\.pid)
      Thread.detachNewThread { reap(pids) }
      return
    }
    reap(closing.map(\.pid))
  }

  private static func reap(_ pids: [pid_t]) {
    var waiting = pids
    let deadline = ContinuousClock.now + .seconds(1)
    while !waiting.isEmpty && ContinuousClock.now < deadline {
      var status: Int32 = 0
      waiting.removeAll { waitpid($0, &status, WNOHANG) != 0 }
      if !waiting.isEmpty { usleep(1_000) }
    }
    for pid in waiting {
      var status: Int32 = 0
      kill(pid, SIGKILL)
      _ = waitpid(pid, &status, 0)
    }
  }
}
