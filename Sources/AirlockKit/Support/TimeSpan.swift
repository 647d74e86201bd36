import Foundation

/// A non-negative span of time written as in pipelines: `100ms`, `2s`, `5m`, `1h`.
///
/// Stored as whole milliseconds; encodes to and decodes from its written form so ledger snapshots read naturally.
public struct TimeSpan: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The span in milliseconds.
  public var milliseconds: Int64

  /// A span of `milliseconds`.
  public init(milliseconds: Int64) {
    self.milliseconds = milliseconds
  }

  /// A span of whole seconds.
  public static func seconds(_ value: Int64) -> TimeSpan { TimeSpan(milliseconds: value * 1000) }
  /// A span of milliseconds.
  public static func milliseconds(_ value: Int64) -> TimeSpan { TimeSpan(milliseconds: value) }

  /// Parses `<digits><unit>` with unit `ms`, `s`, `m` or `h`; returns `nil` for anything else.
  public init?(parsing text: String) {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    for (unit, factor) in units where text.hasSuffix(unit) {
      let digits = text.dropLast(unit.count)
      guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
        let value = Int64(digits)
      else { continue }
      self.milliseconds = value * factor
      return
    }
    return nil
  }

  /// The span as a Swift `Duration`.
  public var duration: Duration { .milliseconds(milliseconds) }

  /// The span in seconds.
  public var seconds: Double { Double(milliseconds) / 1000 }

  /// The span in the largest unit that divides it: `2m`, `90s`, `250ms`; `0s` for nothing.
  public var description: String {
    if milliseconds == 0 { return "0s" }
    if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
    if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
    if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
    return "\(milliseconds)ms"
  }

  /// Whether `lhs` is shorter than `rhs`.
  public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.milliseconds < rhs.milliseconds }

  /// Decodes the string form (`30s`, `500ms`…); anything else throws a `DecodingError`.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let span = TimeSpan(parsing: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad duration \(text)"))
    }
    self = span
  }

  /// Encodes the string form, as `description` writes it.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
