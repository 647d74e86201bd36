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
    version: AirlockVersion.string,
    subcommands: [
      Validate.self, Plan.self, Deploy.self, Promote.self, Rollback.self, Verify.self, History.self, Status.self,
      Drift.self,
    ]
  )

  /// Runs the command line; argument errors exit 2 (not ArgumentParser's 64), as DESIGN.md documents.
  static func main() async {
    do {
      var command = try parseAsRoot()
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
      FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
      Foundation.exit(2)
    }
  }
}
