import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The whole `--json` document of each command on one fixed scenario, pinned by golden files in `Golden/json/`.
///
/// What differs from run to run is replaced before comparing: timestamps, commit ids, the project's path, durations,
/// pids, this machine's host name and a lock's age. Regenerate after an intended change with `AIRLOCK_UPDATE_GOLDEN=1 swift test --filter JSONGoldenTests`.
@Suite struct JSONGoldenTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/json")

  /// `text` with what varies between runs replaced by placeholders.
  /// This machine's name as Airlock records it in a lease (`gethostname`).
  static let machine: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }()

  static func normalized(_ text: String, root: URL) -> String {
    var text = text.replacingOccurrences(of: root.path, with: "<root>")
    let rules: [(String, String)] = [
      (#""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z""#, "\"<time>\""),
      (#"\b[0-9a-f]{40}\b"#, "<id>"),
      (#""(milliseconds|durationMilliseconds|pid)" : \d+"#, "\"$1\" : 0"),
      (NSRegularExpression.escapedPattern(for: "\"host\" : \"\(machine)\""), "\"host\" : \"<machine>\""),
      (#"held \d+[smh]\w*"#, "held <age>"),
    ]
    for (pattern, template) in rules {
      text = text.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
    }
    return text
  }

  @Test func everyCommandsDocumentOnAFixedScenarioIsPinned() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    var documents: [(String, ScratchProject.Run)] = []
    func record(_ name: String, _ arguments: String...) async throws {
      documents.append((name, try await box.airlock(arguments + ["--json"])))
    }
    try await record("validate", "validate")
    try await record("plan-before", "plan", "production")
    try await record("deploy", "deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0")
    try await record("promote", "promote", "production")
    try await record(
      "deploy-broken", "deploy", "staging", "--artifact", box.artifact("1.1.0", healthy: false),
      "--version", "1.1.0")
    try await record("promote-refused", "promote", "production", "--release", "1.1.0")
    try await record("verify", "verify", "production")
    try await record("lock", "lock", "production", "--reason", "incident 42")
    try await record("unlock", "unlock", "production")
    try await record("status", "status")
    try await record("history", "history", "--limit", "5")
    try await record("drift", "drift", "staging", "production")
    try await record("failure", "history", "prod")
    try await record("plan-rollback", "plan", "staging", "--rollback")
    try await record("releases-production", "releases", "production")
    try await record("version", "version")
    let expectedCodes = [
      "validate": 0, "plan-before": 3, "deploy": 0, "promote": 0, "deploy-broken": 4, "promote-refused": 3,
      "verify": 0, "lock": 0, "unlock": 0, "status": 0, "history": 0, "drift": 0, "failure": 2, "plan-rollback": 3,
      "releases-production": 0, "version": 0,
    ]
    for (name, run) in documents {
      #expect(Int(run.code) == expectedCodes[name], "\(name): \(run.output)")
      let text = Self.normalized(run.stdout, root: box.root)
      #expect((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) != nil, "\(name) is not JSON")
      let golden = Self.folder.appendingPathComponent("\(name).json")
      if ProcessInfo.processInfo.environment["AIRLOCK_UPDATE_GOLDEN"] == "1" {
        try text.write(to: golden, atomically: true, encoding: .utf8)
      }
      let expected = try String(contentsOf: golden, encoding: .utf8)
      #expect(text == expected, "airlock \(name) --json differs from \(golden.path)")
    }
  }
}
