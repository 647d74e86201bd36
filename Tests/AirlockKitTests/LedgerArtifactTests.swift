import Foundation
import Testing

@testable import AirlockKit

@Suite struct LedgerArtifactTests {
  /// A release folder with a plain file, an executable, a nested folder and two kinds of symlink.
  func makeRelease(_ scratch: ScratchLedger, named name: String = "build") throws -> URL {
    let folder = try scratch.makeFolder(
      name, files: ["index.html": "<h1>hi</h1>\n", "bin/start": "#!/bin/sh\necho started\n", "lib/a/b.txt": "deep\n"])
    try FileManager.default.setAttributes(
      [.posixPermissions: 0o755], ofItemAtPath: folder.appendingPathComponent("bin/start").path)
    try FileManager.default.createSymbolicLink(
      atPath: folder.appendingPathComponent("current-page").path, withDestinationPath: "index.html")
    try FileManager.default.createSymbolicLink(
      atPath: folder.appendingPathComponent("lib/outside").path, withDestinationPath: "/etc/does-not-exist")
    return folder
  }

  @Test func sameContentGivesTheSameTreeAndOneByteChangesIt() throws {
    let scratch = try ScratchLedger()
    let ledger = scratch.ledger
    let first = try ledger.storeArtifact(directory: makeRelease(scratch, named: "one"))
    let copy = try ledger.storeArtifact(directory: makeRelease(scratch, named: "two"))
    #expect(first == copy)
    #expect(try ledger.storeArtifact(directory: scratch.path("one")) == first)

    try Data("<h1>hI</h1>\n".utf8).write(to: scratch.path("two/index.html"))
    let changed = try ledger.storeArtifact(directory: scratch.path("two"))
    #expect(changed != first)

    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.path("one/bin/start").path)
    #expect(try ledger.storeArtifact(directory: scratch.path("one")) != first)
  }

  @Test func storedTreeIsWhatGitWouldStore() throws {
    let scratch = try ScratchLedger()
    let tree = try scratch.ledger.storeArtifact(directory: makeRelease(scratch))
    let listing = try scratch.git("ls-tree", "-r", "--format=%(objectmode) %(path)", tree.hex)
    #expect(
      listing.trimmed.split(separator: "\n").sorted() == [
        "100644 index.html", "100644 lib/a/b.txt", "100755 bin/start", "120000 current-page", "120000 lib/outside",
      ])
    #expect(try scratch.git("cat-file", "blob", "\(tree.hex):lib/outside").output == "/etc/does-not-exist")
    #expect(try scratch.git("cat-file", "blob", "\(tree.hex):bin/start").output == "#!/bin/sh\necho started\n")
    #expect(try scratch.git("fsck", "--strict", "--no-dangling").status == 0)
  }

  @Test func topLevelAirlockFolderAndEmptyFoldersAreSkipped() throws {
    let scratch = try ScratchLedger()
    let ledger = scratch.ledger
    let folder = try makeRelease(scratch)
    let plain = try ledger.storeArtifact(directory: folder)
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("empty/nested"), withIntermediateDirectories: true)
    _ = try scratch.makeFolder("build/.airlock", files: ["config.env": "SECRET=1\n"])
    #expect(try ledger.storeArtifact(directory: folder) == plain)

    _ = try scratch.makeFolder("build/lib/.airlock", files: ["kept": "a nested .airlock is ordinary content\n"])
    let nested = try ledger.storeArtifact(directory: folder)
    #expect(nested != plain)
    #expect(try scratch.git("cat-file", "-t", "\(nested.hex):lib/.airlock/kept").trimmed == "blob")
  }

  @Test func emptyFolderIsTheEmptyTree() throws {
    let scratch = try ScratchLedger()
    let tree = try scratch.ledger.storeArtifact(directory: scratch.makeFolder("empty", files: [:]))
    #expect(tree.hex == "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    #expect(try scratch.git("cat-file", "-t", tree.hex).trimmed == "tree")
  }

  @Test func fifoIsRefusedWithItsPath() throws {
    let scratch = try ScratchLedger()
    let folder = try makeRelease(scratch)
    #expect(mkfifo(folder.appendingPathComponent("lib/a/pipe").path, 0o644) == 0)
    let error = try #require(throws: LedgerError.self) { try scratch.ledger.storeArtifact(directory: folder) }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains("lib/a/pipe"))
  }

  @Test func gitMetadataInsideAnArtifactIsRefused() throws {
    let scratch = try ScratchLedger()
    let folder = try scratch.makeFolder("build", files: ["vendor/.git/config": "[core]\n"])
    let error = try #require(throws: LedgerError.self) { try scratch.ledger.storeArtifact(directory: folder) }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains("vendor/.git"))
  }

  @Test func missingArtifactFolderIsRefused() throws {
    let scratch = try ScratchLedger()
    let error = try #require(throws: LedgerError.self) {
      try scratch.ledger.storeArtifact(directory: scratch.path("nope"))
    }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains(scratch.path("nope").path))
  }

  @Test func exportRestoresFilesExecBitsAndSymlinks() throws {
    let scratch = try ScratchLedger()
    let tree = try scratch.ledger.storeArtifact(directory: makeRelease(scratch))
    let target = scratch.path("releases/1.0")
    try scratch.ledger.exportTree(tree, to: target)

    let manager = FileManager.default
    #expect(manager.contents(atPath: target.appendingPathComponent("index.html").path) == Data("<h1>hi</h1>\n".utf8))
    #expect(manager.contents(atPath: target.appendingPathComponent("lib/a/b.txt").path) == Data("deep\n".utf8))
    let start = try #require(linkMode(target.appendingPathComponent("bin/start")))
    #expect(start & S_IFMT == S_IFREG && start & S_IXUSR != 0)
    let index = try #require(linkMode(target.appendingPathComponent("index.html")))
    #expect(index & S_IFMT == S_IFREG && index & (S_IXUSR | S_IXGRP | S_IXOTH) == 0)
    for (link, destination) in [("current-page", "index.html"), ("lib/outside", "/etc/does-not-exist")] {
      let mode = try #require(linkMode(target.appendingPathComponent(link)))
      #expect(mode & S_IFMT == S_IFLNK)
      #expect(try manager.destinationOfSymbolicLink(atPath: target.appendingPathComponent(link).path) == destination)
    }
    #expect(try scratch.ledger.storeArtifact(directory: target) == tree)
  }

  @Test func exportIntoAnExistingEmptyFolderWorksAndIntoANonEmptyOneIsRefused() throws {
    let scratch = try ScratchLedger()
    let tree = try scratch.ledger.storeArtifact(directory: makeRelease(scratch))
    let empty = try scratch.makeFolder("empty", files: [:])
    try scratch.ledger.exportTree(tree, to: empty)
    #expect(try scratch.ledger.storeArtifact(directory: empty) == tree)

    let busy = try scratch.makeFolder("busy", files: ["keep.txt": "mine\n"])
    let error = try #require(throws: LedgerError.self) { try scratch.ledger.exportTree(tree, to: busy) }
    #expect(error.code == .alreadyExists)
    #expect(error.description.contains(busy.path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: busy.path) == ["keep.txt"])
  }

  @Test func exportOfAMissingTreeIsNotFoundAndCreatesNothing() throws {
    let scratch = try ScratchLedger()
    let missing = try #require(ObjectID(hex: String(repeating: "cd", count: 20)))
    let error = try #require(throws: LedgerError.self) {
      try scratch.ledger.exportTree(missing, to: scratch.path("out"))
    }
    #expect(error.code == .notFound)
    #expect(!FileManager.default.fileExists(atPath: scratch.path("out").path))
  }

  /// Writes a tree object byte by byte with stock git, bypassing every name check libgit2 and git apply.
  func craftTree(_ scratch: ScratchLedger, _ entries: [(mode: String, name: String, id: ObjectID)]) throws -> ObjectID {
    var raw = Data()
    for entry in entries {
      raw += Data("\(entry.mode) \(entry.name)".utf8) + Data([0]) + Data(rawID: entry.id)
    }
    let run = try scratch.git("hash-object", "-t", "tree", "-w", "--literally", "--stdin", input: raw)
    #expect(run.status == 0, "\(run.errors)")
    return try #require(ObjectID(hex: run.trimmed))
  }

  @Test(arguments: ["..", ".", ".git", ".GIT", "a/b"])
  func exportRefusesHostileEntryNames(name: String) throws {
    let scratch = try ScratchLedger()
    let payload = try scratch.ledger.writeBlob(Data("owned\n".utf8))
    let hostile = try craftTree(scratch, [("100644", name, payload)])
    let outer = try craftTree(scratch, [("40000", "release", hostile)])
    let export = scratch.path("exports/out")
    let error = try #require(throws: LedgerError.self) { try scratch.ledger.exportTree(outer, to: export) }
    #expect(error.code == .corrupt)
    #expect(error.description.contains("release/\(name)"))
    #expect(!FileManager.default.fileExists(atPath: scratch.path("exports/owned").path))
    #expect(!FileManager.default.fileExists(atPath: scratch.path("exports/out/release/a/b").path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: export.appendingPathComponent("release").path).isEmpty)
  }

  @Test func exportNeverWritesThroughASymlinkPlantedBeforeAFolderOfTheSameName() throws {
    let scratch = try ScratchLedger()
    let outside = try scratch.makeFolder("outside", files: [:])
    let link = try scratch.ledger.writeBlob(Data(outside.path.utf8))
    let payload = try scratch.ledger.writeBlob(Data("owned\n".utf8))
    let inner = try craftTree(scratch, [("100644", "evil", payload)])
    let hostile = try craftTree(scratch, [("120000", "a", link), ("40000", "a", inner)])
    #expect(throws: LedgerError.self) { try scratch.ledger.exportTree(hostile, to: scratch.path("out")) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
  }
}
