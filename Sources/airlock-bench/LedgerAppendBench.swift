import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench ledger-append`: one event commit plus its compare-and-swap branch update, as every event writes,
/// once per durability mode so the costs stand side by side.
struct LedgerAppendBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ledger-append",
    abstract: "Median milliseconds per ledger event commit + CAS ref update: no sync, batch sync, full fsync.")

  @Option(help: "Events to append in each mode.") var events = 1000

  func run() throws {
    print("scratch ledgers under \(FileManager.default.temporaryDirectory.path)")
    let modes: [(LedgerDurability, String)] = [
      (.none, "append, no sync (AIRLOCK_FSYNC=0)"),
      (.batch, "append, batch sync (default)"),
      (.full, "append, full fsync (AIRLOCK_FSYNC=1)"),
    ]
    for (durability, label) in modes {
      print(Summary(samples: try samples(durability)).row(label))
    }
  }

  /// Milliseconds per append into a fresh ledger written with `durability`.
  private func samples(_ durability: LedgerDurability) throws -> [Double] {
    let scratch = try ScratchProject("airlock-bench")
    defer { withExtendedLifetime(scratch) {} }
    let ledger = try scratch.openLedger()
    ledger.durability = durability
    let artifact = try scratch.folder(
      "artifact", files: Dictionary(uniqueKeysWithValues: (0..<50).map { ("f\($0)", "file \($0)\n") }))
    let tree = try ledger.storeArtifact(directory: artifact)
    let author = Signature(name: "bench", email: "bench@localhost")
    var head: ObjectID?
    var samples: [Double] = []
    for index in 0..<events {
      // Realistic sizes: release.json and state.json of a few hundred bytes, a config, check results.
      let files: [String: Data] = [
        "release.json": Data(#"{"event":"verify","sequence":\#(index),"detail":"bench event"}"#.utf8),
        "state.json": Data(String(repeating: #"{"release":"x","sequence":\#(index)}"#, count: 10).utf8),
        "config.env": Data("DATABASE_URL=postgres://db/bench\nAPI_TOKEN=sha256:\(index)\n".utf8),
        "checks.json": Data(#"[{"name":"health","verdict":"pass","probe":\#(index)}]"#.utf8),
        "environment.json": Data(#"{"environment":"staging"}"#.utf8),
      ]
      samples.append(
        try milliseconds {
          head = try ledger.appendEvent(
            branch: "bench/staging", expectedHead: head, files: files, subtrees: ["artifact": tree],
            message: "verify bench staging \(index): ok", author: author, time: Date())
        })
    }
    return samples
  }
}
