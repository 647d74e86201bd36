import AirlockTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

extension ScratchProject {
  /// `git count-objects -v` as a dictionary, e.g. `["count": 0, "packs": 1, …]`.
  func objectCounts() async throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in try await git("count-objects", "-v").stdout.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if parts.count == 2, let value = Int(parts[1]) { counts[parts[0]] = value }
    }
    return counts
  }

  /// Whether the object is still in the ledger, asked of stock git.
  func has(_ id: ObjectID) async throws -> Bool {
    try await git("cat-file", "-e", id.hex).code == 0
  }

  /// Whether every one of `ids` is still in the ledger.
  func hasAll(_ ids: [ObjectID]) async throws -> Bool {
    for id in ids where try await !has(id) { return false }
    return true
  }

  /// Whether any of `ids` is still in the ledger.
  func hasAny(_ ids: [ObjectID]) async throws -> Bool {
    for id in ids where try await has(id) { return true }
    return false
  }

  func expectClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let fsck = try await git("fsck", "--strict", "--no-dangling")
    #expect(fsck.code == 0, "\(fsck.stdout)\(fsck.stderr)", sourceLocation: sourceLocation)
    #expect(
      !fsck.stderr.contains("error") && !fsck.stderr.contains("warning"), "\(fsck.stderr)",
      sourceLocation: sourceLocation)
  }

  /// Sets the modification time of the loose files of `ids` (and of every pack) back by `age`.
  func age(_ ids: [ObjectID], packs: Bool = false, by age: TimeInterval) throws {
    let past = Date().addingTimeInterval(-age)
    var files = ids.map { ledgerURL.appendingPathComponent("objects/\($0.hex.prefix(2))/\($0.hex.dropFirst(2))") }
    if packs {
      let folder = ledgerURL.appendingPathComponent("objects/pack")
      files += try FileManager.default.contentsOfDirectory(atPath: folder.path).map {
        folder.appendingPathComponent($0)
      }
    }
    for file in files {
      try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: file.path)
    }
  }
}

/// A commit no ref points at, and its tree and blob: what a released lease or a lost race leaves behind.
private func danglingCommit(_ ledger: Ledger, _ text: String) throws -> [ObjectID] {
  let blob = try ledger.writeBlob(Data(text.utf8))
  let tree = try ledger.writeTree(files: ["lease.json": Data(text.utf8)], subtrees: [:])
  let commit = try ledger.writeCommit(tree: tree, parents: [], message: text, author: ada, time: eventTime)
  return [commit, tree, blob]
}

@Suite struct LedgerMaintenanceTests {
  @Test func packingTwoThousandEventsShrinksTheLedgerAndKeepsEveryEvent() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    // Lean events (two files and the artifact), so that 2,000 of them are quick to write even on a slow disk.
    let artifact = try ledger.writeTree(files: ["index.html": Data("hello".utf8)], subtrees: [:])
    var head: ObjectID?
    for index in 0..<2000 {
      head = try ledger.appendEvent(
        branch: "web/staging", expectedHead: head,
        files: ["release.json": Data(#"{"sequence":\#(index)}"#.utf8), "config.env": Data("RUN=\(index % 7)\n".utf8)],
        subtrees: ["artifact": artifact], message: "verify web 1.0 staging #\(index): ok", author: ada, time: eventTime)
    }
    #expect(try await scratch.objectCounts()["count", default: 0] > 6000)
    let sizes = try ledger.pack()
    #expect(sizes.after * 10 < sizes.before, "\(sizes)")
    #expect(ledger.diskUsage() == sizes.after)
    let counts = try await scratch.objectCounts()
    #expect(counts["count"] == 0)
    #expect(counts["packs"] == 1)
    // Emptied loose-object folders are replaced by fresh ones instead of keeping the blocks they grew to.
    let objects = scratch.ledgerURL.appendingPathComponent("objects")
    for folder in try FileManager.default.contentsOfDirectory(atPath: objects.path) where folder.count == 2 {
      var info = stat()
      #expect(lstat(objects.appendingPathComponent(folder).path, &info) == 0 && info.st_blocks * 512 <= 4096)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: objects.path).allSatisfy { !$0.hasPrefix("tmp-") })
    try await scratch.expectClean()
    #expect(try await scratch.git("rev-list", "--count", "web/staging").trimmed == "2000")
    let history = try ledger.history(branch: "web/staging", limit: nil)
    #expect(history.count == 2000)
    #expect(history.first?.message == "verify web 1.0 staging #1999: ok")
    #expect(try ledger.readFile("config.env", inCommit: history[1000].id) == Data("RUN=\(999 % 7)\n".utf8))

    let next = try ledger.appendTestEvent(branch: "web/staging", message: "deploy web 1.1 staging: ok")
    #expect(
      try Ledger.open(at: scratch.ledgerURL, create: false).history(branch: "web/staging", limit: 1).first?.id == next)
    try await scratch.expectClean()
  }

  @Test func packingAgainLeavesOnePackAndPacksTheRefs() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    for index in 0..<50 { try ledger.appendTestEvent(branch: "web/staging", message: "first \(index)") }
    try ledger.pack()
    for index in 0..<50 { try ledger.appendTestEvent(branch: "web/production", message: "second \(index)") }
    try ledger.pack()
    let counts = try await scratch.objectCounts()
    #expect(counts["count"] == 0)
    #expect(counts["packs"] == 1)
    let packedRefs = try String(contentsOf: scratch.ledgerURL.appendingPathComponent("packed-refs"), encoding: .utf8)
    #expect(packedRefs.contains("refs/heads/web/staging") && packedRefs.contains("refs/heads/web/production"))
    #expect(
      !FileManager.default.fileExists(atPath: scratch.ledgerURL.appendingPathComponent("refs/heads/web/staging").path))
    // Nothing loose and one pack: nothing to rewrite.
    let sizes = try ledger.pack()
    #expect(sizes.after == sizes.before)
    #expect(try ledger.history(branch: "web/production", limit: nil).count == 50)
    try await scratch.expectClean()
  }

  @Test func unreachableObjectsStayWhileYoungAndGoWhenOld() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    try ledger.appendTestEvent(branch: "web/staging", message: "deploy")
    let young = try danglingCommit(ledger, #"{"holder":"young"}"#)
    let old = try danglingCommit(ledger, #"{"holder":"old"}"#)
    try scratch.age(old, by: 2 * 3600)

    try ledger.pack(pruningUnreachableOlderThan: nil)
    #expect(try await scratch.hasAll(young + old))

    let fresh = try danglingCommit(ledger, #"{"holder":"fresh"}"#)
    let stale = try danglingCommit(ledger, #"{"holder":"stale"}"#)
    try scratch.age(stale, by: 2 * 3600)
    try ledger.pack()
    #expect(try await scratch.hasAll(fresh))
    #expect(try await !scratch.hasAny(stale))
    // young and old were packed together a moment ago: the pack is young, so they stay.
    #expect(try await scratch.hasAll(young + old))
    #expect(try await scratch.objectCounts()["count"] == 0)
    try await scratch.expectClean()
  }

  @Test func anOldPackGoesWithItsUnreachableObjectsButNotWithReachableOnes() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let event = try ledger.appendTestEvent(branch: "web/staging", message: "deploy")
    let lease = try danglingCommit(ledger, #"{"holder":"released"}"#)
    let name = "refs/airlock/leases/web/staging"
    try ledger.updateReference(name, to: lease[0], expected: nil, logMessage: "lease")
    try ledger.pack()
    // Releasing the lease deletes the ref and its reflog; its commit now sits unreachable in the pack.
    try ledger.deleteReference(name, expected: lease[0])
    let later = try ledger.appendTestEvent(branch: "web/staging", message: "verify")
    // Aged after the append: reusing the packed artifact tree refreshed the pack's time, which keeps it all.
    try scratch.age([], packs: true, by: 2 * 3600)

    try ledger.pack()
    #expect(try await !scratch.hasAny(lease))
    #expect(try await scratch.hasAll([event, later]))
    #expect(try ledger.history(branch: "web/staging", limit: nil).map(\.id) == [later, event])
    #expect(try await scratch.objectCounts()["packs"] == 1)
    try await scratch.expectClean()
  }

  @Test func anOldPackAWriterJustReusedIsKeptWhole() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    try ledger.appendTestEvent(branch: "web/staging", message: "deploy")
    let released = try danglingCommit(ledger, #"{"holder":"released"}"#)
    try ledger.pack(pruningUnreachableOlderThan: nil)
    try scratch.age([], packs: true, by: 2 * 3600)
    // Writing an object the pack already holds refreshes the pack's time (libgit2 does what git does), because the
    // writer is about to reference it; so the pack counts as young and nothing in it is dropped.
    _ = try ledger.writeBlob(Data(#"{"holder":"released"}"#.utf8))
    try ledger.appendTestEvent(branch: "web/staging", message: "verify")
    try ledger.pack()
    #expect(try await scratch.hasAll(released))
    try await scratch.expectClean()
  }

  @Test func whatAReflogRemembersIsKept() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let name = "refs/heads/web/staging"
    let replaced = try danglingCommit(ledger, "an event a forced fetch replaced")
    try ledger.updateReference(name, to: replaced[0], expected: nil, logMessage: "first")
    let other = try danglingCommit(ledger, "the remote's event")
    try ledger.updateReference(name, to: other[0], expected: replaced[0], logMessage: "fetch")
    try scratch.age(replaced, by: 2 * 3600)
    try ledger.pack()
    #expect(try await scratch.hasAll(replaced))
    try await scratch.expectClean()
  }

  @Test func packingWhileAnotherRunAppendsLosesNothing() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    for index in 0..<200 { try ledger.appendTestEvent(branch: "web/staging", message: "before \(index)") }
    let appended = Mutex(0)
    let retries = Mutex(0)
    let failure = Mutex<String?>(nil)
    let done = DispatchSemaphore(value: 0)
    let url = scratch.ledgerURL
    Thread {
      defer { done.signal() }
      do {
        let writer = try Ledger.open(at: url, create: false)
        for index in 0..<300 {
          // Packing refs holds each ref's lock for an instant; an update that meets it fails like a lost race
          // (nothing recorded), and the runner tries again, as a person re-running the command would.
          while true {
            do {
              try writer.appendTestEvent(branch: "web/staging", message: "during \(index)")
              break
            } catch let error as LedgerError where error.code == .concurrentUpdate {
              retries.withLock { $0 += 1 }
            }
          }
          appended.withLock { $0 += 1 }
        }
      } catch {
        failure.withLock { $0 = "\(error)" }
      }
    }.start()
    var packs = 0
    while appended.withLock({ $0 }) < 300 && failure.withLock({ $0 }) == nil {
      try Ledger.open(at: url, create: false).pack()
      packs += 1
    }
    done.wait()
    #expect(failure.withLock { $0 } == nil)
    #expect(packs >= 1)
    let history = try ledger.history(branch: "web/staging", limit: nil)
    #expect(history.count == 500)
    #expect(history.first?.message == "during 299")
    try await scratch.expectClean()
    try ledger.pack()
    #expect(try await scratch.objectCounts()["count"] == 0)
    try await scratch.expectClean()
  }

  @Test func refsStayLooseWhileAnotherProcessHoldsPackedRefsLock() async throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    try ledger.appendTestEvent(branch: "web/staging", message: "deploy")
    let lock = scratch.ledgerURL.appendingPathComponent("packed-refs.lock")
    try Data().write(to: lock)
    try ledger.pack()
    #expect(try await scratch.objectCounts()["count"] == 0)
    #expect(
      FileManager.default.fileExists(atPath: scratch.ledgerURL.appendingPathComponent("refs/heads/web/staging").path))
    try FileManager.default.removeItem(at: lock)
    try ledger.pack()
    #expect(
      !FileManager.default.fileExists(atPath: scratch.ledgerURL.appendingPathComponent("refs/heads/web/staging").path))
    try await scratch.expectClean()
  }

  @Test func diskUsageCountsEveryFileOfTheLedger() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let empty = ledger.diskUsage()
    #expect(empty > 0)
    _ = try ledger.writeBlob(Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }))
    #expect(ledger.diskUsage() > empty + 1 << 19)
  }
}
