import Foundation
import Synchronization

/// Runs `operation`, giving up after `limit` of real time; returns `nil` when the limit (or cancellation of the
/// caller) came first.
///
/// Unlike a task group, this does not wait for an operation that ignores cancellation: the operation is cancelled
/// and abandoned, so a hung probe cannot hang a deployment. The limit is measured on the continuous clock, never on
/// the injected `AirlockClock`, because it bounds real I/O.
func withDeadline<T: Sendable>(
  _ limit: Duration, _ operation: @escaping @Sendable () async -> T
) async -> T? {
  await abandoning(after: limit, operation)
}

/// Runs `operation` and returns its value, or `nil` as soon as the caller is cancelled, without waiting for an
/// operation that ignores cancellation (it is cancelled and abandoned).
func untilCancelled<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T? {
  await abandoning(after: nil, operation)
}

private func abandoning<T: Sendable>(
  after limit: Duration?, _ operation: @escaping @Sendable () async -> T
) async -> T? {
  let race = DeadlineRace<T>()
  return await withTaskCancellationHandler {
    await withCheckedContinuation { continuation in
      race.begin(continuation)
      let work = Task { race.finish(await operation()) }
      race.track(work)
      if let limit { DeadlineTimer.shared.schedule(after: limit) { race.finish(nil) } }
    }
  } onCancel: {
    race.finish(nil)
  }
}

/// The shared state of `withDeadline`: whoever finishes first resumes the caller; the loser's call is a no-op.
private final class DeadlineRace<T: Sendable>: Sendable {
  private struct State {
    var continuation: CheckedContinuation<T?, Never>?
    var work: Task<Void, Never>?
    var finished = false
  }

  private let state = Mutex(State())

  func begin(_ continuation: CheckedContinuation<T?, Never>) {
    let finishedEarly = state.withLock { state in
      if state.finished { return true }
      state.continuation = continuation
      return false
    }
    // Cancellation can win before the continuation exists.
    if finishedEarly { continuation.resume(returning: nil) }
  }

  func track(_ work: Task<Void, Never>) {
    let finished = state.withLock { state in
      if !state.finished { state.work = work }
      return state.finished
    }
    if finished { work.cancel() }
  }

  func finish(_ value: T?) {
    let winner: (CheckedContinuation<T?, Never>?, Task<Void, Never>?)? = state.withLock { state in
      guard !state.finished else { return nil }
      state.finished = true
      defer {
        state.continuation = nil
        state.work = nil
      }
      return (state.continuation, state.work)
    }
    guard let (continuation, work) = winner else { return }
    work?.cancel()
    continuation?.resume(returning: value)
  }
}

/// Fires deadlines from one shared thread.
///
/// A sleeping task per deadline costs several times the work of a quick probe, and a verification makes many probes;
/// a heap and one thread cost almost nothing. A deadline that is no longer needed simply fires as a no-op.
private final class DeadlineTimer: Sendable {
  static let shared = DeadlineTimer()

  private struct Entry {
    var due: ContinuousClock.Instant
    var fire: @Sendable () -> Void
  }

  /// A binary min-heap on `due`.
  private struct Heap {
    var entries: [Entry] = []

    mutating func push(_ entry: Entry) {
      entries.append(entry)
      var child = entries.count - 1
      while child > 0 {
        let parent = (child - 1) / 2
        guard entries[child].due < entries[parent].due else { break }
        entries.swapAt(child, parent)
        child = parent
      }
    }

    mutating func popFirst() -> Entry? {
      guard !entries.isEmpty else { return nil }
      entries.swapAt(0, entries.count - 1)
      let first = entries.removeLast()
      var parent = 0
      while true {
        let left = 2 * parent + 1
        let right = left + 1
        var smallest = parent
        if left < entries.count && entries[left].due < entries[smallest].due { smallest = left }
        if right < entries.count && entries[right].due < entries[smallest].due { smallest = right }
        guard smallest != parent else { break }
        entries.swapAt(parent, smallest)
        parent = smallest
      }
      return first
    }
  }

  private let heap = Mutex(Heap())
  private let wakeUp = DispatchSemaphore(value: 0)

  private init() {
    let thread = Thread { [self] in run() }
    thread.name = "airlock.deadlines"
    thread.start()
  }

  func schedule(after limit: Duration, _ fire: @escaping @Sendable () -> Void) {
    let due = ContinuousClock.now + limit
    let isEarliest = heap.withLock { heap in
      heap.push(Entry(due: due, fire: fire))
      return heap.entries[0].due == due
    }
    if isEarliest { wakeUp.signal() }
  }

  private func run() {
    while true {
      let now = ContinuousClock.now
      let (expired, next) = heap.withLock { heap in
        var expired: [@Sendable () -> Void] = []
        while let first = heap.entries.first, first.due <= now, let entry = heap.popFirst() {
          expired.append(entry.fire)
        }
        return (expired, heap.entries.first?.due)
      }
      for fire in expired { fire() }
      if let next {
        let wait = next - now
        _ = wakeUp.wait(timeout: .now() + Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
      } else {
        wakeUp.wait()
      }
    }
  }
}

/// Runs blocking work (a `connect`, a `getaddrinfo`) on a dedicated thread, so it never occupies a thread of
/// Swift's cooperative pool.
func onDedicatedThread<T: Sendable>(named name: String, _ work: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    let thread = Thread { continuation.resume(returning: work()) }
    thread.name = name
    thread.start()
  }
}
