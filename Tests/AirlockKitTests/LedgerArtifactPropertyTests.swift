import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// A generated artifact tree, and whether it uses a shape git may refuse (only those may be refused).
struct GeneratedArtifact {
  indirect enum Node {
    case file(executable: Bool, content: [UInt8])
    case symlink(target: [UInt8])
    case folder([[UInt8]: Node])
  }

  var root: [[UInt8]: Node] = [:]
  /// True when some entry has a name git treats specially; a tree without one must always be accepted.
  var risky = false

  private var random: SeededRandom

  static let ordinaryNames: [[UInt8]] =
    [
      "index.html", "a b", "-rf", "--help", "ünïcødé", "日本語.txt", "emoji-😀", "x.git", "git~2", ".git~1", ".hidden",
      ".airlock", "name with\nnewline", "tab\tname", #"back\slash"#, "CON", "ends-with-dot.", " leading-space", "%41",
      "*", "?", ".gitmodulesx", "gitmod~5", ".github", "e\u{301}", "\u{200C}visible",
    ].map { Array($0.utf8) } + [[0xff, 0xfe, 0x41], [0x72, 0xe9, 0x73, 0x75, 0x6d, 0xe9], [0xc3, 0x28]]

  static let riskyNames: [[UInt8]] = [
    ".gitmodules", ".GITMODULES", "gitmod~1", ".gitattributes", ".gitignore", ".mailmap", ".git", "GIT~1",
    "\u{200C}.git", ".git.", #"a\.git"#, "~1234567", ".gitmodules ",
  ].map { Array($0.utf8) }

  /// `.gitmodules` texts, some that fsck accepts and some it flags.
  static let gitmodulesTexts: [[UInt8]] = [
    "[submodule \"lib\"]\n\tpath = lib\n\turl = https://example.com/lib.git\n", "",
    "[submodule \"x\"]\n\turl = ../lib.git\n", "[submodule \"../x\"]\n\tpath = x\n",
    "[submodule \"x\"]\n\turl = -oops\n", "[submodule \"x\"]\n\turl = https:///x\n", "[broken\n",
    "[submodule \"x\"]\n\tupdate = !sh\n", String(repeating: "a", count: 2100),
  ].map { Array($0.utf8) }

  static let linkTargets: [[UInt8]] =
    ["index.html", "../up", "/etc/does-not-exist", "dangling/nowhere", ".", "..", ".git/config", "a b/c"].map {
      Array($0.utf8)
    } + [[0xff, 0x2f, 0x61], Array(repeating: UInt8(ascii: "t"), count: 300)]

  init(seed: UInt64) {
    random = SeededRandom(seed: seed)
    root = folder(depth: 0)
    if chance(0.2) {
      root[Array(".airlock".utf8)] = .folder([Array("config.env".utf8): .file(executable: false, content: [0x41])])
    }
  }

  private mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }

  private mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

  private mutating func name() -> [UInt8] {
    if chance(0.03) {
      risky = true
      return pick(Self.riskyNames)
    }
    switch Int.random(in: 0..<10, using: &random) {
    case 0: return Array(repeating: UInt8(ascii: "l"), count: Int.random(in: 100...255, using: &random))
    case 1...4: return pick(Self.ordinaryNames)
    default:
      let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
      let name = (0..<Int.random(in: 1...12, using: &random)).map { _ in pick(letters) }
      // `.` and `..` cannot be file names.
      return name.allSatisfy { $0 == UInt8(ascii: ".") } ? name + [UInt8(ascii: "x")] : name
    }
  }

  private mutating func content() -> [UInt8] {
    if chance(0.1) { return pick(Self.gitmodulesTexts) }
    return (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
  }

  private mutating func folder(depth: Int) -> [[UInt8]: Node] {
    var entries: [[UInt8]: Node] = [:]
    for _ in 0..<Int.random(in: 0...(depth == 0 ? 7 : 4), using: &random) {
      let name = name()
      let kind = Int.random(in: 0..<10, using: &random)
      switch kind {
      case 0...4: entries[name] = .file(executable: chance(0.3), content: content())
      case 5, 6: entries[name] = .symlink(target: pick(Self.linkTargets))
      default: entries[name] = depth < 6 ? .folder(folder(depth: depth + 1)) : .folder([:])
      }
    }
    return entries
  }

  /// Writes the tree under `path` (raw bytes; the folder must not exist).
  func write(to path: [UInt8]) throws {
    try Self.write(root, to: path)
  }

  private static func write(_ entries: [[UInt8]: Node], to path: [UInt8]) throws {
    try #require(mkdir(RawFiles.path(path), 0o755) == 0, "mkdir \(escaped(path)): errno \(errno)")
    for (name, node) in entries {
      let full = path + [0x2f] + name
      switch node {
      case .file(let executable, let content):
        try RawFiles.write(full, content)
        try #require(chmod(RawFiles.path(full), executable ? 0o755 : 0o644) == 0)
      case .symlink(let target): try #require(symlink(RawFiles.path(target), RawFiles.path(full)) == 0)
      case .folder(let children): try write(children, to: full)
      }
    }
  }

  /// What a round trip must give back: every file and symlink by path; empty folders and the top-level
  /// `.airlock` leave no trace.
  var expected: [[UInt8]: ArtifactSnapshot.Entry] {
    var result: [[UInt8]: ArtifactSnapshot.Entry] = [:]
    func collect(_ entries: [[UInt8]: Node], prefix: [UInt8]) {
      for (name, node) in entries where !(prefix.isEmpty && name == Array(".airlock".utf8)) {
        switch node {
        case .file(let executable, let content): result[prefix + name] = .file(executable: executable, content: content)
        case .symlink(let target): result[prefix + name] = .symlink(target: target)
        case .folder(let children): collect(children, prefix: prefix + name + [0x2f])
        }
      }
    }
    collect(root, prefix: [])
    return result
  }
}

/// Whatever artifact is accepted round-trips byte for byte and leaves the ledger `git fsck --strict` clean;
/// whatever is refused changes no ref, and only trees using a name git treats specially are ever refused.
@Suite struct LedgerArtifactPropertyTests {
  @Test(arguments: 0..<200)
  func acceptedTreesRoundTripAndRefusedOnesChangeNothing(seed: Int) async throws {
    let generated = GeneratedArtifact(seed: UInt64(seed))
    let scratch = try ScratchProject()
    let store = try scratch.openLedger()
    let source = scratch.url("build")
    try generated.write(to: Array(source.path.utf8))
    let ledger = PipelineLedger(ledger: store, pipeline: "web")
    _ = try ledger.storeRelease(
      directory: try scratch.folder("first", files: ["a": "a\n"]), version: "first", actor: ada, time: eventTime)
    let refs = try await scratch.git("for-each-ref", "--format=%(refname) %(objectname)").stdout

    let release: Release
    do {
      release = try ledger.storeRelease(directory: source, version: nil, actor: ada, time: eventTime)
    } catch let error as LedgerError where error.code == .invalidArtifact {
      #expect(generated.risky, "seed \(seed): an ordinary tree was refused: \(error)")
      #expect(throws: LedgerError.self, "seed \(seed)") { try Ledger.checkArtifact(directory: source) }
      #expect(try await scratch.git("for-each-ref", "--format=%(refname) %(objectname)").stdout == refs, "seed \(seed)")
      try await expectFsckClean(scratch, seed: seed)
      return
    }
    try Ledger.checkArtifact(directory: source)
    try await expectFsckClean(scratch, seed: seed)
    let export = scratch.url("export")
    try store.exportTree(release.id, to: export)
    let exported = try ArtifactSnapshot(export)
    #expect(exported.entries == generated.expected, "seed \(seed): \(exported) differs from what was generated")
    #expect(try ArtifactSnapshot(source) == exported, "seed \(seed)")
    #expect(try store.storeArtifact(directory: export) == release.id, "seed \(seed)")
  }

  func expectFsckClean(_ scratch: ScratchProject, seed: Int) async throws {
    let fsck = try await scratch.git("fsck", "--strict", "--no-dangling")
    let complaints = fsck.stderr.split(separator: "\n").filter { !$0.hasPrefix("notice:") }
    #expect(fsck.code == 0 && complaints.isEmpty, "seed \(seed): \(fsck.stderr)")
  }

  @Test func theGeneratorIsReproducibleAndCoversBothOutcomes() {
    #expect(GeneratedArtifact(seed: 7).expected == GeneratedArtifact(seed: 7).expected)
    let risky = (0..<200).filter { GeneratedArtifact(seed: UInt64($0)).risky }.count
    #expect(risky > 20 && risky < 180, "\(risky) of 200 trees use special names")
  }
}
