import Foundation
import Testing

@testable import AirlockKit

@Suite struct CheckCatalogTests {
  @Test(arguments: [
    (CheckKind.http(url: "http://{host}/", expect: 200, contains: nil), "http"),
    (.tcp(address: "{host}:5432"), "tcp"),
    (.command(arguments: ["bin/smoke"]), "command"),
    (.heartbeat(path: "/srv/worker.heartbeat", maxAge: .seconds(60)), "heartbeat"),
  ])
  func makesEveryProbeKind(kind: CheckKind, keyword: String) throws {
    let spec = CheckSpec(
      name: "probe", kind: kind, policy: ProbePolicy(attempts: 3, pass: 1), dependency: true)

    let check = try #require(try CheckCatalog.make(spec) as? any ProbingCheck)

    #expect(check.name == "probe")
    #expect(check.kind == keyword)
    #expect(check.isDependency)
    #expect(check.policy == ProbePolicy(attempts: 3, pass: 1))
  }

  @Test func leavesPreflightKindsToTheirOwnCode() throws {
    #expect(try CheckCatalog.make(CheckSpec(name: "config", kind: .config(rules: []))) == nil)
    #expect(try CheckCatalog.make(CheckSpec(name: "drift", kind: .drift(environment: "staging", allow: []))) == nil)
  }

  @Test func resultsRoundTripThroughJSON() throws {
    let probe = Probe(
      host: "web1", attempt: 1, outcome: .failed, reason: "status 503",
      startedAt: Date(timeIntervalSince1970: 1_800_000_000), milliseconds: 12)
    let result = CheckResult(
      name: "health", kind: "http", dependency: false, verdict: .fail,
      hosts: [HostResult(host: "web1", verdict: .fail, probes: [probe])])

    let decoded = try JSONDecoder().decode(CheckResult.self, from: JSONEncoder().encode(result))

    #expect(decoded == result)
    #expect(result.summary == "health: fail on 1 of 1 host (web1: status 503)")
  }
}
