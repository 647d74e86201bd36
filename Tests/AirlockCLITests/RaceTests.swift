import AirlockTestSupport
import Foundation
import Testing

/// Invariant 5 under load: many runners promoting one environment at once change it exactly once.
@Suite struct RaceTests {
  @Test func fiftyConcurrentPromotionsChangeProductionExactlyOnce() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    let countBefore = try await box.commitCount("web/production")

    let clock = ContinuousClock()
    let began = clock.now
    let runs = (0..<50).map { _ in box.launch(["promote", "production"]) }
    var results: [ScratchProject.Run] = []
    for run in runs { results.append(try await run.value) }
    let elapsed = clock.now - began

    let winners = results.filter { $0.code == 0 && $0.stdout.contains("promoted 1.1.0 staging→production") }
    let idle = results.filter { $0.code == 0 && $0.stdout.contains("nothing to do") }
    let refused = results.filter { $0.code == 6 }
    FileHandle.standardError.write(
      Data(
        "race: 50 promotions of production in \(elapsed): \(winners.count) promoted, \(idle.count) nothing to do, \(refused.count) exit 6\n"
          .utf8))
    #expect(winners.count == 1)
    let others = results.filter { run in
      !(run.code == 0 && run.stdout.contains("promoted")) && !(run.code == 0 && run.stdout.contains("nothing to do"))
        && run.code != 6
    }
    #expect(others.isEmpty, "\(others.map(\.output))")
    for run in refused { #expect(run.stderr.contains("error: production "), "\(run.output)") }
    // Nobody died holding the lease, so nobody had one to break.
    #expect(
      !results.contains { $0.stderr.contains("stale lease") },
      "\(results.filter { $0.stderr.contains("stale lease") }.map(\.output))")

    // Exactly the winner's event, on a linear branch, in a ledger git accepts.
    #expect(try await box.commitCount("web/production") == countBefore + 1)
    #expect(try await box.messages("web/production", count: 1) == ["promote web 1.1.0 staging→production: ok"])
    let log = try await box.git("log", "--format=%s", "web/production").stdout
    #expect(log.components(separatedBy: "promote web 1.1.0 staging→production").count == 2)
    #expect(!log.contains("recover"))
    #expect(try await box.git("rev-list", "--merges", "web/production").stdout.isEmpty)
    #expect(
      try await box.git("rev-list", "--first-parent", "--count", "web/production").stdout == "\(countBefore + 1)\n")
    #expect(try await box.git("fsck", "--strict").code == 0)
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    #expect(box.current("production") == "1.1.0")
    #expect(box.read("targets/production/current/VERSION") == "1.1.0\n")
  }
}
