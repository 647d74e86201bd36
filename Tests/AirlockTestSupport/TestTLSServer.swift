import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A real TLS web server on an ephemeral port (`openssl s_server -WWW`), for tests of `https://` checks.
///
/// It serves `files` (path → text) from a temporary folder, answering `HTTP/1.0 200 ok` with the file's text or
/// 404 for any other path, under a fresh self-signed certificate for `localhost`: trust it by pointing
/// `SSL_CERT_FILE` at `certificateFile`. `stop()` ends the server and removes the folder; it also runs on deinit.
public final class TestTLSServer: Sendable {
  /// The port it listens on (all interfaces).
  public let port: UInt16
  /// The PEM file of the server's certificate, the one a client must trust.
  public let certificateFile: String
  private let folder: URL
  private let process: Process

  /// Generates the certificate and starts the server; returns once it accepts connections.
  public init(files: [String: String]) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-tls-\(UUID().uuidString)")
    let site = folder.appendingPathComponent("site")
    try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
    for (path, text) in files {
      try text.write(to: site.appendingPathComponent(path), atomically: true, encoding: .utf8)
    }
    certificateFile = folder.appendingPathComponent("cert.pem").path
    let key = folder.appendingPathComponent("key.pem").path
    try Self.openssl(
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
      certificateFile, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    port = try Self.freePort()
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["s_server", "-accept", "\(port)", "-cert", certificateFile, "-key", key, "-WWW"]
    process.currentDirectoryURL = site
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // s_server prints ACCEPT once it listens.
    var seen = Data()
    while !String(decoding: seen, as: UTF8.self).contains("ACCEPT") {
      let more = output.fileHandleForReading.availableData
      guard !more.isEmpty else {
        stop()
        throw TestTLSServerError(description: "openssl s_server exited before listening on port \(port)")
      }
      seen.append(more)
    }
  }

  deinit { stop() }

  /// `https://localhost:PORT` + `path`.
  public func url(_ path: String) -> String { "https://localhost:\(port)\(path)" }

  /// Ends the server and removes its folder.
  public func stop() {
    Self.end(process, removing: folder)
  }

  /// Ends `process` and removes `folder`. SIGKILL, not terminate(): a server started by a test inherits the test
  /// process's blocked SIGTERM and would never exit.
  static func end(_ process: Process, removing folder: URL) {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(at: folder)
  }

  static func openssl(_ arguments: String...) throws {
    try openssl(arguments: arguments)
  }

  /// Runs openssl with `arguments` in `folder` (default: here), throwing when it fails.
  static func openssl(arguments: [String], in folder: URL? = nil) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw TestTLSServerError(description: "openssl \(arguments[0]) exited \(process.terminationStatus)")
    }
  }

  /// A port nothing listens on right now (the kernel's pick for a socket bound to port 0).
  static func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestTLSServerError(description: "socket failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else { throw TestTLSServerError(description: "bind failed: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
  }
}

/// Why a `TestTLSServer` could not start.
public struct TestTLSServerError: Error, CustomStringConvertible {
  /// What went wrong, with openssl's own words where it said any.
  public var description: String
}
