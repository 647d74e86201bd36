import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// `https://` checks against a real TLS server (`openssl s_server`), spoken through mbed TLS.
@Suite struct CheckHTTPSTests {
  /// A context whose checks trust `server`'s certificate.
  static func trusting(_ server: TestTLSServer) -> CheckContext {
    var environment = CheckContext.baseEnvironment()
    environment["SSL_CERT_FILE"] = server.certificateFile
    return .testing(processEnvironment: environment)
  }

  @Test func passesWhenTheTrustedServerAnswersWithTheString() async throws {
    let server = try TestTLSServer(files: ["healthz": "serving 1.4.2\n"])
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: "https://{host}:\(server.port)/healthz", contains: "serving {version}",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(10)))

    let result = await check.evaluate(in: Self.trusting(server))

    #expect(result.reasons() == ["ok"])
    #expect(result.verdict == .pass)
  }

  @Test(
    arguments: [
      (200, "serving 9.9.9", "body lacks \"serving 9.9.9\""), (204, nil, "status 200"),
    ] as [(Int, String?, String)])
  func failsOnAWrongBodyOrStatus(expect: Int, contains: String?, reason: String) async throws {
    let server = try TestTLSServer(files: ["healthz": "serving 1.4.2\n"])
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: server.url("/healthz"), expect: expect, contains: contains,
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(10)))

    let result = await check.evaluate(in: Self.trusting(server))

    #expect(result.reasons() == [reason])
    #expect(result.verdict == .fail)
  }

  /// Not trusted (the system bundle lacks it), or trusted but issued for another name than the URL's host.
  @Test(arguments: [(false, "localhost"), (true, "127.0.0.1")])
  func refusesACertificateItCannotVerify(trusted: Bool, host: String) async throws {
    let server = try TestTLSServer(files: ["healthz": "ok\n"])
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: "https://\(host):\(server.port)/healthz",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(10)))

    let result = await check.evaluate(in: trusted ? Self.trusting(server) : .testing())

    let reason = try #require(result.reasons().first)
    #expect(reason.hasPrefix("TLS failure: certificate refused: "), "\(reason)")
    #expect(reason.contains(trusted ? "CN" : "not correctly signed"), "\(reason)")
    #expect(result.verdict == .fail)
  }

  @Test func namesABundleItCannotRead() async throws {
    let server = try TestTLSServer(files: ["healthz": "ok\n"])
    defer { server.stop() }
    var environment = CheckContext.baseEnvironment()
    environment["SSL_CERT_FILE"] = "/nonexistent/bundle.pem"
    let check = HTTPCheck(
      name: "health", url: server.url("/healthz"), policy: ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(10)))

    let result = await check.evaluate(in: .testing(processEnvironment: environment))

    let reason = try #require(result.reasons().first)
    #expect(reason.hasPrefix("TLS failure: cannot use /nonexistent/bundle.pem: "), "\(reason)")
    #expect(result.verdict == .fail)
  }
}
