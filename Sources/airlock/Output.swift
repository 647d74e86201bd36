import AirlockKit
import ArgumentParser
import Foundation

/// Printing for the CLI: human lines on stdout, progress and errors on stderr, or one JSON document.
enum Output {
  static func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  static func json<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  /// Prints `error` in the chosen format and returns the exit code to leave with.
  static func failure(_ error: any Error, json: Bool) -> ExitCode {
    let (code, lines): (Int32, [String])
    switch error {
    case let error as AirlockError:
      (code, lines) = (error.exitCode, [error.message])
    case let error as PipelineError:
      (code, lines) = (
        2, error.diagnostics.isEmpty ? ["the pipeline could not be loaded"] : error.diagnostics.map(\.description)
      )
    case let error as LedgerError:
      (code, lines) = (error.code == .concurrentUpdate ? 6 : 1, [error.description])
    default:
      (code, lines) = (1, ["\(error)"])
    }
    if json {
      struct Failure: Encodable {
        var error: String
        var details: [String]
        var exitCode: Int32
      }
      Output.json(Failure(error: lines.first ?? "", details: lines, exitCode: code))
    }
    for line in lines { progress(line.hasPrefix("error") || line.contains(": error: ") ? line : "error: \(line)") }
    return ExitCode(code)
  }

  /// Prints an operation's report and returns its exit code.
  static func report(_ report: OperationReport, json: Bool) -> ExitCode {
    for warning in report.warnings { progress("warning: \(warning)") }
    if json {
      Output.json(report)
    } else {
      print(report.summary)
    }
    return ExitCode(report.exitCode)
  }
}

/// Runs a command body and turns every thrown error into its documented exit code.
func perform(json: Bool, _ body: () async throws -> ExitCode) async throws {
  let code: ExitCode
  do {
    code = try await body()
  } catch {
    code = Output.failure(error, json: json)
  }
  if code != .success { throw code }
}
