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
  public static func parse(_ text: String) -> (config: [String: String], secrets: [String: String]) {
    var config: [String: String] = [:]
    var secrets: [String: String] = [:]
    var inSecrets = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      if line == secretsHeader {
        inSecrets = true
        continue
      }
      guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals])
      let value = unquote(String(line[line.index(after: equals)...]))
      if inSecrets { secrets[key] = value } else { config[key] = value }
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

  static func unquote(_ text: String) -> String {
    guard text.hasPrefix("'") else { return text }
    var result = ""
    var index = text.startIndex
    var quoted = false
    while index < text.endIndex {
      let character = text[index]
      if character == "'" {
        quoted.toggle()
      } else if character == "\\" && !quoted, text.index(after: index) < text.endIndex {
        index = text.index(after: index)
        result.append(text[index])
      } else {
        result.append(character)
      }
      index = text.index(after: index)
    }
    return result
  }
}
