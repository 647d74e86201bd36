import AirlockTestSupport
import Foundation
import Testing

/// What the end-to-end tests add to a scratch project: the built `airlock` binary, the standard two-environment
/// pipeline, and artifacts with a start script and a health check.
extension ScratchProject {
  /// The `airlock` binary built beside the test bundle.
  static let binary: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("airlock")
  }()

  /// The standard pipeline with staging and production both on 1.0.0, then 1.1.0, all verified: production can
  /// roll back to 1.0.0.
  static func twoGoodReleases() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["1.0.0", "1.1.0"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
      #expect(try await box.airlock("promote", "production").code == 0)
    }
    return box
  }

  /// The standard pipeline with 1.0.0 deployed to staging, then the pipeline rewritten so staging verifies with
  /// `verify`, which `checks` (lines under `checks:`, indented by four) define: `airlock verify staging` runs them
  /// against 1.0.0.
  static func verifying(_ verify: String, checks: String) async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    try box.pipeline(stagingVerify: verify, extraChecks: checks)
    return box
  }

  /// Runs `airlock ARGS` in the project and waits for it.
  @discardableResult
  func airlock(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> Run {
    try await run(Self.binary.path, arguments, environment: extra)
  }

  /// Runs `airlock ARGS` in `directory` (the project when `nil`) and waits for it.
  @discardableResult
  func airlock(
    _ arguments: [String], environment extra: [String: String] = [:], in directory: URL? = nil
  ) async throws -> Run {
    try await run(Self.binary.path, arguments, environment: extra, directory: directory)
  }

  /// Starts `airlock ARGS` in a task of its own; await its `value` for the run.
  ///
  /// Not bounded like `run`: a race needs every run in flight at once.
  func launch(_ arguments: [String]) -> Task<Run, any Error> {
    Task { try await spawn(Self.binary.path, arguments, environment: [:], directory: nil, input: nil).run.value }
  }

  /// Starts `airlock ARGS` and returns at once with its pid, so a test can signal it while it runs.
  func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Started {
    try spawn(Self.binary.path, arguments, environment: extra, directory: nil, input: nil)
  }

  /// An artifact folder with a start script, a health check that passes only when `healthy`, and `VERSION`; returns
  /// its path relative to the project.
  func artifact(_ name: String, healthy: Bool = true) throws -> String {
    let path = "artifacts/\(name)"
    try artifact(
      version: name, start: #"mkdir -p .airlock && echo "$AIRLOCK_VERSION $DATABASE_URL" > .airlock/started"#)
    try write(
      "#!/bin/sh\n[ -f .airlock/started ] && [ -f healthy ]\n", to: "\(path)/bin/healthcheck", executable: true)
    if healthy { try write("ok\n", to: "\(path)/healthy") }
    return path
  }

  /// The standard two-environment pipeline used by most tests, with knobs for what each test varies
  /// (`stagingSecrets`, `productionSecrets`: the YAML values of the environments' `secrets:` when `secrets` is on).
  func pipeline(
    keep: Int = 5, stagingVerify: String = "[health]", productionOnFailure: String = "rollback",
    extraChecks: String = "", secrets: Bool = true, productionApproval: Bool = false, stagingPreflight: String? = nil,
    stagingSecrets: String = "[API_TOKEN]", productionSecrets: String = "[API_TOKEN]"
  ) throws {
    try pipeline(
      """
      pipeline: web
      keep: \(keep)
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            DATABASE_URL: postgres://db-staging.internal/web
          \(secrets ? "secrets: \(stagingSecrets)" : "")
          start: bin/start
          verify: \(stagingVerify)
          \(stagingPreflight.map { "preflight: \($0)" } ?? "")
        - name: production
          requires: staging
          target:
            local: targets/production
          config:
            DATABASE_URL: postgres://db-prod.internal/web
          \(secrets ? "secrets: \(productionSecrets)" : "")
          start: bin/start
          verify: [health]
          on_failure: \(productionOnFailure)
          \(productionApproval ? "approval: required" : "")
      checks:
        health:
          command: [bin/healthcheck]
          attempts: 2
          pass: 1
          interval: 10ms
          timeout: 5s
      \(extraChecks)
      """)
    environment["API_TOKEN"] = "s3cr3t-token-value-XYZ"
  }

  /// An artifact like `artifact(_:)` whose `start` and health check pause while the project holds `slow-start` or
  /// `slow-verify`: each writes its pid to `in-start` / `in-verify`, then waits (at most 30 s) for `gate`.
  ///
  /// The pid is the process group too (the runner starts every program in a group of its own), so a test can end
  /// everything the script started.
  func gatedArtifact(_ name: String) throws -> String {
    let path = try artifact(name)
    func pause(_ phase: String) -> String {
      let flag = self.path("slow-\(phase)")
      let marker = self.path("in-\(phase)")
      let gate = self.path("gate")
      return """
        if [ -f "\(flag)" ]; then
          echo $$ > "\(marker).tmp" && mv "\(marker).tmp" "\(marker)"
          i=0; while [ ! -f "\(gate)" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
        fi
        """
    }
    try write(
      "#!/bin/sh\nmkdir -p .airlock && echo \"$AIRLOCK_VERSION $DATABASE_URL\" > .airlock/started\n"
        + pause("start") + "\n", to: "\(path)/bin/start", executable: true)
    try write(
      "#!/bin/sh\n" + pause("verify") + "\n[ -f .airlock/started ] && [ -f healthy ]\n", to: "\(path)/bin/healthcheck",
      executable: true)
    return path
  }

  /// Pids of the processes still alive (zombies excluded) in process group `group`, read from /proc.
  static func livingProcesses(inGroup group: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
      guard let pid = Int32(entry),
        let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return nil }
      // After "(comm)": state, ppid, pgrp, ...
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 2, fields[0] != "Z", Int32(fields[2]) == group else { return nil }
      return pid
    }
  }
}
