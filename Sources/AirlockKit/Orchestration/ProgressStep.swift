import Foundation
import Synchronization

/// A step of an operation that can take more than a second (`start`, a hook, a check's probes, a watch round),
/// reported when it begins and when it ends, so progress can show what is still running and for how long.
///
/// The lines that say a step begins and how it went still arrive on `OperationOptions.progress`; a step only frames
/// them.
public struct ProgressStep: Sendable, Hashable, Identifiable {
  /// Whether the step has just begun or just ended.
  public enum Phase: String, Sendable, Hashable {
    /// The step has begun and is running.
    case began
    /// The step has ended; its outcome line, if any, follows on the progress stream.
    case ended
  }

  /// Tells steps of one process apart; the `ended` report carries the id of its `began` report.
  public let id: UInt64
  /// What runs, as a "still running" line names it: `start`, `hook post-deploy`, `health`, `watch round 2`.
  public let title: String
  /// Where the step is.
  public let phase: Phase

  private static let counter = Atomic<UInt64>(0)

  /// A step that begins now, with an id no other step of this process has.
  public init(title: String) {
    id = Self.counter.add(1, ordering: .relaxed).newValue
    self.title = title
    phase = .began
  }

  private init(id: UInt64, title: String, phase: Phase) {
    self.id = id
    self.title = title
    self.phase = phase
  }

  /// The same step, ended.
  public var ended: ProgressStep { ProgressStep(id: id, title: title, phase: .ended) }

  /// An elapsed time as progress lines write it: `0.8s`, `12.3s`.
  public static func elapsed(_ duration: Duration) -> String {
    elapsed(
      milliseconds: Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
  }

  /// An elapsed time in milliseconds (as `Probe.milliseconds` holds it) as progress lines write it: `0.8s`.
  public static func elapsed(milliseconds: Int) -> String {
    String(format: "%.1fs", Double(milliseconds) / 1000)
  }
}
