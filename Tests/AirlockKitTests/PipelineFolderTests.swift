import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// Targets and `ledger` in a pipeline, and the one diagnostic they must produce (none when `fragment` is nil).
struct FolderCase: Sendable, CustomTestStringConvertible {
  var label: String
  var ledger: String?
  var targets: [String]
  var line = 0
  var column = 0
  var fragment: String?
  var testDescription: String { label }

  /// `pipeline:` on line 1, `ledger:` (value at column 9) on line 2 when given, then environment `eN` with its
  /// `local:` value at column 21 of line 5 + 2N (one less without `ledger:`).
  var yaml: String {
    "pipeline: web\n" + (ledger.map { "ledger: \($0)\n" } ?? "") + "environments:\n"
      + targets.enumerated().map { "  - name: e\($0)\n    target: {local: \($1)}\n" }.joined()
  }
}

/// A ledger inside a target, a target inside the ledger, or targets that share or nest folders are refused:
/// retention deletes what is in a target's folder.
@Suite struct PipelineFolderTests {
  static let cases: [FolderCase] = [
    .init(
      label: "ledger inside a target's releases", ledger: "targets/s/releases/ledger.git", targets: ["targets/s"],
      line: 2, column: 9,
      fragment: "the ledger (/project/targets/s/releases/ledger.git) is inside the target of environment 'e0' "
        + "(at 5:21, /project/targets/s); keep the ledger and every target in folders of their own"),
    .init(
      label: "absolute ledger inside a relative target", ledger: "/project/t/l.git", targets: ["t"], line: 2,
      column: 9, fragment: "is inside the target of environment 'e0'"),
    .init(
      label: "ledger is the target", ledger: "/srv/x", targets: ["/srv/x/"], line: 2, column: 9,
      fragment: "the ledger (/srv/x) is the same folder as the target of environment 'e0'"),
    .init(
      label: "ledger contains a target", ledger: "/srv", targets: ["/srv/web"], line: 2, column: 9,
      fragment: "the ledger (/srv) contains the target of environment 'e0'"),
    .init(
      label: "target inside the default ledger", targets: [".airlock/ledger.git/t"], line: 4, column: 21,
      fragment: "the target of environment 'e0' (/project/.airlock/ledger.git/t) is inside the default ledger "
        + "(/project/.airlock/ledger.git); keep the ledger and every target in folders of their own"),
    .init(
      label: "target holds the default ledger", targets: ["."], line: 4, column: 21,
      fragment: "the target of environment 'e0' (/project) contains the default ledger"),
    .init(
      label: "two targets in one folder", targets: ["/srv/a", "/srv/b", "/srv/./a/"], line: 8, column: 21,
      fragment: "the target of environment 'e2' (/srv/a) is the same folder as the target of environment 'e0' "
        + "(at 4:21, /srv/a); each environment needs a folder of its own"),
    .init(
      label: "a target inside another", targets: ["/srv/a", "/srv/a/releases/x"], line: 6, column: 21,
      fragment: "the target of environment 'e1' (/srv/a/releases/x) is inside the target of environment 'e0'"),
    .init(
      label: "a target around another", targets: ["/srv/a/b", "/srv/a"], line: 6, column: 21,
      fragment: "the target of environment 'e1' (/srv/a) contains the target of environment 'e0'"),
    .init(
      label: "dot-dot is applied", targets: ["targets/s", "targets/p/../s"], line: 6, column: 21,
      fragment: "(/project/targets/s) is the same folder as"),
    .init(
      label: "a target under the root", ledger: "ssh://host/ledger.git", targets: ["/", "/srv"], line: 7, column: 21,
      fragment: "the target of environment 'e1' (/srv) is inside the target of environment 'e0' (at 5:21, /)"),
    .init(label: "siblings with a common prefix", targets: ["/srv/web", "/srv/web2", "/srv/we"]),
    .init(label: "the usual layout", targets: [".airlock/targets/web-staging", ".airlock/targets/web-production"]),
    .init(label: "a shared ledger URL is not a folder", ledger: "file:///srv/x", targets: ["/srv/x"]),
  ]

  @Test(arguments: cases)
  func overlappingFoldersAreRefusedWithThePosition(_ folderCase: FolderCase) {
    let diagnostics = PipelineTestSupport.diagnostics(folderCase.yaml)
    guard let fragment = folderCase.fragment else {
      #expect(diagnostics.isEmpty, "\(diagnostics)")
      return
    }
    #expect(diagnostics.count == 1, "\(diagnostics)")
    let diagnostic = diagnostics.first
    #expect(diagnostic?.message.contains(fragment) == true, "\(diagnostic?.message ?? "nothing")")
    #expect(diagnostic?.line == folderCase.line && diagnostic?.column == folderCase.column, "\(diagnostics)")
  }

  @Test func symlinksOfExistingFoldersAreResolved() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let real = folder.appendingPathComponent("real")
    try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      at: folder.appendingPathComponent("link"), withDestinationURL: real)
    let yaml = FolderCase(label: "", ledger: "link/releases/ledger.git", targets: ["real"]).yaml
    let error = #expect(throws: PipelineError.self) {
      try PipelineLoader.parse(yaml, file: "pipelines/web.yml", root: folder)
    }
    let messages = error?.diagnostics.map(\.message) ?? []
    #expect(messages.count == 1)
    #expect(
      messages.first?.contains("the ledger (\(real.path)/releases/ledger.git) is inside the target") == true,
      "\(messages)")
  }

  @Test func thousandsOfTargetsAreCheckedQuickly() {
    // Linear, not quadratic: a hostile file must not make validate hang. The last one repeats the first.
    let targets = (0..<10_000).map { "/srv/t\($0)/deep/er" } + ["/srv/t0/deep/er/still"]
    let diagnostics = PipelineTestSupport.diagnostics(FolderCase(label: "", targets: targets).yaml)
    #expect(diagnostics.map(\.line) == [4 + 2 * 10_000])
  }
}
