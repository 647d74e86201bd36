import AirlockKit
import AirlockTestSupport
import ArgumentParser
import Foundation

/// `airlock-bench ledger-size`: the ledger's size on disk after many events, before and after `Ledger.pack()`.
///
/// Each event writes what a real one does: release.json, state.json, checks.json, environment.json and config.env
/// (about 2 KB of JSON and text together, most of it different every time) and references one artifact subtree
/// that never changes. Events alternate between a staging and a production branch.
struct LedgerSizeBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ledger-size", abstract: "Ledger size on disk after N events, before and after packing.")

  @Option(help: "Events to append.") var events = 100_000
  @Option(help: "Keep the ledger in this folder instead of deleting a temporary one.") var keep: String?

  func run() throws {
    let scratch = try ScratchProject("airlock-bench")
    defer { withExtendedLifetime(scratch) {} }
    let ledger = try Ledger.open(
      at: keep.map { URL(fileURLWithPath: $0).appendingPathComponent("ledger.git") } ?? scratch.ledgerURL, create: true)
    let artifactFolder = try scratch.folder(
      "artifact",
      files: Dictionary(
        uniqueKeysWithValues: (0..<20).map {
          ("bin/file\($0).txt", String(repeating: "line \($0) of the release\n", count: 50))
        }))
    let artifact = try ledger.storeArtifact(directory: artifactFolder)
    let author = Signature(name: "bench", email: "bench@localhost")
    var heads: [String: ObjectID] = [:]
    var payload = 0
    let start = Date()
    let appendTime = try milliseconds {
      for index in 0..<events {
        let environment = index % 2 == 0 ? "staging" : "production"
        let files = EventFiles(index: index, environment: environment, artifact: artifact, start: start).files
        payload += files.values.reduce(0) { $0 + $1.count }
        let branch = "web/\(environment)"
        heads[branch] = try ledger.appendEvent(
          branch: branch, expectedHead: heads[branch], files: files, subtrees: ["artifact": artifact],
          message: "verify web 1.\(index / 100).0 \(environment): ok", author: author,
          time: start.addingTimeInterval(Double(index) * 60))
        if (index + 1) % 10_000 == 0 {
          FileHandle.standardError.write(Data("\(index + 1) events\n".utf8))
        }
      }
    }
    let before = ledger.diskUsage()
    let apparentBefore = apparentSize(ledger.url)
    let looseBefore = looseObjectCount(ledger.url)
    var sizes = (before: Int64(0), after: Int64(0))
    let packTime = try milliseconds { sizes = try ledger.pack() }
    let history = try ledger.history(branch: "web/production", limit: nil).count
    print("ledger size after \(events) events (\(payload / max(events, 1)) bytes of event files each, one artifact)")
    print(
      String(
        format: "  appending                 %10.1f s  (%.2f ms per event)", appendTime / 1000,
        appendTime / Double(max(events, 1))))
    print(
      "  before pack               \(megabytes(before)) on disk, \(megabytes(apparentBefore)) apparent, \(looseBefore) loose objects"
    )
    print(
      "  after pack                \(megabytes(sizes.after)) on disk, \(megabytes(apparentSize(ledger.url))) apparent, \(looseObjectCount(ledger.url)) loose objects"
    )
    print(
      String(
        format: "  pack() took               %10.1f s  (%.0fx smaller)", packTime / 1000,
        Double(before) / Double(max(sizes.after, 1))))
    print("  production history after packing: \(history) events")
  }

  private func megabytes(_ bytes: Int64) -> String {
    String(format: "%9.1f MB", Double(bytes) / 1_000_000)
  }

  /// Sum of file sizes (what `du --apparent-size` shows), as opposed to the blocks they occupy.
  private func apparentSize(_ folder: URL) -> Int64 {
    var total: Int64 = 0
    var info = stat()
    guard let walk = FileManager.default.enumerator(atPath: folder.path) else { return 0 }
    while let relative = walk.nextObject() as? String {
      if lstat(folder.path + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
        total += Int64(info.st_size)
      }
    }
    return total
  }

  private func looseObjectCount(_ folder: URL) -> Int {
    let objects = folder.appendingPathComponent("objects")
    let fanout = (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []
    return fanout.filter { $0.count == 2 }.reduce(0) {
      $0 + ((try? FileManager.default.contentsOfDirectory(atPath: objects.appendingPathComponent($1).path))?.count ?? 0)
    }
  }
}

/// The files of one synthetic but realistic event: sizes and variety as the orchestrator writes them.
private struct EventFiles {
  let files: [String: Data]

  init(index: Int, environment: String, artifact: ObjectID, start: Date) {
    let version = "1.\(index / 100).0"
    let previous = "1.\(max(index / 100 - 1, 0)).0"
    let started = ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(index) * 60))
    let finished = ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(index) * 60 + 7))
    let duration = 6000 + (index * 7919) % 4000
    let release = """
      {"pipeline":"web","environment":"\(environment)","event":"verify","outcome":"ok",\
      "release":{"id":"\(artifact.hex)","version":"\(version)"},\
      "current":{"id":"\(artifact.hex)","version":"\(version)"},\
      "previous":{"id":"\(artifact.hex)","version":"\(previous)"},\
      "sourceEnvironment":\(environment == "production" ? "\"staging\"" : "null"),"automatic":false,\
      "actor":"ci-runner-\(index % 3)","startedAt":"\(started)","finishedAt":"\(finished)",\
      "durationMilliseconds":\(duration),"detail":"2 checks passed: health 5/5, worker 3/3"}
      """
    let verified = (0..<3).map { offset in
      #"{"release":{"id":"\#(artifact.hex)","version":"1.\#(max(index / 100 - offset, 0)).0"},"config":"\#(artifact.hex)"}"#
    }
    let state = """
      {"current":{"id":"\(artifact.hex)","version":"\(version)"},"status":"verified",\
      "verified":[\(verified.joined(separator: ","))],"quarantined":[],"eventCount":\(index / 2 + 1)}
      """
    let probes = (0..<2).map { attempt in
      #"{"attempt":\#(attempt + 1),"outcome":"pass","milliseconds":\#(40 + (index + attempt * 13) % 90),"reason":"HTTP 200"}"#
    }
    let checks = """
      [{"name":"health","kind":"http","host":"web-1","verdict":"pass","probes":[\(probes.joined(separator: ","))]},\
      {"name":"worker","kind":"heartbeat","host":"web-1","verdict":"pass","probes":[\(probes.prefix(1).joined())]}]
      """
    let snapshot = """
      {"name":"\(environment)","target":{"local":"/srv/web-\(environment)"},"start":"bin/restart",\
      "verify":["health","worker"],"checks":{"health":{"http":"http://localhost:8080/health","expect":200,\
      "attempts":5,"pass":2,"interval":"1s","timeout":"5s"},"worker":{"heartbeat":"/var/run/web/worker.beat",\
      "max_age":"2m"}},"on_failure":"rollback"}
      """
    let config = """
      DATABASE_URL=postgres://db-\(environment).internal/web
      CACHE_URL=redis://cache-\(environment).internal:6379/0
      RELEASE=\(version)
      # secrets (sha256 fingerprints)
      API_TOKEN=sha256:\(String(artifact.hex.reversed()))
      """
    files = [
      "release.json": Data(release.utf8), "state.json": Data(state.utf8), "checks.json": Data(checks.utf8),
      "environment.json": Data(snapshot.utf8), "config.env": Data((config + "\n").utf8),
    ]
  }
}
