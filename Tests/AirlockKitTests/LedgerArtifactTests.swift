import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

@Suite struct LedgerArtifactTests {
  /// A release folder with a plain file, an executable, a nested folder and two kinds of symlink.
  func makeRelease(_ scratch: ScratchProject, named name: String = "build") throws -> URL {
    let folder = try scratch.folder(
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
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let first = try ledger.storeArtifact(directory: makeRelease(scratch, named: "one"))
    let copy = try ledger.storeArtifact(directory: makeRelease(scratch, named: "two"))
    #expect(first == copy)
    #expect(try ledger.storeArtifact(directory: scratch.url("one")) == first)

    try Data("<h1>hI</h1>\n".utf8).write(to: scratch.url("two/index.html"))
    let changed = try ledger.storeArtifact(directory: scratch.url("two"))
    #expect(changed != first)

    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.url("one/bin/start").path)
    #expect(try ledger.storeArtifact(directory: scratch.url("one")) != first)
  }

  @Test func storedTreeIsWhatGitWouldStore() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.storeArtifact(directory: makeRelease(scratch))
    let listing = try await scratch.git("ls-tree", "-r", "--format=%(objectmode) %(path)", tree.hex)
    #expect(
      listing.trimmed.split(separator: "\n").sorted() == [
        "100644 index.html", "100644 lib/a/b.txt", "100755 bin/start", "120000 current-page", "120000 lib/outside",
      ])
    #expect(try await scratch.git("cat-file", "blob", "\(tree.hex):lib/outside").stdout == "/etc/does-not-exist")
    #expect(try await scratch.git("cat-file", "blob", "\(tree.hex):bin/start").stdout == "#!/bin/sh\necho started\n")
    #expect(try await scratch.git("fsck", "--strict", "--no-dangling").code == 0)
  }

  @Test func topLevelAirlockFolderAndEmptyFoldersAreSkipped() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = try makeRelease(scratch)
    let plain = try ledger.storeArtifact(directory: folder)
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("empty/nested"), withIntermediateDirectories: true)
    _ = try scratch.folder("build/.airlock", files: ["config.env": "SECRET=1\n"])
    #expect(try ledger.storeArtifact(directory: folder) == plain)

    _ = try scratch.folder("build/lib/.airlock", files: ["kept": "a nested .airlock is ordinary content\n"])
    let nested = try ledger.storeArtifact(directory: folder)
    #expect(nested != plain)
    #expect(try await scratch.git("cat-file", "-t", "\(nested.hex):lib/.airlock/kept").trimmed == "blob")
  }

  @Test func emptyFolderIsTheEmptyTree() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.storeArtifact(directory: scratch.folder("empty", files: [:]))
    #expect(tree.hex == "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    #expect(try await scratch.git("cat-file", "-t", tree.hex).trimmed == "tree")
  }

  @Test func fifoIsRefusedWithItsPath() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = try makeRelease(scratch)
    #expect(mkfifo(folder.appendingPathComponent("lib/a/pipe").path, 0o644) == 0)
    let error = try #require(throws: LedgerError.self) { try ledger.storeArtifact(directory: folder) }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains("lib/a/pipe"))
  }

  @Test func gitMetadataInsideAnArtifactIsRefused() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = try scratch.folder("build", files: ["vendor/.git/config": "[core]\n"])
    let error = try #require(throws: LedgerError.self) { try ledger.storeArtifact(directory: folder) }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains("vendor/.git"))
  }

  @Test func missingArtifactFolderIsRefused() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let error = try #require(throws: LedgerError.self) {
      try ledger.storeArtifact(directory: scratch.url("nope"))
    }
    #expect(error.code == .invalidArtifact)
    #expect(error.description.contains(scratch.url("nope").path))
  }

  @Test func exportRestoresFilesExecBitsAndSymlinks() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.storeArtifact(directory: makeRelease(scratch))
    let target = scratch.url("releases/1.0")
    try ledger.exportTree(tree, to: target)

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
    #expect(try ledger.storeArtifact(directory: target) == tree)
  }

  @Test func exportIntoAnExistingEmptyFolderWorksAndIntoANonEmptyOneIsRefused() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let tree = try ledger.storeArtifact(directory: makeRelease(scratch))
    let empty = try scratch.folder("empty", files: [:])
    try ledger.exportTree(tree, to: empty)
    #expect(try ledger.storeArtifact(directory: empty) == tree)

    let busy = try scratch.folder("busy", files: ["keep.txt": "mine\n"])
    let error = try #require(throws: LedgerError.self) { try ledger.exportTree(tree, to: busy) }
    #expect(error.code == .alreadyExists)
    #expect(error.description.contains(busy.path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: busy.path) == ["keep.txt"])
  }

  @Test func exportOfAMissingTreeIsNotFoundAndCreatesNothing() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let missing = try #require(ObjectID(hex: String(repeating: "cd", count: 20)))
    let error = try #require(throws: LedgerError.self) {
      try ledger.exportTree(missing, to: scratch.url("out"))
    }
    #expect(error.code == .notFound)
    #expect(!FileManager.default.fileExists(atPath: scratch.url("out").path))
  }

  /// Writes a tree object byte by byte with stock git, bypassing every name check libgit2 and git apply.
  func craftTree(_ scratch: ScratchProject, _ entries: [(mode: String, name: String, id: ObjectID)]) async throws
    -> ObjectID
  {
    var raw = Data()
    for entry in entries {
      raw += Data("\(entry.mode) \(entry.name)".utf8) + Data([0]) + Data(rawID: entry.id)
    }
    let run = try await scratch.git("hash-object", "-t", "tree", "-w", "--literally", "--stdin", input: raw)
    #expect(run.code == 0, "\(run.stderr)")
    return try #require(ObjectID(hex: run.trimmed))
  }

  @Test(arguments: ["..", ".", ".git", ".GIT", "a/b"])
  func exportRefusesHostileEntryNames(name: String) async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let payload = try ledger.writeBlob(Data("owned\n".utf8))
    let hostile = try await craftTree(scratch, [("100644", name, payload)])
    let outer = try await craftTree(scratch, [("40000", "release", hostile)])
    let export = scratch.url("exports/out")
    let error = try #require(throws: LedgerError.self) { try ledger.exportTree(outer, to: export) }
    #expect(error.code == .corrupt)
    #expect(error.description.contains("release/\(name)"))
    #expect(!FileManager.default.fileExists(atPath: scratch.url("exports/owned").path))
    #expect(!FileManager.default.fileExists(atPath: scratch.url("exports/out/release/a/b").path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: export.appendingPathComponent("release").path).isEmpty)
  }

  @Test func exportNeverWritesThroughASymlinkPlantedBeforeAFolderOfTheSameName() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let outside = try scratch.folder("outside", files: [:])
    let link = try ledger.writeBlob(Data(outside.path.utf8))
    let payload = try ledger.writeBlob(Data("owned\n".utf8))
    let inner = try await craftTree(scratch, [("100644", "evil", payload)])
    let hostile = try await craftTree(scratch, [("120000", "a", link), ("40000", "a", inner)])
    #expect(throws: LedgerError.self) { try ledger.exportTree(hostile, to: scratch.url("out")) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
  }
}

/// One artifact entry as bytes, to compare Airlock's verdict with stock `git fsck --strict`.
struct ShapeCase: CustomTestStringConvertible, Sendable {
  enum Kind: Sendable { case file, symlink, folder }
  let name: [UInt8]
  let kind: Kind
  let content: [UInt8]

  init(_ name: String, _ kind: Kind = .file, _ content: String = "x\n") {
    self.init(raw: Array(name.utf8), kind, content: Array(content.utf8))
  }

  init(raw name: [UInt8], _ kind: Kind = .file, content: [UInt8]) {
    self.name = name
    self.kind = kind
    self.content = content
  }

  var testDescription: String { "\(kind) \(String(decoding: name, as: UTF8.self).debugDescription)" }

  /// Writes the entry into a fresh artifact folder `folder`.
  func write(into folder: URL) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = RawFiles.path(Array(folder.path.utf8) + [0x2f] + name)
    switch kind {
    case .file:
      try RawFiles.write(Array(folder.path.utf8) + [0x2f] + name, content)
    case .symlink:
      #expect(symlink(RawFiles.path(content), path) == 0)
    case .folder:
      #expect(mkdir(path, 0o755) == 0)
      try RawFiles.write(Array(folder.path.utf8) + [0x2f] + name + Array("/inner".utf8), content)
    }
  }

  /// Whether stock `git fsck --strict` says anything about a tree holding this one entry, in a repository of its own.
  func flaggedByGit() async throws -> Bool {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let blob = try ledger.writeBlob(Data(content))
    let (mode, id): (String, ObjectID) =
      switch kind {
      case .file: ("100644", blob)
      case .symlink: ("120000", blob)
      case .folder: ("40000", try ledger.writeTree(files: ["inner": Data(content)], subtrees: [:]))
      }
    let raw = Data(mode.utf8) + Data([0x20]) + Data(name) + Data([0]) + Data(rawID: id)
    let tree = try await scratch.git("hash-object", "-t", "tree", "-w", "--literally", "--stdin", input: raw)
    #expect(tree.code == 0, "\(tree.stderr)")
    let fsck = try await scratch.git("fsck", "--strict", "--no-dangling")
    return fsck.code != 0 || fsck.stderr.split(separator: "\n").contains { !$0.hasPrefix("notice:") }
  }
}

@Suite struct LedgerArtifactShapeTests {
  static let gitmodulesGood = "[submodule \"lib\"]\n\tpath = lib\n\turl = https://example.com/lib.git\n"

  /// Entries stock `git fsck --strict` flags: Airlock must refuse every one.
  static let flagged: [ShapeCase] = [
    ShapeCase(".git", .folder), ShapeCase(".GIT", .folder), ShapeCase(".Git"), ShapeCase("git~1"),
    ShapeCase("GIT~1", .folder), ShapeCase(".git."), ShapeCase(".git "), ShapeCase(".git::$INDEX_ALLOCATION"),
    ShapeCase("\u{200C}.git"), ShapeCase(".g\u{200D}it", .folder), ShapeCase("\u{FEFF}.git"), ShapeCase(#"a\.git"#),
    ShapeCase(raw: Array(".git".utf8) + [0xed, 0xa0, 0x80], content: [0x78]),
    ShapeCase(".gitmodules", .symlink, "elsewhere"), ShapeCase(".GITMODULES", .symlink, "x"),
    ShapeCase("gitmod~1", .symlink, "x"), ShapeCase("GI7EBA~1", .symlink, "x"), ShapeCase(".gitmodules.", .symlink),
    ShapeCase(".gitmodules ", .symlink), ShapeCase(".gitmodules::$DATA", .symlink),
    ShapeCase("\u{200C}.gitmodules", .symlink), ShapeCase(#"a\.gitmodules"#, .symlink),
    ShapeCase(".gitattributes", .symlink), ShapeCase("gitatt~1", .symlink), ShapeCase(".GitIgnore", .symlink),
    ShapeCase(".mailmap", .symlink), ShapeCase("mailma~2", .symlink), ShapeCase(".gitmodules", .folder),
    ShapeCase(".gitattributes", .folder), ShapeCase("~1234567", .file, "[broken\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"../escape\"]\n\tpath = x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"a/../..\"]\n\tpath = x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"\"]\n\tpath = x\n"),
    ShapeCase(".gitmodules", .file, "[submodule.]\n\tpath = x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = --upload-pack=touch /tmp/owned\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = ../:x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = ./..//x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = https://example.com/%0a/x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = \"https://exa\\nmple.com/x\"\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = ./x%0Ay\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = http::example.com/x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = https:///x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\tpath = -x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\tupdate = !rm -rf ~\n"),
    ShapeCase(".GITMODULES", .file, "[submodule \"x\"\n"), ShapeCase(".gitmodules", .file, "[core]\n\tx = a\\q\n"),
    ShapeCase(".gitmodules", .file, "[core]\n\tx = \"unterminated\n"),
    ShapeCase(raw: Array(".gitmodules".utf8), content: [0xef, 0xbb, 0x5b]),
    ShapeCase(".gitmodules", .file, "\u{FEFF}# git reads a blob's byte order mark as an error\n[core]\n"),
    ShapeCase(".gitattributes", .file, String(repeating: "a", count: 2048) + "\n"),
  ]

  /// Near misses `git fsck --strict` accepts: Airlock must store them faithfully.
  static let accepted: [ShapeCase] = [
    ShapeCase(".gitmodules", .file, gitmodulesGood), ShapeCase(".gitmodules", .file, ""),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = ../lib.git\n\tupdate = rebase\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = git@example.com:team/lib.git\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"x\"]\n\turl = https://user@example.com/%20x\n"),
    ShapeCase(".gitmodules", .file, "[submodule \"..x\"]\n\turl = ssh://host/x ; comment\n"),
    ShapeCase(".gitignore", .file, "*.o\n"), ShapeCase(".gitignore", .folder), ShapeCase(".mailmap", .folder),
    ShapeCase(".gitattributes", .file, String(repeating: "a", count: 2047) + "\n"),
    ShapeCase(".gitattributes", .file, "*.png binary\n"), ShapeCase(".gitmodulesx", .symlink),
    ShapeCase("gitmod~5", .symlink), ShapeCase(".git~1"), ShapeCase("git~2"), ShapeCase("x.git"), ShapeCase(".gitx"),
    ShapeCase(".github", .folder), ShapeCase("-rf"), ShapeCase("a b"), ShapeCase("日本語"),
    ShapeCase(raw: [0x66, 0xff, 0xfe, 0x0a], content: [1, 2, 3]),
  ]

  @Test(arguments: flagged)
  func everyShapeGitFlagsIsRefusedAndNoTreeIsWritten(shape: ShapeCase) async throws {
    #expect(try await shape.flaggedByGit(), "stock git accepts this shape, so Airlock need not refuse it")
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = scratch.url("build")
    try shape.write(into: folder)
    #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent("index.html").path, contents: nil))
    let checked = try #require(throws: LedgerError.self) { try Ledger.checkArtifact(directory: folder) }
    #expect(checked.code == .invalidArtifact)
    let error = try #require(throws: LedgerError.self) { try ledger.storeArtifact(directory: folder) }
    #expect(error.code == .invalidArtifact)
    #expect(error.exitCode == 2)
    #expect(error.description == checked.description)
    #expect(error.description.contains("fsck --strict"))
    #expect(error.description.contains(folder.path))
    let fsck = try await scratch.git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0 && !fsck.stderr.contains("warning"), "\(fsck.stderr)")
  }

  @Test(arguments: accepted)
  func nearMissesGitAcceptsAreStoredAndExportedFaithfully(shape: ShapeCase) async throws {
    #expect(try await !shape.flaggedByGit(), "stock git flags this shape, so Airlock must refuse it")
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = scratch.url("build")
    try shape.write(into: folder)
    try Ledger.checkArtifact(directory: folder)
    let tree = try ledger.storeArtifact(directory: folder)
    let fsck = try await scratch.git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0 && !fsck.stderr.contains("warning"), "\(fsck.stderr)")
    let export = scratch.url("export")
    try ledger.exportTree(tree, to: export)
    #expect(try ArtifactSnapshot(export) == ArtifactSnapshot(folder))
    #expect(try ledger.storeArtifact(directory: export) == tree)
  }

  @Test func refusalsNameThePathAndTheFsckCheck() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let folder = try scratch.folder("build", files: ["lib/vendor/.gitmodules": "[submodule \"x\"]\n\turl = -x\n"])
    let error = try #require(throws: LedgerError.self) { try ledger.storeArtifact(directory: folder) }
    #expect(error.description.contains("lib/vendor/.gitmodules"))
    #expect(error.description.contains("gitmodulesUrl"))
    #expect(error.description.contains("\"-x\""))
  }

  @Test func aNameThatIsNotUTF8IsStoredAsItsBytesAndShownEscaped() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let name: [UInt8] = [0x72, 0xe9, 0x73, 0x75, 0x6d, 0xe9]  // "résumé" in Latin-1
    try ShapeCase(raw: name, content: Array("cv\n".utf8)).write(into: scratch.url("build"))
    let tree = try ledger.storeArtifact(directory: scratch.url("build"))
    let names = try await scratch.git("-c", "core.quotePath=true", "ls-tree", "--name-only", tree.hex)
    #expect(names.trimmed == #""r\351sum\351""#)
    #expect(escaped(name) == #"r\xe9sum\xe9"#)
    try ledger.exportTree(tree, to: scratch.url("export"))
    #expect(try RawFiles.read(Array(scratch.url("export").path.utf8) + [0x2f] + name) == Array("cv\n".utf8))
  }
}

/// Everything a release round trip must keep, read by raw names: per path, the kind, the exec bit, and the
/// content or symlink target. Empty folders are left out (git cannot hold them).
struct ArtifactSnapshot: Equatable, CustomStringConvertible {
  enum Entry: Equatable {
    case file(executable: Bool, content: [UInt8])
    case symlink(target: [UInt8])
  }

  var entries: [[UInt8]: Entry] = [:]

  /// Reads `root`, skipping a top-level `.airlock` folder as the ledger does.
  init(_ root: URL) throws {
    try read(Array(root.path.utf8), relative: [])
  }

  private mutating func read(_ folder: [UInt8], relative: [UInt8]) throws {
    let stream = try #require(opendir(RawFiles.path(folder)))
    defer { closedir(stream) }
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name == [0x2e] || name == [0x2e, 0x2e] || (relative.isEmpty && name == Array(".airlock".utf8)) { continue }
      let full = folder + [0x2f] + name
      let fullPath = RawFiles.path(full)
      var info = stat()
      #expect(lstat(fullPath, &info) == 0)
      switch info.st_mode & S_IFMT {
      case S_IFDIR: try read(full, relative: relative + name + [0x2f])
      case S_IFLNK:
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(fullPath, &buffer, buffer.count)
        entries[relative + name] = .symlink(target: buffer.prefix(max(count, 0)).map { UInt8(bitPattern: $0) })
      default:
        entries[relative + name] = .file(executable: info.st_mode & S_IXUSR != 0, content: try RawFiles.read(full))
      }
    }
  }

  var description: String {
    entries.keys.map { escaped($0) }.sorted().joined(separator: ", ")
  }
}
