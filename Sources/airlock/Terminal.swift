import Foundation

/// What the CLI knows about where its progress goes: whether stderr is a terminal, and the variables that say how
/// to draw on it. Injected, so the rendering rules are tested without a real terminal.
struct TerminalTraits: Sendable, Equatable {
  /// Whether stderr is a terminal (not a pipe or a file).
  var isTTY: Bool
  /// The process environment: `NO_COLOR`, `TERM`, `LC_ALL`, `LC_CTYPE`, `LANG` matter.
  var environment: [String: String]

  /// The traits of this process's stderr.
  static func standardError() -> TerminalTraits {
    TerminalTraits(isTTY: isatty(STDERR_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
  }
}

/// How progress is drawn, decided from the terminal's traits and `--no-color` (docs/cli.md, Output).
struct TerminalStyle: Sendable, Equatable {
  /// ANSI colours: green ✓, red ✗ and `error:`, dim `·` and `|` lines and the running step, yellow warnings.
  var colour: Bool
  /// The running step is one line redrawn in place (`\r` and clear to the end of the line); off a terminal it is
  /// a plain "still running" line now and then.
  var inPlace: Bool
  /// ✓ ✗ → · … as themselves; else the ASCII of `Glyph.ascii`.
  var unicode: Bool

  /// A style given field by field.
  init(colour: Bool, inPlace: Bool, unicode: Bool) {
    self.colour = colour
    self.inPlace = inPlace
    self.unicode = unicode
  }

  /// The style for `traits`: colour and in-place lines only on a terminal that is not `TERM=dumb`, colour not with
  /// a non-empty `NO_COLOR` or `noColor`; ASCII glyphs when the locale names a character set other than UTF-8.
  init(_ traits: TerminalTraits, noColor: Bool) {
    let environment = traits.environment
    let capable = traits.isTTY && environment["TERM"] != "dumb"
    inPlace = capable
    colour = capable && !noColor && (environment["NO_COLOR"] ?? "").isEmpty
    unicode = Self.localeIsUTF8(environment)
  }

  /// Whether the locale's character set is UTF-8: the first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not
  /// empty decides, as in POSIX. No locale at all counts as UTF-8, so output stays what it always was.
  static func localeIsUTF8(_ environment: [String: String]) -> Bool {
    let names = ["LC_ALL", "LC_CTYPE", "LANG"]
    guard let locale = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return true }
    let lowered = locale.lowercased()
    return lowered.contains("utf-8") || lowered.contains("utf8")
  }
}

/// The symbols progress lines are drawn with, and their ASCII stand-ins for a locale that is not UTF-8.
enum Glyph {
  /// Each symbol and what replaces it in ASCII.
  static let ascii: [(symbol: String, ascii: String)] = [
    ("✓", "ok"), ("✗", "FAIL"), ("→", "->"), ("·", "-"), ("…", "..."),
  ]

  /// `line` with every symbol replaced by its ASCII stand-in.
  static func asciiOnly(_ line: String) -> String {
    ascii.reduce(line) { $0.replacingOccurrences(of: $1.symbol, with: $1.ascii) }
  }
}

/// ANSI escape sequences, the only ones the CLI writes.
enum ANSI {
  static let green = "\u{1B}[32m"
  static let red = "\u{1B}[31m"
  static let yellow = "\u{1B}[33m"
  static let dim = "\u{1B}[2m"
  static let reset = "\u{1B}[0m"
  /// Back to the start of the line and clear it, so the running step's line is redrawn in place.
  static let clearLine = "\r\u{1B}[K"
}
