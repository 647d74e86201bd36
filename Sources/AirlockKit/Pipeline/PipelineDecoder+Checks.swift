import Foundation

/// Decoding checks: the kinds, their keys, the quorum policy and config rules.
extension PipelineDecoder {
  static let checkKinds = CheckKinds.builtIn
  static let probeKeys = ["attempts", "pass", "interval", "timeout", "hosts", "dependency"]
  /// Keys that belong to one kind only, with that kind.
  static let kindKeys = Dictionary(
    uniqueKeysWithValues: BuiltInCheckKind.allCases.flatMap { kind in kind.ownKeys.map { ($0, kind.rawValue) } })
  static let checkKeys = checkKinds + probeKeys + BuiltInCheckKind.allCases.flatMap(\.ownKeys)
  static let ruleKeys = ["key", "required", "match", "forbid", "differs_from", "one_of"]
  static let placeholders = ["{host}", "{version}", "{release}"]

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
    // Kinds a library user registered are named and validated exactly like the built-in ones.
    let custom = CheckKinds.all
    let kindNames = Self.checkKinds + custom.keys.sorted()
    let allowed = Self.checkKeys + custom.keys.sorted() + custom.values.flatMap(\.options)
    let listed = kindNames.dropLast().joined(separator: ", ") + " or " + kindNames.last!
    guard
      let check = fields(
        pair.value, subject: "check '\(name)'", allowed: allowed, context: "in check '\(name)'",
        expected: "a mapping with one kind key (\(listed))")
    else { return draft }
    let kinds = check.pairs.filter { kindNames.contains($0.name) }
    guard let kindPair = kinds.first else {
      if !check.hadUnknownKeys {
        let kinds = Self.checkKinds.map { "'\($0)'" }
        let registered = custom.keys.sorted().map { "'\($0)'" }
        report(
          "check '\(name)' has no kind; give one of \(kinds.dropLast().joined(separator: ", ")) or \(kinds.last!)"
            + (registered.isEmpty ? "" : ", or a registered kind: \(registered.joined(separator: ", "))"),
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
    let builtIn = BuiltInCheckKind(rawValue: kind)
    for other in check.pairs {
      let customOwners = custom.values.filter { $0.options.contains(other.name) }.map(\.key)
      if !customOwners.isEmpty && !customOwners.contains(kind) && !Self.checkKeys.contains(other.name) {
        report(
          "'\(other.name)' applies to \(customOwners.sorted().joined(separator: " and ")) checks only, and '\(name)' "
            + "is a \(kind) check", at: other.key.position)
      }
      if let owner = Self.kindKeys[other.name], owner != kind {
        let article = kind == "http" ? "an" : "a"
        report(
          "'\(other.name)' applies to \(owner) checks only, and '\(name)' is \(article) \(kind) check",
          at: other.key.position)
      }
      if builtIn?.probes == false && Self.probeKeys.contains(other.name) {
        report(
          "'\(other.name)' does not apply to \(kind) checks, which inspect configuration once before the switch",
          at: other.key.position)
      }
    }
    if builtIn?.probes != false {
      (draft.policy, draft.dependency) = policy(check)
    }
    guard let builtIn else {
      // A registered kind: the subject and its options are text, for the kind's own `make` to interpret.
      draft.kind = custom[kind].flatMap { customCheck(kindPair.value, kind: $0, check: check) }
      return draft
    }
    let value = kindPair.value
    switch builtIn {
    case .http:
      draft.kind = http(value, check: check)
    case .tcp:
      if let address = text(value, subject: "'tcp'"), tcpAddressIsValid(address, at: value.position) {
        draft.kind = .tcp(address: address)
      }
    case .command:
      draft.kind = arguments(value, subject: "'command'").map { .command(arguments: $0) }
    case .heartbeat:
      draft.kind = heartbeat(value, check: check, name: name, at: pair.key.position)
    case .config:
      draft.kind = configRules(value, draft: &draft)
    case .drift:
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

  /// A check of a registered kind: its subject and the options it gives, as text.
  func customCheck(_ value: YAMLNode, kind: CustomCheckKind, check: Fields) -> CheckKind? {
    guard let subject = scalar(value, subject: "'\(kind.key)'") else { return nil }
    var options: [String: String] = [:]
    for option in kind.options {
      if let node = check[option], let text = scalar(node, subject: "'\(option)'") { options[option] = text }
    }
    return .custom(kind: kind.key, subject: subject, options: options)
  }

  /// Any scalar (text, number, boolean) as its text: what a registered kind's subject and options carry.
  func scalar(_ node: YAMLNode, subject: String) -> String? {
    guard !node.isNull, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: "a value (text or a number)")
      return nil
    }
    return text
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
}
