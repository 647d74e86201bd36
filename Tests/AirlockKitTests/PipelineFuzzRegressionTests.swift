import Foundation
import Testing

@_spi(Fuzzing) @testable import AirlockKit

/// One input for the loader's fuzz contract: a pipeline, or diagnostics that each carry a position.
struct FuzzInput: Sendable, CustomTestStringConvertible {
  var label: String
  var bytes: [UInt8]
  var testDescription: String { label }

  init(_ label: String, _ text: String) {
    self.label = label
    self.bytes = Array(text.utf8)
  }

  init(_ label: String, bytes: [UInt8]) {
    self.label = label
    self.bytes = bytes
  }
}

/// Inputs that scripts/fuzz found breaking the contract, and hand-made ones at the edges it explores: each must load
/// or give positioned diagnostics (the fuzz target asks the same `contractViolation`).
@Suite struct PipelineFuzzRegressionTests {
  static let inputs: [FuzzInput] = [
    FuzzInput("nothing", bytes: []),
    FuzzInput("only a byte order mark", bytes: YAMLReader.byteOrderMark),
    FuzzInput("a byte order mark and a NUL", bytes: YAMLReader.byteOrderMark + [0]),
    FuzzInput("two byte order marks", bytes: YAMLReader.byteOrderMark + YAMLReader.byteOrderMark + Array("a: 1".utf8)),
    FuzzInput("a truncated UTF-8 sequence", bytes: [0x61, 0x3A, 0x20, 0xE2, 0x82]),
    FuzzInput("an encoded surrogate", bytes: [0x61, 0xED, 0xA0, 0x80]),
    FuzzInput("a NUL in a value", "pipeline: w\u{0}b\n"),
    FuzzInput("a control character", "pipeline: \u{7}\n"),
    FuzzInput("a tab as indentation", "pipeline: web\nenvironments:\n\t- name: s\n"),
    FuzzInput("a lone document end", "...\n"),
    FuzzInput("a directive only", "%YAML 1.1\n---\n"),
    FuzzInput("an unknown directive", "%FOO bar\n---\npipeline: web\n"),
    FuzzInput("deep flow nesting", String(repeating: "[", count: 5000)),
    FuzzInput("deep block nesting", (0..<200).map { String(repeating: " ", count: $0) + "a:\n" }.joined()),
    FuzzInput("a complex key", "? [a, b]\n: c\n"),
    FuzzInput("a key that is a mapping", "{a: b}: c\n"),
    FuzzInput("a local target of root", "pipeline: web\nenvironments:\n  - name: s\n    target: {local: /}\n"),
    FuzzInput(
      "a local target of dot-dots",
      "pipeline: web\nenvironments:\n  - name: s\n    target: {local: ../../../../..}\n"
        + "  - name: p\n    target: {local: '/../'}\n"),
    FuzzInput("a very deep path", "pipeline: web\nenvironments:\n  - name: s\n    target: {local: \(deepPath)}\n"),
    FuzzInput(
      "a ledger of slashes", "pipeline: web\nledger: '//'\nenvironments:\n  - name: s\n    target: {local: /}\n"),
  ]

  static let deepPath = Array(repeating: "a", count: 20_000).joined(separator: "/")

  @Test(arguments: inputs)
  func keepsTheContract(_ input: FuzzInput) {
    #expect(PipelineLoader.contractViolation(bytes: Data(input.bytes)) == nil)
  }

  @Test func theSeedsOfTheFuzzerLoad() throws {
    let root = PipelineTestSupport.packageRoot
    for path in ["pipelines/web.yml", "docs/pipeline-reference.yml"] {
      let bytes = try Data(contentsOf: root.appendingPathComponent(path))
      #expect(PipelineLoader.contractViolation(bytes: bytes) == nil, "\(path)")
      // The reference also documents the planned target kinds, which the loader refuses and nothing else.
      do {
        _ = try PipelineLoader.parse(bytes: bytes, file: path, root: root)
      } catch {
        #expect(error.diagnostics.allSatisfy { $0.message.contains("is not implemented in this build") }, "\(path)")
      }
    }
  }
}
