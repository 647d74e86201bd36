/// The retry quorum's decision rules, free of I/O so they can be tested and benchmarked on their own.
///
/// On one host: probe up to `attempts` times; the verdict is `pass` as soon as `pass` probes succeeded and `fail`
/// as soon as the attempts left can no longer reach `pass`. Across hosts: see `acrossHosts(_:required:)`.
public struct Quorum: Sendable, Hashable {
  /// Probes made at most on one host (at least 1).
  public let attempts: Int
  /// Successful probes that make a host pass (between 1 and `attempts`).
  public let pass: Int

  /// Creates a quorum, clamping `attempts` to at least 1 and `pass` to `1...attempts`.
  ///
  /// The pipeline loader rejects such values; clamping keeps a hand-built policy from judging a host without
  /// probing it (with `pass > attempts` the first decision would already be `fail`).
  public init(attempts: Int, pass: Int) {
    self.attempts = max(attempts, 1)
    self.pass = min(max(pass, 1), self.attempts)
  }

  /// The quorum of a check's probe policy.
  public init(_ policy: ProbePolicy) {
    self.init(attempts: policy.attempts, pass: policy.pass)
  }

  /// The verdict after `successes` good and `failures` failed probes, or `nil` while another probe could change it.
  public func decide(successes: Int, failures: Int) -> Verdict? {
    if successes >= pass { return .pass }
    let remaining = attempts - successes - failures
    if successes + remaining < pass { return .fail }
    return nil
  }

  /// The verdict after these probe outcomes, in order, or `nil` while another probe is needed.
  ///
  /// An `.error` outcome makes the host `inconclusive` at once: it means the check cannot be performed (a missing
  /// binary, an invalid URL), which retrying does not fix, and which says nothing about the release.
  public func decide(after outcomes: some Sequence<Probe.Outcome>) -> Verdict? {
    var successes = 0
    var failures = 0
    for outcome in outcomes {
      switch outcome {
      case .ok: successes += 1
      case .failed: failures += 1
      case .error: return .inconclusive
      }
      if let verdict = decide(successes: successes, failures: failures) { return verdict }
    }
    return nil
  }

  /// The environment's verdict from its hosts' verdicts.
  ///
  /// `pass` when at least `required.of(count)` hosts passed. Otherwise `inconclusive` when the inconclusive hosts,
  /// had they passed, would have made it pass (the check, not the release, is in doubt); else `fail`.
  /// No hosts at all is `inconclusive`: nothing was checked.
  public static func acrossHosts(_ verdicts: [Verdict], required: Share) -> Verdict {
    guard !verdicts.isEmpty else { return .inconclusive }
    let needed = required.of(verdicts.count)
    let passed = verdicts.filter { $0 == .pass }.count
    if passed >= needed { return .pass }
    let inconclusive = verdicts.filter { $0 == .inconclusive }.count
    if inconclusive > 0 && passed + inconclusive >= needed { return .inconclusive }
    return .fail
  }
}
