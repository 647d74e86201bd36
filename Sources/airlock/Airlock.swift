import AirlockKit
import ArgumentParser
import Foundation

/// The `airlock` command: parses arguments, calls one AirlockKit entry point, prints, and exits with the documented
/// code (0 done, 1 unexpected, 2 invalid input, 3 blocked, 4 rolled back, 5 failed and left, 6 locked or raced).
@main
struct Airlock: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "airlock",
    abstract: "Deploy a release, promote the same artifact onward after checks pass, and roll back in one command.",
    discussion: """
      Exit codes: 0 done; 1 unexpected error; 2 invalid pipeline or arguments; 3 preflight blocked (nothing \
      changed); 4 verify failed and the environment was rolled back; 5 verify failed and the environment was left \
      as it is; 6 environment locked or a concurrent change won the race.
      """,
    subcommands: [
      Validate.self, Plan.self, Deploy.self, Promote.self, Rollback.self, Verify.self, History.self, Status.self,
      Drift.self, Releases.self, Show.self, Diff.self, Lock.self, Unlock.self, Approve.self, LedgerCommand.self,
      Init.self, Version.self, Manual.self,
    ]
  )

  /// Runs the command line; argument errors exit 2 (not ArgumentParser's 64), as docs/cli.md documents.
  static func main() async {
    Startup.keepFreedMemory()
    // Every command but these reads the ledger: libgit2's initialisation and the warm-ups start now, beside
    // argument parsing.
    if !CommandLine.arguments.dropFirst().contains(where: { ["--help", "-h", "help", "validate"].contains($0) }) {
      Startup.prepareInBackground()
    }
    // Durability of ledger writes: batch (one sync per event) unless AIRLOCK_FSYNC says otherwise. A shell's
    // completion call writes nothing and must print no error into the user's line.
    do {
      Ledger.defaultDurability = try LedgerDurability(
        environmentValue: ProcessInfo.processInfo.environment["AIRLOCK_FSYNC"])
    } catch  where CommandLine.arguments.dropFirst().first != "---completion" {
      Foundation.exit(Output.failure(error, json: CommandLine.arguments.contains("--json")).rawValue)
    } catch {}
    // `airlock --version` alone is `airlock version`; anywhere else `--version` is deploy's label, never this.
    let given = Array(CommandLine.arguments.dropFirst())
    let arguments = given == ["--version"] ? ["version"] : hoistingGlobalOptions(given)
    if let unknown = unknownSubcommand(in: arguments) {
      let message =
        "unknown command '\(unknown)'" + Suggestion.listing(subcommandNames, for: unknown, lead: "commands", shown: 30)
      if arguments.contains("--json") { Output.jsonFailure([message], exitCode: ExitStatus.invalid.rawValue) }
      Output.progress("error: \(message)")
      Foundation.exit(ExitStatus.invalid.rawValue)
    }
    do {
      var command = try parseAsRoot(arguments)
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let code as ExitCode {
      Foundation.exit(code.rawValue)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      let message = fullMessage(for: error)
      // `--json` promises one JSON document on stdout, argument errors included.
      if CommandLine.arguments.dropFirst().contains("--json") {
        Output.jsonFailure(message.split(separator: "\n").map(String.init), exitCode: ExitStatus.invalid.rawValue)
      }
      FileHandle.standardError.write(Data((message + "\n").utf8))
      Foundation.exit(ExitStatus.invalid.rawValue)
    }
  }

  /// The names `airlock SUBCOMMAND` lists in its help, and so in a did-you-mean.
  static var subcommandNames: [String] {
    configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName } + ["help"]
  }

  /// The first argument when it is meant as a subcommand but names none (`airlock promte production`).
  static func unknownSubcommand(in arguments: [String]) -> String? {
    let accepted = configuration.subcommands.map { $0._commandName } + ["help"]
    guard let first = arguments.first, !first.hasPrefix("-"), !accepted.contains(first),
      !arguments.contains(where: { $0 == "--help" || $0 == "-h" })
    else { return nil }
    return first
  }

  /// Moves global options written before the subcommand (`airlock -p web rollback production`, as with `git -C`)
  /// to after it, where the subcommand's option group parses them.
  static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
    let takesValue: Set<String> = ["-p", "--pipeline", "-f", "--file", "--ledger"]
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if takesValue.contains(argument), index + 1 < arguments.count {
        leading += [argument, arguments[index + 1]]
        index += 2
      } else if argument == "--json" || argument == "--no-color"
        || takesValue.contains(where: { argument.hasPrefix($0 + "=") })
      {
        leading.append(argument)
        index += 1
      } else {
        break
      }
    }
    guard !leading.isEmpty, index < arguments.count else { return arguments }
    return [arguments[index]] + leading + arguments[(index + 1)...]
  }
}
