/// What stock `git fsck --strict` (git 2.39) flags in a tree entry, decided before the tree is written.
///
/// The ledger must stay fsck-clean (invariant 3, docs/invariants.md), so an artifact entry fsck would flag is refused up
/// front. The name rules port git's `is_hfs_dot*` and `is_ntfs_dot*` (`.git`, `.gitmodules`, `.gitattributes`,
/// `.gitignore` and `.mailmap` as macOS or Windows would read the name: any case, ignorable Unicode, trailing dots
/// and spaces, `::$DATA` streams, 8.3 short names, backslash-separated parts); the `.gitmodules` rules port git's
/// config parser and its submodule name, URL, path and update checks. Where git's behaviour is subtle these rules
/// refuse more, never less: everything they accept passes fsck.
enum ArtifactRules {
  /// How an entry is stored: it decides which rules apply.
  enum EntryKind: Sendable {
    case file
    case symlink
    case folder
  }

  /// A file git itself reads from a checkout, and so checks in every tree.
  enum SpecialFile: String, CaseIterable, Sendable {
    case gitmodules = ".gitmodules"
    case gitattributes = ".gitattributes"
    case gitignore = ".gitignore"
    case mailmap = ".mailmap"

    /// The name without its dot, and the prefix of its 8.3 short name on NTFS.
    fileprivate var needle: (name: String, shortPrefix: String) {
      switch self {
      case .gitmodules: return ("gitmodules", "gi7eba")
      case .gitattributes: return ("gitattributes", "gi7d29")
      case .gitignore: return ("gitignore", "gi250a")
      case .mailmap: return ("mailmap", "maba30")
      }
    }
  }

  /// Largest `.gitattributes` git parses (`ATTR_MAX_FILE_SIZE`); also the bound for `.gitmodules` here.
  static let maximumSpecialFileSize = 100 * 1024 * 1024
  /// Shortest `.gitattributes` line git refuses (`ATTR_MAX_LINE_LENGTH`).
  static let maximumAttributesLine = 2048

  /// Why fsck would flag an entry called `name` of kind `kind`, or nil when its name and kind are fine.
  ///
  /// The content of a `.gitmodules` or `.gitattributes` file is judged separately by `contentProblem`.
  static func problem(name: [UInt8], kind: EntryKind) -> Refusal? {
    if isDotGit(name) { return .dotGit }
    for special in specialFiles(name) {
      switch (special, kind) {
      case (_, .symlink): return .symlinkedSpecialFile(special)
      case (.gitmodules, .folder), (.gitattributes, .folder): return .specialFileNotAFile(special)
      default: continue
      }
    }
    return nil
  }

  /// Why fsck would flag `content` as the file named `name`, or nil (also for names that are not checked).
  static func contentProblem(name: [UInt8], content: [UInt8]) -> Refusal? {
    let special = specialFiles(name)
    if special.contains(.gitmodules), let problem = gitmodulesProblem(content) { return problem }
    if special.contains(.gitattributes), let problem = gitattributesProblem(content) { return problem }
    return nil
  }

  /// Whether fsck reads the content of a file called `name`, so that `contentProblem` must see it.
  static func needsContentCheck(_ name: [UInt8]) -> Bool {
    let special = specialFiles(name)
    return special.contains(.gitmodules) || special.contains(.gitattributes)
  }

  // MARK: Names

  /// `.git` as git, macOS (HFS+) or Windows (NTFS) would read `name`, including after a backslash (fsck's
  /// `hasDotgit`).
  static func isDotGit(_ name: [UInt8]) -> Bool {
    if isHFSDot(name, "git") || isNTFSDotGit(name[...]) { return true }
    return backslashParts(name).contains { isNTFSDotGit($0) }
  }

  /// The special files `name` stands for on some file system.
  static func specialFiles(_ name: [UInt8]) -> Set<SpecialFile> {
    var found = Set<SpecialFile>()
    for special in SpecialFile.allCases {
      let (needle, shortPrefix) = special.needle
      if isHFSDot(name, needle) || isNTFSDot(name[...], needle, shortPrefix) { found.insert(special) }
    }
    // fsck looks for .gitmodules (only) after every backslash too, as Windows would split the name there.
    if backslashParts(name).contains(where: { isNTFSDot($0, "gitmodules", "gi7eba") }) { found.insert(.gitmodules) }
    return found
  }

  /// The parts of `name` after each backslash.
  private static func backslashParts(_ name: [UInt8]) -> [ArraySlice<UInt8>] {
    name.indices.filter { name[$0] == UInt8(ascii: "\\") }.map { name[($0 + 1)...] }
  }

  /// Code points HFS+ ignores in names (git's `next_hfs_char`).
  private static let hfsIgnorable: Set<UInt32> = [
    0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x206a, 0x206b, 0x206c, 0x206d, 0x206e,
    0x206f, 0xfeff,
  ]

  /// git's `is_hfs_dot_generic`: `.` + `needle` case-insensitively, ignoring HFS-ignorable code points, then the
  /// end of the name. Malformed UTF-8 reads as the end, as in git.
  private static func isHFSDot(_ name: [UInt8], _ needle: String) -> Bool {
    var decoder = StrictUTF8(name)
    func nextHFS() -> UInt32 {
      while true {
        let scalar = decoder.next()
        guard let scalar else { return 0 }
        if !hfsIgnorable.contains(scalar) { return scalar }
      }
    }
    guard nextHFS() == UInt32(UInt8(ascii: ".")) else { return false }
    for expected in needle.utf8 {
      let scalar = nextHFS()
      guard scalar <= 127, asciiLower(UInt8(scalar)) == expected else { return false }
    }
    let after = nextHFS()
    return after == 0 || after == UInt32(UInt8(ascii: "/"))
  }

  /// git's `is_ntfs_dotgit`: `.git` or `git~1`, in any case, followed by only dots and spaces up to the end, a
  /// separator or a `:` stream name.
  private static func isNTFSDotGit(_ name: ArraySlice<UInt8>) -> Bool {
    var rest = name
    let lowered = rest.prefix(5).map(asciiLower)
    if lowered.starts(with: Array(".git".utf8)) {
      rest = rest.dropFirst(4)
    } else if lowered == Array("git~1".utf8) {
      rest = rest.dropFirst(5)
    } else {
      return false
    }
    for byte in rest {
      if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: ":") { return true }
      if byte != UInt8(ascii: ".") && byte != UInt8(ascii: " ") { return false }
    }
    return true
  }

  /// git's `is_ntfs_dot_generic`: `.needle`, its short name `needle-prefix~1`…`~4`, or the fall-back short name
  /// `shortPrefix~N`, followed by only dots and spaces up to the end or a `:` stream name.
  private static func isNTFSDot(_ name: ArraySlice<UInt8>, _ needle: String, _ shortPrefix: String) -> Bool {
    let bytes = Array(name)
    let needleBytes = Array(needle.utf8)
    func onlySpacesAndPeriods(from start: Int) -> Bool {
      for byte in bytes.dropFirst(start) {
        if byte == UInt8(ascii: ":") { return true }
        if byte != UInt8(ascii: " ") && byte != UInt8(ascii: ".") { return false }
      }
      return true
    }
    func at(_ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }
    if at(0) == UInt8(ascii: "."), bytes.count > needleBytes.count,
      bytes[1...needleBytes.count].map(asciiLower) == needleBytes
    {
      return onlySpacesAndPeriods(from: needleBytes.count + 1)
    }
    if bytes.count >= 8, bytes[0..<6].map(asciiLower) == Array(needleBytes.prefix(6)), bytes[6] == UInt8(ascii: "~"),
      (UInt8(ascii: "1")...UInt8(ascii: "4")).contains(bytes[7])
    {
      return onlySpacesAndPeriods(from: 8)
    }
    let prefix = Array(shortPrefix.utf8)
    var index = 0
    var sawTilde = false
    while index < 8 {
      let byte = at(index)
      if byte == 0 { return false }
      if sawTilde {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
      } else if byte == UInt8(ascii: "~") {
        index += 1
        guard (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(at(index)) else { return false }
        sawTilde = true
      } else if index >= 6 || byte & 0x80 != 0 || asciiLower(byte) != prefix[index] {
        return false
      }
      index += 1
    }
    // git goes on from wherever its loop stopped: one past a `~N` that ended at the eighth byte.
    return onlySpacesAndPeriods(from: index)
  }

  // MARK: Contents

  /// git's `.gitattributes` blob checks: at most 100 MiB, and every line (up to the first NUL) under 2048 bytes.
  static func gitattributesProblem(_ content: [UInt8]) -> Refusal? {
    if content.count > maximumSpecialFileSize { return .tooLarge(.gitattributes) }
    let text = content.prefix { $0 != 0 }
    for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    where line.count >= maximumAttributesLine {
      return .attributesLineTooLong
    }
    return nil
  }

  /// git's `.gitmodules` blob checks: it must parse as git config, and every `submodule.<name>.*` must have a
  /// name without `..` components, a `url` fsck accepts, a `path` that is not an option and an `update` that is
  /// not a `!command`.
  static func gitmodulesProblem(_ content: [UInt8]) -> Refusal? {
    if content.count > maximumSpecialFileSize { return .tooLarge(.gitmodules) }
    // git parses C strings: a NUL would cut a name or value short in ways this port does not follow.
    if content.contains(0) { return .unparsableGitmodules }
    var parser = GitConfigParser(content)
    guard let entries = parser.parse() else { return .unparsableGitmodules }
    for (variable, value) in entries {
      guard let (subsection, key) = submoduleKey(variable) else { continue }
      if !isAllowedSubmoduleName(subsection) { return .submoduleName(escaped(subsection)) }
      guard let value else { continue }
      switch key {
      case Array("url".utf8) where !isAllowedSubmoduleURL(value): return .submoduleURL(escaped(value))
      case Array("path".utf8) where value.first == UInt8(ascii: "-"): return .submodulePath(escaped(value))
      case Array("update".utf8) where value.first == UInt8(ascii: "!"): return .submoduleUpdate(escaped(value))
      default: continue
      }
    }
    return nil
  }

  /// git's `parse_config_key(var, "submodule", …)` with a subsection: the subsection and the key.
  private static func submoduleKey(_ variable: [UInt8]) -> ([UInt8], [UInt8])? {
    let section = Array("submodule.".utf8)
    guard variable.starts(with: section) else { return nil }
    let rest = Array(variable.dropFirst(section.count - 1))  // from the dot after "submodule"
    guard let lastDot = rest.lastIndex(of: UInt8(ascii: ".")), lastDot != 0 else { return nil }
    return (Array(rest[1..<lastDot]), Array(rest[(lastDot + 1)...]))
  }

  /// git's `check_submodule_name`: not empty and no `..` component (with `/` or `\` as separators).
  private static func isAllowedSubmoduleName(_ name: [UInt8]) -> Bool {
    guard !name.isEmpty else { return false }
    let parts = name.split(omittingEmptySubsequences: false) { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }
    return !parts.contains { Array($0) == Array("..".utf8) }
  }

  /// git's `check_submodule_url`, made stricter where it would take a deep port: no leading `-`, no control
  /// character even percent-encoded, relative URLs must not climb out to a `:` or `/`, and http(s)/ftp(s) URLs
  /// need a host.
  private static func isAllowedSubmoduleURL(_ url: [UInt8]) -> Bool {
    if url.first == UInt8(ascii: "-") { return false }
    if percentDecoded(url[...]).contains(where: { $0 < 0x20 || $0 == 0x7f }) { return false }
    let text = url[...]
    if startsWithDotSlash(text) || startsWithDotDotSlash(text) || text.starts(with: Array("git://".utf8)) {
      var rest = text
      var climbs = 0
      while true {
        if startsWithDotDotSlash(rest) {
          climbs += 1
          rest = rest.dropFirst(3)
        } else if startsWithDotSlash(rest) {
          rest = rest.dropFirst(2)
        } else {
          break
        }
      }
      return !(climbs > 0 && (rest.first == UInt8(ascii: ":") || rest.first == UInt8(ascii: "/")))
    }
    guard let curlURL = curlURL(text) else { return true }
    return hasHost(curlURL)
  }

  private static func isSeparator(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") }

  private static func startsWithDotSlash(_ text: ArraySlice<UInt8>) -> Bool {
    text.first == UInt8(ascii: ".") && isSeparator(text.dropFirst().first)
  }

  private static func startsWithDotDotSlash(_ text: ArraySlice<UInt8>) -> Bool {
    text.starts(with: Array("..".utf8)) && isSeparator(text.dropFirst(2).first)
  }

  /// git's `url_to_curl_url`: the URL curl would fetch, or nil for URLs that do not go through curl.
  private static func curlURL(_ url: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    for scheme in ["http", "https", "ftp", "ftps"] {
      if url.starts(with: Array((scheme + "::").utf8)) { return url.dropFirst(scheme.utf8.count + 2) }
      if url.starts(with: Array((scheme + "://").utf8)) { return url }
    }
    return nil
  }

  /// git's `credential_from_url_gently` succeeding with a non-empty host.
  private static func hasHost(_ url: ArraySlice<UInt8>) -> Bool {
    let bytes = Array(url)
    let marker = Array("://".utf8)
    guard let schemeEnd = (0..<max(bytes.count - 2, 0)).first(where: { Array(bytes[$0..<$0 + 3]) == marker }),
      schemeEnd > 0
    else { return false }
    let start = schemeEnd + 3
    let afterScheme = bytes[start...]
    let slash = afterScheme.firstIndex { "/?#".utf8.contains($0) } ?? bytes.endIndex
    var hostStart = start
    if let at = afterScheme.firstIndex(of: UInt8(ascii: "@")), at < slash { hostStart = at + 1 }
    return !percentDecoded(bytes[hostStart..<slash]).isEmpty
  }

  /// git's `url_decode`: `%XX` becomes the byte; anything else stays.
  private static func percentDecoded(_ text: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
      if text[index] == UInt8(ascii: "%"), index + 2 < text.endIndex,
        let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
      {
        out.append(high << 4 | low)
        index += 3
      } else {
        out.append(text[index])
        index += 1
      }
    }
    return out
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}

/// Lowercases ASCII letters only, as git's `tolower` does.
func asciiLower(_ byte: UInt8) -> UInt8 {
  (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
}

/// A file name (or any bytes) as people should read it: UTF-8 as is, other bytes, control characters and `\` as
/// `\xNN`.
func escaped(_ bytes: [UInt8]) -> String {
  var decoder = StrictUTF8(bytes)
  var text = ""
  func hex(_ value: UInt32) -> String { "\\x" + String(value, radix: 16).leftPadded(to: 2) }
  while true {
    if let scalar = decoder.next() {
      if scalar < 0x20 || scalar == 0x7f || scalar == UInt32(UInt8(ascii: "\\")) {
        text += hex(scalar)
      } else if let unicode = Unicode.Scalar(scalar) {
        text.unicodeScalars.append(unicode)
      }
    } else if let byte = decoder.skipMalformedByte() {
      text += hex(UInt32(byte))
    } else {
      return text
    }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}

/// A strict UTF-8 decoder that stops at the first malformed sequence (overlong, surrogate, out of range,
/// truncated), where git's `pick_one_utf8_char` would also stop or earlier.
struct StrictUTF8 {
  private let bytes: [UInt8]
  private var index = 0
  private var failed = false

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// After `next()` stopped at a malformed sequence: its first byte, and decoding resumes after it.
  mutating func skipMalformedByte() -> UInt8? {
    guard failed, index < bytes.count else { return nil }
    failed = false
    index += 1
    return bytes[index - 1]
  }

  /// The next code point, or nil at the end or at a malformed sequence.
  mutating func next() -> UInt32? {
    guard !failed, index < bytes.count else { return nil }
    let first = bytes[index]
    let (length, minimum, initial): (Int, UInt32, UInt32) =
      switch first {
      case 0..<0x80: (1, 0, UInt32(first))
      case 0xc2..<0xe0: (2, 0x80, UInt32(first & 0x1f))
      case 0xe0..<0xf0: (3, 0x800, UInt32(first & 0x0f))
      case 0xf0..<0xf5: (4, 0x10000, UInt32(first & 0x07))
      default: (0, 0, 0)
      }
    guard length > 0, index + length <= bytes.count else { return fail() }
    var value = initial
    for offset in 1..<length {
      let byte = bytes[index + offset]
      guard byte & 0xc0 == 0x80 else { return fail() }
      value = value << 6 | UInt32(byte & 0x3f)
    }
    guard value >= minimum, value <= 0x10ffff, !(0xd800..<0xe000).contains(value) else { return fail() }
    index += length
    return value
  }

  private mutating func fail() -> UInt32? {
    failed = true
    return nil
  }
}

extension ArtifactRules {
  /// Why an entry is refused: each case names the fsck message it avoids and says it in words.
  enum Refusal: Sendable, Equatable {
    case dotGit
    case symlinkedSpecialFile(SpecialFile)
    case specialFileNotAFile(SpecialFile)
    case tooLarge(SpecialFile)
    case attributesLineTooLong
    case unparsableGitmodules
    case submoduleName(String)
    case submoduleURL(String)
    case submodulePath(String)
    case submoduleUpdate(String)

    /// The `git fsck` message id, e.g. `gitmodulesSymlink`.
    var fsckMessage: String {
      switch self {
      case .dotGit: return "hasDotgit"
      case .symlinkedSpecialFile(let special): return special.fsckPrefix + "Symlink"
      case .specialFileNotAFile(let special): return special.fsckPrefix + "Blob"
      case .tooLarge(let special): return special.fsckPrefix + "Large"
      case .attributesLineTooLong: return "gitattributesLineLength"
      case .unparsableGitmodules: return "gitmodulesParse"
      case .submoduleName: return "gitmodulesName"
      case .submoduleURL: return "gitmodulesUrl"
      case .submodulePath: return "gitmodulesPath"
      case .submoduleUpdate: return "gitmodulesUpdate"
      }
    }

    /// What is wrong with the entry, completing "PATH …".
    var reason: String {
      switch self {
      case .dotGit:
        return "is named like git's own .git folder (in some letter case, or as Windows or macOS would read it)"
      case .symlinkedSpecialFile(let special):
        return "is a symlink read as \(special.rawValue) (in some letter case, or as Windows or macOS would read "
          + "the name), and git refuses \(special.rawValue) as a symlink"
      case .specialFileNotAFile(let special):
        return "is a folder read as \(special.rawValue), and git requires \(special.rawValue) to be a file"
      case .tooLarge(let special):
        return "is read as \(special.rawValue) and is larger than git parses (100 MiB)"
      case .attributesLineTooLong:
        return "is read as .gitattributes and has a line of 2048 bytes or more, which git refuses to parse"
      case .unparsableGitmodules:
        return "is read as .gitmodules and is not a config file git can parse"
      case .submoduleName(let name):
        return "is read as .gitmodules and names a submodule \"\(name)\" that is empty or has a `..` component"
      case .submoduleURL(let url):
        return "is read as .gitmodules and has a submodule url \"\(url)\" git refuses (it starts with `-`, holds a "
          + "control character, climbs out with `../`, or has no host)"
      case .submodulePath(let path):
        return "is read as .gitmodules and has a submodule path \"\(path)\" that starts with `-`"
      case .submoduleUpdate(let update):
        return "is read as .gitmodules and has a submodule update \"\(update)\" that runs a command"
      }
    }
  }
}

extension ArtifactRules.SpecialFile {
  /// The start of this file's fsck message ids, e.g. `gitmodules`.
  fileprivate var fsckPrefix: String { String(rawValue.dropFirst()) }
}
