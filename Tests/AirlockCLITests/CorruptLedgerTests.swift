import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A damaged ledger never hangs a command: a loose object cut short (a power cut with fsync off) gives exit 1 naming
/// the object, its file and what to do; a `state.json` or `release.json` that does not decode names its commit and
/// file; `history` shows an unreadable event as such and goes on; a run blocked in the file system still exits
/// after a signal. Every run is bounded by `timeout`, so a regression fails instead of hanging the suite.
@Suite struct CorruptLedgerTests {
  /// Runs `airlock ARGS` under `timeout 60`: 124 means it hung.
  func bounded(_ box: ScratchProject, _ arguments: String..., environment: [String: String] = [:]) async throws
    -> ScratchProject.Run
  {
    try await box.run("/usr/bin/timeout", ["60", ScratchProject.binary.path] + arguments, environment: environment)
  }

  /// A project whose staging ran 1.0.0 then 1.1.0, so rollback has somewhere to go.
  func deployedTwice() async throws -> ScratchProject {
    let box = try ScratchProject()
    try box.pipeline()
    for version in ["1.0.0", "1.1.0"] {
      let run = try await box.airlock("deploy", "staging", "--artifact", box.artifact(version), "--version", version)
      #expect(run.code == 0, "\(run.output)")
    }
    return box
  }

  func trimmed(_ run: ScratchProject.Run) -> String { run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

  /// The objects the test cuts short: the head commit, and the state.json blob every command reads first.
  @Test(arguments: ["web/staging", "web/staging:state.json"])
  func aTruncatedObjectGivesExit1NamingItInEveryCommand(object: String) async throws {
    let box = try await deployedTwice()
    let id = trimmed(try await box.git("rev-parse", object))
    let file = box.ledgerURL.appendingPathComponent("objects/\(id.prefix(2))/\(id.dropFirst(2))")
    let original = try Data(contentsOf: file)
    try #require(original.count > 30)
    let branches = try await box.git("for-each-ref", "refs/heads", "refs/airlock").stdout
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
    try original.prefix(30).write(to: file)

    let deploy = ["deploy", "staging", "--artifact", try box.artifact("1.2.0"), "--version", "1.2.0"]
    // history reads commits and release.json, not state.json.
    let commands =
      [["status"], ["rollback", "staging"], deploy] + (object.hasSuffix("state.json") ? [] : [["history"]])
    for command in commands {
      let run = try await box.run(
        "/usr/bin/timeout", ["60", ScratchProject.binary.path] + command, environment: [:])
      #expect(run.code == 1, "\(command): \(run.output)")
      #expect(run.stderr.contains("loose object \(id)"), "\(command): \(run.output)")
      #expect(run.stderr.contains(file.path), "\(command): \(run.output)")
      #expect(run.stderr.contains("cut short"), "\(command): \(run.output)")
      #expect(run.stderr.contains("fsck --strict") && run.stderr.contains("restore"), "\(command): \(run.output)")
    }
    let json = try await bounded(box, "status", "--json")
    #expect(json.code == 1 && json.stdout.contains(#""exitCode" : 1"#) && json.stdout.contains(id), "\(json.output)")
    // Nothing moved: not the branch, not the target, and no lease was left behind (deploy did store 1.2.0).
    try original.write(to: file)
    #expect(try await box.git("for-each-ref", "refs/heads", "refs/airlock").stdout == branches)
    #expect(box.current("staging") == "1.1.0")
    #expect(try await box.git("for-each-ref", "refs/airlock/leases").stdout.isEmpty)
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// Commits `files` (name → contents; the others as in the parent, less `removing`) on top of `branch` with stock
  /// git plumbing.
  func commitGarbage(_ box: ScratchProject, on branch: String, _ files: [String: String], removing: [String] = [])
    async throws -> String
  {
    let parent = trimmed(try await box.git("rev-parse", branch))
    var entries = try await box.git("ls-tree", parent).stdout.split(separator: "\n").map(String.init)
    entries.removeAll { entry in removing.contains { entry.hasSuffix("\t" + $0) } }
    for (name, contents) in files {
      let blob = trimmed(try await box.git("hash-object", "-w", "--stdin", input: Data(contents.utf8)))
      entries.removeAll { $0.hasSuffix("\t" + name) }
      entries.append("100644 blob \(blob)\t\(name)")
    }
    let tree = trimmed(try await box.git("mktree", input: Data((entries.joined(separator: "\n") + "\n").utf8)))
    let commit = trimmed(
      try await box.git(
        "-c", "user.name=Mallory", "-c", "user.email=m@example.com", "commit-tree", tree, "-p", parent, "-m",
        "hand-made event"))
    #expect(try await box.git("update-ref", "refs/heads/\(branch)", commit, parent).code == 0)
    return commit
  }

  @Test func aGarbageStateJSONNamesTheCommitTheFileAndWhatToDo() async throws {
    let box = try await deployedTwice()
    let commit = try await commitGarbage(box, on: "web/staging", ["state.json": "{ this is not json"])
    let short = String(commit.prefix(12))

    let status = try await bounded(box, "status")
    #expect(status.code == 1, "\(status.output)")
    for part in [
      "ledger commit \(short) on web/staging", "state.json cannot be read", "not valid JSON",
      "git -C \(box.ledgerURL.path) show \(short):state.json", "update-ref refs/heads/web/staging \(short)~1 \(short)",
    ] {
      #expect(status.stderr.contains(part), "\(part) missing: \(status.output)")
    }
    #expect(!status.stderr.contains("DecodingError"), "\(status.output)")
    let json = try await bounded(box, "status", "--json")
    #expect(json.code == 1 && json.stdout.contains(#""exitCode" : 1"#), "\(json.output)")
    #expect(json.stdout.contains("state.json cannot be read"), "\(json.output)")

    // The advice works: moving the branch back makes status read again.
    #expect(try await box.git("update-ref", "refs/heads/web/staging", "\(short)~1", short).code == 0)
    let repaired = try await bounded(box, "status")
    #expect(repaired.code == 0 && repaired.stdout.contains("staging: 1.1.0"), "\(repaired.output)")
  }

  @Test func aCommitWithoutStateJSONIsExit1NamingTheCommitAndWhatToDo() async throws {
    let box = try await deployedTwice()
    let commit = try await commitGarbage(box, on: "web/staging", [:], removing: ["state.json"])
    let short = String(commit.prefix(12))
    let branches = try await box.git("for-each-ref", "refs/heads", "refs/airlock").stdout

    for arguments in [["status"], ["deploy", "staging", "--artifact", try box.artifact("1.2.0")]] {
      let run = try await box.airlock(arguments)
      #expect(run.code == 1, "\(arguments): \(run.output)")
      for part in [
        "error: ledger commit \(short) on web/staging has no state.json: it was not written by Airlock or is damaged",
        "git -C \(box.ledgerURL.path) fsck --strict",
      ] {
        #expect(run.stderr.contains(part), "\(arguments): \(part) missing: \(run.output)")
      }
    }
    // Nothing moved: not a branch, not the target, and no lease was left behind.
    #expect(try await box.git("for-each-ref", "refs/heads", "refs/airlock").stdout == branches)
    #expect(box.current("staging") == "1.1.0")
  }

  @Test func aStateJSONOfTheWrongShapeSaysWhichKey() async throws {
    let box = try await deployedTwice()
    let commit = try await commitGarbage(box, on: "web/staging", ["state.json": #"{"good": "many"}"#])
    let status = try await bounded(box, "status")
    #expect(status.code == 1, "\(status.output)")
    #expect(status.stderr.contains("ledger commit \(commit.prefix(12))"), "\(status.output)")
    #expect(status.stderr.contains("state.json cannot be read: good is not of type"), "\(status.output)")
  }

  @Test func historyShowsAnUnreadableEventAsSuchAndGoesOn() async throws {
    let box = try await deployedTwice()
    let commit = try await commitGarbage(box, on: "web/staging", ["release.json": "garbage"])
    let short = String(commit.prefix(12))

    let history = try await bounded(box, "history")
    #expect(history.code == 0, "\(history.output)")
    let lines = history.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first?.contains("\(short)  hand-made event  [unreadable event]") == true, "\(history.output)")
    #expect(
      lines.contains {
        $0.contains("unreadable event \(short): ledger commit \(short)") && $0.contains("release.json")
      },
      "\(history.output)")
    #expect(history.stdout.contains("deploy web 1.1.0 → staging: ok"), "\(history.output)")
    #expect(history.stdout.contains("deploy web 1.0.0 → staging: ok"), "\(history.output)")

    let json = try await bounded(box, "history", "--json")
    #expect(json.code == 0, "\(json.output)")
    let entries = try #require(
      (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]],
      "\(json.output)")
    #expect(entries.count == 3)
    let unreadable = try #require(entries.first { $0["commit"] as? String == commit }, "\(json.output)")
    #expect(unreadable["record"] == nil)
    #expect((unreadable["unreadable"] as? String)?.contains("release.json cannot be read") == true, "\(json.output)")
    #expect(entries.filter { $0["record"] != nil }.count == 2, "\(json.output)")
  }

  @Test func anUnknownAirlockFsyncIsRefusedWithExit2AndChangesNothing() async throws {
    let box = try await deployedTwice()
    let refs = try await box.ledgerRefs()
    let run = try await bounded(
      box, "deploy", "staging", "--artifact", try box.artifact("1.2.0"), "--version", "1.2.0",
      environment: ["AIRLOCK_FSYNC": "yes"])
    #expect(run.code == 2, "\(run.output)")
    #expect(run.stderr.contains("AIRLOCK_FSYNC=yes is not understood"), "\(run.output)")
    #expect(try await box.ledgerRefs() == refs)
    #expect(box.current("staging") == "1.1.0")
  }

  @Test(arguments: ["0", "1", "batch"])
  func everyAirlockFsyncModeRecordsEvents(mode: String) async throws {
    let box = try ScratchProject()
    try box.pipeline()
    let run = try await bounded(
      box, "deploy", "staging", "--artifact", try box.artifact("1.0.0"), "--version", "1.0.0",
      environment: ["AIRLOCK_FSYNC": mode])
    #expect(run.code == 0, "\(run.output)")
    #expect(try await box.messages("web/staging", count: 1) == ["deploy web 1.0.0 → staging: ok"])
    #expect(try await box.git("fsck", "--strict").code == 0)
  }

  /// A read that blocks in the file system (here a ref that is a FIFO nobody writes) cannot see cancellation; the
  /// run still exits 143 a few seconds after SIGTERM, saying so.
  @Test func aRunBlockedInTheFileSystemStillExitsAfterSIGTERM() async throws {
    let box = try await deployedTwice()
    let ref = box.ledgerURL.appendingPathComponent("refs/heads/web/staging")
    try FileManager.default.removeItem(at: ref)
    #expect(mkfifo(ref.path, 0o644) == 0)
    let run = try box.start(["status"])
    // Opening a FIFO for reading waits in the kernel's wait_for_partner until a writer comes, which none does.
    var blocked = false
    for _ in 0..<1500 where !blocked {
      let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/task")) ?? []
      blocked = tasks.contains {
        (try? String(contentsOfFile: "/proc/\(run.pid)/task/\($0)/wchan", encoding: .utf8)) == "wait_for_partner"
      }
      if !blocked { try await Task.sleep(for: .milliseconds(20)) }
    }
    #expect(blocked, "status never blocked opening the ref")
    kill(run.pid, SIGTERM)
    // Should the safety net fail, the watchdog ends the run so the test fails instead of hanging.
    let watchdog = Task {
      try await Task.sleep(for: .seconds(60))
      kill(run.pid, SIGKILL)
    }
    let result = try await run.run.value
    watchdog.cancel()
    #expect(result.signal == nil && result.code == 143, "\(result.output)")
    #expect(result.stderr.contains("still busy"), "\(result.output)")
  }
}
