import AirlockTestSupport
import Foundation
import Testing

/// The `--json` fields that are closed sets (`plan`'s `action`, `drift`'s `configSource`, the lock report's
/// `command`) print exactly the strings docs/json.md lists, whatever Swift type carries them.
@Suite struct JSONEnumFieldTests {
  /// The top-level object `airlock ARGS --json` prints, after checking its exit code.
  func document(
    _ box: ScratchProject, _ arguments: String..., exitCode: Int32 = 0, environment: [String: String] = [:]
  ) async throws -> [String: Any] {
    let run = try await box.airlock(arguments + ["--json"], environment: environment)
    #expect(run.code == exitCode, "\(arguments): \(run.output)")
    return try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(arguments): \(run.output)")
  }

  @Test func planActionDriftConfigSourceAndLockCommandAreTheDocumentedStrings() async throws {
    let box = try ScratchProject()
    try box.pipeline(productionApproval: true)
    #expect(try await document(box, "plan", "staging")["action"] as? String == "deploy")
    #expect(try await document(box, "plan", "production", exitCode: 3)["action"] as? String == "promote")
    let before = try await document(box, "drift", "staging", "production")
    #expect((before["left"] as? [String: Any])?["configSource"] as? String == "declared", "\(before)")

    let deploy = try await box.airlock(
      "deploy", "staging", "--artifact", try box.artifact("1.0.0"), "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    let after = try await document(box, "drift", "staging", "production")
    #expect((after["left"] as? [String: Any])?["configSource"] as? String == "recorded", "\(after)")
    #expect((after["right"] as? [String: Any])?["configSource"] as? String == "declared", "\(after)")

    #expect(try await document(box, "plan", "staging", "--rollback", exitCode: 3)["action"] as? String == "rollback")
    // A second person approves: the deploy's own actor may not.
    let approval = try await document(
      box, "approve", "production", "--release", "1.0.0", environment: ["AIRLOCK_ACTOR": "alice"])
    #expect(approval["command"] as? String == "approve")
    #expect(try await document(box, "lock", "staging", "--reason", "incident")["command"] as? String == "lock")
    #expect(try await document(box, "unlock", "staging")["command"] as? String == "unlock")
  }
}
