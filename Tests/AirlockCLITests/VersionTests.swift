import AirlockKit
import AirlockTestSupport
import Foundation
import Testing

/// `airlock version` and `airlock --version` print `AirlockVersion.current`; a `--version` anywhere else is never
/// read as a request for it.
@Suite struct VersionTests {
  @Test(arguments: [["version"], ["--version"]])
  func printsTheVersion(_ arguments: [String]) async throws {
    let box = try ScratchProject()
    let run = try await box.airlock(arguments)
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stdout == AirlockVersion.current + "\n")
    #expect(run.stderr.isEmpty)
  }

  @Test func theJSONDocumentIsAnObjectWithItsSchemaVersion() async throws {
    let box = try ScratchProject()
    let run = try await box.airlock("version", "--json")
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stdout == "{\n  \"schemaVersion\" : 1,\n  \"version\" : \"\(AirlockVersion.current)\"\n}\n")
  }

  /// `deploy --version` is the release label: a deploy missing `--artifact` is an argument error, not a version.
  @Test func aMisplacedVersionOptionIsNeverAVersionRequest() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    for arguments in [
      ["deploy", "staging", "--version", "1.0"], ["deploy", "staging", "--version"], ["--version", "x"],
    ] {
      let run = try await box.airlock(arguments)
      #expect(run.code == 2, "airlock \(arguments.joined(separator: " ")): \(run.output)")
      #expect(!run.stdout.contains(AirlockVersion.current))
    }
  }
}
