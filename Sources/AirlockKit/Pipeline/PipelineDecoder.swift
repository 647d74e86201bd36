import Foundation

/// A value and where the file states it, kept until cross-references have been checked.
struct Located<Value: Sendable>: Sendable {
  var value: Value
  var position: SourcePosition
}

/// An environment as written, with the positions that cross-reference checks report against.
struct EnvironmentDraft {
  var spec: EnvironmentSpec
  var name: Located<String>?
  var requires: Located<String>?
  /// The folder of a `local` target, as written.
  var local: Located<String>?
  var preflight: [Located<String>] = []
  var verify: [Located<String>] = []
  var watch: Located<TimeSpan>?
}

/// A check as written; `kind` is nil when its definition is broken, so uses of it are not reported a second time.
struct CheckDraft {
  var name: Located<String>
  var kind: CheckKind?
  var policy = ProbePolicy()
  var dependency = false
  var drift: Located<String>?
  var differsFrom: [Located<String>] = []
}

/// The whole file as written, before cross-references are checked.
struct PipelineDraft {
  var name: Located<String>?
  var ledger = Pipeline.defaultLedger
  /// Where `ledger:` is written; nil when the default applies.
  var ledgerPosition: SourcePosition?
  var keep = 5
  var hooks = "hooks"
  var environments: [EnvironmentDraft] = []
  var checks: [CheckDraft] = []
}

/// Turns a YAML tree into a `PipelineDraft`, checking keys, types and values and collecting every problem.
///
/// Each broken part is replaced by a harmless placeholder so decoding goes on and reports the rest of the file;
/// a draft is only turned into a `Pipeline` when no diagnostic was reported.
final class PipelineDecoder {
  static let topLevelKeys = ["pipeline", "ledger", "keep", "hooks", "environments", "checks"]
  static let environmentKeys = [
    "name", "requires", "target", "config", "secrets", "start", "preflight", "verify", "watch", "on_failure",
    "approval",
  ]
  static let targetKinds = ["local", "ssh", "command"]
  static let sshKeys = ["hosts", "user", "path", "port", "batch"]
  static let commandTargetKeys = ["deploy", "rollback", "current"]
  static let checkKinds = ["http", "tcp", "command", "heartbeat", "config", "drift"]
  static let probeKeys = ["attempts", "pass", "interval", "timeout", "hosts", "dependency"]
  /// Keys that belong to one kind only.
  static let kindKeys: [String: String] = [
    "expect": "http", "contains": "http", "max_age": "heartbeat", "allow": "drift",
  ]
  static let checkKeys = checkKinds + probeKeys + ["expect", "contains", "max_age", "allow"]
  static let ruleKeys = ["key", "required", "match", "forbid", "differs_from", "one_of"]
  static let placeholders = ["{host}", "{version}", "{release}"]

  let file: String
  private(set) var diagnostics: [Diagnostic] = []

  init(file: String) {
    self.file = file
  }

  /// " (did you mean 'x'?)" while few problems were found; a file with hundreds of mistakes gets no suggestions,
  /// which keeps a hostile file with thousands of dangling names from costing quadratic time.
  func didYouMean(_ word: String, among candidates: some Collection<String>) -> String {
    diagnostics.count < 100 ? PipelineNames.didYouMean(word, among: candidates) : ""
  }

  func report(_ message: String, at position: SourcePosition) {
    diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, message: message))
  }

  // MARK: - Pipeline

  func decode(_ root: YAMLNode) -> PipelineDraft? {
    guard case .mapping = root.content else {
      report(
        "the top level must be a mapping with 'pipeline:' and 'environments:' (and optionally 'checks:', "
          + "'ledger:', 'keep:', 'hooks:'), found \(describe(root))", at: root.position)
      return nil
    }
    guard let top = fields(root, subject: "the top level", allowed: Self.topLevelKeys, context: "at the top level")
    else { return nil }
    var draft = PipelineDraft()
    if let node = top["pipeline"] {
      draft.name = name(node, subject: "'pipeline'", kind: "pipeline")
    } else {
      report(
        "missing required key 'pipeline' at the top level; name the pipeline, e.g. 'pipeline: web'", at: root.position)
    }
    if let node = top["ledger"], let ledger = text(node, subject: "'ledger'") {
      draft.ledger = ledger
      draft.ledgerPosition = node.position
    }
    if let node = top["keep"], let keep = integer(node, subject: "'keep'", in: 1...1000) { draft.keep = keep }
    if let node = top["hooks"], let hooks = text(node, subject: "'hooks'") { draft.hooks = hooks }
    if let node = top["checks"] { draft.checks = checks(node) }
    if let node = top["environments"] {
      draft.environments = environments(node)
    } else {
      report(
        "missing required key 'environments' at the top level; list the environments in promotion order, "
          + "e.g. 'environments: [{name: staging, target: {local: /srv/web}}]'", at: root.position)
    }
    return draft
  }

  // MARK: - Environments

  func environments(_ node: YAMLNode) -> [EnvironmentDraft] {
    guard let items = list(node, subject: "'environments'", expected: "a list of environments") else { return [] }
    if items.isEmpty {
      report("'environments' is empty; a pipeline needs at least one environment", at: node.position)
    }
    return items.enumerated().compactMap { environment($1, number: $0 + 1) }
  }

  func environment(_ node: YAMLNode, number: Int) -> EnvironmentDraft? {
    var label = "#\(number)"
    if case .mapping(let pairs) = node.content, let name = pairs.first(where: { $0.name == "name" })?.value,
      name.scalarType == .string, let text = name.scalarText
    {
      label = "'\(text)'"
    }
    guard
      let env = fields(
        node, subject: "each entry of 'environments'", allowed: Self.environmentKeys,
        context: "in environment \(label)")
    else { return nil }
    var draft = EnvironmentDraft(spec: EnvironmentSpec(name: "", target: .local(path: "")))
    if let node = env["name"] {
      draft.name = name(node, subject: "'name'", kind: "environment")
      draft.spec.name = draft.name?.value ?? ""
    } else {
      report("environment \(label) has no 'name'; add one, e.g. 'name: staging'", at: node.position)
    }
    if let node = env["requires"], let requires = text(node, subject: "'requires'") {
      draft.requires = Located(value: requires, position: node.position)
      draft.spec.requires = requires
    }
    if let node = env["target"] {
      if let target = target(node, environment: label) {
        draft.spec.target = target
        if case .local(let path) = target, case .mapping(let pairs) = node.content,
          let local = pairs.first(where: { $0.name == "local" })
        {
          draft.local = Located(value: path, position: local.value.position)
        }
      }
    } else {
      report(
        "environment \(label) has no 'target'; add 'target:' with one of 'local', 'ssh' or 'command'",
        at: node.position)
    }
    var configKeys: [String: SourcePosition] = [:]
    if let node = env["config"] {
      (draft.spec.config, configKeys) = config(node, environment: label)
    }
    if let node = env["secrets"] {
      draft.spec.secrets = secrets(node, environment: label, configKeys: configKeys)
    }
    if let node = env["start"] { draft.spec.start = text(node, subject: "'start'") }
    if let node = env["preflight"] {
      draft.preflight = names(node, subject: "'preflight'", what: "check names")
      draft.spec.preflight = draft.preflight.map(\.value)
    }
    if let node = env["verify"] {
      draft.verify = names(node, subject: "'verify'", what: "check names")
      draft.spec.verify = draft.verify.map(\.value)
    }
    if let node = env["watch"], let watch = duration(node, subject: "'watch'", allowZero: true) {
      draft.watch = Located(value: watch, position: node.position)
      // `watch: 0s` reads naturally as "no watch window", which the model spells nil.
      draft.spec.watch = watch.milliseconds == 0 ? nil : watch
    }
    if let node = env["on_failure"],
      let word = choice(node, subject: "'on_failure'", among: ["rollback", "halt"]),
      let policy = FailurePolicy(rawValue: word)
    {
      draft.spec.onFailure = policy
    }
    if let node = env["approval"] {
      if node.scalarType == .bool {
        draft.spec.approvalRequired = bool(node, subject: "'approval'") ?? false
      } else if let word = choice(node, subject: "'approval'", among: ["required", "none"]) {
        draft.spec.approvalRequired = word == "required"
      }
    }
    return draft
  }

  func config(_ node: YAMLNode, environment: String) -> ([String: String], [String: SourcePosition]) {
    if node.isNull { return ([:], [:]) }
    guard case .mapping(let pairs) = node.content else {
      mismatch(node, subject: "'config'", expected: "a mapping of keys to values, like 'DATABASE_URL: postgres://…'")
      return ([:], [:])
    }
    var values: [String: String] = [:]
    var positions: [String: SourcePosition] = [:]
    for pair in pairs {
      guard PipelineNames.isValidConfigKey(pair.name) else {
        report(
          "invalid config key '\(short(pair.name))' in environment \(environment): \(PipelineNames.configKeyRule)",
          at: pair.key.position)
        continue
      }
      guard !pair.name.hasPrefix(PipelineNames.reservedPrefix) else {
        report(
          "config key '\(short(pair.name))' in environment \(environment) starts with "
            + "'\(PipelineNames.reservedPrefix)', which Airlock's own variables use and would overwrite; rename it",
          at: pair.key.position)
        continue
      }
      positions[pair.name] = pair.key.position
      switch pair.value.content {
      case .scalar(let text, let type):
        if type == .null {
          report(
            "config value '\(pair.name)' in environment \(environment) is empty; write '' for an empty value",
            at: pair.value.position)
        } else {
          values[pair.name] = text
        }
      default:
        mismatch(pair.value, subject: "config value '\(pair.name)'", expected: "text, a number or a boolean")
      }
    }
    return (values, positions)
  }

  func secrets(_ node: YAMLNode, environment: String, configKeys: [String: SourcePosition]) -> [String] {
    var result: [String] = []
    for secret in names(node, subject: "'secrets'", what: "secret names") {
      if !PipelineNames.isValidConfigKey(secret.value) {
        report(
          "invalid secret name '\(short(secret.value))': it must be an environment variable name; "
            + PipelineNames.configKeyRule, at: secret.position)
      } else if secret.value.hasPrefix(PipelineNames.reservedPrefix) {
        report(
          "secret '\(secret.value)' in environment \(environment) starts with '\(PipelineNames.reservedPrefix)', "
            + "which Airlock's own variables use (it sets AIRLOCK_VERSION… and reads AIRLOCK_ACTOR…); rename it",
          at: secret.position)
      } else if PipelineNames.passedThroughVariables.contains(secret.value) {
        report(
          "secret '\(secret.value)' in environment \(environment) has the name of a variable Airlock passes "
            + "through to start, checks and hooks (\(PipelineNames.passedThroughVariables.joined(separator: ", "))), "
            + "so its value would reach them unmasked; rename it", at: secret.position)
      } else if let configPosition = configKeys[secret.value] {
        report(
          "'\(secret.value)' is both a config key (at \(configPosition)) and a secret in environment \(environment); "
            + "a secret's value comes from the process environment, so remove one of them", at: secret.position)
      }
      result.append(secret.value)
    }
    return result
  }

  // MARK: - Targets

  func target(_ node: YAMLNode, environment: String) -> TargetSpec? {
    let context = "in the target of environment \(environment)"
    guard
      let target = fields(
        node, subject: "'target'", allowed: Self.targetKinds, context: context,
        expected: "a mapping with one of 'local', 'ssh' or 'command', like 'local: /srv/web'")
    else { return nil }
    let kinds = target.pairs.filter { Self.targetKinds.contains($0.name) }
    guard let kind = kinds.first else {
      if !target.hadUnknownKeys {
        report(
          "the target of environment \(environment) needs one of 'local', 'ssh' or 'command'", at: node.position)
      }
      return nil
    }
    if kinds.count > 1 {
      report(
        "the target of environment \(environment) has both '\(kind.name)' and '\(kinds[1].name)'; give exactly one",
        at: kinds[1].key.position)
    }
    switch kind.name {
    case "local":
      return text(kind.value, subject: "'local'").map { .local(path: $0) }
    case "ssh":
      return ssh(kind.value, environment: environment).map { .ssh($0) }
    default:
      return commandTarget(kind.value, environment: environment).map { .command($0) }
    }
  }

  func ssh(_ node: YAMLNode, environment: String) -> SSHTargetSpec? {
    guard
      let ssh = fields(
        node, subject: "'ssh'", allowed: Self.sshKeys, context: "in the ssh target of environment \(environment)",
        expected: "a mapping with 'hosts' and 'path'")
    else { return nil }
    var spec = SSHTargetSpec(hosts: [], path: "")
    var valid = true
    if let node = ssh["hosts"] {
      let hosts = names(node, subject: "'hosts'", what: "host names")
      if case .sequence(let items) = node.content, items.isEmpty {
        report("'hosts' is empty; list at least one host", at: node.position)
      } else if node.isNull {
        report("'hosts' is empty; list at least one host", at: node.position)
      }
      var seen: [String: SourcePosition] = [:]
      for host in hosts {
        if !Self.isValidHost(host.value) {
          report(
            "invalid host '\(host.value)': use a host name or IP address (letters, digits, '.', '-', ':'), "
              + "not starting with '-'", at: host.position)
        } else if let first = seen[host.value] {
          report("host '\(host.value)' is listed twice (first at \(first))", at: host.position)
        }
        seen[host.value] = seen[host.value] ?? host.position
      }
      spec.hosts = hosts.map(\.value)
    } else {
      report("the ssh target of environment \(environment) has no 'hosts'; list the hosts", at: node.position)
      valid = false
    }
    if let node = ssh["user"], let user = text(node, subject: "'user'") {
      if user.wholeMatch(of: /[A-Za-z_][A-Za-z0-9._-]*/) == nil {
        report(
          "invalid ssh user '\(user)': use letters, digits, '.', '_' and '-', not starting with '-'", at: node.position)
      }
      spec.user = user
    }
    if let node = ssh["path"] {
      if let path = text(node, subject: "'path'") {
        if !path.hasPrefix("/") {
          report("'path' of an ssh target must be absolute, like /srv/web, found '\(short(path))'", at: node.position)
        }
        spec.path = path
      }
    } else {
      report(
        "the ssh target of environment \(environment) has no 'path'; give the folder on the hosts, like /srv/web",
        at: node.position)
      valid = false
    }
    if let node = ssh["port"] { spec.port = integer(node, subject: "'port'", in: 1...65535) }
    if let node = ssh["batch"], let batch = share(node, subject: "'batch'", of: "hosts switched at a time") {
      spec.batch = batch
    }
    return valid ? spec : nil
  }

  func commandTarget(_ node: YAMLNode, environment: String) -> CommandTargetSpec? {
    guard
      let command = fields(
        node, subject: "'command'", allowed: Self.commandTargetKeys,
        context: "in the command target of environment \(environment)",
        expected: "a mapping with 'deploy' (and optionally 'rollback' and 'current')")
    else { return nil }
    var spec = CommandTargetSpec(deploy: [])
    if let node = command["deploy"] {
      spec.deploy = arguments(node, subject: "'deploy'") ?? []
    } else {
      report(
        "the command target of environment \(environment) has no 'deploy'; give the program to run, "
          + "like 'deploy: [bin/deploy, \"{release}\"]'", at: node.position)
      return nil
    }
    if let node = command["rollback"] { spec.rollback = arguments(node, subject: "'rollback'") }
    if let node = command["current"] { spec.current = arguments(node, subject: "'current'") }
    return spec
  }

  static func isValidHost(_ host: String) -> Bool {
    guard host.utf8.count <= 253 else { return false }
    if host.wholeMatch(of: /[A-Za-z0-9_][A-Za-z0-9_.-]*/) != nil { return true }
    // An IPv6 address; the leading character rule above keeps ssh from reading a host as an option.
    return host.contains(":") && host.wholeMatch(of: /[0-9A-Fa-f:.]+/) != nil
  }

  // MARK: - Checks

  func checks(_ node: YAMLNode) -> [CheckDraft] {
    if node.isNull { return [] }
    guard case .mapping(let pairs) = node.content else {
      mismatch(node, subject: "'checks'", expected: "a mapping of check names to checks")
      return []
    }
    return pairs.map(check)
  }

  func check(_ pair: YAMLPair) -> CheckDraft {
    let name = pair.name
    if !PipelineNames.isValidName(name) {
      report("invalid check name '\(name)': \(PipelineNames.nameRule)", at: pair.key.position)
    }
    var draft = CheckDraft(name: Located(value: name, position: pair.key.position))
    guard
      let check = fields(
        pair.value, subject: "check '\(name)'", allowed: Self.checkKeys, context: "in check '\(name)'",
        expected: "a mapping with one kind key (http, tcp, command, heartbeat, config or drift)")
    else { return draft }
    let kinds = check.pairs.filter { Self.checkKinds.contains($0.name) }
    guard let kindPair = kinds.first else {
      if !check.hadUnknownKeys {
        report(
          "check '\(name)' has no kind; give one of 'http', 'tcp', 'command', 'heartbeat', 'config' or 'drift'",
          at: pair.key.position)
      }
      return draft
    }
    if kinds.count > 1 {
      report(
        "check '\(name)' has both '\(kindPair.name)' and '\(kinds[1].name)'; a check has exactly one kind",
        at: kinds[1].key.position)
    }
    let kind = kindPair.name
    for other in check.pairs {
      if let owner = Self.kindKeys[other.name], owner != kind {
        let article = kind == "http" ? "an" : "a"
        report(
          "'\(other.name)' applies to \(owner) checks only, and '\(name)' is \(article) \(kind) check",
          at: other.key.position)
      }
      if (kind == "config" || kind == "drift") && Self.probeKeys.contains(other.name) {
        report(
          "'\(other.name)' does not apply to \(kind) checks, which inspect configuration once before the switch",
          at: other.key.position)
      }
    }
    if kind != "config" && kind != "drift" {
      (draft.policy, draft.dependency) = policy(check)
    }
    let value = kindPair.value
    switch kind {
    case "http":
      draft.kind = http(value, check: check)
    case "tcp":
      if let address = text(value, subject: "'tcp'"), tcpAddressIsValid(address, at: value.position) {
        draft.kind = .tcp(address: address)
      }
    case "command":
      draft.kind = arguments(value, subject: "'command'").map { .command(arguments: $0) }
    case "heartbeat":
      draft.kind = heartbeat(value, check: check, name: name, at: pair.key.position)
    case "config":
      draft.kind = configRules(value, draft: &draft)
    default:
      if let environment = text(value, subject: "'drift'") {
        draft.drift = Located(value: environment, position: value.position)
        var allow: [String] = []
        if let node = check["allow"] {
          for key in names(node, subject: "'allow'", what: "config keys") {
            if !PipelineNames.isValidConfigKey(key.value) {
              report("invalid config key '\(key.value)' in 'allow': \(PipelineNames.configKeyRule)", at: key.position)
            }
            allow.append(key.value)
          }
        }
        draft.kind = .drift(environment: environment, allow: allow)
      }
    }
    return draft
  }

  func policy(_ check: Fields) -> (ProbePolicy, Bool) {
    var policy = ProbePolicy()
    if let node = check["attempts"], let attempts = integer(node, subject: "'attempts'", in: 1...100) {
      policy.attempts = attempts
    }
    // The default quorum of 2 cannot be met with a single attempt; one passing probe is then the natural reading.
    policy.pass = min(policy.pass, policy.attempts)
    if let node = check["pass"], let pass = integer(node, subject: "'pass'", in: 1...100) {
      if pass > policy.attempts {
        let attempts = check["attempts"] == nil ? "\(policy.attempts) by default" : "\(policy.attempts)"
        report(
          "'pass' is \(pass) but 'attempts' is \(attempts); pass must be from 1 to attempts", at: node.position)
      }
      policy.pass = pass
    }
    if let node = check["interval"], let interval = duration(node, subject: "'interval'", allowZero: true) {
      policy.interval = interval
    }
    if let node = check["timeout"], let timeout = duration(node, subject: "'timeout'", allowZero: false) {
      policy.timeout = timeout
    }
    if let node = check["hosts"], let hosts = share(node, subject: "'hosts'", of: "hosts that must pass") {
      policy.hosts = hosts
    }
    let dependency = check["dependency"].flatMap { bool($0, subject: "'dependency'") } ?? false
    return (policy, dependency)
  }

  func http(_ node: YAMLNode, check: Fields) -> CheckKind? {
    var expect = 200
    var contains: String?
    if let node = check["expect"], let status = integer(node, subject: "'expect'", in: 100...599) { expect = status }
    if let node = check["contains"] { contains = text(node, subject: "'contains'") }
    guard let url = text(node, subject: "'http'") else { return nil }
    guard let sample = substitutePlaceholders(url, subject: "'http'", at: node.position) else { return nil }
    guard let parsed = URL(string: sample), let scheme = parsed.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
    else {
      report(
        "'http' must be an http:// or https:// URL like http://{host}:8080/healthz, found '\(short(url))'",
        at: node.position)
      return nil
    }
    return .http(url: url, expect: expect, contains: contains)
  }

  /// Replaces the documented placeholders with sample values so the rest can be checked as a plain URL or address.
  func substitutePlaceholders(_ text: String, subject: String, at position: SourcePosition) -> String? {
    var sample = text
    for (placeholder, value) in zip(Self.placeholders, ["placeholder-host", "1.0.0", "0123456789ab"]) {
      sample = sample.replacingOccurrences(of: placeholder, with: value)
    }
    if let unknown = sample.firstMatch(of: /\{[^}]*\}?/) {
      let word = String(unknown.output)
      report(
        "unknown placeholder '\(word)' in \(subject)\(didYouMean(word, among: Self.placeholders)); "
          + "use {host}, {version} or {release}", at: position)
      return nil
    }
    return sample
  }

  func tcpAddressIsValid(_ address: String, at position: SourcePosition) -> Bool {
    let message = "'tcp' must be HOST:PORT like db.internal:5432 or '{host}:5432', found '\(short(address))'"
    guard let sample = substitutePlaceholders(address, subject: "'tcp'", at: position) else { return false }
    guard let colon = sample.lastIndex(of: ":") else {
      report(message, at: position)
      return false
    }
    var host = String(sample[..<colon])
    let port = sample[sample.index(after: colon)...]
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, Self.isValidHost(host), let number = Int(port), (1...65535).contains(number) else {
      report(message + "; the port is a number from 1 to 65535", at: position)
      return false
    }
    return true
  }

  func heartbeat(_ node: YAMLNode, check: Fields, name: String, at position: SourcePosition) -> CheckKind? {
    let path = text(node, subject: "'heartbeat'")
    guard let maxAgeNode = check["max_age"] else {
      report(
        "heartbeat check '\(name)' needs 'max_age', the oldest the file may be, like 'max_age: 60s'", at: position)
      return nil
    }
    guard let path, let maxAge = duration(maxAgeNode, subject: "'max_age'", allowZero: false) else { return nil }
    return .heartbeat(path: path, maxAge: maxAge)
  }

  func configRules(_ node: YAMLNode, draft: inout CheckDraft) -> CheckKind? {
    guard let items = list(node, subject: "'config'", expected: "a list of rules like '- key: DATABASE_URL'")
    else { return nil }
    if items.isEmpty {
      report(
        "'config' has no rules; add at least one, like '- key: DATABASE_URL' with 'required: true'", at: node.position)
      return nil
    }
    var rules: [ConfigRule] = []
    var valid = true
    for (index, item) in items.enumerated() {
      if let rule = configRule(item, number: index + 1, check: draft.name.value, draft: &draft) {
        rules.append(rule)
      } else {
        valid = false
      }
    }
    return valid ? .config(rules: rules) : nil
  }

  func configRule(_ node: YAMLNode, number: Int, check: String, draft: inout CheckDraft) -> ConfigRule? {
    let label = "rule \(number) of check '\(check)'"
    guard
      let fields = fields(
        node, subject: "each config rule", allowed: Self.ruleKeys, context: "in \(label)",
        expected: "a mapping with 'key' and what to check, or with only 'forbid'")
    else { return nil }
    var rule = ConfigRule()
    var valid = !fields.hadUnknownKeys
    if let node = fields["key"], let key = text(node, subject: "'key'") {
      if !PipelineNames.isValidConfigKey(key) {
        report("invalid config key '\(key)' in \(label): \(PipelineNames.configKeyRule)", at: node.position)
      }
      rule.key = key
    }
    if let node = fields["required"] { rule.required = bool(node, subject: "'required'") ?? false }
    for (field, keyPath) in [("match", \ConfigRule.match), ("forbid", \ConfigRule.forbid)] {
      guard let node = fields[field], let pattern = text(node, subject: "'\(field)'") else { continue }
      if (try? NSRegularExpression(pattern: pattern)) == nil {
        report("'\(field)' is not a valid regular expression: '\(pattern)'", at: node.position)
      }
      rule[keyPath: keyPath] = pattern
    }
    if let node = fields["differs_from"], let environment = text(node, subject: "'differs_from'") {
      rule.differsFrom = environment
      draft.differsFrom.append(Located(value: environment, position: node.position))
    }
    if let node = fields["one_of"], let items = list(node, subject: "'one_of'", expected: "a list of allowed values") {
      if items.isEmpty { report("'one_of' is empty; list the allowed values", at: node.position) }
      rule.oneOf = items.compactMap { item in
        guard let text = item.scalarText, !item.isNull else {
          mismatch(item, subject: "each value of 'one_of'", expected: "text, a number or a boolean")
          return nil
        }
        return text
      }
    }
    if rule.key == nil {
      for pair in fields.pairs where pair.name != "forbid" {
        report(
          "'\(pair.name)' needs a 'key' in \(label); a rule without a key can only 'forbid' a pattern in every value",
          at: pair.key.position)
        valid = false
      }
      if fields["forbid"] == nil && fields.pairs.isEmpty {
        report("\(label) is empty; give 'key' and what to check, or 'forbid'", at: node.position)
        valid = false
      }
    } else if !rule.required && rule.match == nil && rule.forbid == nil && rule.differsFrom == nil
      && rule.oneOf == nil && fields["key"] != nil && valid
    {
      report(
        "\(label) checks nothing; add 'required: true', 'match', 'forbid', 'differs_from' or 'one_of'",
        at: node.position)
      valid = false
    }
    return valid ? rule : nil
  }

  // MARK: - Values

  /// A mapping's pairs after unknown keys were reported.
  struct Fields {
    var position: SourcePosition
    var pairs: [YAMLPair]
    var hadUnknownKeys: Bool

    subscript(key: String) -> YAMLNode? {
      pairs.first { $0.name == key }?.value
    }
  }

  func fields(
    _ node: YAMLNode, subject: String, allowed: [String], context: String, expected: String = "a mapping"
  ) -> Fields? {
    guard case .mapping(let pairs) = node.content else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    var known: [YAMLPair] = []
    var hadUnknownKeys = false
    for pair in pairs {
      if allowed.contains(pair.name) {
        known.append(pair)
      } else {
        hadUnknownKeys = true
        report(
          "unknown key '\(short(pair.name))' \(context)\(didYouMean(pair.name, among: allowed))",
          at: pair.key.position)
      }
    }
    return Fields(position: node.position, pairs: known, hadUnknownKeys: hadUnknownKeys)
  }

  /// `text` cut to a readable length, so a stray megabyte of text does not end up in a message.
  func short(_ text: String) -> String {
    text.count <= 80 ? text : text.prefix(77) + "…"
  }

  func describe(_ node: YAMLNode) -> String {
    switch node.content {
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    case .scalar(let text, let type):
      switch type {
      case .null: return "nothing"
      case .bool: return "the boolean \(short(text))"
      case .int, .float: return "the number \(short(text))"
      case .string: return "the text '\(short(text))'"
      }
    }
  }

  func mismatch(_ node: YAMLNode, subject: String, expected: String) {
    var message = "\(subject) must be \(expected), found \(describe(node))"
    if expected.hasPrefix("text"), let text = node.scalarText,
      node.scalarType == .bool || node.scalarType == .int
        || node.scalarType == .float
    {
      message += "; quote it ('\(text)') if you mean the text"
    } else if expected.hasPrefix("a list"), node.scalarType == .string, let text = node.scalarText {
      message += "; write it as a list: [\(text)]"
    }
    report(message, at: node.position)
  }

  /// Non-empty text; numbers and booleans are refused so that `name: yes` or `expect: '200'` surface as mistakes.
  func text(_ node: YAMLNode, subject: String) -> String? {
    guard node.scalarType == .string, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: "text")
      return nil
    }
    if text.allSatisfy(\.isWhitespace) {
      report("\(subject) must not be empty", at: node.position)
      return nil
    }
    return text
  }

  func name(_ node: YAMLNode, subject: String, kind: String) -> Located<String>? {
    guard let name = text(node, subject: subject) else { return nil }
    if !PipelineNames.isValidName(name) {
      report("invalid \(kind) name '\(name)': \(PipelineNames.nameRule)", at: node.position)
    }
    return Located(value: name, position: node.position)
  }

  func choice(_ node: YAMLNode, subject: String, among choices: [String]) -> String? {
    let expected = choices.map { "'\($0)'" }.joined(separator: " or ")
    guard node.scalarType == .string, let word = node.scalarText, choices.contains(word) else {
      var message = "\(subject) must be \(expected), found \(describe(node))"
      if let word = node.scalarText { message += didYouMean(word, among: choices) }
      report(message, at: node.position)
      return nil
    }
    return word
  }

  func bool(_ node: YAMLNode, subject: String) -> Bool? {
    guard node.scalarType == .bool, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: "true or false")
      return nil
    }
    return ["true", "yes", "on"].contains(text.lowercased())
  }

  func integer(_ node: YAMLNode, subject: String, in range: ClosedRange<Int>) -> Int? {
    let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
    guard node.scalarType == .int, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    guard let value = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
      report("\(subject) must be \(expected), found \(text)", at: node.position)
      return nil
    }
    return value
  }

  func duration(_ node: YAMLNode, subject: String, allowZero: Bool) -> TimeSpan? {
    let expected = "a duration like 100ms, 2s, 5m or 1h"
    guard let text = node.scalarText, node.scalarType != .null else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    guard let span = TimeSpan(parsing: text) else {
      var message = "\(subject) must be \(expected), found '\(short(text))'"
      if text.hasPrefix("-") {
        message = "\(subject) cannot be negative, found '\(short(text))'"
      } else if node.scalarType == .int {
        message += "; add a unit, like \(text)s"
      } else if text.contains(".") {
        message += "; use whole numbers, like 1500ms instead of 1.5s"
      }
      report(message, at: node.position)
      return nil
    }
    if !allowZero && span.milliseconds == 0 {
      report("\(subject) must be longer than 0s", at: node.position)
      return nil
    }
    return span
  }

  func share(_ node: YAMLNode, subject: String, of what: String) -> Share? {
    let expected = "a count of \(what) like 2 or a percentage like 50%"
    if node.scalarType == .int, let text = node.scalarText {
      guard let count = Int(text), count >= 1 else {
        report("\(subject) must be at least 1, found \(text)", at: node.position)
        return nil
      }
      return .count(count)
    }
    if node.scalarType == .string, let text = node.scalarText, text.hasSuffix("%") {
      guard let percent = Int(text.dropLast()), (1...100).contains(percent) else {
        report("\(subject) must be a percentage from 1% to 100%, found '\(short(text))'", at: node.position)
        return nil
      }
      return .percent(percent)
    }
    mismatch(node, subject: subject, expected: expected)
    return nil
  }

  func list(_ node: YAMLNode, subject: String, expected: String) -> [YAMLNode]? {
    if node.isNull { return [] }
    guard case .sequence(let items) = node.content else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    return items
  }

  /// A list of names (checks, secrets, hosts); a name listed twice is reported, since it is always a slip.
  func names(_ node: YAMLNode, subject: String, what: String) -> [Located<String>] {
    guard let items = list(node, subject: subject, expected: "a list of \(what)") else { return [] }
    var result: [Located<String>] = []
    var seen: [String: SourcePosition] = [:]
    for item in items {
      guard let name = text(item, subject: "each entry of \(subject)") else { continue }
      if let first = seen[name] {
        report("'\(name)' is listed twice in \(subject) (first at \(first))", at: item.position)
        continue
      }
      seen[name] = item.position
      result.append(Located(value: name, position: item.position))
    }
    return result
  }

  /// A program and its arguments. Arguments may be numbers or booleans (`[sleep, 1]`) and are taken as written,
  /// because an argument vector is text by nature; a single string is refused because it would need a shell.
  func arguments(_ node: YAMLNode, subject: String) -> [String]? {
    let expected = "a list of program and arguments like [bin/healthcheck, --quick] (run without a shell)"
    guard case .sequence(let items) = node.content else {
      if node.scalarType == .string, let text = node.scalarText {
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: ", ")
        report(
          "\(subject) must be a list of program and arguments, found the text '\(short(text))'; it runs without a shell, "
            + "so write [\(words)]", at: node.position)
      } else {
        mismatch(node, subject: subject, expected: expected)
      }
      return nil
    }
    guard !items.isEmpty else {
      report("\(subject) is empty; give at least the program to run", at: node.position)
      return nil
    }
    var result: [String] = []
    for item in items {
      guard let text = item.scalarText, !item.isNull else {
        mismatch(item, subject: "each argument of \(subject)", expected: "text")
        return nil
      }
      result.append(text)
    }
    if result[0].isEmpty {
      report("the program in \(subject) must not be empty", at: items[0].position)
      return nil
    }
    return result
  }
}
