import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

@Suite struct ObjectIDTests {
  @Test(arguments: [
    ("4B825DC642CB6EB9A060E54BF8D69288FBEE4904", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"),
    ("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"),
  ])
  func acceptsFortyHexDigitsAndLowercases(text: String, hex: String) throws {
    let id = try #require(ObjectID(hex: text))
    #expect(id.hex == hex)
    #expect(id.short == String(hex.prefix(12)))
    #expect(id.description == hex)
  }

  @Test(arguments: [
    "", "4b825dc", "4b825dc642cb6eb9a060e54bf8d69288fbee490", "4b825dc642cb6eb9a060e54bf8d69288fbee49044",
    "4b825dc642cb6eb9a060e54bf8d69288fbee490g", " b825dc642cb6eb9a060e54bf8d69288fbee4904",
  ])
  func rejectsAnythingElse(text: String) {
    #expect(ObjectID(hex: text) == nil)
  }

  @Test func codesAsAPlainString() throws {
    let id = try #require(ObjectID(hex: "4b825dc642cb6eb9a060e54bf8d69288fbee4904"))
    let json = try JSONEncoder().encode([id])
    #expect(String(decoding: json, as: UTF8.self) == #"["4b825dc642cb6eb9a060e54bf8d69288fbee4904"]"#)
    #expect(try JSONDecoder().decode([ObjectID].self, from: json) == [id])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([ObjectID].self, from: Data(#"["abc"]"#.utf8)) }
  }
}

@Suite struct LedgerOpenTests {
  @Test func createsABareRepositoryWithParentFoldersThatStockGitAccepts() async throws {
    let scratch = try ScratchProject()
    let nested = scratch.url("a/b/ledger.git")
    let ledger = try Ledger.open(at: nested, create: true)
    #expect(ledger.url.path == nested.path)
    let bare = try await scratch.git(in: nested, "rev-parse", "--is-bare-repository")
    #expect(bare.trimmed == "true")
    // A new repository's HEAD names a branch that never exists; git accepts that as an unborn branch.
    let head = try await scratch.git(in: nested, "symbolic-ref", "HEAD")
    #expect(head.code == 0 && head.trimmed.hasPrefix("refs/heads/"))
    let fsck = try await scratch.git(in: nested, "fsck", "--strict")
    #expect(fsck.code == 0)
    #expect(!fsck.stderr.contains("error") && !fsck.stderr.contains("warning"))
  }

  /// The loose objects' fan-out folders exist from the start, so no early event pays their creation, and stock git
  /// still counts the ledger empty and sound.
  @Test func aNewLedgerHasAllItsObjectFolders() async throws {
    let scratch = try ScratchProject()
    let ledger = try Ledger.open(at: scratch.url("ledger.git"), create: true)
    let objects = ledger.url.appendingPathComponent("objects")
    let folders = try FileManager.default.contentsOfDirectory(atPath: objects.path).filter { $0.count == 2 }.sorted()
    #expect(folders == (0..<256).map { String(format: "%02x", $0) })
    let count = try await scratch.git(in: ledger.url, "count-objects", "-v")
    #expect(count.code == 0 && count.stdout.contains("count: 0"), "\(count.output)")
    #expect(try await scratch.git(in: ledger.url, "fsck", "--strict").code == 0)
  }

  @Test func reopensAnExistingLedgerAndSeesItsBranches() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let commit = try ledger.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok")
    let reopened = try Ledger.open(at: scratch.ledgerURL, create: false)
    #expect(try reopened.reference("refs/heads/web/staging") == commit)
  }

  @Test func absentLedgerWithoutCreateIsNotFound() throws {
    let scratch = try ScratchProject()
    let missing = scratch.url("missing.git")
    let error = try #require(throws: LedgerError.self) { try Ledger.open(at: missing, create: false) }
    #expect(error.code == .notFound)
    #expect(error.description.contains(missing.path))
    #expect(!FileManager.default.fileExists(atPath: missing.path))
  }

  @Test func emptyFolderCountsAsNothingThere() async throws {
    let scratch = try ScratchProject()
    let empty = scratch.url("empty.git")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    #expect(throws: LedgerError.self) { try Ledger.open(at: empty, create: false) }
    _ = try Ledger.open(at: empty, create: true)
    #expect(try await scratch.git(in: empty, "rev-parse", "--is-bare-repository").trimmed == "true")
  }

  @Test(arguments: [true, false])
  func folderThatIsNotARepositoryIsRefusedClearly(create: Bool) throws {
    let scratch = try ScratchProject()
    let folder = try scratch.folder("project", files: ["README": "not a ledger"])
    let error = try #require(throws: LedgerError.self) { try Ledger.open(at: folder, create: create) }
    #expect(error.code == .corrupt)
    #expect(error.description.contains(folder.path))
    #expect(error.description.contains("not a git repository"))
    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("README").path))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("HEAD").path))
  }

  @Test func fileAtTheLedgerPathIsRefused() throws {
    let scratch = try ScratchProject()
    let file = scratch.url("ledger-file")
    try Data("x".utf8).write(to: file)
    let error = try #require(throws: LedgerError.self) { try Ledger.open(at: file, create: true) }
    #expect(error.code == .corrupt)
    #expect(error.description.contains(file.path))
  }
}

@Suite struct LedgerObjectTests {
  @Test(arguments: [Data(), Data("hello\n".utf8), Data((0..<1000).map { UInt8($0 % 256) })])
  func blobsRoundTripAndMatchGit(data: Data) async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let id = try ledger.writeBlob(data)
    #expect(try ledger.readBlob(id) == data)
    #expect(try await scratch.git("hash-object", "--stdin", input: data).trimmed == id.hex)
  }

  @Test func readingAMissingBlobIsNotFound() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let missing = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
    let error = try #require(throws: LedgerError.self) { try ledger.readBlob(missing) }
    #expect(error.code == .notFound)
    #expect(error.description.contains(scratch.ledgerURL.path))
  }

  @Test func commitsRoundTrip() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.writeTree(files: ["release.json": Data("{}".utf8)], subtrees: [:])
    let time = Date(timeIntervalSince1970: 1_700_000_123.75)
    let first = try ledger.writeCommit(tree: tree, parents: [], message: "first", author: ada, time: time)
    let second = try ledger.writeCommit(tree: tree, parents: [first], message: "second\n", author: ada, time: time)
    let commit = try ledger.commit(second)
    #expect(commit.id == second)
    #expect(commit.tree == tree)
    #expect(commit.parents == [first])
    #expect(commit.message == "second")
    #expect(commit.author == ada)
    #expect(commit.time == Date(timeIntervalSince1970: 1_700_000_123))
    #expect(try ledger.commit(first).parents.isEmpty)
    let raw = try await scratch.git("cat-file", "commit", second.hex).stdout
    #expect(raw.contains("author Ada Lovelace <ada@example.com> 1700000123 +0000"))
    #expect(raw.contains("committer Ada Lovelace <ada@example.com> 1700000123 +0000"))
    #expect(raw.hasSuffix("\n\nsecond\n"))
    #expect(try ledger.reference("refs/heads/web/staging") == nil)
  }

  @Test(arguments: [
    Signature(name: "", email: "a@example.com"), Signature(name: "Ada", email: " "),
    Signature(name: "Ada <x>", email: "a@example.com"), Signature(name: "Ada", email: "a@example.com\nx"),
  ])
  func signaturesGitCannotStoreAreRefused(author: Signature) throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.writeTree(files: [:], subtrees: [:])
    #expect(throws: LedgerError.self) {
      try ledger.writeCommit(tree: tree, parents: [], message: "x", author: author, time: eventTime)
    }
  }

  @Test func writeTreeRejectsSlashesAndClashingNames() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let empty = try ledger.writeTree(files: [:], subtrees: [:])
    #expect(empty.hex == "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    for attempt in [
      { try ledger.writeTree(files: ["a/b": Data()], subtrees: [:]) },
      { try ledger.writeTree(files: [:], subtrees: ["a/b": empty]) },
      { try ledger.writeTree(files: ["..": Data()], subtrees: [:]) },
      { try ledger.writeTree(files: ["x": Data()], subtrees: ["x": empty]) },
    ] {
      let error = try #require(throws: LedgerError.self) { try attempt() }
      #expect(error.code == .invalidArtifact)
    }
    let blob = try ledger.writeBlob(Data("not a tree".utf8))
    #expect(throws: LedgerError.self) { try ledger.writeTree(files: [:], subtrees: ["artifact": blob]) }
  }

  @Test func readFileAndEntryFindPathsInACommit() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let bin = try ledger.writeTree(files: ["start": Data("#!/bin/sh\n".utf8)], subtrees: [:])
    let artifact = try ledger.writeTree(files: [:], subtrees: ["bin": bin])
    let commit = try ledger.appendTestEvent(branch: "web/staging", message: "deploy", artifact: artifact)
    #expect(try ledger.readFile("release.json", inCommit: commit) == Data(#"{"version":"deploy"}"#.utf8))
    #expect(try ledger.readFile("artifact/bin/start", inCommit: commit) == Data("#!/bin/sh\n".utf8))
    #expect(try ledger.readFile("missing.json", inCommit: commit) == nil)
    #expect(try ledger.readFile("artifact/bin/missing", inCommit: commit) == nil)
    #expect(try ledger.readFile("artifact", inCommit: commit) == nil)
    #expect(try ledger.entry("artifact", inCommit: commit) == artifact)
    #expect(try ledger.entry("artifact/bin", inCommit: commit) == bin)
    #expect(try ledger.entry("nothing", inCommit: commit) == nil)
    #expect(try ledger.entry("", inCommit: commit) == ledger.commit(commit).tree)
    let error = try #require(throws: LedgerError.self) { try ledger.readFile("release.json", inCommit: artifact) }
    #expect(error.code == .notFound)
  }

  @Test func resolvesUniquePrefixes() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.writeTree(files: ["a": Data("1".utf8)], subtrees: [:])
    #expect(try ledger.resolvePrefix(String(tree.hex.prefix(4))) == tree)
    #expect(try ledger.resolvePrefix(tree.short.uppercased()) == tree)
    #expect(try ledger.resolvePrefix(tree.hex) == tree)
    #expect(try ledger.resolvePrefix(String(tree.hex.prefix(3))) == nil)
    #expect(try ledger.resolvePrefix("1.4.2") == nil)
    #expect(try ledger.resolvePrefix("") == nil)
    let absent = tree.hex.first == "0" ? "ffffffff" : "00000000"
    #expect(try ledger.resolvePrefix(absent) == nil)
  }

  @Test func ambiguousPrefixThrows() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    var seen: [String: ObjectID] = [:]
    var clash: String?
    // About 300 blobs make a shared 4-digit prefix near certain; the loop stops at the first one.
    for number in 0..<20_000 where clash == nil {
      let id = try ledger.writeBlob(Data("blob \(number)".utf8))
      let prefix = String(id.hex.prefix(4))
      if seen[prefix] != nil { clash = prefix }
      seen[prefix] = id
    }
    let prefix = try #require(clash)
    let error = try #require(throws: LedgerError.self) { try ledger.resolvePrefix(prefix) }
    #expect(error.code == .notFound)
    #expect(error.description.contains("more than one"))
  }
}

@Suite struct LedgerEventTests {
  @Test func eventsAreValidForStockGit() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let artifact = try ledger.storeArtifact(
      directory: scratch.folder("build", files: ["index.html": "<h1>hi</h1>", "bin/start": "#!/bin/sh\n"]))
    try ledger.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok", artifact: artifact)
    try ledger.appendTestEvent(
      branch: "web/staging", message: "verify web 1.0 staging: ok", config: "DATABASE_URL=postgres://db-staging\n",
      artifact: artifact)
    try ledger.appendTestEvent(
      branch: "web/production", message: "promote web 1.0 staging→production: ok",
      config: "DATABASE_URL=postgres://db-prod\n", artifact: artifact)

    let fsck = try await scratch.git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0)
    #expect(!fsck.stderr.contains("error") && !fsck.stderr.contains("warning"), "\(fsck.stderr)")

    let log = try await scratch.git("log", "--format=%s", "web/staging")
    #expect(log.code == 0)
    #expect(log.trimmed == "verify web 1.0 staging: ok\ndeploy web 1.0 staging: ok")

    let show = try await scratch.git("show", "web/staging:release.json")
    #expect(show.stdout == #"{"version":"verify web 1.0 staging: ok"}"#)

    #expect(try await scratch.git("rev-parse", "web/staging:artifact").trimmed == artifact.hex)
    #expect(try await scratch.git("rev-parse", "web/production:artifact").trimmed == artifact.hex)

    let diff = try await scratch.git("diff", "web/staging", "web/production", "--", "config.env")
    #expect(diff.code == 0)
    #expect(diff.stdout.contains("-DATABASE_URL=postgres://db-staging"))
    #expect(diff.stdout.contains("+DATABASE_URL=postgres://db-prod"))

    let reflog = try await scratch.git("reflog", "show", "--format=%gs", "refs/heads/web/staging")
    #expect(reflog.trimmed == "verify web 1.0 staging: ok\ndeploy web 1.0 staging: ok")
  }

  @Test func historyIsFirstParentNewestFirstAndHonoursTheLimit() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let ids = try (1...4).map { try ledger.appendTestEvent(branch: "web/staging", message: "event \($0)") }
    let all = try ledger.history(branch: "web/staging", limit: nil)
    #expect(all.map(\.id) == ids.reversed())
    #expect(all.map(\.message) == ["event 4", "event 3", "event 2", "event 1"])
    #expect(all.last?.parents == [])
    #expect(zip(all, all.dropFirst()).allSatisfy { $0.parents == [$1.id] })
    #expect(try ledger.history(branch: "web/staging", limit: 2).map(\.id) == [ids[3], ids[2]])
    #expect(try ledger.history(branch: "web/staging", limit: 0).isEmpty)
    #expect(try ledger.history(branch: "web/production", limit: nil).isEmpty)
  }

  @Test func appendWithAStaleHeadLeavesTheBranchAlone() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let first = try ledger.appendTestEvent(branch: "web/staging", message: "one")
    let second = try ledger.appendTestEvent(branch: "web/staging", message: "two")
    let error = try #require(throws: LedgerError.self) {
      try ledger.appendEvent(
        branch: "web/staging", expectedHead: first, files: ["release.json": Data()], subtrees: [:],
        message: "late", author: ada, time: eventTime)
    }
    #expect(error.code == .concurrentUpdate)
    #expect(error.description.contains("refs/heads/web/staging"))
    #expect(try ledger.reference("refs/heads/web/staging") == second)
    #expect(try ledger.history(branch: "web/staging", limit: nil).count == 2)
  }

  @Test func anotherProcessMovingTheBranchMakesTheAppendLose() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let first = try ledger.appendTestEvent(branch: "web/staging", message: "one")
    let second = try ledger.appendTestEvent(branch: "web/staging", message: "two")
    // Stock git, a separate process, moves the branch back after we read it.
    let seen = try #require(try ledger.reference("refs/heads/web/staging"))
    #expect(try await scratch.git("update-ref", "refs/heads/web/staging", first.hex, second.hex).code == 0)
    let error = try #require(throws: LedgerError.self) {
      try ledger.appendEvent(
        branch: "web/staging", expectedHead: seen, files: [:], subtrees: [:], message: "late", author: ada,
        time: eventTime)
    }
    #expect(error.code == .concurrentUpdate)
    #expect(try ledger.reference("refs/heads/web/staging") == first)
  }

}
