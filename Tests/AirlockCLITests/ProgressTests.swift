import AirlockTestSupport
import Foundation
import Testing

/// Live progress on stderr from the built binary: each probe as it completes, watch rounds with the time left, and
/// colour only on a real terminal (a pseudo-terminal made by `script`), never with `NO_COLOR`.
@Suite struct ProgressTests {
  /// A project whose staging runs `start` and checks `health`, a command check the artifact passes when `healthy`
  /// (each probe takes a moment), with `watch` when given.
  static func project(healthy: Bool, watch: String? = nil) throws -> (ScratchProject, String) {
    let box = try ScratchProject()
    try box.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          start: bin/start
          verify: [health]
          \(watch.map { "watch: \($0)" } ?? "")
      checks:
        health:
          command: [bin/healthcheck]
          attempts: 3
          pass: 1
          interval: 100ms
          timeout: 5s
      """)
    return (box, try slowArtifact(box, "1.0.0", healthy: healthy))
  }

  /// An artifact like `ScratchProject.artifact(_:healthy:)` whose health check takes 0.2 s.
  static func slowArtifact(_ box: ScratchProject, _ name: String, healthy: Bool) throws -> String {
    let artifact = try box.artifact(name, healthy: healthy)
    try box.write(
      "#!/bin/sh\nsleep 0.2\n[ -f .airlock/started ] && [ -f healthy ]\n", to: "\(artifact)/bin/healthcheck",
      executable: true)
    return artifact
  }

  /// Whether `text` holds an ANSI colour sequence (`ESC [ … m`).
  static func hasColour(_ text: String) -> Bool {
    text.firstMatch(of: /\x{1B}\[[0-9;]*m/) != nil
  }

  @Test("a failing check prints each probe as it completes: host, attempt i of n, reason, elapsed")
  func probes() async throws {
    let (box, artifact) = try Self.project(healthy: false)
    let deploy = try await box.airlock("deploy", "staging", "--artifact", artifact, "--version", "1.0.0")
    #expect(deploy.code == 5, "\(deploy.output)")
    let lines = deploy.stderr.split(separator: "\n").map(String.init)
    let probes = lines.filter { $0.hasPrefix("  · health localhost attempt ") }
    #expect(probes.count == 3, "\(deploy.stderr)")
    for (index, line) in probes.enumerated() {
      #expect(line.wholeMatch(of: #/  · health localhost attempt \d of 3: exit 1 \(\d+\.\ds\)/#) != nil, "\(line)")
      #expect(line.contains("attempt \(index + 1) of 3"), "\(line)")
    }
    // The probes come after the verify line and before the check's verdict.
    let verify = try #require(lines.firstIndex(of: "→ verify staging: health"))
    let verdict = try #require(lines.firstIndex { $0.hasPrefix("  ✗ health: fail on 1 of 1 host") })
    #expect(lines[(verify + 1)..<verdict] == probes[...], "\(deploy.stderr)")
    #expect(deploy.stderr.contains("→ start: bin/start\n→ start: bin/start … done in "), "\(deploy.stderr)")
    // stderr is a pipe: plain lines, no colour, nothing drawn in place.
    #expect(!Self.hasColour(deploy.stderr))
    #expect(!deploy.stderr.contains("\r"))
  }

  @Test("a watch window prints a line per round with the round number and the seconds left")
  func watchRounds() async throws {
    let (box, artifact) = try Self.project(healthy: true, watch: "1s")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", artifact, "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(deploy.stderr.contains("→ watching staging for 1s (a round every 100ms)"), "\(deploy.stderr)")
    let rounds = deploy.stderr.matches(of: /→ watch round (\d+): (\d+)s left\n/).map { Int($0.output.1)! }
    #expect(!rounds.isEmpty, "\(deploy.stderr)")
    #expect(rounds == Array(1...rounds.count), "\(deploy.stderr)")
    #expect(deploy.stderr.contains("  watch round \(rounds.count): pass, "), "\(deploy.stderr)")
  }

  @Test("on a pseudo-terminal progress is coloured and drawn in place; NO_COLOR=1 takes the colour away")
  func terminal() async throws {
    let (box, _) = try Self.project(healthy: true)
    func deploy(_ version: String, _ environment: [String: String]) async throws -> ScratchProject.Run {
      let artifact = try Self.slowArtifact(box, version, healthy: true)
      let command = [ScratchProject.binary.path, "deploy", "staging", "--artifact", artifact, "--version", version]
        .map { "'\($0)'" }.joined(separator: " ")
      return try await box.run(
        "/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"],
        environment: environment.merging(["TERM": "xterm"]) { $1 })
    }
    let coloured = try await deploy("1.0.0", [:])
    #expect(coloured.code == 0, "\(coloured.output)")
    #expect(coloured.stdout.contains("\u{1B}[32m✓\u{1B}[0m health: pass on 1 of 1 host"), "\(coloured.stdout)")
    #expect(coloured.stdout.contains("\u{1B}[2m  · health localhost attempt 1 of 3: ok ("), "\(coloured.stdout)")
    #expect(coloured.stdout.contains("\r\u{1B}[K"), "\(coloured.stdout)")
    #expect(coloured.stdout.contains("deployed 1.0.0 to staging: verified"))

    let plain = try await deploy("1.0.1", ["NO_COLOR": "1"])
    #expect(plain.code == 0, "\(plain.output)")
    #expect(plain.stdout.contains("  ✓ health: pass on 1 of 1 host"), "\(plain.stdout)")
    #expect(!Self.hasColour(plain.stdout), "\(plain.stdout)")
  }
}
