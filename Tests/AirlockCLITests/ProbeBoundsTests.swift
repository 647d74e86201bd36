import AirlockTestSupport
import Foundation
import Testing

/// Item 6 end to end: an endpoint that streams forever cannot hold `airlock verify` past its probe's timeout or
/// make it read more than `contains` needs.
@Suite struct ProbeBoundsTests {
  @Test func verifyAgainstAnEndlessBodyFailsOnTheFirstMebibyte() async throws {
    let server = try TestHTTPServer { _ in .endless(chunk: String(repeating: "x", count: 64 * 1024)) }
    defer { server.stop() }
    let box = try await ScratchProject.verifying(
      "[endless]",
      checks: """
          endless:
            http: \(server.urlString("/stream"))
            contains: "version {version}"
            attempts: 1
            pass: 1
            timeout: 60s
        """)

    let verify = try await box.airlock("verify", "staging")

    #expect(verify.code == 5, "\(verify.output)")
    #expect(verify.output.contains("body lacks \"version 1.0.0\" in its first 1 MiB"), "\(verify.output)")
    let checks = try await box.git("show", "web/staging:checks.json").stdout
    #expect(checks.contains("in its first 1 MiB"), "\(checks)")
    #expect(server.bodyBytesSent <= (1 << 20) + (32 << 20), "\(server.bodyBytesSent) bytes sent")
  }
}
