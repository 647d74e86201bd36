/// "Did you mean" for a name that does not exist: the environment, pipeline, release, event or subcommand a typo
/// was probably meant to be.
public enum Suggestion {
  /// The known name closest to `name` when it is close enough to be a slip of the keyboard, else `nil`.
  ///
  /// A known name that starts with `name` (`prod` for `production`) wins; otherwise `nearest(to:among:)`.
  public static func closest(to name: String, among known: [String]) -> String? {
    if name.count >= 2, let prefixed = known.first(where: { $0.lowercased().hasPrefix(name.lowercased()) }) {
      return prefixed
    }
    return nearest(to: name, among: known)
  }

  /// The candidate nearest to `word` by edit distance, ignoring case, when that distance is at most a third of the
  /// shorter name (and at least one); ties go to the candidate listed first.
  ///
  /// Gives up among more than 1000 candidates: no real pipeline has that many names, and a hostile file should not
  /// buy quadratic time.
  static func nearest(to word: String, among candidates: some Collection<String>) -> String? {
    guard candidates.count <= 1000, word.count <= 200, !word.isEmpty else { return nil }
    let target = Array(word.lowercased())
    var best: (name: String, distance: Int)?
    for candidate in candidates where candidate != word {
      // Cheap bound first: the distance is at least the difference in length.
      guard abs(candidate.count - target.count) <= max(1, candidate.count / 3) else { continue }
      let distance = editDistance(target, Array(candidate.lowercased()))
      let limit = max(1, min(candidate.count, target.count) / 3)
      if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    return best?.name
  }

  /// The end of a "no such NAME" message: what does exist and, when one is close, which was probably meant:
  /// ` (it has: staging, production); did you mean 'production'?`.
  ///
  /// - Parameters:
  ///   - shown: how many known names to list at most; the rest are counted (`and 12 more`).
  public static func listing(_ known: [String], for name: String, lead: String = "it has", shown: Int = 10) -> String {
    guard !known.isEmpty else { return "" }
    var list = known.prefix(shown).joined(separator: ", ")
    if known.count > shown { list += " and \(known.count - shown) more" }
    var text = " (\(lead): \(list))"
    if let guess = closest(to: name, among: known), guess != name { text += "; did you mean '\(guess)'?" }
    return text
  }

  /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost one,
  /// so the common typo 'verfiy' is as close to 'verify' as 'verfy' is.
  static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      row[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { row[j] = min(row[j], previous2[j - 2] + 1) }
      }
      (previous2, previous, row) = (previous, row, previous2)
    }
    return previous[b.count]
  }
}
