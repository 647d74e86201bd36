import Foundation
import Testing

@testable import AirlockKit

/// A check kind a library user registers is named in pipelines like a built-in kind, validated with line and
/// column, recorded under its key, and built by its own `make`.
@Suite struct CheckKindRegistryTests {
  /// A check of the test kinds: passes when its subject is "ok".
  struct SubjectCheck: Check {
    let name: String
    let subject: String
    var isDependency: Bool { false }
    func evaluate(in context: CheckContext) async -> CheckResult {
      CheckResult(
        name: name, kind: "test", dependency: false, verdict: subject == "ok" ? .pass : .fail, hosts: [],
        summary: "\(name): \(subject)")
    }
  }

  /// Registers `key` once per process (the registry is global, and suites run in parallel).
  static func registered(_ key: String, options: [String] = []) -> String {
    _ = try? CheckKinds.register(
      CustomCheckKind(key: key, options: options) { SubjectCheck(name: $0.name, subject: $0.subject) })
    return key
  }

  static func pipeline(checks: String) -> String {
    """
    pipeline: web
    environments:
      - name: staging
        target:
          local: targets/staging
        verify: [disk]
    checks:
    \(checks)
    """
  }

  @Test func aRegisteredKindLoadsWithItsSubjectOptionsAndQuorum() throws {
    let key = Self.registered("test-free-space", options: ["bytes", "mount"])
    let pipeline = try PipelineLoader.parse(
      Self.pipeline(
        checks: """
            disk:
              \(key): release
              bytes: 1000000
              attempts: 3
          """), file: "pipelines/web.yml", root: URL(fileURLWithPath: "/project"))
    let spec = try #require(pipeline.checks["disk"])
    #expect(spec.kind == .custom(kind: key, subject: "release", options: ["bytes": "1000000"]))
    #expect(spec.kind.keyword == key)
    #expect(spec.policy.attempts == 3)
    let check = try #require(try CheckCatalog.make(spec) as? SubjectCheck)
    #expect(check.subject == "release")
  }

  @Test func aRegisteredKindGetsTheSameLineAndColumnValidation() {
    let key = Self.registered("test-quota", options: ["limit"])
    let diagnostics = PipelineTestSupport.diagnostics(
      Self.pipeline(
        checks: """
            disk:
              \(key): release
              expect: 200
              limt: 5
          """)
    ).map(\.description)
    #expect(
      diagnostics.contains {
        $0.hasPrefix("pipelines/web.yml:10:5:") && $0.contains("'expect' applies to http checks only")
      })
    #expect(
      diagnostics.contains {
        $0.hasPrefix("pipelines/web.yml:11:5:") && $0.contains("'limt'") && $0.contains("did you mean 'limit'")
      }, "\(diagnostics)")
  }

  @Test func anOptionOfOneRegisteredKindIsRefusedOnAnother() {
    _ = Self.registered("test-owner", options: ["only-mine"])
    let diagnostics = PipelineTestSupport.diagnostics(
      Self.pipeline(
        checks: """
            disk:
              tcp: localhost:80
              only-mine: 1
          """)
    ).map(\.description)
    #expect(diagnostics.contains { $0.contains("'only-mine' applies to test-owner checks only") }, "\(diagnostics)")
  }

  @Test func aKindNobodyRegisteredIsRefused() {
    let diagnostics = PipelineTestSupport.diagnostics(
      Self.pipeline(
        checks: """
            disk:
              min-free-space-nobody-registered: release
          """)
    ).map(\.description)
    #expect(diagnostics.contains { $0.hasPrefix("pipelines/web.yml:9:5:") }, "\(diagnostics)")
  }

  @Test(arguments: ["http", "attempts", "expect", "Bad Name"])
  func aKindCannotTakeAKeyAirlockUsesOrAnInvalidName(_ key: String) {
    #expect(throws: AirlockError.self) {
      try CheckKinds.register(CustomCheckKind(key: key) { SubjectCheck(name: $0.name, subject: $0.subject) })
    }
  }

  @Test func aKindIsRegisteredOnce() {
    let key = Self.registered("test-once")
    #expect(throws: AirlockError.self) {
      try CheckKinds.register(CustomCheckKind(key: key) { SubjectCheck(name: $0.name, subject: $0.subject) })
    }
  }
}
