import Foundation

/// An environment's resolved configuration as the config checks see it.
///
/// Secret values are held in memory only so `match`/`forbid` can test them; every message names a secret's key,
/// never its value, and comparisons between environments use fingerprints.
public struct ResolvedConfig: Sendable, Hashable {
  /// The environment's name.
  public var environment: String
  /// Plain config values.
  public var values: [String: String]
  /// `sha256:` fingerprints of the secrets, by name.
  public var secretFingerprints: [String: String]
  /// Secret values by name; never printed or recorded.
  var secretValues: [String: String]

  /// The config of `environment`; `secretValues` stay in memory only.
  public init(
    environment: String, values: [String: String], secretFingerprints: [String: String],
    secretValues: [String: String] = [:]
  ) {
    self.environment = environment
    self.values = values
    self.secretFingerprints = secretFingerprints
    self.secretValues = secretValues
  }

  /// Every key, plain and secret.
  public var keys: Set<String> { Set(values.keys).union(secretFingerprints.keys) }

  /// The value to test a rule against: the plain value, or the secret's value held in memory.
  func testable(_ key: String) -> String? { values[key] ?? secretValues[key] }

  /// What may be shown of `key`'s value: the value itself, or `[secret]`.
  func shown(_ key: String) -> String {
    if let value = values[key] { return "'\(value)'" }
    return "[secret]"
  }

  /// The value used to compare `key` across environments: plain values as they are, secrets by fingerprint.
  func comparable(_ key: String) -> String? { values[key] ?? secretFingerprints[key] }
}

/// The `config` preflight check: every rule must hold for the environment's resolved config.
///
/// Catches the "production pointed at a temporary database" class of outage before anything changes.
public struct ConfigRulesCheck: Check {
  /// The check's name in the pipeline.
  public let name: String
  /// Config checks are never dependencies: a failure is this environment's fault.
  public let isDependency = false
  /// The rules, each judged on its own.
  public let rules: [ConfigRule]
  /// The environment being checked.
  public let subject: ResolvedConfig
  /// Other environments' configs, for `differs_from`.
  public let others: [String: ResolvedConfig]

  /// A check of `subject` against `rules`, with `others` for `differs_from`.
  public init(name: String, rules: [ConfigRule], subject: ResolvedConfig, others: [String: ResolvedConfig]) {
    self.name = name
    self.rules = rules
    self.subject = subject
    self.others = others
  }

  /// Passes when every rule holds; a failure names the key, never a secret's value.
  public func evaluate(in context: CheckContext) async -> CheckResult {
    let started = context.clock.now()
    var probes: [Probe] = []
    func record(_ outcome: Probe.Outcome, _ reason: String) {
      probes.append(
        Probe(
          host: "config", attempt: probes.count + 1, outcome: outcome, reason: reason, startedAt: started,
          milliseconds: 0))
    }
    for rule in rules {
      for (outcome, reason) in evaluate(rule) { record(outcome, reason) }
    }
    return ConfigRulesCheck.result(name: name, kind: "config", probes: probes, subject: subject.environment)
  }

  /// The outcome and reason of each part of one rule.
  func evaluate(_ rule: ConfigRule) -> [(Probe.Outcome, String)] {
    let env = subject.environment
    guard let key = rule.key else {
      guard let forbid = rule.forbid else { return [] }
      guard let pattern = try? NSRegularExpression(pattern: forbid) else {
        return [(.error, "invalid pattern \(forbid)")]
      }
      let offending = subject.keys.sorted().filter { key in subject.testable(key).map { matches(pattern, $0) } ?? false
      }
      if offending.isEmpty { return [(.ok, "no value matches forbidden \(forbid)")] }
      return offending.map { (.failed, "\($0): \(subject.shown($0)) matches forbidden pattern \(forbid) in \(env)") }
    }
    var outcomes: [(Probe.Outcome, String)] = []
    guard let value = subject.testable(key) else {
      return rule.required ? [(.failed, "\(key): required but missing in \(env)")] : [(.ok, "\(key): not set")]
    }
    if rule.required {
      outcomes.append(value.isEmpty ? (.failed, "\(key): required but empty in \(env)") : (.ok, "\(key): present"))
    }
    if let match = rule.match {
      if let pattern = try? NSRegularExpression(pattern: match) {
        outcomes.append(
          matches(pattern, value)
            ? (.ok, "\(key): matches \(match)")
            : (.failed, "\(key): \(subject.shown(key)) does not match \(match) in \(env)"))
      } else {
        outcomes.append((.error, "\(key): invalid pattern \(match)"))
      }
    }
    if let forbid = rule.forbid {
      if let pattern = try? NSRegularExpression(pattern: forbid) {
        outcomes.append(
          matches(pattern, value)
            ? (.failed, "\(key): \(subject.shown(key)) matches forbidden pattern \(forbid) in \(env)")
            : (.ok, "\(key): does not match \(forbid)"))
      } else {
        outcomes.append((.error, "\(key): invalid pattern \(forbid)"))
      }
    }
    if let other = rule.differsFrom {
      if let theirs = others[other], let their = theirs.comparable(key) {
        outcomes.append(
          their == subject.comparable(key)
            ? (.failed, "\(key): \(env) has the same value as \(other) (\(subject.shown(key))); it must differ")
            : (.ok, "\(key): differs from \(other)"))
      } else {
        outcomes.append((.ok, "\(key): \(other) does not set it"))
      }
    }
    if let allowed = rule.oneOf {
      outcomes.append(
        allowed.contains(value)
          ? (.ok, "\(key): one of \(allowed.joined(separator: ", "))")
          : (.failed, "\(key): \(subject.shown(key)) is not one of \(allowed.joined(separator: ", ")) in \(env)"))
    }
    return outcomes
  }

  func matches(_ pattern: NSRegularExpression, _ value: String) -> Bool {
    pattern.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
  }

  /// A one-host result: fail on any failed probe, inconclusive on any error, else pass.
  static func result(name: String, kind: String, probes: [Probe], subject: String) -> CheckResult {
    let verdict: Verdict =
      probes.contains { $0.outcome == .error }
      ? .inconclusive : probes.contains { $0.outcome == .failed } ? .fail : .pass
    let failures = probes.filter { $0.outcome != .ok }.map(\.reason)
    let summary =
      verdict == .pass
      ? "\(name): pass (\(probes.count) rule\(probes.count == 1 ? "" : "s") hold in \(subject))"
      : "\(name): \(verdict.rawValue) (\(failures.joined(separator: "; ")))"
    return CheckResult(
      name: name, kind: kind, dependency: false, verdict: verdict,
      hosts: [HostResult(host: "config", verdict: verdict, probes: probes)], summary: summary)
  }
}

/// The `drift` preflight check: the environment's config keys must be the same set as another environment's,
/// except the keys in `allow`. Values may differ.
public struct DriftCheck: Check {
  /// The check's name in the pipeline.
  public let name: String
  /// Drift is never a dependency: a failure is this environment's fault.
  public let isDependency = false
  /// The environment being changed.
  public let subject: ResolvedConfig
  /// The environment whose keys it must share.
  public let reference: ResolvedConfig
  /// Keys allowed on one side only.
  public let allow: Set<String>

  /// A check that `subject` has the keys `reference` has, less `allow`.
  public init(name: String, subject: ResolvedConfig, reference: ResolvedConfig, allow: [String]) {
    self.name = name
    self.subject = subject
    self.reference = reference
    self.allow = Set(allow)
  }

  /// Passes when the key sets match (less `allow`); a failure lists the keys on each side only.
  public func evaluate(in context: CheckContext) async -> CheckResult {
    let started = context.clock.now()
    let onlyHere = subject.keys.subtracting(reference.keys).subtracting(allow).sorted()
    let onlyThere = reference.keys.subtracting(subject.keys).subtracting(allow).sorted()
    var reasons: [(Probe.Outcome, String)] =
      onlyHere.map { (.failed, "\($0) only in \(subject.environment), not in \(reference.environment)") }
      + onlyThere.map { (.failed, "\($0) only in \(reference.environment), missing in \(subject.environment)") }
    if reasons.isEmpty {
      reasons = [(.ok, "same \(subject.keys.subtracting(allow).count) keys as \(reference.environment)")]
    }
    let probes = reasons.enumerated().map { index, entry in
      Probe(host: "config", attempt: index + 1, outcome: entry.0, reason: entry.1, startedAt: started, milliseconds: 0)
    }
    return ConfigRulesCheck.result(name: name, kind: "drift", probes: probes, subject: subject.environment)
  }
}
