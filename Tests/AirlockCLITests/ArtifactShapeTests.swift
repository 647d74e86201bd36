import AirlockTestSupport
import Foundation
import Testing

/// Every artifact shape is either stored faithfully and fsck-clean, or refused with exit 2 before anything changes.
@Suite struct ArtifactShapeTests {
  /// What a refused deploy must leave exactly as it was.
  struct Untouched: Equatable {
    var refs: String
    var current: String?
    var releases: [String]

    init(_ box: ScratchProject) async throws {
      refs = try await box.ledgerRefs()
      current = box.current("staging")
      releases =
        (try? FileManager.default.contentsOfDirectory(
          atPath: box.target("staging").appendingPathComponent("releases").path))?.sorted() ?? []
    }
  }

  /// A project running 1.0.0 in staging, and the folder of a second artifact for the test to spoil.
  func deployed() async throws -> (ScratchProject, String) {
    let box = try ScratchProject()
    try box.pipeline()
    let first = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0")
    #expect(first.code == 0, "\(first.output)")
    return (box, try box.artifact("1.1.0"))
  }

  enum Spoiler: String, CaseIterable, CustomTestStringConvertible {
    case fifo, gitFolder, symlinkedGitmodules, badSubmoduleURL, upperCaseGitmodulesSymlink

    var testDescription: String { rawValue }

    /// Adds the bad entry to the artifact at `path` inside `box`; returns what the error must mention.
    func spoil(_ artifact: String, in box: ScratchProject) throws -> [String] {
      let folder = box.root.appendingPathComponent(artifact)
      switch self {
      case .fifo:
        try FileManager.default.createDirectory(
          at: folder.appendingPathComponent("run"), withIntermediateDirectories: true)
        #expect(mkfifo(folder.appendingPathComponent("run/control").path, 0o644) == 0)
        return ["run/control", "FIFO"]
      case .gitFolder:
        try box.write("[core]\n", to: "\(artifact)/vendor/lib/.git/config")
        return ["vendor/lib/.git", "hasDotgit"]
      case .symlinkedGitmodules:
        try FileManager.default.createSymbolicLink(
          atPath: folder.appendingPathComponent(".gitmodules").path, withDestinationPath: "VERSION")
        return [".gitmodules", "symlink", "gitmodulesSymlink"]
      case .badSubmoduleURL:
        try box.write(
          "[submodule \"lib\"]\n\tpath = lib\n\turl = --upload-pack=touch$IFS/tmp/owned\n",
          to: "\(artifact)/.gitmodules")
        return [".gitmodules", "gitmodulesUrl", "--upload-pack"]
      case .upperCaseGitmodulesSymlink:
        try FileManager.default.createDirectory(
          at: folder.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
          atPath: folder.appendingPathComponent("lib/.GITMODULES").path, withDestinationPath: "/etc/passwd")
        return ["lib/.GITMODULES", "gitmodulesSymlink"]
      }
    }
  }

  @Test(arguments: Spoiler.allCases)
  func aBadShapeIsRefusedWithExit2AndChangesNothing(spoiler: Spoiler) async throws {
    let (box, artifact) = try await deployed()
    let mentions = try spoiler.spoil(artifact, in: box)
    let before = try await Untouched(box)
    let run = try await box.airlock("deploy", "staging", "--artifact", artifact, "--version", "1.1.0")
    #expect(run.code == 2, "\(run.output)")
    for mention in mentions { #expect(run.stderr.contains(mention), "\(mention) missing from: \(run.stderr)") }
    #expect(try await Untouched(box) == before)
    #expect(try await box.git("rev-parse", "--verify", "--quiet", "refs/tags/web/1.1.0").code != 0)
    let fsck = try await box.git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0 && !fsck.stderr.contains("warning") && !fsck.stderr.contains("error"), "\(fsck.output)")
  }

  @Test func theJSONErrorCarriesExit2() async throws {
    let (box, artifact) = try await deployed()
    _ = try Spoiler.badSubmoduleURL.spoil(artifact, in: box)
    let run = try await box.airlock("deploy", "staging", "--artifact", artifact, "--json")
    #expect(run.code == 2, "\(run.output)")
    #expect(run.stdout.contains(#""exitCode" : 2"#), "\(run.stdout)")
  }

  @Test func aNameThatIsNotUTF8DeploysAndComesBackByteForByte() async throws {
    let (box, artifact) = try await deployed()
    let name: [UInt8] = Array("caf".utf8) + [0xe9, 0xff] + Array(".txt".utf8)  // Latin-1 é and a stray byte
    let content: [UInt8] = [0x00, 0xff, 0x0a, 0x41]
    try RawFiles.write(Array(box.root.appendingPathComponent(artifact).path.utf8) + [0x2f] + name, content)
    let run = try await box.airlock("deploy", "staging", "--artifact", artifact, "--version", "1.1.0")
    #expect(run.code == 0, "\(run.output)")
    #expect(box.current("staging") == "1.1.0")
    let deployed = Array(box.target("staging").appendingPathComponent("current").path.utf8) + [0x2f] + name
    #expect(try RawFiles.read(deployed) == content)
    let listing = try await box.git("-c", "core.quotePath=true", "ls-tree", "--name-only", "web/staging:artifact")
    #expect(listing.stdout.contains(#""caf\351\377.txt""#), "\(listing.output)")
    let fsck = try await box.git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0 && !fsck.stderr.contains("warning"), "\(fsck.output)")

    // Rolling back to 1.0.0 and forward again re-exports it from the ledger, still byte for byte.
    #expect(try await box.airlock("rollback", "staging").code == 0)
    try FileManager.default.removeItem(at: box.target("staging").appendingPathComponent("releases/1.1.0"))
    let again = try await box.airlock("rollback", "staging", "--to", "1.1.0", "--force")
    #expect(again.code == 0, "\(again.output)")
    #expect(try RawFiles.read(deployed) == content)
  }
}
