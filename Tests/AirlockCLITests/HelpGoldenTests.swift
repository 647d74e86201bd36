import AirlockTestSupport
import Foundation
import Testing

/// The whole `--help` of every command, pinned by golden files in `Golden/help/`, as swift-argument-parser's example
/// tests pin theirs: a change to any option, abstract or default shows up as a diff to review.
///
/// After an intended change, regenerate them with `AIRLOCK_UPDATE_GOLDEN=1 swift test --filter HelpGoldenTests`.
@Suite struct HelpGoldenTests {
  static let commands: [[String]] = [
    [], ["validate"], ["plan"], ["deploy"], ["promote"], ["rollback"], ["verify"], ["history"], ["status"],
    ["drift"], ["releases"], ["show"], ["diff"], ["lock"], ["unlock"], ["approve"], ["ledger"], ["ledger", "gc"],
    ["init"], ["version"],
  ]

  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/help")

  @Test(arguments: commands)
  func theHelpOfEveryCommandIsPinned(_ command: [String]) async throws {
    let box = try ScratchProject()
    // A fixed width: ArgumentParser wraps to the terminal's, and tests have none.
    let run = try await box.airlock(command + ["--help"], environment: ["COLUMNS": "100"])
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stderr.isEmpty)
    let golden = Self.folder.appendingPathComponent(
      (command.isEmpty ? ["airlock"] : command).joined(separator: "-") + ".txt")
    if ProcessInfo.processInfo.environment["AIRLOCK_UPDATE_GOLDEN"] == "1" {
      try run.stdout.write(to: golden, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: golden, encoding: .utf8)
    #expect(run.stdout == expected, "airlock \(command.joined(separator: " ")) --help differs from \(golden.path)")
  }
}
