import AirlockTestSupport
import Foundation
import Testing

/// `history` tells what happened and who did it: an automatic rollback is Airlock's, on behalf of the run that
/// failed; a reason is printed once; repeated identical refusals fold into one line while the ledger keeps each.
@Suite struct HonestHistoryTests {
  /// `text` with times and short commit ids replaced.
  func normalized(_ text: String) -> String {
    text.replacingOccurrences(
      of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"#, with: "<time>", options: .regularExpression
    ).replacingOccurrences(of: #"  [0-9a-f]{12}  "#, with: "  <id>  ", options: .regularExpression)
  }

  @Test func anAutomaticRollbackIsAirlocksAndRepeatedRefusalsFold() async throws {
    let box = try await ScratchProject.twoGoodReleases()
    let alice = ["AIRLOCK_ACTOR": "alice"]
    let broken = try await box.airlock(
      ["deploy", "staging", "--artifact", box.artifact("1.2.0", healthy: false), "--version", "1.2.0"],
      environment: alice)
    #expect(broken.code == 4, "\(broken.output)")
    #expect(broken.stderr.contains("✗ staging 1.2.0 failed health\n"), "\(broken.stderr)")
    #expect(
      broken.stderr.components(separatedBy: "health: fail on 1 of 1 host").count == 2,
      "the failing check is reported once on stderr: \(broken.stderr)")
    for _ in 0..<3 {
      let refused = try await box.airlock(["promote", "production", "--release", "1.2.0"], environment: alice)
      #expect(refused.code == 3, "\(refused.output)")
      #expect(refused.stderr.components(separatedBy: "was not verified in staging").count == 1, "\(refused.stderr)")
      #expect(refused.stdout.components(separatedBy: "was not verified in staging").count == 2, "\(refused.stdout)")
    }
    #expect(try await box.commitCount("web/production") == 5)

    let history = try await box.airlock("history", "--limit", "5")
    #expect(history.code == 0, "\(history.output)")
    let quarantine = "rolled back to 1.1.0 automatically, after alice's deploy of 1.2.0 failed verify"
    #expect(
      normalized(history.stdout) == """
        <time>  <id>  promote web 1.2.0 staging→production: blocked ×3 (since <time>)  [alice]
            1.2.0 was not verified in staging (it was quarantined there: \(quarantine)); only verified releases are promoted
        <time>  <id>  rollback (automatic) web staging 1.2.0 → 1.1.0: ok  [airlock: automatic, after alice's deploy of 1.2.0 failed verify]
            rolled back to 1.1.0; 1.2.0 is quarantined in staging
        <time>  <id>  deploy web 1.2.0 → staging: failed  [alice]
            verify failed: health: fail on 1 of 1 host (localhost: exit 1, exit 1)

        """)
    let status = try await box.airlock("status")
    #expect(status.stdout.contains("  quarantined: 1.2.0 (\(quarantine))\n"), "\(status.stdout)")

    let json = try await box.airlock("history", "staging", "--limit", "1", "--json")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let record = try #require((document["events"] as? [[String: Any]])?.first?["record"] as? [String: Any])
    #expect(record["automatic"] as? Bool == true)
    #expect(record["cause"] as? String == "alice's deploy of 1.2.0 failed verify")
    #expect(record["actor"] as? String == "alice")
  }
}
