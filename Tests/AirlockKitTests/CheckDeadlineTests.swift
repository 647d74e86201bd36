import Foundation
import Testing

@testable import AirlockKit

@Suite struct CheckDeadlineTests {
  @Test func returnsTheValueWhenInTime() async {
    #expect(await withDeadline(.seconds(10)) { 42 } == 42)
  }

  @Test func abandonsWorkThatIgnoresCancellation() async {
    // The thread sleeps through cancellation; the deadline must not wait for it.
    let result = await withDeadline(.milliseconds(20)) {
      await onDedicatedThread(named: "test.sleeper") {
        usleep(500_000)
        return 42
      }
    }
    #expect(result == nil)
  }

  @Test func givesUpWhenTheCallerIsCancelled() async {
    let task = Task {
      await withDeadline(.seconds(60)) {
        await onDedicatedThread(named: "test.sleeper") {
          usleep(300_000)
          return 42
        }
      }
    }
    task.cancel()
    #expect(await task.value == nil)
  }
}
