import Synchronization

/// A value shared between a test and the threads it starts (a `TestHTTPServer` handler, a progress callback).
///
/// A test flips it to script an outage (`LockedValue(false)`, then `.value = true`) or reads what a callback saw.
public final class LockedValue<Value: Sendable>: Sendable {
  private let storage: Mutex<Value>

  /// A box holding `value`.
  public init(_ value: Value) {
    storage = Mutex(value)
  }

  /// The value now; setting it is seen at once by every thread.
  public var value: Value {
    get { storage.withLock { $0 } }
    set { storage.withLock { $0 = newValue } }
  }

  /// Runs `body` with exclusive access to the value and returns its result.
  @discardableResult
  public func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
    storage.withLock { body(&$0) }
  }
}
