import AirlockKit
import Foundation
import Synchronization

/// A test clock: `sleep` advances virtual time at once instead of waiting, and every pause is recorded.
public final class ManualClock: AirlockClock {
  private struct State {
    var now: Date
    var sleeps: [Duration] = []
  }

  private let state: Mutex<State>

  /// A clock standing at `now` (by default a fixed, round instant, so timestamps in assertions are stable).
  public init(now: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
    state = Mutex(State(now: now))
  }

  /// The virtual time.
  public func now() -> Date {
    state.withLock { $0.now }
  }

  /// Advances virtual time by `duration` and returns; throws only when the calling task is cancelled.
  public func sleep(for duration: Duration) async throws {
    try Task.checkCancellation()
    state.withLock { state in
      state.sleeps.append(duration)
      state.now += duration.timeInterval
    }
  }

  /// Moves the clock forward without recording a sleep.
  public func advance(by duration: Duration) {
    state.withLock { $0.now += duration.timeInterval }
  }

  /// Every duration passed to `sleep`, in order.
  public var sleeps: [Duration] {
    state.withLock { $0.sleeps }
  }
}

extension Duration {
  /// The duration in seconds, as Foundation measures time.
  public var timeInterval: TimeInterval {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
