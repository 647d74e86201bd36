import Foundation
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

@Suite struct TimestampTests {
  @Test func roundTripsWithMilliseconds() {
    let date = Date(timeIntervalSince1970: 1_795_000_000.123)
    let text = Timestamp.format(date)
    #expect(text == "2026-11-18T11:06:40.123Z")
    #expect(Timestamp.parse(text).map { abs($0.timeIntervalSince(date)) < 0.001 } == true)
    #expect(Timestamp.parse("2026-11-18T11:06:40Z") == Date(timeIntervalSince1970: 1_795_000_000))
  }

  @Test(arguments: [
    "", "yesterday", "2026-11-18", "2026-11-18T11:06:40", "2026-11-18T11:06:40.123Zx", "2026-11-18 11:06:40Z",
    "2026-11-18T11:06:40+01:00", "２０２６-11-18T11:06:40Z", "2026-11-18T11:06:40.1234567890123456789Z",
    "2026-11-18T11:06Z",
  ])
  func rejectsOtherForms(text: String) {
    #expect(Timestamp.parse(text) == nil)
  }

  /// Whatever `format` writes, `parse` reads back to the millisecond, on both sides of the epoch.
  @Test(arguments: [0, -0.5, 1_795_000_000.123, 951_782_400.999, 253_402_300_799.001, -62_135_596_800])
  func readsBackWhatFormatWrites(seconds: Double) {
    let date = Date(timeIntervalSince1970: seconds)
    let parsed = Timestamp.parse(Timestamp.format(date))
    #expect(parsed.map { abs($0.timeIntervalSince(date)) < 0.001 } == true)
  }
}

/// The background warm-up of the ledger's JSON coders round-trips every sample, so it warms what events use.
@Suite struct LedgerCodingWarmUpTests {
  @Test func everySampleRoundTrips() {
    #expect(LedgerCoding.warmUp() == 5)
  }
}

/// The background warm-up of the pipeline loader parses its sample, so it warms what pipelines use.
@Suite struct PipelineLoaderWarmUpTests {
  @Test func theSampleParses() {
    #expect(PipelineLoader.warmUp())
  }
}
