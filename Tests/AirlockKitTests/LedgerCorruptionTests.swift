import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// A loose object cut short (what a power cut leaves) or otherwise damaged makes every read of it throw `.corrupt`
/// naming the object, its file and what to do, instead of spinning in libgit2's inflate loop.
@Suite struct LedgerCorruptionTests {
  /// Which object of an event commit the test damages.
  enum Damaged: String, CaseIterable, Sendable {
    case commit, tree, blob
  }

  /// A ledger with one event whose config.env is large and incompressible enough to outlast every truncation.
  struct Event {
    let scratch: ScratchProject
    let ledger: Ledger
    let commit: ObjectID

    init() throws {
      scratch = try ScratchProject()
      ledger = try scratch.openLedger()
      let config = (0..<12).map { "KEY_\($0)=\(UUID().uuidString)\n" }.joined()
      commit = try ledger.appendTestEvent(branch: "web/staging", message: "event", config: config)
    }

    func id(of damaged: Damaged) throws -> ObjectID {
      switch damaged {
      case .commit: return commit
      case .tree: return try ledger.commit(commit).tree
      case .blob: return try #require(try ledger.entry("config.env", inCommit: commit))
      }
    }

    func file(of id: ObjectID) -> URL {
      scratch.ledgerURL.appendingPathComponent("objects/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))")
    }

    /// Reads what a command reads: the commit, then config.env through its tree, on a ledger opened afresh.
    func readThroughAFreshLedger() throws {
      let ledger = try Ledger.open(at: scratch.ledgerURL, create: false)
      _ = try ledger.commit(commit)
      _ = try ledger.readFile("config.env", inCommit: commit)
    }
  }

  static let cases: [(Damaged, Int)] = Damaged.allCases.flatMap { damaged in [20, 37, 64, 100].map { (damaged, $0) } }

  @Test(arguments: cases)
  func aTruncatedLooseObjectIsCorruptAndNamed(damaged: Damaged, length: Int) throws {
    let event = try Event()
    let id = try event.id(of: damaged)
    let file = event.file(of: id)
    let original = try Data(contentsOf: file)
    try #require(original.count > length, "the \(damaged) object is only \(original.count) bytes")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
    try original.prefix(length).write(to: file)

    let error = try #require(throws: LedgerError.self) { try event.readThroughAFreshLedger() }
    #expect(error.code == .corrupt)
    #expect(error.message.contains("loose object \(id.hex)"), "\(error)")
    #expect(error.message.contains(file.path), "\(error)")
    #expect(error.message.contains("cut short"), "\(error)")
    #expect(error.message.contains("fsck --strict") && error.message.contains("restore"), "\(error)")
  }

  @Test(arguments: Damaged.allCases)
  func aFlippedByteOrTrailingGarbageIsCorruptToo(damaged: Damaged) throws {
    let event = try Event()
    let id = try event.id(of: damaged)
    let file = event.file(of: id)
    let original = try Data(contentsOf: file)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
    for damage in [
      { (data: Data) -> Data in
        var data = data
        data[data.count / 2] ^= 0x55
        return data
      },
      { (data: Data) -> Data in data + Data("garbage".utf8) },
    ] {
      try damage(original).write(to: file)
      let error = try #require(throws: LedgerError.self) { try event.readThroughAFreshLedger() }
      #expect(error.code == .corrupt, "\(error)")
      #expect(error.message.contains(id.hex), "\(error)")
    }
  }

  @Test func anIntactLedgerReadsTheSameWithTheGuard() async throws {
    let event = try Event()
    try event.readThroughAFreshLedger()
    let config = try #require(try event.ledger.readFile("config.env", inCommit: event.commit))
    let blob = try event.id(of: .blob)
    #expect(try await event.scratch.git("cat-file", "blob", blob.hex).stdout == String(decoding: config, as: UTF8.self))
  }
}
