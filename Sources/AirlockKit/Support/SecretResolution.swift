import Foundation

/// Asking each secret's source for its value: the process environment, a program, a file.
///
/// A source that fails is reported by the secret's name, the program's name or the file's path and the exit status
/// or error; never by the value, the program's arguments or anything it printed.
struct SecretResolution: Sendable {
  /// The process environment, which `environment` sources read.
  let environment: [String: String]
  /// The complete environment of a `command` source: the passed-through basics (`PATH`, `HOME`…), no config.
  let childEnvironment: [String: String]
  /// The project root: the working directory of commands and the base of relative file paths.
  let root: URL
  /// Runs `command` sources.
  let runner: ProcessRunner
  /// The pipeline, which salts fingerprints.
  let pipeline: String

  /// Resolves each of `names` from `source(name)`; a variable the process environment lacks is listed in
  /// `missing`, a failing command or file throws `.invalidInput` (exit 2).
  func resolve(_ names: [String], source: (String) -> SecretSource) async throws -> SecretSet {
    var values: [String: String] = [:]
    var missing: [String] = []
    for name in names {
      let source = source(name)
      switch source {
      case .environment:
        if let value = environment[name] { values[name] = value } else { missing.append(name) }
      case .command(let arguments, let timeout):
        values[name] = try await run(arguments, timeout: timeout ?? SecretSource.defaultTimeout, for: name)
      case .file(let path):
        values[name] = try read(path, for: name, source: source)
      }
    }
    return SecretSet(values: values, missing: missing, pipeline: pipeline)
  }

  private func run(_ arguments: [String], timeout: TimeSpan, for name: String) async throws -> String {
    let program = arguments.first ?? ""
    let result = await runner.run(
      arguments, in: root, environment: childEnvironment, timeout: timeout.duration, discardingStandardError: true)
    let failure: String
    switch result.termination {
    // The runner keeps the last 64 KiB of output; a value that long was cut, so it is refused rather than used.
    case .exited(0) where result.output.utf8.count >= 64 * 1024: failure = "printed 64 KiB or more"
    case .exited(0): return Self.droppingFinalNewline(result.output)
    case .exited(let status): failure = "exited \(status)"
    case .signaled(let signal): failure = "was killed by signal \(signal)"
    case .timedOut: failure = "did not finish within \(timeout)"
    case .failedToStart(let reason): failure = "could not start (\(reason))"
    }
    throw AirlockError(.invalidInput, Message.failed(name, "command \(program) \(failure)"))
  }

  private func read(_ path: String, for name: String, source: SecretSource) throws -> String {
    let url = URL(resolving: path, under: root)
    do {
      return Self.droppingFinalNewline(try String(contentsOf: url, encoding: .utf8))
    } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
      throw AirlockError(.invalidInput, Message.failed(name, "\(source): no such file"))
    } catch let error as CocoaError where error.code == .fileReadNoPermission {
      throw AirlockError(.invalidInput, Message.failed(name, "\(source): permission denied"))
    } catch {
      throw AirlockError(.invalidInput, Message.failed(name, "\(source): cannot be read as UTF-8 text"))
    }
  }

  /// `text` without one final newline (`\n` or `\r\n`), as `$(…)` would take it, but only one.
  static func droppingFinalNewline(_ text: String) -> String {
    // "\r\n" is one Character in Swift, so dropping the last Character drops either ending whole.
    text.hasSuffix("\n") || text.hasSuffix("\r\n") ? String(text.dropLast()) : text
  }

  private enum Message {
    static func failed(_ name: String, _ what: String) -> String {
      "secret \(name): \(what); fix the source in 'secrets:' or what it reads, and run again"
    }
  }
}
