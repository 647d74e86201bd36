import Foundation

/// The naming rules of pipeline files, kept in one place so the loader and the CLI (which checks `-p NAME`) agree.
public enum PipelineNames {
  /// The longest pipeline, environment or check name; names end up in git ref names and file names.
  public static let maximumLength = 64

  /// Whether `name` is a valid pipeline, environment or check name: `[a-z0-9][a-z0-9._-]*`, at most 64 characters,
  /// with no `..` and not ending in `.` or `.lock`.
  ///
  /// Lowercase only, because these names become git ref names and folder names on case-insensitive file systems.
  /// The `..` and ending rules are git's (git-check-ref-format), so `refs/heads/<pipeline>/<environment>` and
  /// `refs/airlock/leases/<pipeline>/<environment>` are always valid ref names.
  public static func isValidName(_ name: String) -> Bool {
    guard let first = name.utf8.first, name.utf8.count <= maximumLength, isLowerAlphanumeric(first) else {
      return false
    }
    return name.utf8.allSatisfy {
      isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
    } && isStorableInGit(name)
  }

  /// Whether `label` is a valid version label: `[A-Za-z0-9][A-Za-z0-9._+-]{0,63}`, with no `..` and not ending in
  /// `.` or `.lock`, so `refs/tags/<pipeline>/<label>` is always a valid git ref name.
  public static func isValidLabel(_ label: String) -> Bool {
    guard let first = label.utf8.first, label.utf8.count <= maximumLength, isAlphanumeric(first) else {
      return false
    }
    return label.utf8.allSatisfy {
      isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "+")
        || $0 == UInt8(ascii: "-")
    } && isStorableInGit(label)
  }

  /// Whether `key` is a valid config key or secret name: `[A-Za-z_][A-Za-z0-9_]*`.
  ///
  /// The same rule as shell variable names, because the values reach `start` and hooks as environment variables.
  public static func isValidConfigKey(_ key: String) -> Bool {
    guard let first = key.utf8.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
    return key.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
  }

  /// The variables Airlock passes from its own environment to `start`, command checks and hooks (hooks get all but
  /// `TMPDIR`). A secret may not take one of these names: its value would reach checks and hooks unmasked.
  public static let passedThroughVariables = ["PATH", "HOME", "LANG", "USER", "TZ", "TMPDIR"]

  /// The prefix of the variables Airlock sets itself (`AIRLOCK_VERSION`…) or reads (`AIRLOCK_LEDGER`…); no secret
  /// or config key may use it.
  public static let reservedPrefix = "AIRLOCK_"

  /// Git refuses a ref name component containing `..` or ending in `.` or `.lock` (git-check-ref-format); the other
  /// rules of git are met by the character sets above, which start with a letter or digit and hold no `/`, `@`,
  /// control characters, spaces or `~^:?*[\`.
  private static func isStorableInGit(_ name: String) -> Bool {
    !name.contains("..") && !name.hasSuffix(".") && !name.hasSuffix(".lock")
  }

  static let nameRule =
    "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most \(maximumLength) "
    + "characters, without '..' and not ending in '.' or '.lock'"
  static let labelRule =
    "use 1-\(maximumLength) characters of [A-Za-z0-9._+-], starting with a letter or digit, without '..' and not "
    + "ending in '.' or '.lock'"
  static let configKeyRule = "use letters, digits and '_', not starting with a digit"

  /// The error text for a `--version` label that `isValidLabel` refuses.
  static func invalidLabel(_ label: String) -> String {
    "invalid version label '\(label)': \(labelRule)"
  }

  /// " (did you mean 'x'?)" or nothing: `Suggestion.nearest`, for the pipeline loader's messages.
  static func didYouMean(_ word: String, among candidates: some Collection<String>) -> String {
    Suggestion.nearest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
  }

  private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || isDigit(byte)
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    isLetter(byte) || isDigit(byte)
  }

  private static func isLetter(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
  }
}
