import AirlockKit
import ArgumentParser
import Foundation

/// Shell completion of the names a command line takes, from the project at hand.
///
/// The generated scripts (`airlock --generate-completion-script bash|zsh|fish`) call the binary back with
/// `airlock ---completion SUBCOMMAND -- ARGUMENT …`; these closures then answer from the pipeline in the current
/// folder (or the one `-p`/`-f` on the line names) and the ledger, read-only (`Workspace.environmentNames()` and
/// beside it), and answer nothing rather than print an error.
enum Completion {
  /// Environment names: the pipeline's, or the ledger's when the pipeline does not load.
  static let environments = CompletionKind.custom { words, _, _ in
    workspace(from: words)?.environmentNames() ?? []
  }

  /// Release labels bound in the ledger.
  static let releases = CompletionKind.custom { words, _, _ in
    workspace(from: words)?.releaseLabels() ?? []
  }

  /// Short ids of the newest events, as `airlock history` prints them.
  static let events = CompletionKind.custom { words, _, _ in
    workspace(from: words)?.eventIDs() ?? []
  }

  /// The workspace the global options on the line (`-p`, `-f`, `--ledger`) choose, or nil when it cannot be opened.
  static func workspace(from words: [String]) -> Workspace? {
    try? GlobalOptions.parse(globalOptions(in: words)).workspace()
  }

  /// The global options with a value among the shell's `words`, quotes around the value removed, in a form
  /// `GlobalOptions.parse` takes; everything else on the line is left out.
  static func globalOptions(in words: [String]) -> [String] {
    let names = ["-p", "-f", "--ledger"]
    var found: [String] = []
    var index = 0
    while index < words.count {
      let word = words[index]
      if names.contains(word), index + 1 < words.count {
        found += [word, unquoted(words[index + 1])]
        index += 1
      } else if let name = names.first(where: { word.hasPrefix($0 + "=") }) {
        found += [name, unquoted(String(word.dropFirst(name.count + 1)))]
      }
      index += 1
    }
    return found
  }

  /// `word` without one pair of surrounding quotes: the shells pass words verbatim.
  static func unquoted(_ word: String) -> String {
    guard word.count >= 2, let first = word.first, first == word.last, first == "'" || first == "\"" else {
      return word
    }
    return String(word.dropFirst().dropLast())
  }
}
