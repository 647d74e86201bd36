import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

@Suite struct CheckTCPTests {
  @Test func passesWhenAConnectionOpens() async throws {
    let server = try TestHTTPServer(responses: [.init()])
    defer { server.stop() }
    let check = TCPCheck(name: "port", address: "{host}:\(server.port)")

    let result = await check.evaluate(in: .testing(hosts: ["127.0.0.1"]))

    #expect(result.verdict == .pass)
    #expect(result.reasons() == ["ok", "ok"])
    #expect(result.kind == "tcp")
  }

  @Test func triesEveryAddressOfAName() async throws {
    // localhost may resolve to ::1 first, where nothing listens; 127.0.0.1 then answers.
    let server = try TestHTTPServer(responses: [.init()])
    defer { server.stop() }
    let check = TCPCheck(name: "port", address: "localhost:\(server.port)", policy: ProbePolicy(attempts: 1, pass: 1))
    #expect(await check.evaluate(in: .testing()).verdict == .pass)
  }

  @Test func reportsARefusedConnection() async throws {
    let port = try TestHTTPServer.closedPort()
    let check = TCPCheck(name: "port", address: "127.0.0.1:\(port)")

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["refused", "refused", "refused", "refused"])
  }

  @Test func reportsANameThatDoesNotResolve() async {
    let check = TCPCheck(
      name: "port", address: "airlock-no-such-host.invalid:80", policy: ProbePolicy(attempts: 1, pass: 1))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["cannot resolve airlock-no-such-host.invalid"])
  }

  @Test(arguments: ["localhost", "{host}", "host:port", "::1:80", "[::1]80", ":80", "web1:0", "web1:70000", "[::1:80"])
  func reportsAMalformedAddressAsInconclusive(address: String) async {
    let check = TCPCheck(name: "port", address: address)

    let result = await check.evaluate(in: .testing(hosts: ["web1"]))

    #expect(result.verdict == .inconclusive)
    #expect(result.hosts[0].probes.count == 1)
    #expect(result.reasons()[0].hasPrefix("malformed address: "))
  }

  @Test(arguments: [
    ("127.0.0.1:80", "127.0.0.1", 80), ("[::1]:8080", "::1", 8080), ("db.internal:5432", "db.internal", 5432),
  ])
  func parsesAddresses(address: String, host: String, port: Int) throws {
    let parsed = try #require(TCPCheck.parse(address))
    #expect(parsed.host == host)
    #expect(Int(parsed.port) == port)
  }

  @Test func bracketsAnIPv6Host() async throws {
    let port = try TestHTTPServer.closedPort()
    let check = TCPCheck(name: "port", address: "{host}:\(port)", policy: ProbePolicy(attempts: 1, pass: 1))

    let result = await check.evaluate(in: .testing(hosts: ["::1"]))

    // Whether ::1 refuses or is unavailable here, the address itself was understood.
    #expect(result.hosts[0].probes[0].outcome == .failed)
  }
}
