import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation
import Synchronization

/// `airlock-bench quorum`: how often a healthy release is judged failed when its probes fail at random, and how
/// fast a broken one is caught, for three quorum settings. Runs the real `ProbingCheck` quorum over a simulated clock.
struct QuorumBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quorum", abstract: "False-alarm rate and detection time of the retry quorum (simulated).")

  @Option(help: "Verifications per setting and release state.") var verifications = 10_000
  @Option(help: "Probability that a probe of a healthy release fails.") var failureRate = 0.2
  @Option(help: "Seed of the random probe outcomes.") var seed: UInt64 = 2026

  func run() async throws {
    let settings: [(String, ProbePolicy)] = [
      ("single probe (attempts 1, pass 1)", ProbePolicy(attempts: 1, pass: 1)),
      ("default quorum (attempts 5, pass 2)", ProbePolicy()),
      ("attempts 5, pass 3", ProbePolicy(attempts: 5, pass: 3)),
    ]
    print("\(verifications) verifications per row; healthy probes fail with p = \(failureRate); interval 1s")
    print("setting                              false alarms        healthy probes  broken: probes  broken: time")
    for (label, policy) in settings {
      let healthy = try await simulate(policy, broken: false)
      let broken = try await simulate(policy, broken: true)
      print(
        label.padding(toLength: 37, withPad: " ", startingAt: 0)
          + String(
            format: "%6d (%6.3f%%)   %14.2f  %14.2f  %11.2fs", healthy.failed,
            100 * Double(healthy.failed) / Double(verifications), healthy.meanProbes, broken.meanProbes,
            broken.meanSeconds))
      guard broken.failed == verifications else { throw ValidationError("a broken release passed: quorum bug") }
    }
  }

  struct Tally {
    var failed = 0
    var probes = 0
    var seconds = 0.0
    let runs: Int
    var meanProbes: Double { Double(probes) / Double(runs) }
    var meanSeconds: Double { seconds / Double(runs) }
  }

  func simulate(_ policy: ProbePolicy, broken: Bool) async throws -> Tally {
    let clock = SimulatedClock()
    let check = RandomProbe(policy: policy, failureRate: broken ? 1 : failureRate, seed: seed)
    var tally = Tally(runs: verifications)
    for _ in 0..<verifications {
      let started = clock.now()
      let context = CheckContext(
        pipeline: "bench", environment: "staging", version: "1", release: "0", clock: clock)
      let result = await check.evaluate(in: context)
      if result.verdict != .pass { tally.failed += 1 }
      tally.probes += result.hosts.map(\.probes.count).reduce(0, +)
      tally.seconds += clock.now().timeIntervalSince(started)
    }
    return tally
  }
}

/// A probe that fails with a fixed probability, from a seeded generator so every run prints the same table.
final class RandomProbe: ProbingCheck {
  let name = "simulated"
  let kind = "simulated"
  let isDependency = false
  let policy: ProbePolicy
  let failureRate: Double
  private let generator: Mutex<SeededRandom>

  init(policy: ProbePolicy, failureRate: Double, seed: UInt64) {
    self.policy = policy
    self.failureRate = failureRate
    self.generator = Mutex(SeededRandom(seed: seed))
  }

  func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String) {
    let draw = generator.withLock { Double($0.next() >> 11) / Double(1 << 53) }
    return draw < failureRate ? (.failed, "status 503") : (.ok, "ok")
  }
}

/// A clock whose sleeps advance simulated time at once.
final class SimulatedClock: AirlockClock {
  private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

  func now() -> Date { current.withLock { $0 } }

  func sleep(for duration: Duration) async throws {
    let (seconds, attoseconds) = duration.components
    current.withLock { $0 += Double(seconds) + Double(attoseconds) / 1e18 }
  }
}
