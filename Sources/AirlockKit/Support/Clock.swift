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
  public init() {}

  public func now() -> Date { Date() }

  public func sleep(for duration: Duration) async throws {
    try await Task.sleep(for: duration)
  }
}
