import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `airlock-bench command`: time to restore through the `command` target on `examples/nginx-blue-green` against a
/// real nginx (the tests' `TestNginx`), from the start of `airlock rollback production` to nginx serving the older
/// release, beside the same switch done by running the release's `bin/apply` by hand, measured in the same run.
///
/// A thread polls nginx over a plain socket every half millisecond, so both figures stop at the moment nginx
/// answers with the old release, whatever the program does after that (Airlock's verify and record).
struct CommandBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "command",
    abstract: "Time to restore through the command target (nginx example), beside apply by hand.")

  @Option(help: "Rollbacks to time (and hand-run applies beside them).") var runs = 9

  func run() async throws {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let airlock = folder.appendingPathComponent("airlock")
    guard FileManager.default.isExecutableFile(atPath: airlock.path) else {
      throw ValidationError("\(airlock.path) is missing: build it first with scripts/build")
    }
    let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("examples/nginx-blue-green")
    let scratch = try ScratchProject("airlock-bench")
    let nginx = try await TestNginx(in: scratch, example: example)
    defer { nginx.stop() }
    let text = try String(contentsOf: example.appendingPathComponent("pipelines/site.yml"), encoding: .utf8)
    try scratch.pipeline(
      text.replacingOccurrences(of: "/srv/nginx-site", with: nginx.prefix.path)
        .replacingOccurrences(of: "http://127.0.0.1:8080", with: nginx.url), named: "site")
    var environment = ProcessInfo.processInfo.environment
    environment["AIRLOCK_ACTOR"] = "bench"
    func airlockRun(_ arguments: [String]) throws {
      let status = try runQuietly(airlock, arguments, in: scratch.root, environment: environment)
      guard status == 0 else { throw ValidationError("airlock \(arguments.joined(separator: " ")) exited \(status)") }
    }
    func release(_ version: String) throws {
      for script in ["apply", "live", "serving"] {
        let body = try String(contentsOf: example.appendingPathComponent("site/bin/\(script)"), encoding: .utf8)
        try scratch.write(body, to: "artifacts/\(version)/bin/\(script)", executable: true)
      }
      try scratch.write("\(version)\n", to: "artifacts/\(version)/public/VERSION")
      try scratch.write("<h1>\(version)</h1>\n", to: "artifacts/\(version)/public/index.html")
      try airlockRun(["deploy", "staging", "--artifact", scratch.path("artifacts/\(version)"), "--version", version])
      try airlockRun(["promote", "production"])
    }
    let address = String(nginx.url.dropFirst("http://".count).split(separator: ":")[0])
    let releases = scratch.url(".airlock/targets/site-production/releases")
    // The hand-run apply gets what Airlock gives it: the config and the release's own variables.
    func byHand(_ version: String) -> [String: String] {
      var variables = ["PATH": environment["PATH"] ?? "/usr/bin:/bin"]
      variables["NGINX_PREFIX"] = nginx.prefix.path
      variables["NGINX_URL"] = nginx.url
      variables["AIRLOCK_VERSION"] = version
      variables["AIRLOCK_RELEASE_DIR"] = releases.appendingPathComponent(version).path
      return variables
    }
    try release("v0")
    var floor: [Double] = []
    var restore: [Double] = []
    for index in 1...runs {
      try release("v\(index)")
      // The floor: the older release's apply, run by hand in its folder, until nginx serves it; then back.
      let old = releases.appendingPathComponent("v0")
      floor.append(
        try Self.untilServing("v0", at: address, after: "v\(index)") {
          try ChildProcess.spawn(
            [old.appendingPathComponent("bin/apply").path], environment: byHand("v0"), directory: old,
            stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        })
      let current = releases.appendingPathComponent("v\(index)")
      _ = try runQuietly(
        current.appendingPathComponent("bin/apply"), [], in: current, environment: byHand("v\(index)"))
      restore.append(
        try Self.untilServing("v0", at: address, after: "v\(index)") {
          try ChildProcess.spawn(
            [airlock.path, "rollback", "production"], environment: environment, directory: scratch.root,
            stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        })
    }
    print(
      "time to restore through the command target (examples/nginx-blue-green, real nginx), \(runs) runs: from the "
        + "start of the program to nginx serving the older release")
    print(Summary(samples: floor).row("  bin/apply by hand (the floor)"))
    print(Summary(samples: restore).row("  airlock rollback production"))
    let share = Summary(samples: restore).median - Summary(samples: floor).median
    print("  Airlock's own share (median difference): \(String(format: "%.2f", share)) ms")
  }

  /// Milliseconds from `start` (which spawns a program) until nginx answers `/VERSION` with `version`; waits for the
  /// program to exit too, and fails when it did not exit 0.
  static func untilServing(
    _ version: String, at address: String, after previous: String, start: () throws -> pid_t
  ) throws -> Double {
    // A reload ends nginx's old workers gracefully: until they are gone a request may still get the old answer, so
    // the clock starts once every one of 50 requests in a row gets the release of before.
    var settled = 0
    for _ in 0..<20_000 where settled < 50 {
      settled = get(address, "/VERSION") == previous + "\n" ? settled + 1 : 0
      if settled < 50 { usleep(200) }
    }
    guard settled >= 50 else { throw ValidationError("nginx never settled on \(previous)") }
    let began = DispatchTime.now().uptimeNanoseconds
    let pid = try start()
    var served: UInt64?
    while served == nil {
      if get(address, "/VERSION") == version + "\n" { served = DispatchTime.now().uptimeNanoseconds }
      if served == nil {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
          // Exited before nginx was seen serving it: one last look.
          guard get(address, "/VERSION") == version + "\n" else {
            throw ValidationError("the program exited (status \(status)) and nginx does not serve \(version)")
          }
          return Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
        }
        usleep(500)
      }
    }
    let end = ChildProcess.waitForExit(of: pid)
    guard end.code == 0 else { throw ValidationError("the program exited \(end.code)") }
    return Double(served! - began) / 1e6
  }

  /// The body nginx answers for `path`, over a plain socket; `nil` when it does not answer 200.
  static func get(_ address: String, _ path: String) -> String? {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { return nil }
    defer { close(socketFD) }
    var peer = sockaddr_in()
    peer.sin_family = sa_family_t(AF_INET)
    peer.sin_port = in_port_t(UInt16(8080).bigEndian)
    inet_pton(AF_INET, address, &peer.sin_addr)
    let connected = withUnsafePointer(to: &peer) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: bench\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
    else { return nil }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
      if count <= 0 { break }
      response += chunk[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"), let split = text.range(of: "\r\n\r\n")
    else { return nil }
    return String(text[split.upperBound...])
  }
}
