import AirlockTestSupport
import Foundation
import Testing

/// Shell completion answers from the project at hand (environment names, release labels), through the callback the
/// generated scripts make (`airlock ---completion …`) and through the real bash, and changes nothing.
///
/// The scripts in `docs/completions/` are what the binary generates; after an intended change regenerate them with
/// `AIRLOCK_UPDATE_GOLDEN=1 swift test --filter CompletionTests`.
@Suite struct CompletionTests {
  static let folder = DocsTests.packageRoot.appendingPathComponent("docs/completions")
  static let scripts = [("bash", "airlock.bash"), ("zsh", "_airlock"), ("fish", "airlock.fish")]

  /// A project with the standard pipeline and 1.0.0 deployed to staging.
  static func deployed() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0")
    try #require(deploy.code == 0, "\(deploy.output)")
    return box
  }

  /// `airlock ---completion SUBCOMMAND -- ARGUMENT INDEX CURSOR WORDS…`, as the scripts call it, the cursor at the
  /// end of the last (empty) word.
  static func complete(
    _ box: ScratchProject, _ subcommand: String, _ argument: String, line words: [String], in folder: URL? = nil
  ) async throws -> ScratchProject.Run {
    let words = ["airlock"] + words
    return try await box.airlock(
      ["---completion", subcommand, "--", argument, "\(words.count - 1)", "\(words.last!.count)"] + words, in: folder)
  }

  /// Every file under the project with its size and modification time, but the test runner's own output files.
  static func tree(_ box: ScratchProject) throws -> [String] {
    let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey]
    let walk = FileManager.default.enumerator(at: box.root, includingPropertiesForKeys: keys)
    return try (walk?.compactMap { $0 as? URL } ?? []).filter { !$0.lastPathComponent.hasPrefix(".run-") }.map {
      let values = try $0.resourceValues(forKeys: Set(keys))
      return "\($0.path) \(values.fileSize ?? -1) \(values.contentModificationDate?.timeIntervalSince1970 ?? 0)"
    }
    .sorted()
  }

  @Test func theCallbackAnswersEnvironmentsAndReleaseLabelsAndChangesNothing() async throws {
    let box = try await Self.deployed()
    let refs = try await box.ledgerRefs()
    let before = try Self.tree(box)
    for subcommand in ["deploy", "promote", "rollback", "verify", "plan", "history", "lock", "unlock", "approve"] {
      let run = try await Self.complete(box, subcommand, "positional@0", line: [subcommand, ""])
      #expect(run.code == 0, "\(subcommand): \(run.output)")
      #expect(run.stdout == "staging\nproduction\n", "\(subcommand)")
      #expect(run.stderr.isEmpty, "\(subcommand)")
    }
    let other = try await Self.complete(box, "drift", "positional@1", line: ["drift", "staging", ""])
    #expect(other.stdout == "staging\nproduction\n", "\(other.output)")
    for (subcommand, option) in [("promote", "--release"), ("rollback", "--to"), ("plan", "--release")] {
      let run = try await Self.complete(box, subcommand, option, line: [subcommand, "production", option, ""])
      #expect(run.code == 0, "\(run.output)")
      #expect(run.stdout == "1.0.0\n", "\(subcommand) \(option)")
      #expect(run.stderr.isEmpty)
    }
    #expect(try await box.ledgerRefs() == refs)
    #expect(try Self.tree(box) == before)
  }

  /// With the pipeline broken, the ledger's environments; `-p` and `--ledger` on the line choose what is read.
  @Test func theLedgerAnswersWhenThePipelineIsBrokenAndTheLineChoosesTheLedger() async throws {
    let box = try await Self.deployed()
    try box.write("pipeline: web\nenvironments: [\n", to: "pipelines/web.yml")
    let broken = try await Self.complete(box, "rollback", "positional@0", line: ["rollback", ""])
    #expect(broken.code == 0, "\(broken.output)")
    #expect(broken.stdout == "staging\n")
    #expect(broken.stderr.isEmpty)

    try FileManager.default.moveItem(at: box.ledgerURL, to: box.url("elsewhere.git"))
    let moved = try await Self.complete(box, "promote", "--release", line: ["promote", "production", "--release", ""])
    #expect(moved.stdout == "\n", "no ledger where the pipeline says: \(moved.output)")
    let named = try await Self.complete(
      box, "promote", "--release", line: ["-p", "web", "promote", "--ledger=elsewhere.git", "--release", ""])
    #expect(named.stdout == "1.0.0\n", "\(named.output)")
    #expect(named.stderr.isEmpty)
  }

  @Test func outsideAProjectItAnswersNothingAndCreatesNothing() async throws {
    let box = try ScratchProject()
    let empty = box.url("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    for (argument, line) in [("positional@0", ["deploy", ""]), ("--release", ["deploy", "x", "--release", ""])] {
      let run = try await Self.complete(box, "promote", argument, line: line, in: empty)
      #expect(run.code == 0, "\(run.output)")
      #expect(run.stdout == "\n")
      #expect(run.stderr.isEmpty)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
  }

  /// The generated bash script, sourced into the real bash, completes `airlock deploy <TAB>` and
  /// `airlock promote production --release <TAB>` from the project.
  @Test func theRealBashCompletesEnvironmentsAndReleases() async throws {
    let box = try await Self.deployed()
    let generated = try await box.airlock("--generate-completion-script", "bash")
    try #require(generated.code == 0, "\(generated.output)")
    try box.write(generated.stdout, to: "airlock.bash")
    // The words a user typed, the last one being completed; the binary is called as the line's first word.
    func bash(_ words: [String]) async throws -> [String] {
      let line = ([ScratchProject.binary.path] + words).map { $0.isEmpty ? "''" : $0 }
      let script = """
        source airlock.bash
        COMP_WORDS=(\(line.joined(separator: " ")))
        COMP_CWORD=\(words.count)
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        _airlock airlock "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\\n' "${COMPREPLY[@]}"
        """
      let run = try await box.run("/bin/bash", ["--norc", "-c", script], environment: [:])
      #expect(run.code == 0 && run.stderr.isEmpty, "\(run.output)")
      return run.stdout.split(separator: "\n").map(String.init)
    }
    #expect(try await bash(["deploy", ""]) == ["staging", "production"])
    #expect(try await bash(["rollback", "p"]) == ["production"])
    #expect(try await bash(["promote", "production", "--release", ""]) == ["1.0.0"])
  }

  @Test(arguments: scripts)
  func theCheckedInScriptsAreWhatTheBinaryGenerates(_ shell: String, _ file: String) async throws {
    let box = try ScratchProject()
    let run = try await box.airlock("--generate-completion-script", shell)
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stdout.contains("---completion"), "the \(shell) script calls the binary back")
    let checkedIn = Self.folder.appendingPathComponent(file)
    if ProcessInfo.processInfo.environment["AIRLOCK_UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
      try run.stdout.write(to: checkedIn, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: checkedIn, encoding: .utf8)
    #expect(
      run.stdout == expected, "docs/completions/\(file) differs from `airlock --generate-completion-script \(shell)`")
  }
}
