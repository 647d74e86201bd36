import AirlockKit
import ArgumentParser
import Foundation

/// `--json`, the one option of the commands that read no pipeline nor ledger (`version`, `init`).
struct JSONOption: ParsableArguments, Sendable {
  @Flag(help: "Print one JSON document on stdout.")
  var json = false
}

/// `airlock version`; `airlock --version`, alone on the line, runs it too.
struct Version: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Airlock's version.")

  @OptionGroup var output: JSONOption

  func run() async throws {
    struct Document: Encodable {
      var version = AirlockVersion.current
    }
    if output.json { Output.json(Document()) } else { print(AirlockVersion.current) }
  }
}
