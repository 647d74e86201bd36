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
  let race = DeadlineRace<T>()
  return await withTaskCancellationHandler {
    await withCheckedContinuation { continuation in
      race.begin(continuation)
      let work = Task { race.finish(await operation()) }
      let timer = Task {
        do {
          try await Task.sleep(for: limit)
          race.finish(nil)
        } catch {
          // Cancelled because the operation finished first.
        }
      }
      race.track(work, timer)
    }
  } onCancel: {
    race.finish(nil)
  }
}

/// The shared state of `withDeadline`: whoever finishes first resumes the caller and cancels the rest.
private final class DeadlineRace<T: Sendable>: Sendable {
  private struct State {
    var continuation: CheckedContinuation<T?, Never>?
    var tasks: [Task<Void, Never>] = []
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

  func track(_ tasks: Task<Void, Never>...) {
    let finished = state.withLock { state in
      state.tasks = tasks
      return state.finished
    }
    if finished { tasks.forEach { $0.cancel() } }
  }

  func finish(_ value: T?) {
    let winner: (CheckedContinuation<T?, Never>?, [Task<Void, Never>])? = state.withLock { state in
      guard !state.finished else { return nil }
      state.finished = true
      defer { state.continuation = nil }
      return (state.continuation, state.tasks)
    }
    guard let (continuation, tasks) = winner else { return }
    tasks.forEach { $0.cancel() }
    continuation?.resume(returning: value)
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
