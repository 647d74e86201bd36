import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// Benchmarks for the figures the issues ask for. Build with `swift build -c release` and run
/// `.build/release/airlock-bench <figure>`; each prints its figure as one table.
@main
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "airlock-bench",
    abstract: "Measure Airlock's documented figures on this machine.",
    subcommands: [
      RollbackBench.self, LedgerAppendBench.self, LedgerSizeBench.self, QuorumBench.self, LookupBench.self,
      RaceBench.self, FleetBench.self, CommandBench.self,
    ])
}

/// Median, 90th percentile and extremes of a sample, in milliseconds.
struct Summary {
  let samples: [Double]

  var sorted: [Double] { samples.sorted() }
  var median: Double {
    let values = sorted
    let middle = values.count / 2
    return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
  }
  var p90: Double { sorted[min(samples.count - 1, Int((Double(samples.count) * 0.9).rounded(.up)) - 1)] }

  func row(_ label: String) -> String {
    label.padding(toLength: 42, withPad: " ", startingAt: 0)
      + String(
        format: "%6d runs  median %8.2f ms  p90 %8.2f ms  min %8.2f ms  max %8.2f ms", samples.count, median, p90,
        sorted.first ?? 0, sorted.last ?? 0)
  }
}

/// Milliseconds taken by `body`.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// Runs a program to completion with stdout and stderr discarded; returns its exit status (128 + N for signal N).
///
/// posix_spawn (`ChildProcess`, as the tests run programs) and a waitpid on this thread rather than Foundation's
/// Process: its `waitUntilExit()` notices the exit through the run loop, a wake-up whose latency varied with what the
/// bench process had done before (most of a millisecond), which a start-up figure cannot afford.
@discardableResult
func runQuietly(_ program: URL, _ arguments: [String], in directory: URL, environment: [String: String]) throws -> Int32
{
  let pid = try ChildProcess.spawn(
    [program.path] + arguments, environment: environment, directory: directory, stdin: "/dev/null",
    stdout: "/dev/null", stderr: "/dev/null")
  let end = ChildProcess.waitForExit(of: pid)
  return end.signal.map { 128 + $0 } ?? end.code
}

extension ScratchProject {
  /// A scratch project holding `pipeline` as `pipelines/bench.yml`.
  static func bench(pipeline: String) throws -> ScratchProject {
    let scratch = try ScratchProject("airlock-bench")
    try scratch.pipeline(pipeline, named: "bench")
    return scratch
  }

  /// The artifact `artifacts/VERSION`: its `VERSION` and twenty files of 50 lines under `bin/`.
  func benchArtifact(_ version: String) throws -> URL {
    let files = (0..<20).map { index in
      ("bin/file\(index).txt", String(repeating: "line \(index) of \(version)\n", count: 50))
    }
    return try artifact(version: version, files: Dictionary(uniqueKeysWithValues: files))
  }
}
