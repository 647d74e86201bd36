import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The five outages of docs/invariants.md, replayed end to end: the built binary, real local targets, real processes, a real
/// HTTP server in this process, and the ledger read back with stock git.
@Suite struct IncidentTests {
  /// In/out board, 2023: a health check reported healthy servers as broken, operators chased ghosts and rollbacks
  /// were slow. A flaky probe is outvoted by the quorum; a check that fails against the last good release too is
  /// reported as suspect after one rollback, never a chain; and rolling back is one command.
  @Test func inOutBoard2023() async throws {
    let mode = LockedValue("flaky")
    // Flaky: every other probe answers 503. Down: every probe does, for every release.
    let server = try TestHTTPServer { request in
      switch mode.value {
      case "flaky" where request.number % 2 == 1, "down": return .init(status: 503, body: "upstream timeout")
      default: return .init(status: 200, body: "ok")
      }
    }
    defer { server.stop() }
    let box = try ScratchProject()
    try box.write(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [health]
        - name: production
          requires: staging
          target:
            local: targets/production
          verify: [health]
      checks:
        health:
          http: \(server.urlString("/healthz"))
          attempts: 5
          pass: 2
          interval: 10ms
          timeout: 5s

      """, to: "pipelines/web.yml")

    for version in ["1.0.0", "1.1.0"] {
      let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version)
      #expect(deploy.code == 0, "\(deploy.output)")
      #expect(deploy.stdout.contains("deployed \(version) to staging: verified"))
      let promote = try await box.airlock("promote", "production")
      #expect(promote.code == 0, "\(promote.output)")
    }
    // The quorum saw the 503s and passed anyway: 503, ok, 503, ok.
    let probes = try await box.git("show", "web/production:checks.json").stdout
    #expect(probes.contains(#""reason" : "status 503""#))
    #expect(probes.contains(#""verdict" : "pass""#))
    #expect(box.current("production") == "1.1.0")

    // Rolling production back is one command, with no pipeline named.
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(rollback.stdout.contains("rolled back to 1.0.0; 1.1.0 is quarantined in production"))
    #expect(box.current("production") == "1.0.0")

    // Now the check fails for everyone. 1.2.0 fails it, so does 1.1.0 after the automatic rollback: suspect.
    mode.value = "down"
    let suspect = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0")
    #expect(suspect.code == 5, "\(suspect.output)")
    #expect(suspect.stdout.contains("verify fails against 1.1.0 too"))
    #expect(suspect.stdout.contains("the check health or the environment is suspect, not the release"))
    #expect(suspect.stdout.contains("not rolling back further"))
    #expect(box.current("staging") == "1.1.0")
    let log = try await box.git("log", "--format=%s", "web/staging").stdout
    #expect(
      log == """
        rollback (automatic) web staging 1.2.0 → 1.1.0: suspect
        deploy web 1.2.0 → staging: failed
        deploy web 1.1.0 → staging: ok
        deploy web 1.0.0 → staging: ok

        """)
    let status = try await box.airlock("status").stdout
    #expect(status.contains("staging: 1.1.0"))
    #expect(status.contains("[suspect]"))
    #expect(!status.contains("quarantined: 1.2.0"), "a suspect check must not blame the release")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// Help desk, 2016: an instrumentation library broke the background workers while the web app stayed up, and no
  /// alert fired. The heartbeat check sees the dead worker inside the watch window after the switch, the release is
  /// rolled back, and the on-failure hook runs.
  @Test func helpDesk2016() async throws {
    let web = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { web.stop() }
    let box = try ScratchProject()
    let shared = box.root.appendingPathComponent("shared")
    try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
    defer { Self.stopWorker(in: shared) }
    // Real time here: a heartbeat counts for 1s, and the watch lasts 3s with a round every 50ms, so a dead worker is
    // caught about a second after the switch with room to spare on a loaded machine.
    try box.write(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          config:
            SHARED: \(shared.path)
          start: bin/start
          verify: [health, worker]
          watch: 3s
      checks:
        health:
          http: \(web.urlString("/healthz"))
          attempts: 2
          pass: 1
          interval: 50ms
          timeout: 5s
        worker:
          heartbeat: \(shared.path)/worker.heartbeat
          max_age: 1s
          attempts: 2
          pass: 1
          interval: 50ms

      """, to: "pipelines/web.yml")
    try box.write(
      "#!/bin/sh\necho \"$AIRLOCK_EVENT $AIRLOCK_VERSION from $AIRLOCK_PREVIOUS_RELEASE\" >> on-failure.log\n",
      to: "hooks/on-failure", executable: true)
    // Each start stops the previous worker. 1.0.0's worker beats every 20ms; 2.0.0's boots, beats once, and dies
    // in the instrumentation library while the web app keeps answering 200.
    let restart =
      #"[ -f "$SHARED/worker.pid" ] && kill "$(cat "$SHARED/worker.pid")" 2>/dev/null; rm -f "$SHARED/worker.pid""#
    let good = try box.artifact("1.0.0")
    try box.write(
      """
      #!/bin/sh
      \(restart)
      ( i=0; while [ $i -lt 1500 ] && [ -d "$SHARED" ]; do touch "$SHARED/worker.heartbeat"; sleep 0.02; i=$((i+1)); done ) >/dev/null 2>&1 &
      echo $! > "$SHARED/worker.pid"

      """, to: "\(good)/bin/start", executable: true)
    let broken = try box.artifact("2.0.0")
    try box.write(
      """
      #!/bin/sh
      \(restart)
      touch "$SHARED/worker.heartbeat"
      echo "worker: instrumentation init failed, exiting" >&2

      """, to: "\(broken)/bin/start", executable: true)

    let deploy = try await box.airlock("deploy", "staging", "--artifact", good, "--version", "1.0.0")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(deploy.stderr.contains("watching staging for 3s (a round every 50ms)"))

    let incident = try await box.airlock("deploy", "staging", "--artifact", broken, "--version", "2.0.0")
    #expect(incident.code == 4, "\(incident.output)")
    // The switch verified fine; the watch caught the dead worker afterwards.
    // Each probe's line comes between the verify line and the check's verdict.
    #expect(incident.stderr.contains("→ verify staging: health, worker\n  · health localhost attempt 1 of "))
    #expect(incident.stderr.contains("  ✓ health: pass"))
    #expect(incident.stderr.contains("  ✓ worker: pass"))
    #expect(incident.stderr.contains(": staging degraded with"))
    #expect(incident.stderr.contains("✗ worker: fail on 1 of 1 host (localhost: stale by"))
    #expect(incident.stdout.contains("verify failed, rolled back automatically: rolled back to 1.0.0"))
    #expect(box.current("staging") == "1.0.0")
    #expect(box.read("on-failure.log") == "deploy 2.0.0 from 1.0.0\n")
    #expect(
      try await box.git("log", "--format=%s", "-2", "web/staging").stdout
        == "rollback (automatic) web staging 2.0.0 → 1.0.0: ok\ndeploy web 2.0.0 → staging: failed\n")
    #expect(try await box.git("show", "web/staging~1:checks.json").stdout.contains(#""reason" : "stale by"#))
    #expect(try await box.airlock("status").stdout.contains("quarantined: 2.0.0"))
    // The web app never stopped answering 200: only the heartbeat could have caught this.
    #expect(web.requestCount > 2)
  }

  /// Screen sharing, 2018: a third-party auth provider went down. A dependency check blocks promotion and says
  /// so, and when it fails during verify nothing is rolled back: a rollback cannot fix someone else's outage.
  @Test func screenSharing2018() async throws {
    let web = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { web.stop() }
    let auth = try TestHTTPServer { _ in .init(status: 200, body: "auth ok") }
    defer { auth.stop() }
    let box = try ScratchProject()
    try box.write(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [health, auth-provider]
        - name: production
          requires: staging
          target:
            local: targets/production
          preflight: [auth-provider]
          verify: [health]
      checks:
        health:
          http: \(web.urlString("/healthz"))
          attempts: 2
          pass: 1
          interval: 10ms
        auth-provider:
          http: \(auth.urlString("/health"))
          dependency: true
          attempts: 2
          pass: 1
          interval: 10ms
          timeout: 2s

      """, to: "pipelines/web.yml")
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)

    // The provider goes down: its port no longer answers.
    auth.stop()
    let blocked = try await box.airlock("promote", "production")
    #expect(blocked.code == 3, "\(blocked.output)")
    #expect(blocked.stdout.contains("blocked: preflight failed: dependency auth-provider: fail"))
    #expect(blocked.stdout.contains("refused"))
    #expect(blocked.stdout.contains("nothing changed"))
    #expect(box.current("production") == "1.0.0")
    #expect(!box.exists("targets/production/releases/1.1.0"))
    #expect(
      try await box.git("log", "--format=%s", "-2", "web/production").stdout
        == "promote web 1.1.0 staging→production: blocked\npromote web 1.0.0 staging→production: ok\n")

    // During verify the dependency's failure is reported, and the new release stays.
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.2.0"), "--version", "1.2.0")
    #expect(deploy.code == 5, "\(deploy.output)")
    #expect(deploy.stdout.contains("dependency down: auth-provider: fail"))
    #expect(deploy.stdout.contains("rolling back cannot fix someone else's outage"))
    #expect(box.current("staging") == "1.2.0")
    let log = try await box.git("log", "--format=%s", "web/staging").stdout
    #expect(log.hasPrefix("deploy web 1.2.0 → staging: failed\n"))
    #expect(!log.contains("rollback"))
    #expect(!(try await box.airlock("status").stdout.contains("quarantined")))
  }

  /// Leave planner, 2016: production's config pointed at a temporary database and a day of data was lost. Config
  /// rules block the promotion before anything changes, naming the key, the rule and the environment.
  @Test func leavePlanner2016() async throws {
    let box = try ScratchProject()
    func pipeline(productionDatabase: String) throws {
      try box.write(
        """
        pipeline: web
        environments:
          - name: staging
            target:
              local: targets/staging
            config:
              DATABASE_URL: postgres://db-staging.internal/leave
            start: bin/start
            verify: [health]
          - name: production
            requires: staging
            target:
              local: targets/production
            config:
              DATABASE_URL: \(productionDatabase)
            start: bin/start
            preflight: [config]
            verify: [health]
        checks:
          config:
            config:
              - key: DATABASE_URL
                required: true
                match: '^postgres://db-prod\\.'
                differs_from: staging
              - forbid: '(?i)(localhost|tmp|temp)'
          health:
            command: [bin/healthcheck]
            attempts: 2
            pass: 1
            interval: 10ms

        """, to: "pipelines/web.yml")
    }
    try pipeline(productionDatabase: "postgres://tmp-db-0412.internal/leave")
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)
    let refs = try await box.ledgerRefs()

    let blocked = try await box.airlock("promote", "production")
    #expect(blocked.code == 3, "\(blocked.output)")
    #expect(
      blocked.stderr.contains(
        #"DATABASE_URL: 'postgres://tmp-db-0412.internal/leave' does not match ^postgres://db-prod\. in production"#))
    #expect(
      blocked.stderr.contains(
        "DATABASE_URL: 'postgres://tmp-db-0412.internal/leave' matches forbidden pattern (?i)(localhost|tmp|temp) "
          + "in production"))
    #expect(blocked.stdout.hasPrefix("promote 1.0.0 to production blocked: preflight failed: config: fail"))
    #expect(blocked.stdout.contains("nothing changed"))
    // Nothing changed: no target, no start; only the blocked event on production's branch.
    #expect(!box.exists("targets/production"))
    #expect(
      try await box.git("log", "--format=%s", "web/production").stdout
        == "promote web 1.0.0 staging→production: blocked\n")
    let after = try await box.ledgerRefs()
    #expect(
      after.replacingOccurrences(of: #"refs/heads/web/production [0-9a-f]+\n"#, with: "", options: .regularExpression)
        == refs)

    // Fixed, the same release goes through, with the production database.
    try pipeline(productionDatabase: "postgres://db-prod.internal/leave")
    let plan = try await box.airlock("plan", "production")
    #expect(plan.code == 0, "\(plan.output)")
    #expect(plan.stdout.contains("promote would ship 1.0.0"))
    let promote = try await box.airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
    #expect(box.read("targets/production/current/.airlock/started") == "1.0.0 postgres://db-prod.internal/leave\n")
    #expect(
      try await box.git("show", "web/production:config.env").stdout.contains(
        "DATABASE_URL=postgres://db-prod.internal/leave"))
  }

  /// Email design, 2024: staging and production had drifted apart, and the rollback failed. Drift detection blocks
  /// the promotion naming the key; the promoted artifact is the very tree staging verified; and rolling back needs
  /// only the ledger, not the build.
  @Test func emailDesign2024() async throws {
    let box = try ScratchProject()
    func pipeline(productionKeys: String) throws {
      try box.write(
        """
        pipeline: web
        environments:
          - name: staging
            target:
              local: targets/staging
            config:
              DATABASE_URL: postgres://db-staging.internal/email
              TEMPLATE_CDN: https://cdn-staging.example.com
            start: bin/start
            verify: [health]
          - name: production
            requires: staging
            target:
              local: targets/production
            config:
              DATABASE_URL: postgres://db-prod.internal/email
        \(productionKeys)
            start: bin/start
            preflight: [drift]
            verify: [health]
        checks:
          drift:
            drift: staging
          health:
            command: [bin/healthcheck]
            attempts: 2
            pass: 1
            interval: 10ms

        """, to: "pipelines/web.yml")
    }
    try pipeline(productionKeys: "")
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.0.0"), "--version", "1.0.0").code == 0)

    let blocked = try await box.airlock("promote", "production")
    #expect(blocked.code == 3, "\(blocked.output)")
    #expect(blocked.stdout.contains("drift: fail (TEMPLATE_CDN only in staging, missing in production)"))
    #expect(blocked.stderr.contains("TEMPLATE_CDN only in staging, missing in production"))
    #expect(!box.exists("targets/production"))

    try pipeline(productionKeys: "      TEMPLATE_CDN: https://cdn.example.com")
    #expect(try await box.airlock("promote", "production").code == 0)
    // The very tree staging verified, bound to its label.
    let staging = try await box.git("rev-parse", "web/staging:artifact").stdout
    #expect(staging.count == 41)
    #expect(try await box.git("rev-parse", "web/production:artifact").stdout == staging)
    #expect(try await box.git("rev-parse", "refs/tags/web/1.0.0:artifact").stdout == staging)
    #expect(try await box.git("diff", "--stat", "web/staging", "web/production", "--", "artifact").stdout.isEmpty)

    #expect(
      try await box.airlock("deploy", "staging", "--artifact", box.artifact("1.1.0"), "--version", "1.1.0").code == 0)
    #expect(try await box.airlock("promote", "production").code == 0)
    // The build output is gone and so is 1.0.0 on the target: rollback rebuilds nothing, it re-exports.
    try FileManager.default.removeItem(at: box.root.appendingPathComponent("artifacts"))
    try FileManager.default.removeItem(at: box.target("production").appendingPathComponent("releases/1.0.0"))
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(box.current("production") == "1.0.0")
    #expect(box.read("targets/production/current/VERSION") == "1.0.0\n")
    #expect(box.read("targets/production/current/.airlock/started") == "1.0.0 postgres://db-prod.internal/email\n")
    #expect(try await box.git("rev-parse", "web/production:artifact").stdout == staging)
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// Stops the worker a `start` script left running, by the pid it recorded.
  static func stopWorker(in shared: URL) {
    guard
      let text = try? String(contentsOf: shared.appendingPathComponent("worker.pid"), encoding: .utf8),
      let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
    else { return }
    kill(pid, SIGTERM)
  }
}
