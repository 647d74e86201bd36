import Foundation
import Testing

@testable import AirlockKit

/// A name, and whether the pipeline/environment naming rule must accept it.
struct NameRuleCase: Sendable, CustomTestStringConvertible {
  var name: String
  var valid: Bool
  var testDescription: String { "\(name.debugDescription) \(valid ? "accepted" : "refused")" }
}

/// The naming rules guarantee the ledger's ref names are valid for git, proven against stock `git check-ref-format`.
@Suite struct PipelineNameRuleTests {
  static let nameCases: [NameRuleCase] =
    [
      "web", "web-2.api_x", "0day", "a", "v1.2.3", "a.b.c", "a-", "a_", "x.lockx", "lock", "a.locks", "a.loc",
      "web.lock.d", String(repeating: "a", count: 64),
    ].map { NameRuleCase(name: $0, valid: true) }
    + [
      "", "Web", "-web", ".web", "_web", "web/api", "wéb", "a..b", "web.", "web.lock", "web..", "a.b.lock", "..",
      ".", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a@{b", "@", "a\u{7f}", "a\tb",
      String(repeating: "a", count: 65),
    ].map { NameRuleCase(name: $0, valid: false) }

  @Test(arguments: nameCases)
  func pipelineAndEnvironmentNamesFollowTheRuleAndGitAgrees(_ rule: NameRuleCase) async {
    #expect(PipelineNames.isValidName(rule.name) == rule.valid)
    let refs = Self.refs(pipeline: rule.name, environment: rule.name, label: "1.0.0")
    guard rule.valid else { return }
    #expect(await Self.gitAccepts(refs) == refs.map { _ in true }, "\(refs)")
  }

  static let labelCases: [NameRuleCase] =
    [
      "1.0.0", "v1", "V1.2-rc.1+build.5", "1", "a_b", "2024-01-01", "v1.lockx", "1.0-",
      String(repeating: "9", count: 64),
    ].map { NameRuleCase(name: $0, valid: true) }
    + [
      "", "v1.lock", "1..2", "1.0.", ".hidden", "-rf", "+1", "_1", "a b", "x/y", "../x", "1.0\n", "v1@{1}", "é",
      String(repeating: "v", count: 65),
    ].map { NameRuleCase(name: $0, valid: false) }

  @Test(arguments: labelCases)
  func versionLabelsFollowTheRuleAndGitAgrees(_ rule: NameRuleCase) async {
    #expect(Release.isValidLabel(rule.name) == rule.valid)
    guard rule.valid else { return }
    #expect(await Self.gitAccepts(["refs/tags/web/\(rule.name)"]) == [true])
  }

  /// Every short name over the characters that matter (letters, digits, '.', '-', '_', and a '.lock' ending): each
  /// one the rules accept must give refs that git accepts.
  @Test func everyShortNameTheRulesAcceptIsAValidRef() async {
    let alphabet = ["a", "1", ".", "-", "_"]
    var words = [""]
    var all: [String] = []
    for _ in 1...4 {
      words = words.flatMap { word in alphabet.map { word + $0 } }
      all += words
    }
    all += all.map { $0 + ".lock" }
    let names = all.filter(PipelineNames.isValidName)
    let labels = (all + all.map { "A" + $0 + "+" }).filter(PipelineNames.isValidLabel)
    #expect(names.count > 100 && labels.count > 200)
    #expect(!all.filter { $0.contains("..") || $0.hasSuffix(".") || $0.hasSuffix(".lock") }.isEmpty)
    let refs =
      names.flatMap { Self.refs(pipeline: "web", environment: $0, label: "1") + ["refs/heads/\($0)/staging"] }
      + labels.map { "refs/tags/web/\($0)" }
    let verdicts = await Self.gitAccepts(refs)
    let refused = zip(refs, verdicts).filter { !$0.1 }.map(\.0)
    #expect(refused.isEmpty, "git refuses refs the rules allow: \(refused.prefix(20))")
    #expect(verdicts.count == refs.count)
  }

  @Test func theRuleIsStatedInTheMessage() {
    #expect(PipelineNames.invalidLabel("v1.lock").contains("without '..' and not ending in '.' or '.lock'"))
    #expect(PipelineNames.nameRule.contains("without '..' and not ending in '.' or '.lock'"))
  }

  static func refs(pipeline: String, environment: String, label: String) -> [String] {
    [
      "refs/heads/\(pipeline)/\(environment)", "refs/airlock/leases/\(pipeline)/\(environment)",
      "refs/tags/\(pipeline)/\(label)",
    ]
  }

  /// `git check-ref-format REF` for each of `refs`, in one shell so thousands of refs cost one spawn here.
  static func gitAccepts(_ refs: [String]) async -> [Bool] {
    let script = "for r in \"$@\"; do if git check-ref-format \"$r\"; then echo y; else echo n; fi; done"
    let result = await ProcessRunner().run(
      ["/bin/sh", "-c", script, "sh"] + refs, in: nil, environment: ["PATH": "/usr/bin:/bin"],
      timeout: .seconds(120))
    #expect(result.succeeded, "\(result.output)")
    return result.output.split(separator: "\n").map { $0 == "y" }
  }
}
