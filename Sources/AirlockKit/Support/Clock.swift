import Foundation

/// The source of time for everything that waits or timestamps: probes, quorum intervals, watch windows, leases.
///
/// Injected so tests drive quorum and watch logic with a manual clock instead of sleeping.
public protocol AirlockClock: Sendable {
  /// The current wall-clock time.
  func now() -> Date
  /// Suspends for `duration`, or returns at once on a test clock that advances instead.
  func sleep(for duration: Duration) async throws
}

/// The real clock: `Date()` and `Task.sleep`.
public struct SystemClock: AirlockClock {
  /// The system clock.
  public init() {}

  /// The current wall-clock time.
  public func now() -> Date { Date() }

  /// Sleeps for `duration`; throws `CancellationError` when the task is cancelled.
  public func sleep(for duration: Duration) async throws {
    try await Task.sleep(for: duration)
  }
}

extension AirlockClock {
  /// Sleeps `duration` on this clock, but throws `CancellationError` as soon as the calling task is cancelled, even
  /// when this clock's `sleep` does not notice cancellation: a signal must never wait out a quorum interval or a
  /// watch round. Every pause of the check and watch paths goes through here.
  func pause(for duration: Duration) async throws {
    try Task.checkCancellation()
    let slept = await untilCancelled { () -> Bool in
      do {
        try await self.sleep(for: duration)
        return true
      } catch {
        return false
      }
    }
    guard slept == true else { throw CancellationError() }
    try Task.checkCancellation()
  }
}
