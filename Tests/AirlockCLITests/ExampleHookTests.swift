import AirlockTestSupport
import Foundation
import Testing

/// The example hooks in `hooks/` do what their comments say, run by the built binary.
@Suite struct ExampleHookTests {
  static let hooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("hooks")

  /// Today in UTC, shifted by `days`, as `YYYY-MM-DD`.
  static func day(_ days: Int) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: Date().addingTimeInterval(Double(days) * 86_400))
  }

  @Test func thePrePromoteHookBlocksAPromotionDuringAChangeFreezeOnly() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    try FileManager.default.createDirectory(at: box.url("hooks"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: Self.hooks.appendingPathComponent("pre-promote"), to: box.url("hooks/pre-promote"))
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)

    try box.write(
      "# freezes\nstaging \(Self.day(-30)) \(Self.day(30)) not this environment\n"
        + "production \(Self.day(-1)) \(Self.day(1)) year-end freeze\n",
      to: "deploy-freeze.txt")
    let frozen = try await box.airlock("promote", "production")
    #expect(frozen.code == 3, "\(frozen.output)")
    #expect(
      frozen.stderr.contains(
        "  | change freeze on production from \(Self.day(-1)) to \(Self.day(1)): year-end freeze"),
      "\(frozen.stderr)")
    #expect(frozen.stdout.contains("hook pre-promote refused: exit 1"), "\(frozen.stdout)")
    #expect(box.current("production") == nil)

    try box.write("production \(Self.day(-9)) \(Self.day(-2)) over\n", to: "deploy-freeze.txt")
    let thawed = try await box.airlock("promote", "production")
    #expect(thawed.code == 0, "\(thawed.output)")
    #expect(box.current("production") == "1.0.0")
  }
}
