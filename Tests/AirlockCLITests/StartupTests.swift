import AirlockTestSupport
import Foundation
import Testing

/// Issue 8 item 9 end to end: `airlock` starts without FoundationNetworking (and libcurl with its dozens of shared
/// libraries) and with libgit2 linked in (not libgit2.so, libssh2 and libcrypto loaded at every start), and its
/// `https://` checks still work, over mbed TLS.
@Suite struct StartupTests {
  @Test func theBinaryLoadsNeitherFoundationNetworkingNorLibcurlNorLibgit2sLibraries() async throws {
    let box = try ScratchProject()

    let ldd = try await box.run("/usr/bin/ldd", [ScratchProject.binary.path], environment: [:])

    #expect(ldd.code == 0, "\(ldd.output)")
    #expect(ldd.stdout.contains("libc.so"), "\(ldd.stdout)")
    for library in [
      "FoundationNetworking", "libcurl", "libgit2", "libssh2", "libcrypto", "libmbed", "libgssapi", "libkrb5",
    ] {
      #expect(!ldd.stdout.contains(library), "\(ldd.stdout)")
    }
  }

  /// libgit2's initialisation skips the system CA bundle (about 50 million instructions of mbed TLS parsing): a
  /// command on a local ledger never opens it, and one whose ledger is a network remote loads it before connecting.
  @Test(arguments: [false, true])
  func theCABundleIsReadOnlyForANetworkLedger(remote: Bool) async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    if remote {
      try box.write(
        (box.read("pipelines/web.yml") ?? "").replacingOccurrences(
          of: "pipeline: web\n", with: "pipeline: web\nledger: ssh://airlock@127.0.0.1:1/srv/ledger.git\n"),
        to: "pipelines/web.yml")
    }
    let trace = box.url("openat.trace").path

    let deploy = try await box.run(
      "/usr/bin/strace",
      [
        "-f", "-qq", "-e", "trace=openat", "-o", trace, ScratchProject.binary.path, "deploy", "staging", "--artifact",
        try box.artifact("1.0.0"), "--version", "1.0.0",
      ],
      environment: box.environment)

    let opened = try String(contentsOfFile: trace, encoding: .utf8)
    if remote {
      #expect(deploy.code == 1, "\(deploy.output)")
      #expect(deploy.stderr.contains("ssh://airlock@127.0.0.1:1/srv/ledger.git"), "\(deploy.stderr)")
      #expect(opened.contains("/etc/ssl/certs/ca-certificates.crt"), "\(opened)")
    } else {
      #expect(deploy.code == 0, "\(deploy.output)")
      #expect(opened.contains(".airlock/ledger.git"), "\(opened)")
      #expect(!opened.contains("ca-certificates.crt"), "\(opened)")
      // GSSAPI (HTTP Negotiate) loads only when a remote asks for it.
      #expect(!opened.contains("libgssapi_krb5"), "\(opened)")
    }
  }

  @Test(arguments: [true, false])
  func verifyProbesHTTPSTrustingSSLCertFile(trusted: Bool) async throws {
    let server = try TestTLSServer(files: ["healthz": "serving 1.0.0\n"])
    defer { server.stop() }
    let box = try await ScratchProject.verifying(
      "[secure]",
      checks: """
          secure:
            http: \(server.url("/healthz"))
            contains: "serving {version}"
            attempts: 1
            pass: 1
            timeout: 10s
        """)

    let verify = try await box.airlock(
      "verify", "staging", environment: trusted ? ["SSL_CERT_FILE": server.certificateFile] : [:])

    if trusted {
      #expect(verify.code == 0, "\(verify.output)")
    } else {
      #expect(verify.code == 5, "\(verify.output)")
      #expect(verify.output.contains("TLS failure: certificate refused: "), "\(verify.output)")
      #expect(verify.output.contains("not correctly signed by the trusted CA"), "\(verify.output)")
    }
  }
}
