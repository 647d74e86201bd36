import AirlockKit
import ArgumentParser
import Foundation

/// `airlock ledger gc`.
struct LedgerCommand: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "ledger", abstract: "Look after the ledger repository.", subcommands: [LedgerGC.self])
}

/// `airlock ledger gc`: pack the ledger and report stale lock files.
struct LedgerGC: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract: "Pack the ledger into one pack (safe while others append) and report stale lock files.")

  @OptionGroup var global: GlobalOptions

  func run() async throws {
    try await perform(json: global.json) {
      let workspace = try global.workspace()
      guard let ledger = try workspace.openLedger(create: false) else {
        throw AirlockError(.invalidInput, "no ledger at \(workspace.ledgerURL.path)")
      }
      let report = try workspace.orchestrator(ledger: ledger, options: global.operationOptions(ledger: nil))
        .maintainLedger()
      if global.json {
        Output.json(report)
      } else {
        let format = ByteCountFormatter()
        print(
          "\(report.ledger): \(format.string(fromByteCount: report.bytesBefore)) → "
            + "\(format.string(fromByteCount: report.bytesAfter))")
      }
      for lock in report.staleLocks { Output.progress("warning: \(lock)") }
      return .success
    }
  }
}
