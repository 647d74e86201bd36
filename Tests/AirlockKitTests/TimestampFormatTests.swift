import Foundation
import Testing

@testable import AirlockKit

@Suite struct TimestampFormatTests {
  /// Seconds since 1970 across the years `%04d` pads, the ones it does not, and both sides of the epoch.
  @Test(arguments: [
    0, -0.001, -1, 0.999, 1_795_000_000.5, 1_795_000_000.123, 951_782_400, 253_402_300_799.999, 253_402_300_800,
    -62_135_596_800, -62_167_219_200, -62_198_755_200, -377_705_116_800, 32_503_680_000_000,
  ])
  func writesWhatPrintfWrites(seconds: Double) {
    let date = Date(timeIntervalSince1970: seconds)
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    var whole = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
    var parts = tm()
    gmtime_r(&whole, &parts)
    let printf = String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
      Int(milliseconds - Int64(whole) * 1000))
    #expect(Timestamp.format(date) == printf)
  }

  @Test func padsLikePrintf() {
    #expect(Timestamp.digits(5, 4) == "0005")
    #expect(Timestamp.digits(-5, 4) == "-005")
    #expect(Timestamp.digits(12_345, 4) == "12345")
    #expect(Timestamp.digits(0, 3) == "000")
    #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
  }
}
