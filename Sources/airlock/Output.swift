import AirlockKit
import ArgumentParser
import Foundation
import Synchronization

/// Printing for the CLI: human lines on stdout, progress and errors on stderr, or one JSON document.
enum Output {
  /// Draws progress on this process's stderr, in the style its terminal and environment call for; `--no-color`
  /// anywhere before a `--` turns colour off.
  static let printer = ProgressPrinter(
    style: TerminalStyle(
      .standardError(), noColor: CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--no-color")),
    clock: SystemClock(), write: { FileHandle.standardError.write(Data($0.utf8)) })

  /// Prints one progress line on stderr.
  static func progress(_ line: String) {
    printer.line(line)
  }

  /// Takes note of a step that begins or ends; while one runs, its elapsed time is brought up to date a few times a
  /// second.
  static func step(_ step: ProgressStep) {
    printer.step(step)
    _ = ticking
  }

  /// Started once, on the first step: the task that keeps the running step's time up to date until the process
  /// exits.
  private static let ticking: Task<Void, Never> = Task.detached {
    while !Task.isCancelled {
      try? await Task.sleep(for: .milliseconds(250))
      printer.tick()
    }
  }

  /// The version of every `--json` document's shape, printed as its `schemaVersion`; docs/json.md says what a
  /// change of it promises.
  static let schemaVersion = 1

  /// Prints `value`, an object, as one JSON document with `"schemaVersion"` added to its keys.
  static func json<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    let data = (try? encoder.encode(Document(body: value))) ?? Data("{\"schemaVersion\": \(schemaVersion)}".utf8)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  /// Warns that `workspace`'s pipeline did not load, so a query answers from the ledger alone.
  static func warnIfPipelineUnloaded(_ workspace: Workspace) {
    guard let error = workspace.pipelineError, workspace.pipeline == nil else { return }
    progress(
      "warning: pipeline not loaded (\(error.diagnostics.first?.description ?? "invalid")); showing the ledger only")
  }

  /// Prints `error` in the chosen format and returns the exit code to leave with.
  static func failure(_ error: any Error, json: Bool) -> ExitCode {
    let (code, lines): (Int32, [String])
    switch error {
    case let error as AirlockError:
      (code, lines) = (error.exitCode, [error.message])
    case let error as PipelineError:
      (code, lines) = (
        ExitStatus.invalid.rawValue,
        error.diagnostics.isEmpty ? ["the pipeline could not be loaded"] : error.diagnostics.map(\.description)
      )
    case let error as LedgerError:
      (code, lines) = (error.exitCode, [error.description])
    default:
      (code, lines) = (ExitStatus.unexpected.rawValue, ["\(error)"])
    }
    if json { jsonFailure(lines, exitCode: code) }
    for line in lines { progress(line.hasPrefix("error") || line.contains(": error: ") ? line : "error: \(line)") }
    return ExitCode(code)
  }

  /// The JSON document of a failure: its first line, every line, and the exit code.
  static func jsonFailure(_ lines: [String], exitCode: Int32) {
    struct Failure: Encodable {
      var error: String
      var details: [String]
      var exitCode: Int32
    }
    json(Failure(error: lines.first ?? "", details: lines, exitCode: exitCode))
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

/// A `--json` document: the keys of `body`, an object, and `schemaVersion`.
private struct Document<Body: Encodable>: Encodable {
  var body: Body

  private enum CodingKeys: String, CodingKey {
    case schemaVersion
  }

  func encode(to encoder: any Encoder) throws {
    try body.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(Output.schemaVersion, forKey: .schemaVersion)
  }
}

/// Runs a command body and turns every thrown error into its documented exit code.
///
/// SIGINT and SIGTERM cancel the body, which records the event as aborted and gives the lease back; the process
/// then exits 130 or 143. A second signal exits at once, and so does the process when the body has not finished
/// `signalGrace` after the first: synchronous work (a libgit2 call blocked on a file system) cannot see cancellation.
func perform(json: Bool, _ body: @escaping @Sendable () async throws -> ExitCode) async throws {
  let work = Task { try await body() }
  let received = ReceivedSignal()
  let sources = [SIGINT, SIGTERM].map { number in
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler {
      if received.record(number) {
        Output.progress(
          "airlock: \(number == SIGINT ? "interrupted" : "terminated"); recording and releasing the lease…")
        work.cancel()
        DispatchQueue.global().asyncAfter(deadline: .now() + signalGrace) {
          Output.progress(stillBusyAfterSignal)
          _exit(128 + number)
        }
      } else {
        Foundation.exit(128 + number)
      }
    }
    source.resume()
    return source
  }
  defer { sources.forEach { $0.cancel() } }
  var code: ExitCode
  do {
    code = try await work.value
  } catch {
    code = Output.failure(error, json: json)
  }
  if let number = received.first { code = ExitCode(128 + number) }
  if code != .success { throw code }
}

/// How long a run may take to record and release after its first SIGINT or SIGTERM before it exits anyway.
let signalGraceSeconds = 5
let signalGrace = DispatchTimeInterval.seconds(signalGraceSeconds)

/// Said when the grace runs out: the lease stays behind, and the next command breaks it as a dead run's.
let stillBusyAfterSignal =
  "airlock: still busy \(signalGraceSeconds) s after the signal; exiting without recording or releasing the lease (the next command "
  + "breaks it and records a recover event)"

/// The first signal received, if any.
final class ReceivedSignal: Sendable {
  private let value = Mutex<Int32?>(nil)

  /// Records `number`; true when it is the first signal.
  func record(_ number: Int32) -> Bool {
    value.withLock { current in
      guard current == nil else { return false }
      current = number
      return true
    }
  }

  var first: Int32? { value.withLock { $0 } }
}
