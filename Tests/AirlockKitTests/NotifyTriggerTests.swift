import Foundation
import Testing

@testable import AirlockKit

/// Which `on:` kinds an event is of, as a table over every event and outcome that matters.
@Suite struct NotifyTriggerTests {
  static func record(_ event: EventKind, _ outcome: EventOutcome, automatic: Bool = false) -> EventRecord {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    return EventRecord(
      pipeline: "web", environment: "production", event: event, outcome: outcome, release: nil, current: nil,
      previous: nil, sourceEnvironment: nil, automatic: automatic, cause: nil, actor: "alice", startedAt: now,
      finishedAt: now, detail: "why")
  }

  @Test(arguments: [
    (EventKind.deploy, EventOutcome.ok, [NotifyTrigger.deploy]),
    (.promote, .ok, [.promote]),
    (.deploy, .failed, [.failure]),
    (.promote, .failed, [.failure]),
    (.promote, .inconclusive, [.failure]),
    (.deploy, .blocked, [.blocked]),
    (.promote, .blocked, [.blocked]),
    (.rollback, .ok, [.rollback]),
    (.rollback, .suspect, [.rollback, .failure]),
    (.rollback, .failed, [.rollback, .failure]),
    (.rollback, .unchanged, []),
    (.verify, .ok, []),
    (.verify, .failed, [.failure]),
    (.deploy, .aborted, [.failure]),
    (.recover, .interrupted, [.failure]),
    (.lock, .ok, [.lock]),
    (.unlock, .ok, [.lock]),
    (.approve, .ok, []),
    (.deploy, .unchanged, []),
  ])
  func kindsOfAnEvent(_ event: EventKind, _ outcome: EventOutcome, _ kinds: [NotifyTrigger]) {
    #expect(NotifyTrigger.matching(Self.record(event, outcome)) == kinds)
  }

  @Test func anAutomaticRollbackIsARollback() {
    #expect(NotifyTrigger.matching(Self.record(.rollback, .ok, automatic: true)) == [.rollback])
  }
}
