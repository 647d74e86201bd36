import AirlockTestSupport
import Foundation
import Testing

/// Defects a hostile review found in what the engine does around a switch: a ledger that cannot record, a target
/// that is full, stale or foreign release folders, a `current` Airlock did not make, an unreadable lease, drift
/// against an environment that never ran anything, and the exit codes and JSON of the read-only commands.
@Suite struct HostileReviewTests {
  /// An artifact whose `start` appends its version to `starts.log` in the project, so a test sees every start.
  private func loggingArtifact(_ box: ScratchProject, _ name: String, startAlso: String = "") throws -> String {
    let path = try box.artifact(name)
    let log = box.root.appendingPathComponent("starts.log").path
    try box.write(
      """
      #!/bin/sh
      mkdir -p .airlock && echo "$AIRLOCK_VERSION" > .airlock/started
      echo "$AIRLOCK_VERSION" >> "\(log)"
      \(startAlso)
      """, to: "\(path)/bin/start", executable: true)
    return path
  }

  /// Runs `script` with `sh` in a mount namespace of its own, so it can mount a small tmpfs that nothing outside
  /// sees and that vanishes with it: a real full disk, for this script only.
  private func inOwnMounts(_ box: ScratchProject, _ script: String) async throws -> ScratchProject.Run {
    try await box.run(
      "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", "set -e\n" + script],
      environment: ["AIRLOCK": ScratchProject.binary.path])
  }

  // MARK: Item 1 — recording fails after the switch; install fails on a full target

  @Test func aLedgerThatFillsUpAfterTheSwitchGetsTheSwitchUndone() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    #expect(
      try await box.airlock("deploy", "staging", "--artifact", loggingArtifact(box, "a"), "--version", "a").code == 0)
    let ledgerFolder = box.root.appendingPathComponent(".airlock").path
    let saved = box.root.appendingPathComponent("saved").path
    // b's start fills the disk the ledger is on: the switch has happened, and the event cannot be written.
    let b = try loggingArtifact(
      box, "b", startAlso: "dd if=/dev/zero of=\"\(ledgerFolder)/filler\" bs=4k 2>/dev/null || true")
    let run = try await inOwnMounts(
      box,
      """
      mkdir -p "\(saved)"
      cp -a "\(ledgerFolder)/ledger.git" "\(saved)/before.git"
      mount -t tmpfs -o size=4m tmpfs "\(ledgerFolder)"
      cp -a "\(saved)/before.git" "\(ledgerFolder)/ledger.git"
      code=0
      "$AIRLOCK" deploy staging --artifact \(b) --version b 2> "\(saved)/deploy.err" || code=$?
      rm -f "\(ledgerFolder)/filler"
      cp -a "\(ledgerFolder)/ledger.git" "\(saved)/after.git"
      exit $code
      """)
    let stderr = box.read("saved/deploy.err") ?? ""
    #expect(run.code == 1, "\(run.output)\n\(stderr)")
    #expect(stderr.contains("recording the event in the ledger failed"), "\(stderr)")
    #expect(stderr.contains("the switch was undone: staging runs a again"), "\(stderr)")
    #expect(box.current("staging") == "a")
    // a was started again after the switch back: the target runs what the ledger says, really running.
    #expect(box.read("starts.log") == "a\nb\na\n")
    let after = box.root.appendingPathComponent("saved/after.git").path
    let git = { (arguments: [String]) in
      try await box.run("/usr/bin/git", ["--git-dir", after] + arguments, environment: [:])
    }
    #expect(try await git(["fsck", "--strict", "--no-dangling"]).code == 0)
    #expect(try await git(["log", "-1", "--format=%s", "web/staging"]).stdout == "deploy web a → staging: ok\n")
  }

  @Test func anInstallThatFailsOnAFullTargetIsRecordedAndChangesNothing() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let small = try box.artifact("small")
    let big = try box.artifact("big")
    try Data(count: 2 << 20).write(to: box.root.appendingPathComponent("\(big)/payload.bin"))
    let target = box.target("staging").path
    let run = try await inOwnMounts(
      box,
      """
      mkdir -p "\(target)"
      mount -t tmpfs -o size=1m tmpfs "\(target)"
      "$AIRLOCK" deploy staging --artifact \(small) --version small
      code=0
      "$AIRLOCK" deploy staging --artifact \(big) --version big 2> "\(box.root.path)/deploy.err" || code=$?
      readlink "\(target)/current" > "\(box.root.path)/current.txt"
      ls -a "\(target)/releases" > "\(box.root.path)/releases.txt"
      exit $code
      """)
    let stderr = box.read("deploy.err") ?? ""
    #expect(run.code == 1, "\(run.output)\n\(stderr)")
    #expect(stderr.contains("installing big failed"), "\(stderr)")
    #expect(stderr.contains("nothing was switched, staging still runs small"), "\(stderr)")
    #expect(box.read("current.txt") == "releases/small\n")
    #expect(box.read("releases.txt") == ".\n..\nsmall\n", "no partial release is left behind")
    // Invariant 3: the failure is a ledger commit, and the ledger still says small runs.
    #expect(try await box.messages("web/staging", count: 1) == ["deploy web big → staging: failed"])
    let state = try await box.git("show", "web/staging:state.json").stdout
    #expect(state.contains("\"version\" : \"small\""), "\(state)")
    #expect(try await box.git("fsck", "--strict", "--no-dangling").code == 0)
  }

  // MARK: Items 2 and 3 — retention deletes only its own releases; a stale folder is exported afresh

  @Test func retentionDeletesOnlyReleaseFoldersThisPipelineMade() async throws {
    let box = try ScratchProject()
    try box.pipeline(keep: 1, secrets: false)
    try box.write("precious\n", to: "targets/staging/releases/backup/data.txt")
    try box.write("other pipeline\n", to: "targets/staging/releases/theirs/.airlock/release.json")
    for version in ["a", "b", "c"] {
      #expect(
        try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version).code == 0)
    }
    let releases = try FileManager.default.contentsOfDirectory(
      atPath: box.target("staging").appendingPathComponent("releases").path
    ).sorted()
    // keep 1 plus the current one; the folders Airlock did not make stay whatever their age.
    #expect(releases == ["backup", "c", "theirs"])
    #expect(box.read("targets/staging/releases/backup/data.txt") == "precious\n")
  }

  @Test func aLedgerNamedOnTheCommandLineInsideATargetIsRefused() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let inside = box.target("staging").appendingPathComponent("releases/ledger.git").path
    for arguments in [["--ledger", inside, "status"], ["deploy", "staging", "--artifact", try box.artifact("a")]] {
      let run = try await box.airlock(
        arguments, environment: arguments[0] == "--ledger" ? [:] : ["AIRLOCK_LEDGER": inside])
      #expect(run.code == 2, "\(run.output)")
      #expect(run.stderr.contains("is inside the target of staging (targets/staging)"), "\(run.output)")
    }
    #expect(!FileManager.default.fileExists(atPath: inside))
  }

  @Test(arguments: ["no mark", "another tree"])
  func aStaleReleaseFolderIsExportedAfreshNotRun(_ stale: String) async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let folder = "targets/staging/releases/a"
    try box.write("stale\n", to: "\(folder)/VERSION")
    try box.write("left over\n", to: "\(folder)/only-in-the-stale-copy")
    if stale == "another tree" {
      try box.write(
        #"{"pipeline":"web","tree":"0123456789abcdef0123456789abcdef01234567","version":"a"}"#,
        to: "\(folder)/.airlock/release.json")
    }
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a")
    #expect(deploy.code == 0, "\(deploy.output)")
    #expect(box.read("targets/staging/current/VERSION") == "a\n")
    #expect(!box.exists("targets/staging/current/only-in-the-stale-copy"))
    let tree = try await box.git("rev-parse", "web/staging:artifact").stdout.trimmingCharacters(in: .newlines)
    #expect(box.read("\(folder)/.airlock/release.json")?.contains(tree) == true)
    // Nothing is left beside it: the stale copy was swapped out and deleted.
    let names = try FileManager.default.contentsOfDirectory(
      atPath: box.target("staging").appendingPathComponent("releases").path)
    #expect(names == ["a"])
  }

  // MARK: Item 7 — an unreadable lease

  @Test func anUnreadableLeaseIsShownAndBrokenOnlyByForce() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a").code == 0)
    let blob = try await box.git("hash-object", "-w", "--stdin", input: Data("{ not a lease".utf8)).stdout
      .trimmingCharacters(in: .newlines)
    let tree = try await box.git("mktree", input: Data("100644 blob \(blob)\tlease.json\n".utf8)).stdout
      .trimmingCharacters(in: .newlines)
    let commit = try await box.git(
      "-c", "user.name=x", "-c", "user.email=x@y", "commit-tree", tree, input: Data("garbage".utf8)
    )
    .stdout.trimmingCharacters(in: .newlines)
    #expect(try await box.git("update-ref", "refs/airlock/leases/web/staging", commit).code == 0)

    let refused = try await box.airlock("deploy", "staging", "--artifact", box.artifact("b"), "--version", "b")
    #expect(refused.code == 6, "\(refused.output)")
    #expect(refused.stderr.contains("unreadable lease"), "\(refused.output)")
    #expect(refused.stderr.contains("airlock unlock staging --force"), "\(refused.output)")
    let status = try await box.airlock("status")
    #expect(status.stdout.contains("! held by an unreadable lease (commit \(commit.prefix(12))"), "\(status.output)")
    let json = try await box.airlock("status", "--json")
    #expect(json.stdout.contains("\"leaseProblem\""), "\(json.output)")
    let unforced = try await box.airlock("unlock", "staging")
    #expect(unforced.code == 6, "\(unforced.output)")

    let broken = try await box.airlock("unlock", "staging", "--force")
    #expect(broken.code == 0, "\(broken.output)")
    #expect(broken.stdout.contains("broke an unreadable lease (commit \(commit.prefix(12))"), "\(broken.output)")
    #expect(try await box.messages("web/staging", count: 1) == ["unlock web staging: ok"])
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("b"), "--version", "b").code == 0)
  }

  // MARK: Item 10 — drift against an environment whose only events were refused

  @Test func aRefusedFirstEventDoesNotMakeTheDeclaredConfigLookEmpty() async throws {
    let box = try ScratchProject()
    try box.pipeline(
      extraChecks: """
          no-prod:
            config:
              - forbid: 'db-prod'
        """, secrets: false)
    try box.write(
      (box.read("pipelines/web.yml") ?? "").replacingOccurrences(
        of: "verify: [health]\n    on_failure", with: "preflight: [no-prod]\n    verify: [health]\n    on_failure"),
      to: "pipelines/web.yml")
    #expect(try await box.airlock("validate").code == 0)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a").code == 0)
    #expect(try await box.airlock("promote", "production").code == 3)
    let drift = try await box.airlock("drift", "staging", "production")
    #expect(drift.code == 0, "\(drift.output)")
    #expect(!drift.stdout.contains("only in"), "\(drift.stdout)")
    #expect(drift.stdout.contains("key sets match"), "\(drift.stdout)")
  }

  // MARK: Item 13 — a `current` Airlock did not make

  @Test(arguments: ["outside", "directory"])
  func aCurrentAirlockDidNotMakeIsReportedAndRefused(_ shape: String) async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    #expect(try await box.airlock("deploy", "staging", "--artifact", box.artifact("a"), "--version", "a").code == 0)
    let link = box.target("staging").appendingPathComponent("current")
    try FileManager.default.removeItem(at: link)
    if shape == "outside" {
      try box.write("elsewhere\n", to: "elsewhere/a/VERSION")
      try FileManager.default.createSymbolicLink(
        atPath: link.path, withDestinationPath: box.root.appendingPathComponent("elsewhere/a").path)
    } else {
      try FileManager.default.createDirectory(at: link, withIntermediateDirectories: false)
    }
    let status = try await box.airlock("status")
    #expect(status.code == 0)
    #expect(status.stdout.contains("! target: \(link.path)"), "\(status.output)")
    #expect(status.stdout.contains("Airlock did not make"), "\(status.output)")
    let refs = try await box.ledgerRefs()
    let verify = try await box.airlock("verify", "staging")
    #expect(verify.code == 3, "\(verify.output)")
    #expect(verify.stderr.contains("Airlock did not make"), "\(verify.output)")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", box.artifact("b"), "--version", "b")
    #expect(deploy.code == 3, "\(deploy.output)")
    // Refusals changed no branch; only the release binding of b (a tag) may be new.
    let after = try await box.ledgerRefs()
    #expect(
      after.split(separator: "\n").filter { !$0.contains("refs/tags/") }
        == refs.split(separator: "\n").filter {
          !$0.contains("refs/tags/")
        })
  }

  // MARK: Item 14 — exit codes and JSON on the edges

  @Test func readOnlyCommandsBeforeTheFirstDeployAnswerFromThePipeline() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let plan = try await box.airlock("plan", "production", "--json")
    #expect(plan.code == 3, "\(plan.output)")
    let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
    #expect(document?["refusal"] as? String == "nothing has been verified in staging yet")
    let unknown = try await box.airlock("plan", "prod")
    #expect(unknown.code == 2)
    #expect(unknown.stderr.contains("no environment 'prod' (it has: staging, production)"), "\(unknown.output)")
    let drift = try await box.airlock("drift", "staging", "production")
    #expect(drift.code == 0, "\(drift.output)")
    #expect(drift.stdout.contains("differs DATABASE_URL"), "\(drift.stdout)")
    let history = try await box.airlock("history", "prod")
    #expect(history.code == 2, "\(history.output)")
    #expect(history.stderr.contains("no environment 'prod'"), "\(history.output)")
    #expect(try await box.airlock("history").stdout == "no events yet\n")
    #expect(!box.exists(".airlock"), "read-only commands created nothing")
  }

  @Test func argumentErrorsAndMalformedNamesAreExit2WithJSON() async throws {
    let box = try ScratchProject()
    try box.pipeline(secrets: false)
    let missing = try await box.airlock("deploy", "--json")
    #expect(missing.code == 2)
    let document = try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any]
    #expect(document?["exitCode"] as? Int == 2, "\(missing.output)")
    #expect((document?["error"] as? String)?.contains("Missing expected argument") == true, "\(missing.output)")
    for command in [["status"], ["history"], ["rollback", "staging"]] {
      let malformed = try await box.airlock(["-p", "../Web Site"] + command)
      #expect(malformed.code == 2, "\(command): \(malformed.output)")
      #expect(malformed.stderr.contains("is not a pipeline name"), "\(command): \(malformed.output)")
    }
  }
}
