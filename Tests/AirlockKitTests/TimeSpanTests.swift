import Testing

@testable import AirlockKit

@Suite struct TimeSpanTests {
  @Test(arguments: [("100ms", 100), ("2s", 2000), ("5m", 300_000), ("1h", 3_600_000)])
  func parsesUnits(text: String, milliseconds: Int64) {
    #expect(TimeSpan(parsing: text)?.milliseconds == milliseconds)
  }

  @Test(arguments: ["", "5", "s", "-1s", "1.5s", "2d", "1 s", "ms"])
  func rejectsMalformed(text: String) {
    #expect(TimeSpan(parsing: text) == nil)
  }
}
