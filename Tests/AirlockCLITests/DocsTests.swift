import AirlockTestSupport
import Foundation
import Testing

/// The reference in `docs/` is the repository's own contract: nothing points outside the repository for it, and
/// every command the built binary offers is documented in `docs/cli.md`.
@Suite struct DocsTests {
  /// The package root, found from this source file's location (Tests/AirlockCLITests/…).
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Names of the outside contract a tracked file must not lean on, spelled in pieces so this file passes too.
  static let outsideReferences = [".." + "/shared", "DESIGN" + ".md"]

  @Test func noTrackedFileRefersToTheContractOutsideTheRepository() async throws {
    let box = try ScratchProject()
    let listing = try await box.run(
      "/usr/bin/git", ["-C", Self.packageRoot.path, "ls-files", "-z"], environment: [:])
    try #require(listing.code == 0, "git ls-files failed: \(listing.stderr)")
    let files = listing.stdout.split(separator: "\0").map(String.init)
    #expect(files.contains("docs/cli.md"))
    var offenders: [String] = []
    for file in files {
      guard let data = FileManager.default.contents(atPath: Self.packageRoot.appendingPathComponent(file).path),
        let text = String(data: data, encoding: .utf8)
      else { continue }
      for reference in Self.outsideReferences where text.contains(reference) {
        offenders.append("\(file) mentions \(reference)")
      }
    }
    #expect(offenders.isEmpty, "point into docs/ instead: \(offenders.joined(separator: "; "))")
  }

  @Test func everySubcommandOfTheBinaryIsDocumentedInCLIReference() async throws {
    let box = try ScratchProject()
    let reference = try String(
      contentsOf: Self.packageRoot.appendingPathComponent("docs/cli.md"), encoding: .utf8)
    let commands = try await Self.subcommands(of: [], in: box)
    #expect(commands.contains(["ledger", "gc"]))
    #expect(commands.count >= 13)
    let missing = commands.map { (["airlock"] + $0).joined(separator: " ") }.filter { !reference.contains("`" + $0) }
    #expect(missing.isEmpty, "docs/cli.md does not document: \(missing.joined(separator: ", "))")
  }

  @Test func relativeLinksOfTheReferenceLeadToFilesThatExist() throws {
    let pages =
      ["README.md"]
      + ["README", "pipeline", "cli", "json", "ledger", "hooks", "notifications", "invariants", "choices"].map {
        "docs/\($0).md"
      }
    var broken: [String] = []
    for page in pages {
      let text = try String(contentsOf: Self.packageRoot.appendingPathComponent(page), encoding: .utf8)
      let folder = Self.packageRoot.appendingPathComponent(page).deletingLastPathComponent()
      for match in text.matches(of: /\]\(([^)#]+)(#[^)]*)?\)/) where !match.output.1.contains("://") {
        let target = folder.appendingPathComponent(String(match.output.1)).path
        if !FileManager.default.fileExists(atPath: target) { broken.append("\(page) → \(match.output.1)") }
      }
    }
    #expect(broken.isEmpty, "links to files that do not exist: \(broken.joined(separator: "; "))")
  }

  /// Every leaf command under `path`, as listed in the SUBCOMMANDS section of `airlock PATH --help`.
  static func subcommands(of path: [String], in box: ScratchProject) async throws -> [[String]] {
    let help = try await box.airlock(path + ["--help"])
    try #require(help.code == 0, "airlock \(path.joined(separator: " ")) --help: \(help.output)")
    let names = listedSubcommands(help.stdout)
    if names.isEmpty { return [path] }
    var leaves: [[String]] = []
    for name in names { leaves += try await subcommands(of: path + [name], in: box) }
    return leaves
  }

  /// The names in the SUBCOMMANDS section of a help text: lines indented by exactly two spaces.
  static func listedSubcommands(_ help: String) -> [String] {
    let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
    guard let start = lines.firstIndex(of: "SUBCOMMANDS:") else { return [] }
    return lines[(start + 1)...].prefix { !$0.isEmpty }.compactMap { line in
      guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
      return line.split(separator: " ").first.map(String.init)
    }
  }
}
