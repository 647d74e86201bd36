import AirlockTestSupport
import Foundation
import Testing

/// Invariant 4: no secret value reaches the ledger, a log line or a hook; it lives only in the target's config file.
@Suite struct SecretTests {
  @Test func theSecretValueLivesOnlyInTheTargetsConfigFile() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let secret = box.environment["API_TOKEN"]!
    for hook in [
      "pre-deploy", "post-deploy", "pre-promote", "post-promote", "pre-rollback", "post-rollback", "on-failure",
    ] {
      try box.write("#!/bin/sh\nenv > \"hook-env-\(hook)\"\n", to: "hooks/\(hook)", executable: true)
    }
    var output = ""
    output += try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").output
    output += try await box.airlock("deploy", "staging", "--artifact", box.artifact("2"), "--version", "2", "--json")
      .output
    output += try await box.airlock(
      "deploy", "staging", "--artifact", box.artifact("3", healthy: false), "--version", "3"
    )
    .output
    output += try await box.airlock("promote", "production", "--json").output
    output += try await box.airlock("rollback", "staging").output
    output += try await box.airlock("history", "--json").output
    output += try await box.airlock("status", "--json").output
    output += try await box.airlock("plan", "production", "--json").output
    #expect(!output.contains(secret))

    let objects = try await box.git("cat-file", "--batch-all-objects", "--batch").stdout
    #expect(objects.contains("API_TOKEN=sha256:"))
    #expect(!objects.contains(secret))

    let hookFiles = try FileManager.default.contentsOfDirectory(atPath: box.root.path).filter {
      $0.hasPrefix("hook-env-")
    }
    #expect(hookFiles.count >= 5)
    for file in hookFiles {
      let environment = box.read(file) ?? ""
      #expect(!environment.contains(secret), "\(file)")
      #expect(environment.contains("AIRLOCK_ENVIRONMENT="), "\(file)")
    }

    let config = box.target("staging").appendingPathComponent("current/.airlock/config.env")
    #expect((try String(contentsOf: config, encoding: .utf8)).contains("API_TOKEN=\(secret)"))
    let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }

  @Test func startOutputThatEchoesASecretIsRedacted() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let app = try box.artifact("1")
    try box.write(
      "#!/bin/sh\nmkdir -p .airlock && touch .airlock/started\necho \"token is $API_TOKEN\"\n", to: "\(app)/bin/start",
      executable: true)
    let run = try await box.airlock("deploy", "staging", "--artifact", app, "--version", "1")
    #expect(run.code == 0, "\(run.output)")
    #expect(run.stderr.contains("token is [secret API_TOKEN]"))
    #expect(!run.output.contains(box.environment["API_TOKEN"]!))
  }
}

/// Invariant 9: the read-only commands never change anything, take no lock and run no hook.
@Suite struct ReadOnlyTests {
  @Test func queriesChangeNothingAndRunNoHook() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("2"), "--version", "2").code == 0)
    for hook in [
      "pre-deploy", "post-deploy", "pre-promote", "post-promote", "pre-rollback", "post-rollback", "on-failure",
    ] {
      try box.write("#!/bin/sh\ntouch hook-ran\n", to: "hooks/\(hook)", executable: true)
    }
    let refs = try await box.ledgerRefs()
    let listing = try FileManager.default.subpathsOfDirectory(atPath: box.target("staging").path).sorted()
    for arguments in [
      ["validate"], ["plan", "production"], ["plan", "staging"], ["history"], ["history", "staging"], ["status"],
      ["status", "--json"],
    ] {
      let run = try await box.run(ScratchProject.binary.path, arguments, environment: [:])
      #expect(run.code == 0, "\(arguments): \(run.output)")
    }
    #expect(try await box.ledgerRefs() == refs)
    #expect(try FileManager.default.subpathsOfDirectory(atPath: box.target("staging").path).sorted() == listing)
    #expect(!box.exists("hook-ran"))
  }

  @Test func statusHistoryAndPlanReadWell() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    #expect(try await box.airlock("status").stdout.contains("nothing deployed yet"))
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("1"), "--version", "1").code == 0)
    let status = try await box.airlock("status").stdout
    #expect(status.contains("staging: 1 ("))
    #expect(status.contains("[verified]"))
    #expect(status.contains("production: nothing"))
    let plan = try await box.airlock("plan", "production").stdout
    #expect(plan.contains("promote would ship 1 ("))
    #expect(plan.contains("config added DATABASE_URL"))
    let history = try await box.airlock("history").stdout
    #expect(history.contains("deploy web 1 → staging: ok"))
    let json = try await box.airlock("status", "--json").stdout
    let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    #expect(decoded?["schemaVersion"] as? Int == 1)
    #expect((decoded?["environments"] as? [[String: Any]])?.first?["environment"] as? String == "staging")
  }
}

/// Invariant 5, first cut: two changes to one environment at once; exactly one wins, the other exits 6.
@Suite struct ConcurrencyTests {
  @Test func twoDeploysAtOnceOneWinsTheOtherExits6() async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let slow = try box.artifact("slow")
    // The first deploy's start waits (bounded) for a gate the test opens only after the race is over.
    let gate = box.root.appendingPathComponent("gate").path
    let waiting = box.root.appendingPathComponent("waiting").path
    try box.write(
      """
      #!/bin/sh
      mkdir -p .airlock && touch .airlock/started "\(waiting)"
      i=0; while [ ! -f "\(gate)" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
      """, to: "\(slow)/bin/start", executable: true)
    let first = box.launch(["deploy", "staging", "--artifact", slow, "--version", "slow"])
    var held = false
    for _ in 0..<600 where !held {
      held = FileManager.default.fileExists(atPath: waiting)
      if !held { try await Task.sleep(for: .milliseconds(20)) }
    }
    #expect(held)
    let second = try await box.airlock("deploy", "staging", "--artifact", box.artifact("fast"), "--version", "fast")
    _ = FileManager.default.createFile(atPath: gate, contents: nil)
    let winner = try await first.value
    #expect(winner.code == 0, "\(winner.output)")
    #expect(second.code == 6, "\(second.output)")
    #expect(second.stderr.contains("staging is being changed by e2e-tester"))
    #expect(box.current("staging") == "slow")
    #expect(try await box.git("rev-list", "--count", "web/staging").stdout == "1\n")
  }
}
