/// What a plain (unquoted, untagged) YAML scalar means, decided by YAML 1.1's core rules as Yams' default resolver
/// writes them, without its regular expressions: compiling those costs a few milliseconds at the first scalar that
/// is not plainly text, on every command, while matching these few fixed shapes by hand costs nothing.
///
/// The rules are tried in Yams' order — bool, int, float, null — and anything else (merge keys, timestamps, `=`,
/// names, paths) is text. `YAMLScalarTypeTests` pins this to Yams' resolver on a generated corpus.
enum YAMLScalarType {
  static func resolve(_ text: String) -> ScalarType {
    let bytes = Array(text.utf8)
    if isBool(bytes) { return .bool }
    if isInt(bytes) { return .int }
    if isFloat(bytes) { return .float }
    if isNull(bytes) { return .null }
    return .string
  }

  private static let bools: Set<String> = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
    "off", "Off", "OFF",
  ]
  private static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]

  static func isBool(_ bytes: [UInt8]) -> Bool {
    bytes.count <= 5 && bools.contains(String(decoding: bytes, as: UTF8.self))
  }

  static func isNull(_ bytes: [UInt8]) -> Bool {
    bytes.count <= 4 && nulls.contains(String(decoding: bytes, as: UTF8.self))
  }

  /// `[-+]?` then one of: `0b[01_]+`, `0o?[0-7_]+`, `0`, `[1-9][0-9_]*`, `0x[0-9a-fA-F_]+`,
  /// `[1-9][0-9_]*(:[0-5]?[0-9])+`.
  static func isInt(_ bytes: [UInt8]) -> Bool {
    var scanner = Scanner(bytes)
    scanner.skipSign()
    if scanner.take("0") {
      if scanner.atEnd { return true }
      if scanner.take("b") { return scanner.takeRun(of: isBinary) > 0 && scanner.atEnd }
      if scanner.take("x") { return scanner.takeRun(of: isHex) > 0 && scanner.atEnd }
      _ = scanner.take("o")
      return scanner.takeRun(of: isOctal) > 0 && scanner.atEnd
    }
    guard scanner.take(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) else { return false }
    scanner.takeRun(of: isDecimal)
    return scanner.takeSexagesimalGroups() >= 0 && scanner.atEnd
  }

  /// `[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?`, `\.[0-9_]+([eE][-+][0-9]+)?`,
  /// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`, `[-+]?\.(inf|Inf|INF)` or `\.(nan|NaN|NAN)`.
  static func isFloat(_ bytes: [UInt8]) -> Bool {
    let text = String(decoding: bytes, as: UTF8.self)
    if [".nan", ".NaN", ".NAN"].contains(text) { return true }
    var scanner = Scanner(bytes)
    let signed = scanner.skipSign()
    if scanner.take(".") {
      let rest = String(decoding: bytes[scanner.index...], as: UTF8.self)
      if ["inf", "Inf", "INF"].contains(rest) { return true }
      // `\.[0-9_]+([eE][-+][0-9]+)?` has no sign, and its exponent needs one.
      guard !signed, scanner.takeRun(of: isDecimal) > 0 else { return false }
      if scanner.take(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
        guard scanner.skipSign(), scanner.takeRun(of: isDigit) > 0 else { return false }
      }
      return scanner.atEnd
    }
    guard scanner.take(where: isDigit) else { return false }
    scanner.takeRun(of: isDecimal)
    var sexagesimal = scanner
    if sexagesimal.takeSexagesimalGroups() > 0 {
      return sexagesimal.take(".") && sexagesimal.takeRun(of: isDecimal) >= 0 && sexagesimal.atEnd
    }
    if scanner.take(".") { scanner.takeRun(of: isDecimal) }
    if scanner.take(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
      scanner.skipSign()
      guard scanner.takeRun(of: isDigit) > 0 else { return false }
    }
    return scanner.atEnd
  }

  private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
  private static func isDecimal(_ byte: UInt8) -> Bool { isDigit(byte) || byte == UInt8(ascii: "_") }
  private static func isOctal(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) || byte == UInt8(ascii: "_")
  }
  private static func isBinary(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: "0") || byte == UInt8(ascii: "1") || byte == UInt8(ascii: "_")
  }
  private static func isHex(_ byte: UInt8) -> Bool {
    isDecimal(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
      || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
  }

  /// A cursor over a scalar's bytes.
  private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(where matches: (UInt8) -> Bool) -> Bool {
      guard index < bytes.count, matches(bytes[index]) else { return false }
      index += 1
      return true
    }

    mutating func take(_ character: Unicode.Scalar) -> Bool { take { $0 == UInt8(ascii: character) } }

    @discardableResult
    mutating func skipSign() -> Bool { take { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") } }

    @discardableResult
    mutating func takeRun(of matches: (UInt8) -> Bool) -> Int {
      let start = index
      while take(where: matches) {}
      return index - start
    }

    /// Takes `(:[0-5]?[0-9])*` and returns how many groups it took; the digits of a group end at the next `:` or
    /// wherever the pattern goes on, so a group is one digit, or two whose first is 0 to 5.
    mutating func takeSexagesimalGroups() -> Int {
      var groups = 0
      while index < bytes.count, bytes[index] == UInt8(ascii: ":") {
        var next = self
        next.index += 1
        let digits = next.takeRun(of: YAMLScalarType.isDigit)
        guard digits == 1 || (digits == 2 && bytes[next.index - 2] <= UInt8(ascii: "5")) else { break }
        self = next
        groups += 1
      }
      return groups
    }
  }
}
