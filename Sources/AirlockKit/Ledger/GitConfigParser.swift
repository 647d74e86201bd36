/// A port of git's config file parser (`git_parse_source` in config.c, git 2.39) reading a blob, for `.gitmodules`
/// checks.
///
/// It yields every `section[.subsection].key` (section and key lowercased, as git canonicalises them) with its
/// value (nil for a bare `key`), or nil where git reports a parse error — fsck then flags the blob
/// (`gitmodulesParse`). Includes are not followed, as fsck does not follow them in a blob.
struct GitConfigParser {
  private let bytes: [UInt8]
  private var position = 0
  private var eof = false

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Every variable and value, or nil when git could not parse the text.
  mutating func parse() -> [(variable: [UInt8], value: [UInt8]?)]? {
    var entries: [(variable: [UInt8], value: [UInt8]?)] = []
    var comment = false
    var variable: [UInt8] = []
    var baseLength = 0
    // git reads a blob through `char`, signed here: 0xFF reads as EOF mid-text, and a UTF-8 byte order mark never
    // matches, so git fails on it. This port refuses both.
    guard !bytes.contains(0xff) else { return nil }
    while true {
      let byte = nextCharacter()
      if byte == newline {
        if eof { return entries }
        comment = false
        continue
      }
      if comment || isSpace(byte) { continue }
      if byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";") {
        comment = true
        continue
      }
      if byte == UInt8(ascii: "[") {
        variable = []
        guard baseVariable(&variable), !variable.isEmpty else { return nil }
        variable.append(UInt8(ascii: "."))
        baseLength = variable.count
        continue
      }
      guard isAlpha(byte) else { return nil }
      variable.removeSubrange(baseLength...)
      variable.append(asciiLower(byte))
      guard let value = keyAndValue(&variable) else { return nil }
      entries.append((variable, value))
    }
  }

  private let newline = UInt8(ascii: "\n")

  /// git's `get_next_char`: CRLF reads as LF, and the end reads as LF with `eof` set.
  private mutating func nextCharacter() -> UInt8 {
    guard position < bytes.count else {
      eof = true
      return newline
    }
    let byte = bytes[position]
    position += 1
    if byte == UInt8(ascii: "\r"), position < bytes.count, bytes[position] == newline {
      position += 1
      return newline
    }
    return byte
  }

  /// git's `get_base_var`: `[section]`, `[section.sub]` or `[section "sub"]`; false on a parse error.
  private mutating func baseVariable(_ name: inout [UInt8]) -> Bool {
    while true {
      let byte = nextCharacter()
      if eof { return false }
      if byte == UInt8(ascii: "]") { return true }
      if isSpace(byte) { return extendedBaseVariable(&name, byte) }
      guard isKeyCharacter(byte) || byte == UInt8(ascii: ".") else { return false }
      name.append(asciiLower(byte))
    }
  }

  /// git's `get_extended_base_var`: the quoted subsection, kept as written, with `\` escaping the next byte.
  private mutating func extendedBaseVariable(_ name: inout [UInt8], _ first: UInt8) -> Bool {
    var byte = first
    repeat {
      if byte == newline { return false }
      byte = nextCharacter()
    } while isSpace(byte)
    guard byte == UInt8(ascii: "\"") else { return false }
    name.append(UInt8(ascii: "."))
    while true {
      var byte = nextCharacter()
      if byte == newline { return false }
      if byte == UInt8(ascii: "\"") { break }
      if byte == UInt8(ascii: "\\") {
        byte = nextCharacter()
        if byte == newline { return false }
      }
      name.append(byte)
    }
    return nextCharacter() == UInt8(ascii: "]")
  }

  /// git's `get_value`: the rest of the key name, then `= value` or nothing; `.some(nil)` for a bare key and nil
  /// on a parse error.
  private mutating func keyAndValue(_ name: inout [UInt8]) -> [UInt8]?? {
    var byte: UInt8
    while true {
      byte = nextCharacter()
      if eof || !isKeyCharacter(byte) { break }
      name.append(asciiLower(byte))
    }
    while byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { byte = nextCharacter() }
    guard byte != newline else { return .some(nil) }
    guard byte == UInt8(ascii: "="), let value = value() else { return nil }
    return .some(value)
  }

  /// git's `parse_value`: quotes, `\t \b \n \\ \"` escapes, line continuation, inline comments, inner runs of
  /// blanks as one space; nil on an unknown escape or an unterminated quote.
  private mutating func value() -> [UInt8]? {
    var value: [UInt8] = []
    var quote = false
    var comment = false
    var spaces = 0
    while true {
      var byte = nextCharacter()
      if byte == newline { return quote ? nil : value }
      if comment { continue }
      if isSpace(byte) && !quote {
        if !value.isEmpty { spaces += 1 }
        continue
      }
      if !quote && (byte == UInt8(ascii: ";") || byte == UInt8(ascii: "#")) {
        comment = true
        continue
      }
      value += Array(repeating: UInt8(ascii: " "), count: spaces)
      spaces = 0
      if byte == UInt8(ascii: "\\") {
        byte = nextCharacter()
        switch byte {
        case newline: continue
        case UInt8(ascii: "t"): byte = UInt8(ascii: "\t")
        case UInt8(ascii: "b"): byte = 0x08
        case UInt8(ascii: "n"): byte = newline
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): break
        default: return nil
        }
        value.append(byte)
        continue
      }
      if byte == UInt8(ascii: "\"") {
        quote.toggle()
        continue
      }
      value.append(byte)
    }
  }

  /// git's `isspace`: space, tab, LF and CR (not VT or FF).
  private func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
  }

  private func isAlpha(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(asciiLower(byte))
  }

  /// git's `iskeychar`: ASCII letters, digits and `-`.
  private func isKeyCharacter(_ byte: UInt8) -> Bool {
    isAlpha(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
  }
}
