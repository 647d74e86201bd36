import Foundation

/// One problem found in a pipeline file.
///
/// Lines and columns count from 1, columns in Unicode scalars as libyaml does. A problem that concerns a whole file
/// (it is too large, unreadable) or no file in particular (no pipeline matches `-p`) has line and column 0, and its
/// description then leaves them out, so editors do not jump to a made-up position.
public struct Diagnostic: Sendable, Codable, Hashable, CustomStringConvertible {
  /// The pipeline file as the user named it, or the `pipelines/` folder for problems of choosing a pipeline.
  public var file: String
  /// The 1-based line, or 0 when the problem has no position.
  public var line: Int
  /// The 1-based column, or 0 when the problem has no position.
  public var column: Int
  /// What is wrong and what would be right.
  public var message: String

  /// Creates a diagnostic; pass line and column 0 for a problem without a position.
  public init(file: String, line: Int, column: Int, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  /// The compiler-style form `file:line:column: error: message` that editors and CI annotate.
  public var description: String {
    if line == 0 { return "\(file): error: \(message)" }
    return "\(file):\(line):\(column): error: \(message)"
  }
}

/// Why a pipeline could not be loaded: every problem found, not just the first.
///
/// Diagnostics are sorted by file, line and column, so a user fixing them top to bottom never meets a stale position.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
  /// The problems, sorted by position; never empty.
  public var diagnostics: [Diagnostic]

  /// Creates an error from `diagnostics`, sorting them and dropping exact repeats.
  public init(diagnostics: [Diagnostic]) {
    var seen = Set<Diagnostic>()
    self.diagnostics = diagnostics.filter { seen.insert($0).inserted }.sorted {
      ($0.file, $0.line, $0.column, $0.message) < ($1.file, $1.line, $1.column, $1.message)
    }
  }

  /// One diagnostic per line, in order.
  public var description: String {
    diagnostics.map(\.description).joined(separator: "\n")
  }
}
