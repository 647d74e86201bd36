import AirlockTestSupport
import Foundation
import Testing

/// `docs/man/airlock.1` is what `airlock manual` makes from the command definitions now: every command the help
/// lists, the exit codes and the environment, in roff that groff reads without a warning.
///
/// After an intended change regenerate it with `AIRLOCK_UPDATE_GOLDEN=1 swift test --filter ManualTests`.
@Suite struct ManualTests {
  static let page = DocsTests.packageRoot.appendingPathComponent("docs/man/airlock.1")

  @Test func theCheckedInPageIsWhatTheBinaryGeneratesNow() async throws {
    let box = try ScratchProject()
    let run = try await box.airlock("manual")
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stderr.isEmpty)
    if ProcessInfo.processInfo.environment["AIRLOCK_UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(
        at: Self.page.deletingLastPathComponent(), withIntermediateDirectories: true)
      try run.stdout.write(to: Self.page, atomically: true, encoding: .utf8)
    }
    #expect(run.stdout == (try String(contentsOf: Self.page, encoding: .utf8)), "docs/man/airlock.1 is out of date")
    let again = try await box.airlock("manual")
    #expect(again.stdout == run.stdout, "the page must not change from run to run")
  }

  @Test func everyCommandExitCodeAndVariableHasItsEntry() async throws {
    let box = try ScratchProject()
    let page = try String(contentsOf: Self.page, encoding: .utf8)
    // The options every command shares are described once, under GLOBAL OPTIONS, and not again per command.
    let global = try #require(page.range(of: ".SH GLOBAL OPTIONS\n")?.upperBound)
    let globalSection = page[global...].components(separatedBy: ".SH ")[0]
    #expect(globalSection.contains("\\fB\\-\\-pipeline\\fR"), "\(globalSection)")
    #expect(page.components(separatedBy: "\\fB\\-\\-pipeline\\fR").count == 2)
    let commands = try await DocsTests.subcommands(of: [], in: box)
    let missing = commands.map { "airlock " + $0.joined(separator: " ") }.filter {
      !page.contains(".SS \"\($0)\"\n")
    }
    #expect(missing.isEmpty, "no section for \(missing)")
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"] {
      #expect(page.contains(".SH \(section)\n"), "\(section)")
    }
    for code in 0...6 { #expect(page.contains(".TP\n.B \(code)\n"), "exit code \(code)") }
    for variable in ["AIRLOCK_LEDGER", "AIRLOCK_ACTOR", "AIRLOCK_FSYNC", "SSL_CERT_FILE"] {
      #expect(page.contains(".TP\n.B \(variable)\n"), "\(variable)")
    }
    #expect(!page.contains(".SS \"airlock manual\""), "the hidden generator has no section")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff")))
  func groffReadsThePageWithoutAWarning() async throws {
    let box = try ScratchProject()
    let run = try await box.run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", Self.page.path], environment: [:])
    #expect(run.code == 0 && run.stderr.isEmpty, "\(run.output)")
  }
}
