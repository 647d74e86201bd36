import AirlockTestSupport
import Foundation
import Testing

/// `scripts/install --no-build` puts an already built binary, its completions and its man page where bash, zsh,
/// fish and man look under a prefix (the build itself is scripts/build, too slow to run here).
@Suite struct InstallTests {
  static let installed = [
    ("share/bash-completion/completions/airlock", "docs/completions/airlock.bash"),
    ("share/zsh/site-functions/_airlock", "docs/completions/_airlock"),
    ("share/fish/vendor_completions.d/airlock.fish", "docs/completions/airlock.fish"),
    ("share/man/man1/airlock.1", "docs/man/airlock.1"),
  ]

  @Test func itInstallsTheBinaryCompletionsAndManPageUnderThePrefix() async throws {
    let box = try ScratchProject()
    let script = DocsTests.packageRoot.appendingPathComponent("scripts/install").path
    let run = try await box.run(
      script, ["--no-build", "--binary", ScratchProject.binary.path, "prefix"], environment: [:])
    #expect(run.code == 0, "\(run.output)")
    let prefix = box.url("prefix")
    #expect(
      run.stdout == (["bin/airlock"] + Self.installed.map(\.0)).map { "installed \(prefix.path)/\($0)\n" }.joined())

    let binary = prefix.appendingPathComponent("bin/airlock")
    let mode = try FileManager.default.attributesOfItem(atPath: binary.path)[.posixPermissions] as? Int
    #expect(mode == 0o755)
    #expect(FileManager.default.contentsEqual(atPath: binary.path, andPath: ScratchProject.binary.path))
    for (file, checkedIn) in Self.installed {
      let installed = prefix.appendingPathComponent(file).path
      #expect(
        FileManager.default.contentsEqual(
          atPath: installed, andPath: DocsTests.packageRoot.appendingPathComponent(checkedIn).path),
        "\(file) differs from \(checkedIn)")
      #expect(try FileManager.default.attributesOfItem(atPath: installed)[.posixPermissions] as? Int == 0o644)
    }
    let version = try await box.run(binary.path, ["version"], environment: [:])
    #expect(version.code == 0 && !version.stdout.isEmpty, "\(version.output)")
  }

  @Test func aMissingBinaryInstallsNothing() async throws {
    let box = try ScratchProject()
    let script = DocsTests.packageRoot.appendingPathComponent("scripts/install").path
    let run = try await box.run(script, ["--no-build", "--binary", "nothing-here", "prefix"], environment: [:])
    #expect(run.code == 2, "\(run.output)")
    #expect(run.stderr.contains("no airlock binary at \(box.root.path)/nothing-here"), "\(run.stderr)")
    #expect(!box.exists("prefix"))
  }
}
