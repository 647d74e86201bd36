import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench race`: N `airlock promote production` processes started at once; counts the winners.
struct RaceBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "race", abstract: "Wall time and winner count of a concurrent promotion race.")

  @Option(help: "Concurrent promotions.") var runners = 50

  func run() async throws {
    let airlock = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent().appendingPathComponent("airlock")
    let scratch = try ScratchProject.bench(
      pipeline: """
        pipeline: bench
        environments:
          - name: staging
            target:
              local: targets/staging
          - name: production
            requires: staging
            target:
              local: targets/production
        """)
    defer { withExtendedLifetime(scratch) {} }
    var environment = ProcessInfo.processInfo.environment
    environment["AIRLOCK_ACTOR"] = "bench"
    guard
      try runQuietly(
        airlock, ["deploy", "staging", "--artifact", scratch.benchArtifact("v1").path, "--version", "v1"],
        in: scratch.root, environment: environment) == 0
    else { throw ValidationError("setup deploy failed") }
    let start = DispatchTime.now().uptimeNanoseconds
    let processes = try (0..<runners).map { _ in
      let process = Process()
      process.executableURL = airlock
      process.arguments = ["promote", "production"]
      process.currentDirectoryURL = scratch.root
      process.environment = environment
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      try process.run()
      return (process, output)
    }
    var codes: [Int32: Int] = [:]
    var winners = 0
    for (process, output) in processes {
      let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      codes[process.terminationStatus, default: 0] += 1
      if process.terminationStatus == 0 && printed.contains("promoted") { winners += 1 }
    }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    let ledger = try Ledger.open(at: scratch.ledgerURL, create: false)
    let events = try ledger.history(branch: "bench/production", limit: nil).count
    let summary = codes.keys.sorted().map { "exit \($0): \(codes[$0]!)" }.joined(separator: ", ")
    print(
      String(format: "%d concurrent promotions: wall %.0f ms, winners %d, ", runners, wall, winners)
        + "\(summary), production events \(events)")
    guard winners == 1, events == 1 else { throw ValidationError("the race had \(winners) winners") }
  }
}
