import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// The ledger layer throws `LedgerError`, never the orchestration's `AirlockError`, with a code that keeps the
/// documented exit code; codes are values a caller compares or matches with a `default:`.
@Suite struct LedgerErrorTests {
  @Test(
    arguments: [
      (LedgerError.Code.invalidArtifact, 2), (.invalidInput, 2), (.concurrentUpdate, 6), (.notFound, 1),
      (.alreadyExists, 1), (.corrupt, 1), (.io, 1), (.remote, 1), (.git, 1),
    ] as [(LedgerError.Code, Int32)])
  func eachCodeExitsWithItsDocumentedCode(code: LedgerError.Code, exitCode: Int32) {
    #expect(LedgerError(code, "x").exitCode == exitCode, "\(code)")
  }

  @Test func codesAreValuesThatNameThemselves() {
    #expect(LedgerError.Code.concurrentUpdate == .concurrentUpdate)
    #expect(LedgerError.Code.concurrentUpdate != .notFound)
    #expect("\(LedgerError.Code.invalidInput)" == "invalidInput")
    // The point of a struct: a caller's switch names what it handles and must have a `default:`.
    let handled: String
    switch LedgerError.Code.corrupt {
    case .concurrentUpdate: handled = "race"
    case .corrupt: handled = "corrupt"
    default: handled = "other"
    }
    #expect(handled == "corrupt")
  }

  @Test func anInvalidLabelIsInvalidInputAndStoresNothing() async throws {
    let scratch = try ScratchProject()
    let ledger = PipelineLedger(ledger: try scratch.openLedger(), pipeline: "web")
    let folder = try scratch.folder("build", files: ["index.html": "hi\n"])
    let error = try #require(throws: LedgerError.self) {
      try ledger.storeRelease(directory: folder, version: "bad..label", actor: ada, time: eventTime)
    }
    #expect(error.code == .invalidInput && error.exitCode == 2)
    #expect(error.message.hasPrefix("invalid version label 'bad..label': "), "\(error)")
    #expect(try await scratch.git("for-each-ref").stdout.isEmpty)
  }

  @Test func aLabelBoundToAnotherArtifactIsInvalidInputAndKeepsItsTag() throws {
    let scratch = try ScratchProject()
    let ledger = PipelineLedger(ledger: try scratch.openLedger(), pipeline: "web")
    let first = try ledger.storeRelease(
      directory: try scratch.folder("one", files: ["a": "1\n"]), version: "1.0", actor: ada, time: eventTime)
    let error = try #require(throws: LedgerError.self) {
      try ledger.storeRelease(
        directory: try scratch.folder("two", files: ["a": "2\n"]), version: "1.0", actor: ada, time: eventTime)
    }
    #expect(error.code == .invalidInput && error.exitCode == 2)
    #expect(error.message.contains("already bound to artifact \(first.id.short)"), "\(error)")
    #expect(try ledger.release(labelled: "1.0") == first)
  }

  @Test func anAppendThatLostTheRaceIsAConcurrentUpdateAndRecordsNothing() throws {
    let scratch = try ScratchProject()
    let ledger = PipelineLedger(ledger: try scratch.openLedger(), pipeline: "web")
    let record = EventRecord(
      pipeline: "web", environment: "staging", event: .deploy, outcome: .ok, release: nil, current: nil,
      previous: nil, actor: ada.name, startedAt: eventTime, finishedAt: eventTime, detail: "")
    let files = PipelineLedger.EventFiles(
      record: record, state: EnvironmentState(), configText: "", checks: [], snapshot: nil, artifact: nil)
    let winner = try ledger.append(files, to: "staging", expected: nil, message: "first", author: ada)
    let error = try #require(throws: LedgerError.self) {
      try ledger.append(files, to: "staging", expected: nil, message: "second", author: ada)
    }
    #expect(error.code == .concurrentUpdate && error.exitCode == 6)
    #expect(error.message.contains("another change to staging was recorded while this one ran"), "\(error)")
    #expect(try ledger.head(of: "staging").commit == winner)
  }

  @Test func aCommitWithoutStateIsCorruptAndSaysWhatToDo() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let commit = try ledger.appendTestEvent(branch: "web/staging", message: "no state")
    let error = try #require(throws: LedgerError.self) {
      try PipelineLedger(ledger: ledger, pipeline: "web").head(of: "staging")
    }
    #expect(error.code == .corrupt && error.exitCode == 1)
    #expect(error.message.contains("ledger commit \(commit.short) on web/staging has no state.json"), "\(error)")
    #expect(error.message.contains("git -C \(scratch.ledgerURL.path) fsck --strict"), "\(error)")
  }
}

/// `AirlockError` and `TargetError` codes are struct values over a private enum, with the documented exit codes.
@Suite struct ErrorCodeTests {
  @Test(
    arguments: [
      (AirlockError.Code.unexpected, 1), (.invalidInput, 2), (.blocked, 3), (.conflict, 6), (.aborted, 130),
    ] as [(AirlockError.Code, Int32)])
  func eachAirlockCodeExitsWithItsDocumentedCode(code: AirlockError.Code, exitCode: Int32) {
    #expect(AirlockError(code, "x").exitCode == exitCode, "\(code)")
  }

  @Test func aLostCompareAndSwapCountsAsAConflict() {
    #expect(AirlockError.isConflict(AirlockError(.conflict, "locked")))
    #expect(AirlockError.isConflict(LedgerError(.concurrentUpdate, "moved")))
    #expect(!AirlockError.isConflict(LedgerError(.corrupt, "bad")))
    #expect(!AirlockError.isConflict(AirlockError(.blocked, "no")))
  }

  @Test func aForeignCurrentIsAnUnmanagedTargetErrorAndAMissingReleaseIsNot() throws {
    let scratch = try ScratchProject()
    let root = scratch.url("target")
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent("current"), withIntermediateDirectories: true)
    let target = LocalTarget(root: root, pipeline: "web")
    let foreign = try #require(throws: TargetError.self) { try target.currentVersion() }
    #expect(foreign.code == .unmanaged, "\(foreign)")
    let missing = try #require(throws: TargetError.self) { try target.activate("9.9") }
    #expect(missing.code == .missingRelease, "\(missing)")
    #expect(missing.message == "release 9.9 is not on \(root.path)")
  }
}
