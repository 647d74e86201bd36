import Foundation

/// The record of one probe attempt: which host, which attempt, what happened and why.
///
/// Probes are what the ledger's `checks.json` keeps, so a reader can see why a verdict was reached.
public struct Probe: Sendable, Codable, Hashable {
  /// What one probe found.
  public enum Outcome: String, Sendable, Codable {
    /// The probe succeeded.
    case ok
    /// The thing checked is unhealthy: wrong status, refused, timed out, non-zero exit, stale heartbeat.
    case failed
    /// The check itself could not be performed (invalid URL, command not found, permission denied);
    /// it says nothing about the release.
    case error
  }

  /// The host probed (`localhost` for local targets).
  public var host: String
  /// Which attempt on this host, from 1.
  public var attempt: Int
  /// What the probe found.
  public var outcome: Outcome
  /// A short reason such as `ok`, `status 503`, `timeout`, `refused`, `exit 3`, `stale by 95s`, `missing`,
  /// `not found: foo`.
  public var reason: String
  /// When the probe started, on the context's clock.
  public var startedAt: Date
  /// How long the probe took in real time, in milliseconds.
  public var milliseconds: Int
  /// What a failing probe saw, when there was something to see: the last lines of a command's output (stdout and
  /// stderr), or the first bytes of an HTTP response body; secret values masked. `nil` for a passing probe.
  public var evidence: String?

  /// Creates the record of one probe.
  public init(
    host: String, attempt: Int, outcome: Outcome, reason: String, startedAt: Date, milliseconds: Int,
    evidence: String? = nil
  ) {
    self.host = host
    self.attempt = attempt
    self.outcome = outcome
    self.reason = reason
    self.startedAt = startedAt
    self.milliseconds = milliseconds
    self.evidence = evidence
  }
}

/// The judgement of a check, on one host or on an environment.
public enum Verdict: String, Sendable, Codable {
  /// The release is healthy as far as this check can tell.
  case pass
  /// The release (or, for a dependency check, the dependency) is unhealthy.
  case fail
  /// The check could not judge, because it could not be performed; it says nothing about the release and must
  /// not trigger a rollback.
  case inconclusive
}

/// The verdict of one check on one host, with every probe that led to it.
public struct HostResult: Sendable, Codable, Hashable {
  /// The host judged.
  public var host: String
  /// The retry-quorum verdict for this host.
  public var verdict: Verdict
  /// The probes made, in order; probing stops as soon as the verdict is certain.
  public var probes: [Probe]

  /// Creates a host result.
  public init(host: String, verdict: Verdict, probes: [Probe]) {
    self.host = host
    self.verdict = verdict
    self.probes = probes
  }
}

/// The verdict of one check across all hosts of an environment.
public struct CheckResult: Sendable, Codable, Hashable {
  /// The check's name in the pipeline.
  public var name: String
  /// The check's kind (`http`, `tcp`, `command`, `heartbeat`, or a library user's own).
  public var kind: String
  /// Whether the check watches a dependency: its failure blocks promotion but never triggers a rollback.
  public var dependency: Bool
  /// The verdict across hosts.
  public var verdict: Verdict
  /// Per-host verdicts and probes, in the order of the context's hosts.
  public var hosts: [HostResult]
  /// One human line, e.g. `health: fail on 1 of 3 hosts (web2: refused, refused, refused, refused)`.
  public var summary: String

  /// Creates a check result; a `nil` summary is written from the other fields.
  public init(
    name: String, kind: String, dependency: Bool, verdict: Verdict, hosts: [HostResult], summary: String? = nil
  ) {
    self.name = name
    self.kind = kind
    self.dependency = dependency
    self.verdict = verdict
    self.hosts = hosts
    self.summary = summary ?? CheckResult.summary(name: name, verdict: verdict, hosts: hosts)
  }

  /// What a check that did not pass saw, as lines to show under its summary: per failing host (five at most), the
  /// last five lines of the evidence of its last probe that has some, as `    | LINE` (`    | HOST LINE` for a
  /// fleet). Empty for a pass.
  public var evidenceLines: [String] {
    guard verdict != .pass else { return [] }
    return hosts.filter { $0.verdict != .pass }.prefix(5).flatMap { host -> [String] in
      guard let seen = host.probes.last(where: { $0.evidence != nil })?.evidence else { return [] }
      let label = hosts.count > 1 ? "\(host.host) " : ""
      return seen.split(separator: "\n", omittingEmptySubsequences: false).suffix(5).map { "    | \(label)\($0)" }
    }
  }

  /// The standard one-line summary: the verdict, how many hosts share it, and the probe reasons of the hosts that
  /// did not pass (at most five hosts are listed).
  public static func summary(name: String, verdict: Verdict, hosts: [HostResult], needed: Int? = nil) -> String {
    guard !hosts.isEmpty else { return "\(name): \(verdict.rawValue) (no hosts to check)" }
    let matching = hosts.filter { $0.verdict == verdict }.count
    var line = "\(name): \(verdict.rawValue) on \(matching) of \(hosts.count) \(hosts.count == 1 ? "host" : "hosts")"
    if let needed, needed != hosts.count { line += ", \(needed) must pass" }
    let others = hosts.filter { $0.verdict != .pass }
    guard !others.isEmpty else { return line }
    let listed = others.prefix(5).map { host in
      let reasons = host.probes.isEmpty ? host.verdict.rawValue : host.probes.map(\.reason).joined(separator: ", ")
      return "\(host.host): \(reasons)"
    }
    let more = others.count > 5 ? "; and \(others.count - 5) more" : ""
    return line + " (" + listed.joined(separator: "; ") + more + ")"
  }
}

/// What a check runs against: the environment, its hosts, the release, and the injected clock.
public struct CheckContext: Sendable {
  /// The pipeline name.
  public var pipeline: String
  /// The environment being checked.
  public var environment: String
  /// The hosts to probe; `["localhost"]` for local targets.
  public var hosts: [String]
  /// The release label, substituted for `{version}`.
  public var version: String
  /// The artifact's tree id (hex), substituted for `{release}`.
  public var release: String
  /// The working directory of command checks, and the base of relative heartbeat paths.
  public var releaseDirectory: URL?
  /// The complete environment of command checks: plain config, and secrets only if the caller puts them there.
  public var processEnvironment: [String: String]
  /// The clock for timestamps and for the pauses between probes.
  public var clock: any AirlockClock
  /// The environment's resolved plain config, for kinds that inspect configuration.
  public var config: [String: String]
  /// Where programs of command checks run: `nil` for this machine; a fleet's runner for its hosts, where
  /// `releaseDirectory` is the release folder on each host.
  public var hostRunner: (any HostRunner)?
  /// Masks secret values in what a probe saw before it is shown or recorded (`[secret NAME]`).
  public var redact: @Sendable (String) -> String = { $0 }
  /// Called after every probe of the shared retry-quorum loop (`ProbingCheck`), with the check's name, the probe and
  /// the most attempts the host may get, so progress can show each probe as it completes; `nil` reports nothing.
  /// Called from the task probing that host: hosts are probed at the same time.
  public var onProbe: (@Sendable (_ check: String, _ probe: Probe, _ attempts: Int) -> Void)?

  /// Creates a context.
  ///
  /// `processEnvironment` defaults to `CheckContext.baseEnvironment()`: a few variables a program needs to run
  /// (`PATH`, `HOME`, locale), never this process's whole environment, which may hold secrets.
  public init(
    pipeline: String, environment: String, hosts: [String] = ["localhost"], version: String, release: String,
    releaseDirectory: URL? = nil, processEnvironment: [String: String] = CheckContext.baseEnvironment(),
    clock: any AirlockClock = SystemClock(), config: [String: String] = [:]
  ) {
    self.pipeline = pipeline
    self.environment = environment
    self.hosts = hosts
    self.version = version
    self.release = release
    self.releaseDirectory = releaseDirectory
    self.processEnvironment = processEnvironment
    self.clock = clock
    self.config = config
  }

  /// The variables of this process that a child program needs to behave normally and that carry no secrets.
  public static func baseEnvironment() -> [String: String] {
    let inherited = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SHELL"]
    let current = ProcessInfo.processInfo.environment
    var environment: [String: String] = [:]
    for key in inherited { environment[key] = current[key] }
    return environment
  }

  /// `text` with `{host}`, `{version}` and `{release}` replaced for `host`.
  public func substitute(_ text: String, host: String) -> String {
    substitute(text, hostText: host)
  }

  /// `text` with placeholders replaced, writing an IPv6 literal host as `[ADDR]` so it fits in a URL or
  /// `HOST:PORT`.
  func substituteAddress(_ text: String, host: String) -> String {
    let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    return substitute(text, hostText: bracketed)
  }

  private func substitute(_ text: String, hostText: String) -> String {
    guard text.contains("{") else { return text }
    return
      text
      .replacingOccurrences(of: "{host}", with: hostText)
      .replacingOccurrences(of: "{version}", with: version)
      .replacingOccurrences(of: "{release}", with: release)
  }
}

/// A pluggable check: anything that can judge a release in an environment.
///
/// Library users add a kind by conforming to this protocol, or to `ProbingCheck` to get the retry quorum and the
/// host share for free. `evaluate` must not throw and must not hang: a check that cannot be performed reports
/// `inconclusive`.
public protocol Check: Sendable {
  /// The check's name in the pipeline.
  var name: String { get }
  /// Whether a failure blocks promotion without ever triggering a rollback.
  var isDependency: Bool { get }
  /// Judges the release described by `context`.
  func evaluate(in context: CheckContext) async -> CheckResult
}

/// A check made of repeated probes, judged by the retry quorum on each host and by the host share across hosts.
///
/// A conforming type only implements `probe`; `evaluate` comes from the extension. See docs/pipeline.md, Retry quorum.
public protocol ProbingCheck: Check {
  /// The kind recorded in results (`http`, `tcp`, …).
  var kind: String { get }
  /// Attempts, passes needed, interval, per-probe timeout and host share.
  var policy: ProbePolicy { get }
  /// Makes one probe against `host`, bounded by `policy.timeout`, and says what it found and why.
  ///
  /// Return `.error` only when the check itself cannot be performed; that ends probing on the host with an
  /// `inconclusive` verdict. The probe must honour the timeout itself; as a backstop, `evaluate` abandons a probe
  /// still running `ProbingCheckBackstop.slack` after it and records it as failed with reason `timeout`.
  func probe(host: String, attempt: Int, in context: CheckContext) async -> (Probe.Outcome, String)
  /// Makes one probe like `probe`, and also says what a failing probe saw (`ProbeFinding.evidence`). The default
  /// calls `probe` and has no evidence; a kind with output worth showing implements this instead.
  func examine(host: String, attempt: Int, in context: CheckContext) async -> ProbeFinding
}

/// What one probe found: its outcome, a short reason, and what it saw, recorded as the probe's `evidence` (secret
/// values masked) when it did not pass.
public struct ProbeFinding: Sendable, Hashable {
  /// What the probe found.
  public var outcome: Probe.Outcome
  /// A short reason such as `status 503` or `exit 2`.
  public var reason: String
  /// The last lines of a command's output, the first bytes of a response body; `nil` when there was nothing.
  public var evidence: String?

  /// A finding.
  public init(_ outcome: Probe.Outcome, _ reason: String, evidence: String? = nil) {
    self.outcome = outcome
    self.reason = reason
    self.evidence = evidence
  }

  /// At most `lines` last lines and `characters` last characters of `output`, trimmed; `nil` when that is empty.
  public static func tail(of output: String, lines: Int = 10, characters: Int = 1000) -> String? {
    let kept = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
      .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    let text = kept.count > characters ? "…" + kept.suffix(characters) : kept
    return text.isEmpty ? nil : String(text)
  }
}

/// The margin `ProbingCheck.evaluate` grants a probe beyond `policy.timeout` before it abandons the probe.
///
/// Generous on purpose: a command check's own timeout includes the kill grace of its process group, and a probe that
/// reports its own timeout gives a more precise reason.
public enum ProbingCheckBackstop {
  /// The margin beyond `policy.timeout`.
  public static let slack: Duration = .seconds(5)
}

extension ProbingCheck {
  /// `probe`'s outcome and reason, without evidence.
  public func examine(host: String, attempt: Int, in context: CheckContext) async -> ProbeFinding {
    let (outcome, reason) = await probe(host: host, attempt: attempt, in: context)
    return ProbeFinding(outcome, reason)
  }

  /// Probes every host (up to 32 at a time) under the retry quorum, then applies the host share.
  public func evaluate(in context: CheckContext) async -> CheckResult {
    let hosts = context.hosts
    var results = [HostResult?](repeating: nil, count: hosts.count)
    if hosts.count == 1 {
      results[0] = await evaluate(host: hosts[0], in: context)
    } else {
      await withTaskGroup(of: (Int, HostResult).self) { group in
        var next = 0
        func startNext() {
          guard next < hosts.count else { return }
          let index = next
          next += 1
          group.addTask { (index, await self.evaluate(host: hosts[index], in: context)) }
        }
        for _ in 0..<min(32, hosts.count) { startNext() }
        for await (index, result) in group {
          results[index] = result
          startNext()
        }
      }
    }
    let hostResults = results.compactMap { $0 }
    let verdict = Quorum.acrossHosts(hostResults.map(\.verdict), required: policy.hosts)
    return CheckResult(
      name: name, kind: kind, dependency: isDependency, verdict: verdict, hosts: hostResults,
      summary: CheckResult.summary(
        name: name, verdict: verdict, hosts: hostResults, needed: policy.hosts.of(hostResults.count)))
  }

  /// Probes one host until the retry quorum reaches a verdict, sleeping `policy.interval` on the context's clock
  /// between probes (not after the last).
  ///
  /// Cancellation stops probing at once, in an interval or in a probe (which is abandoned); a host without a
  /// verdict then counts as `inconclusive`.
  public func evaluate(host: String, in context: CheckContext) async -> HostResult {
    let quorum = Quorum(policy)
    let limit = policy.timeout.duration + ProbingCheckBackstop.slack
    var probes: [Probe] = []
    var outcomes: [Probe.Outcome] = []
    for attempt in 1...quorum.attempts {
      if attempt > 1 {
        do { try await context.clock.pause(for: policy.interval.duration) } catch { break }
      }
      if Task.isCancelled { break }
      let startedAt = context.clock.now()
      let began = ContinuousClock.now
      let found = await withDeadline(limit) { await self.examine(host: host, attempt: attempt, in: context) }
      let finding = found ?? ProbeFinding(.failed, "timeout")
      let outcome = finding.outcome
      let elapsed = ContinuousClock.now - began
      probes.append(
        Probe(
          host: host, attempt: attempt, outcome: outcome, reason: finding.reason, startedAt: startedAt,
          milliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
          evidence: outcome == .ok ? nil : finding.evidence.map(context.redact)))
      outcomes.append(outcome)
      context.onProbe?(name, probes[probes.count - 1], quorum.attempts)
      if let verdict = quorum.decide(after: outcomes) {
        return HostResult(host: host, verdict: verdict, probes: probes)
      }
    }
    return HostResult(host: host, verdict: .inconclusive, probes: probes)
  }
}
