import Foundation

/// Where the value of one secret comes from: the process environment, a program's output or a file.
///
/// The ledger's environment snapshot records the source (never the value), so a rollback with a broken pipeline
/// file can ask the same source again.
public enum SecretSource: Sendable, Codable, Hashable, CustomStringConvertible {
  /// The variable of the same name in the process environment (`API_TOKEN` or `API_TOKEN: env`).
  case environment
  /// The standard output of a program run without a shell, one final newline dropped (`{command: [op, read, …]}`).
  ///
  /// `timeout` bounds the run; `nil` means `defaultTimeout`.
  case command(arguments: [String], timeout: TimeSpan?)
  /// The contents of a file, one final newline dropped; a relative path resolves against the project root.
  case file(path: String)

  /// How long a `command` source may run unless its `timeout:` says otherwise.
  public static let defaultTimeout = TimeSpan.seconds(10)

  /// The keys a source mapping takes.
  public enum Key: String, CaseIterable, Sendable {
    case command, file, timeout
  }

  /// What a message may say about the source: the program's name or the file's path, never arguments or a value.
  public var description: String {
    switch self {
    case .environment: return "the process environment"
    case .command(let arguments, _): return "command \(arguments.first ?? "")"
    case .file(let path): return "file \(path)"
    }
  }
}
