import Foundation

/// The `KEY=value` file format of `.airlock/config.env` (on the target) and `config.env` (in the ledger).
///
/// Values that are not plain words are single-quoted the way `sh` reads them, so the file can be sourced by a shell
/// and diffed line by line with git.
public enum ConfigFile {
  /// The comment line that separates plain config from secret fingerprints in the ledger copy.
  static let secretsHeader = "# secrets: sha256 fingerprints only; values are never stored"

  /// Renders `config` and, below a header, `secrets` (values or fingerprints), each sorted by key.
  public static func render(config: [String: String], secrets: [String: String]) -> String {
    var lines = config.keys.sorted().map { "\($0)=\(quote(config[$0]!))" }
    if !secrets.isEmpty {
      lines.append(secretsHeader)
      lines += secrets.keys.sorted().map { "\($0)=\(quote(secrets[$0]!))" }
    }
    return lines.map { $0 + "\n" }.joined()
  }

  /// Parses what `render` wrote back into plain config and the secrets section.
  ///
  /// Reads values the way `sh` does: a single-quoted part may span lines (a certificate in config), and `'\''`
  /// stands for a quote inside one.
  public static func parse(_ text: String) -> (config: [String: String], secrets: [String: String]) {
    var config: [String: String] = [:]
    var secrets: [String: String] = [:]
    var inSecrets = false
    var index = text.startIndex
    while index < text.endIndex {
      let lineEnd = text[index...].firstIndex(of: "\n") ?? text.endIndex
      let line = text[index..<lineEnd]
      guard line != secretsHeader, !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else {
        if line == secretsHeader { inSecrets = true }
        index = lineEnd < text.endIndex ? text.index(after: lineEnd) : text.endIndex
        continue
      }
      var value = ""
      var quoted = false
      var cursor = text.index(after: equals)
      while cursor < text.endIndex {
        let character = text[cursor]
        if quoted {
          if character == "'" { quoted = false } else { value.append(character) }
        } else if character == "'" {
          quoted = true
        } else if character == "\\", text.index(after: cursor) < text.endIndex {
          cursor = text.index(after: cursor)
          value.append(text[cursor])
        } else if character == "\n" {
          break
        } else {
          value.append(character)
        }
        cursor = text.index(after: cursor)
      }
      let key = String(text[index..<equals])
      if inSecrets { secrets[key] = value } else { config[key] = value }
      index = cursor < text.endIndex ? text.index(after: cursor) : text.endIndex
    }
    return (config, secrets)
  }

  static func quote(_ value: String) -> String {
    let plain = value.unicodeScalars.allSatisfy {
      CharacterSet.alphanumerics.contains($0) && $0.isASCII || "_./:@%+,=-".unicodeScalars.contains($0)
    }
    if plain && !value.isEmpty { return value }
    return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

}
