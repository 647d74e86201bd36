import AirlockTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

@Suite struct LedgerReferenceTests {
  /// Two commits to move refs between.
  func twoCommits(_ ledger: Ledger) throws -> (ObjectID, ObjectID) {
    let tree = try ledger.writeTree(files: [:], subtrees: [:])
    let one = try ledger.writeCommit(tree: tree, parents: [], message: "one", author: ada, time: eventTime)
    let two = try ledger.writeCommit(tree: tree, parents: [one], message: "two", author: ada, time: eventTime)
    return (one, two)
  }

  @Test func createsMovesAndReadsReferences() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let name = "refs/heads/web/production"
    #expect(try ledger.reference(name) == nil)
    try ledger.updateReference(name, to: one, expected: nil, logMessage: "deploy one")
    #expect(try ledger.reference(name) == one)
    try ledger.updateReference(name, to: two, expected: one, logMessage: "deploy two")
    #expect(try ledger.reference(name) == two)
    #expect(try await scratch.git("rev-parse", "web/production").trimmed == two.hex)
  }

  @Test func staleExpectationIsAConcurrentUpdateAndLeavesTheRef() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let name = "refs/heads/web/production"
    try ledger.updateReference(name, to: two, expected: nil, logMessage: "two")
    let error = try #require(throws: LedgerError.self) {
      try ledger.updateReference(name, to: one, expected: one, logMessage: "stale")
    }
    #expect(error.code == .concurrentUpdate)
    #expect(error.description.contains(name) && error.description.contains(two.short))
    #expect(try ledger.reference(name) == two)
  }

  @Test func creatingAnExistingRefIsAConcurrentUpdate() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let name = "refs/tags/web/1.4.2"
    try ledger.updateReference(name, to: one, expected: nil, logMessage: "bind 1.4.2")
    let error = try #require(throws: LedgerError.self) {
      try ledger.updateReference(name, to: two, expected: nil, logMessage: "bind 1.4.2 again")
    }
    #expect(error.code == .concurrentUpdate)
    #expect(try ledger.reference(name) == one)
  }

  @Test func movingAVanishedRefIsAConcurrentUpdate() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let error = try #require(throws: LedgerError.self) {
      try ledger.updateReference("refs/heads/web/staging", to: two, expected: one, logMessage: "x")
    }
    #expect(error.code == .concurrentUpdate)
    #expect(try ledger.reference("refs/heads/web/staging") == nil)
  }

  @Test func aLockedRefIsAConcurrentUpdate() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let name = "refs/heads/web/staging"
    try ledger.updateReference(name, to: one, expected: nil, logMessage: "one")
    let lock = scratch.ledgerURL.appendingPathComponent("refs/heads/web/staging.lock")
    try Data().write(to: lock)
    let error = try #require(throws: LedgerError.self) {
      try ledger.updateReference(name, to: two, expected: one, logMessage: "two")
    }
    #expect(error.code == .concurrentUpdate)
    #expect(try ledger.reference(name) == one)
    try FileManager.default.removeItem(at: lock)
    try ledger.updateReference(name, to: two, expected: one, logMessage: "two")
    #expect(try ledger.reference(name) == two)
  }

  @Test func aBranchNamedLikeAFolderIsAnErrorButNotARace() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, _) = try twoCommits(ledger)
    try ledger.updateReference("refs/heads/web", to: one, expected: nil, logMessage: "x")
    let error = try #require(throws: LedgerError.self) {
      try ledger.updateReference("refs/heads/web/production", to: one, expected: nil, logMessage: "x")
    }
    #expect(error.code != .concurrentUpdate)
    #expect(error.description.contains("refs/heads/web/production"))
  }

  @Test func invalidRefNamesAndMissingTargetsAreRefused() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, _) = try twoCommits(ledger)
    #expect(throws: LedgerError.self) {
      try ledger.updateReference("refs/heads/bad..name", to: one, expected: nil, logMessage: "x")
    }
    #expect(throws: LedgerError.self) { try ledger.reference("refs/heads/bad..name") }
    let missing = try #require(ObjectID(hex: String(repeating: "12", count: 20)))
    #expect(throws: LedgerError.self) {
      try ledger.updateReference("refs/heads/web/staging", to: missing, expected: nil, logMessage: "x")
    }
    #expect(try ledger.reference("refs/heads/web/staging") == nil)
  }

  @Test func deleteIsCompareAndSwap() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    let lease = "refs/airlock/leases/web/production"
    try ledger.updateReference(lease, to: two, expected: nil, logMessage: "lease")

    let stale = try #require(throws: LedgerError.self) { try ledger.deleteReference(lease, expected: one) }
    #expect(stale.code == .concurrentUpdate)
    #expect(try ledger.reference(lease) == two)

    try ledger.deleteReference(lease, expected: two)
    #expect(try ledger.reference(lease) == nil)
    #expect(try await scratch.git("show-ref").trimmed.isEmpty)

    let absent = try #require(throws: LedgerError.self) { try ledger.deleteReference(lease, expected: two) }
    #expect(absent.code == .notFound)
  }

  @Test func listsReferencesUnderAPrefixSortedByName() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let (one, two) = try twoCommits(ledger)
    for (name, target) in [
      ("refs/tags/web/1.10", two), ("refs/tags/web/1.2", one), ("refs/tags/webshop/1.0", one),
      ("refs/tags/api/1.0", two), ("refs/heads/web/staging", one),
    ] {
      try ledger.updateReference(name, to: target, expected: nil, logMessage: "x")
    }
    let tags = try ledger.references(withPrefix: "refs/tags/web/")
    #expect(tags.map(\.name) == ["refs/tags/web/1.10", "refs/tags/web/1.2"])
    #expect(tags.map(\.target) == [two, one])
    #expect(try ledger.references(withPrefix: "refs/tags/").count == 4)
    #expect(try ledger.references(withPrefix: "refs/airlock/").isEmpty)

    // Refs packed by stock git are listed the same way.
    #expect(try await scratch.git("pack-refs", "--all").code == 0)
    #expect(try ledger.references(withPrefix: "refs/tags/web/").map(\.name) == tags.map(\.name))
    try ledger.updateReference("refs/tags/web/1.2", to: two, expected: one, logMessage: "packed CAS")
    #expect(try ledger.reference("refs/tags/web/1.2") == two)
  }

  @Test func staleLockFilesAreListedByAge() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    try ledger.appendTestEvent(branch: "web/staging", message: "one")
    let now = Date()
    let old = now.addingTimeInterval(-3600)
    let files = [
      ("refs/heads/web/staging.lock", old), ("packed-refs.lock", old), ("refs/heads/web/production.lock", now),
    ]
    for (file, modified) in files {
      let url = scratch.ledgerURL.appendingPathComponent(file)
      try Data().write(to: url)
      try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
    }
    let stale = ledger.staleLockFiles(olderThan: 600, now: now).map(\.lastPathComponent)
    #expect(stale.sorted() == ["packed-refs.lock", "staging.lock"])
    #expect(ledger.staleLockFiles(olderThan: 7200, now: now).isEmpty)
  }
}

@Suite struct LedgerRaceTests {
  /// Outcomes of one round, filled in by racing threads.
  final class Outcomes: Sendable {
    let winners = Mutex<[ObjectID]>([])
    let losers = Mutex<[LedgerError.Code]>([])
    let unexpected = Mutex<[String]>([])
  }

  /// Each racer opens its own Ledger (as separate processes would) and they all append on `head` at once.
  func race(at url: URL, branch: String = "web/production", head: ObjectID?, round: Int, racers: Int) -> Outcomes {
    let outcomes = Outcomes()
    let start = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for racer in 0..<racers {
      finished.enter()
      Thread {
        defer { finished.leave() }
        do {
          let ledger = try Ledger.open(at: url, create: true)
          start.wait()
          let commit = try ledger.appendEvent(
            branch: branch, expectedHead: head,
            files: ["release.json": Data(#"{"round":\#(round),"racer":\#(racer)}"#.utf8)], subtrees: [:],
            message: "round \(round) racer \(racer)", author: ada, time: eventTime)
          outcomes.winners.withLock { $0.append(commit) }
        } catch let error as LedgerError {
          outcomes.losers.withLock { $0.append(error.code) }
        } catch {
          outcomes.unexpected.withLock { $0.append("\(error)") }
        }
      }.start()
    }
    for _ in 0..<racers { start.signal() }
    finished.wait()
    return outcomes
  }

  @Test func exactlyOneOfEightConcurrentAppendsWinsEachRound() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let racers = 8
    var head: ObjectID? = nil
    var winners: [ObjectID] = []
    for round in 1...6 {
      let outcomes = race(at: scratch.ledgerURL, head: head, round: round, racers: racers)
      let won = outcomes.winners.withLock { $0 }
      #expect(outcomes.unexpected.withLock { $0 }.isEmpty)
      #expect(won.count == 1, "round \(round)")
      #expect(outcomes.losers.withLock { $0 } == Array(repeating: .concurrentUpdate, count: racers - 1))
      let branchHead = try ledger.reference("refs/heads/web/production")
      #expect(branchHead == won.first)
      head = branchHead
      winners.append(contentsOf: won)
    }
    let history = try ledger.history(branch: "web/production", limit: nil)
    #expect(history.map(\.id) == winners.reversed())
    #expect(zip(history, history.dropFirst()).allSatisfy { $0.parents == [$1.id] })
    let fsck = try await scratch.git("fsck", "--strict")
    #expect(fsck.code == 0)
    #expect(try await scratch.git("rev-list", "--count", "web/production").trimmed == "6")
  }

  /// libgit2's force=0 create checks "does not exist" before taking the ref lock, so two creators can both win;
  /// this ran 300 rounds with 10 double winners before `updateReference` compared against the zero id instead.
  @Test func creatingABranchConcurrentlyHasExactlyOneWinnerEveryTime() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    for round in 0..<40 {
      let branch = "web/env\(round)"
      let outcomes = race(at: scratch.ledgerURL, branch: branch, head: nil, round: round, racers: 8)
      #expect(outcomes.winners.withLock { $0.count } == 1, "round \(round)")
      #expect(try ledger.reference("refs/heads/" + branch) == outcomes.winners.withLock { $0.first })
    }
  }
}
