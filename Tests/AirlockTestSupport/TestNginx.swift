import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A real nginx for the `command` target's tests and benchmark: started with `examples/nginx-blue-green/nginx.conf`
/// under a prefix of its own in the scratch project, listening on its own loopback address (127.78.F.N:8080), in the
/// foreground so the test owns it. `stop()` (or releasing it) ends it. Needs `nginx-light` (scripts/setup).
public final class TestNginx: @unchecked Sendable {
  /// The folder holding nginx.conf, served.conf, the pid file and the error log.
  public let prefix: URL
  /// Where it answers, e.g. `http://127.78.3.1:8080`.
  public let url: String
  private let daemon: ScratchProject.Started
  /// Whether `stop()` ran: signalling again later could hit another process that reused the pid (pid_max is
  /// 32768 here, and a test run starts thousands of processes).
  private let stopped = Mutex(false)

  /// 127.78.F.N: F is this process's, N counts the servers it starts.
  private static let next = Atomic<Int>(0)

  /// Starts nginx with the example's configuration (its listen address replaced) and returns once it accepts
  /// connections.
  public init(in scratch: ScratchProject, example: URL) async throws {
    let number = Self.next.add(1, ordering: .relaxed).newValue
    let address = "127.78.\(Int(getpid()) % 250 + 1).\(number % 250 + 1)"
    url = "http://\(address):8080"
    prefix = scratch.url("nginx")
    let empty = prefix.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let template = try String(
      contentsOf: example.appendingPathComponent("nginx.conf"), encoding: .utf8)
    try template.replacingOccurrences(of: "listen 127.0.0.1:8080;", with: "listen \(address):8080;").write(
      to: prefix.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
    try "root \(empty.path);\n".write(
      to: prefix.appendingPathComponent("served.conf"), atomically: true, encoding: .utf8)
    daemon = try scratch.spawn(
      "/usr/sbin/nginx",
      [
        "-p", prefix.path, "-e", prefix.appendingPathComponent("error.log").path, "-c", "nginx.conf", "-g",
        "daemon off;",
      ],
      environment: [:], directory: prefix, input: nil)
    for _ in 0..<500 {
      if Loopback.accepts(address, 8080) { return }
      try await Task.sleep(for: .milliseconds(10))
    }
    kill(daemon.pid, SIGKILL)
    let log = (try? String(contentsOf: prefix.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    throw ChildProcess.SpawnError(description: "nginx never listened on \(address):8080: \(log)")
  }

  deinit { stop() }

  /// Ends nginx at once, master and workers; only the first call signals anything.
  public func stop() {
    guard
      stopped.withLock({ stopped in
        defer { stopped = true }; return !stopped
      })
    else { return }
    kill(daemon.pid, SIGQUIT)
    if let text = try? String(contentsOf: prefix.appendingPathComponent("nginx.pid"), encoding: .utf8),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    {
      kill(pid, SIGKILL)
    }
    kill(daemon.pid, SIGKILL)
  }
}
