import AirlockTestSupport
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

/// A probing check that plays back a script of outcomes per host and counts the probes it was asked for.
struct ScriptedCheck: ProbingCheck {
  var name = "health"
  var kind = "scripted"
  var isDependency = false
  var policy: ProbePolicy
  /// Outcomes per host, in attempt order; the last one repeats.
  var script: [String: [Probe.Outcome]]
  let calls = Calls()

  final class Calls: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
  }

  func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    calls.increment()
    let outcomes = script[host] ?? [.ok]
    let outcome = outcomes[min(attempt, outcomes.count) - 1]
    switch outcome {
    case .ok: return (.ok, "ok")
    case .failed: return (.failed, "refused")
    case .error: return (.error, "not found: probe")
    }
  }
}

/// One row of the single-host quorum table.
struct QuorumCase: Sendable, CustomTestStringConvertible {
  var attempts: Int
  var pass: Int
  var outcomes: [Probe.Outcome]
  var verdict: Verdict
  var probes: Int

  var testDescription: String {
    "attempts \(attempts) pass \(pass): \(outcomes.map(\.rawValue).joined(separator: ",")) → \(verdict)"
  }
}

@Suite struct QuorumTests {
  static let singleHostCases: [QuorumCase] = [
    QuorumCase(attempts: 5, pass: 2, outcomes: [.ok, .ok], verdict: .pass, probes: 2),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.failed, .failed, .failed, .failed], verdict: .fail, probes: 4),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.failed, .ok, .failed, .ok], verdict: .pass, probes: 4),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.failed, .failed, .failed, .ok, .ok], verdict: .pass, probes: 5),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.failed, .failed, .failed, .ok, .failed], verdict: .fail, probes: 5),
    QuorumCase(attempts: 5, pass: 3, outcomes: [.failed, .failed, .failed], verdict: .fail, probes: 3),
    QuorumCase(attempts: 5, pass: 3, outcomes: [.ok, .failed, .ok, .ok], verdict: .pass, probes: 4),
    QuorumCase(attempts: 3, pass: 3, outcomes: [.ok, .failed], verdict: .fail, probes: 2),
    QuorumCase(attempts: 1, pass: 1, outcomes: [.ok], verdict: .pass, probes: 1),
    QuorumCase(attempts: 1, pass: 1, outcomes: [.failed], verdict: .fail, probes: 1),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.error], verdict: .inconclusive, probes: 1),
    QuorumCase(attempts: 5, pass: 2, outcomes: [.ok, .failed, .error], verdict: .inconclusive, probes: 3),
  ]

  @Test(arguments: singleHostCases)
  func decidesFromOutcomesAlone(row: QuorumCase) {
    let quorum = Quorum(attempts: row.attempts, pass: row.pass)
    #expect(quorum.decide(after: row.outcomes) == row.verdict)
    #expect(quorum.decide(after: row.outcomes.dropLast()) == nil, "decided before the last outcome")
  }

  @Test(arguments: singleHostCases)
  func probesUntilDecidedAndNoFurther(row: QuorumCase) async {
    let clock = ManualClock()
    let policy = ProbePolicy(attempts: row.attempts, pass: row.pass, interval: .seconds(1))
    // Scripted outcomes beyond the decisive one would flip the verdict if probing went on.
    let flipped: Probe.Outcome = row.verdict == .pass ? .failed : .ok
    let check = ScriptedCheck(policy: policy, script: ["localhost": row.outcomes + [flipped, flipped, flipped]])

    let result = await check.evaluate(in: .testing(clock: clock))

    #expect(result.verdict == row.verdict)
    #expect(check.calls.value == row.probes)
    #expect(result.hosts[0].probes.map(\.attempt) == Array(1...row.probes))
    #expect(result.hosts[0].probes.map(\.outcome) == Array(row.outcomes.prefix(row.probes)))
  }

  @Test func sleepsOnTheClockBetweenProbesButNotAfterTheLast() async {
    let clock = ManualClock()
    let start = clock.now()
    let check = ScriptedCheck(
      policy: ProbePolicy(attempts: 5, pass: 2, interval: .milliseconds(1500)),
      script: ["localhost": [.failed, .ok, .failed, .ok]])

    let result = await check.evaluate(in: .testing(clock: clock))

    #expect(result.verdict == .pass)
    #expect(clock.sleeps == [.milliseconds(1500), .milliseconds(1500), .milliseconds(1500)])
    #expect(result.hosts[0].probes.map(\.startedAt) == (0..<4).map { start + Double($0) * 1.5 })
  }

  @Test func recordsHostAttemptAndReasonOfEveryProbe() async {
    let check = ScriptedCheck(policy: ProbePolicy(), script: ["web2": [.failed]])
    let result = await check.evaluate(in: .testing(hosts: ["web1", "web2", "web3"]))

    #expect(result.verdict == .fail)
    #expect(result.hosts.map(\.host) == ["web1", "web2", "web3"])
    #expect(result.hosts.map(\.verdict) == [.pass, .fail, .pass])
    #expect(result.reasons(on: "web2") == ["refused", "refused", "refused", "refused"])
    #expect(result.summary == "health: fail on 1 of 3 hosts (web2: refused, refused, refused, refused)")
    #expect(result.kind == "scripted")
  }

  /// One row of the host-share table: per-host scripts (one letter per host: p pass, f fail, e error).
  struct ShareCase: Sendable, CustomTestStringConvertible {
    var share: Share
    var hosts: String
    var verdict: Verdict
    var testDescription: String { "\(share) of \(hosts) → \(verdict)" }
  }

  static let shareCases: [ShareCase] = [
    ShareCase(share: .percent(100), hosts: "ppp", verdict: .pass),
    ShareCase(share: .percent(100), hosts: "ppf", verdict: .fail),
    ShareCase(share: .percent(50), hosts: "pf", verdict: .pass),
    ShareCase(share: .percent(50), hosts: "pff", verdict: .fail),
    ShareCase(share: .percent(50), hosts: "ppff", verdict: .pass),
    ShareCase(share: .count(2), hosts: "pfp", verdict: .pass),
    ShareCase(share: .count(2), hosts: "pff", verdict: .fail),
    ShareCase(share: .count(1), hosts: "fff", verdict: .fail),
    ShareCase(share: .percent(100), hosts: "ppe", verdict: .inconclusive),
    ShareCase(share: .percent(100), hosts: "pfe", verdict: .fail),
    ShareCase(share: .percent(50), hosts: "pffe", verdict: .inconclusive),
    ShareCase(share: .percent(50), hosts: "ppfe", verdict: .pass),
    ShareCase(share: .count(1), hosts: "e", verdict: .inconclusive),
  ]

  @Test(arguments: shareCases)
  func appliesTheHostShare(row: ShareCase) async {
    let names = row.hosts.indices.map { "web\(row.hosts.distance(from: row.hosts.startIndex, to: $0) + 1)" }
    var script: [String: [Probe.Outcome]] = [:]
    for (name, letter) in zip(names, row.hosts) {
      script[name] = letter == "p" ? [.ok] : letter == "f" ? [.failed] : [.error]
    }
    let check = ScriptedCheck(policy: ProbePolicy(hosts: row.share), script: script)

    let result = await check.evaluate(in: .testing(hosts: names))

    #expect(result.verdict == row.verdict)
    #expect(Quorum.acrossHosts(result.hosts.map(\.verdict), required: row.share) == row.verdict)
  }

  @Test func stopsAtTheFirstErrorWithAnInconclusiveVerdict() async {
    let check = ScriptedCheck(policy: ProbePolicy(), script: ["localhost": [.failed, .error, .ok, .ok]])
    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .inconclusive)
    #expect(result.reasons() == ["refused", "not found: probe"])
    #expect(result.summary == "health: inconclusive on 1 of 1 host (localhost: refused, not found: probe)")
  }

  @Test func summaryNamesTheShareWhenNotAllHostsMustPass() async {
    let check = ScriptedCheck(policy: ProbePolicy(hosts: .count(2)), script: ["b": [.failed]])
    let result = await check.evaluate(in: .testing(hosts: ["a", "b", "c"]))
    #expect(result.summary == "health: pass on 2 of 3 hosts, 2 must pass (b: refused, refused, refused, refused)")
  }

  @Test func noHostsIsInconclusive() async {
    let result = await ScriptedCheck(policy: ProbePolicy(), script: [:]).evaluate(in: .testing(hosts: []))
    #expect(result.verdict == .inconclusive)
    #expect(result.summary == "health: inconclusive (no hosts to check)")
  }

  @Test func clampsAPolicyThatCouldNeverPass() {
    let quorum = Quorum(attempts: 0, pass: 7)
    #expect(quorum.attempts == 1)
    #expect(quorum.pass == 1)
    #expect(Quorum(attempts: 3, pass: 5).decide(successes: 0, failures: 0) == nil)
  }

  @Test func stopsProbingWhenTheClockIsCancelled() async {
    let check = ScriptedCheck(policy: ProbePolicy(), script: ["localhost": [.failed]])
    let result = await check.evaluate(in: .testing(clock: CancelledClock()))
    #expect(result.verdict == .inconclusive)
    #expect(check.calls.value == 1)
  }

  @Test func defaultPolicyRarelyFailsAFlakyButHealthyRelease() {
    // docs/pipeline.md, Retry quorum: probes failing 20% of the time at random are judged failed less than 1% of the time.
    var generator = SeededRandom(seed: 42)
    let quorum = Quorum(ProbePolicy())
    var failures = 0
    for _ in 0..<10_000 {
      var outcomes: [Probe.Outcome] = []
      var verdict: Verdict?
      while verdict == nil {
        outcomes.append(Double(generator.next() % 1000) < 200 ? .failed : .ok)
        verdict = quorum.decide(after: outcomes)
      }
      if verdict == .fail { failures += 1 }
    }
    #expect(failures < 100)
  }
}

/// A clock whose sleeps always throw, as when the task running the check is cancelled.
struct CancelledClock: AirlockClock {
  func now() -> Date { Date(timeIntervalSince1970: 0) }
  func sleep(for duration: Duration) async throws { throw CancellationError() }
}
