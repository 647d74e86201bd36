import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// TLS in front of a plain local server, for tests of `https://` clients that need to see what was sent.
///
/// `socat` accepts TLS on 127.0.0.1 and an ephemeral port with a certificate for `localhost` signed by a certificate
/// authority generated for this terminator alone, and forwards each connection to `backend` (a `TestHTTPServer`),
/// which records the requests. Trust the authority by pointing `SSL_CERT_FILE` at `authorityFile`. `stop()` ends
/// socat and removes the folder; it also runs on deinit.
///
/// ```swift
/// let receiver = try TestHTTPServer { _ in .init(status: 200) }
/// let tls = try TestTLSTerminator(forwardingTo: receiver.port)
/// // POST to tls.url("/hook") with SSL_CERT_FILE=tls.authorityFile; receiver saw the request.
/// ```
public final class TestTLSTerminator: Sendable {
  /// The port TLS is accepted on.
  public let port: UInt16
  /// The PEM file of the generated certificate authority: the one a client must trust.
  public let authorityFile: String
  private let folder: URL
  private let process: Process

  /// Generates the authority and the server's certificate, starts socat and returns once it accepts connections.
  public init(forwardingTo backend: UInt16) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-tls-ca-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    authorityFile = folder.appendingPathComponent("ca.pem").path
    let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    try TestTLSServer.openssl(
      arguments: ["req", "-x509"] + curve + [
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Airlock Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ], in: folder)
    try TestTLSServer.openssl(
      arguments: ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
      in: folder)
    try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".write(
      to: folder.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
    try TestTLSServer.openssl(
      arguments: [
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "server.pem", "-days", "2", "-extfile", "server.ext",
      ], in: folder)
    port = try TestTLSServer.freePort()
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
    process.arguments = [
      "OPENSSL-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork,cert=server.pem,key=server.key,verify=0",
      "TCP:127.0.0.1:\(backend)",
    ]
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(10)
    while !Self.accepts(port) {
      guard process.isRunning, Date() < deadline else {
        stop()
        throw TestTLSServerError(description: "socat did not listen on port \(port)")
      }
      usleep(20_000)
    }
  }

  deinit { stop() }

  /// `https://localhost:PORT` + `path`.
  public func url(_ path: String) -> String { "https://localhost:\(port)\(path)" }

  /// Ends socat and removes the folder.
  public func stop() {
    TestTLSServer.end(process, removing: folder)
  }

  /// Whether a TCP connection to 127.0.0.1:`port` opens.
  private static func accepts(_ port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }
}
