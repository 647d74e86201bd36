import Foundation

/// Decoding environments: their keys, config, secrets and references to checks.
extension PipelineDecoder {
  static let environmentKeys = [
    "name", "requires", "target", "config", "secrets", "start", "preflight", "verify", "watch", "on_failure",
    "approval", "notify",
  ]

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
        "environment \(label) has no 'target'; add 'target:' with one of \(Self.builtInTargetKindList)",
        at: node.position)
    }
    var configKeys: [String: SourcePosition] = [:]
    if let node = env["config"] {
      (draft.spec.config, configKeys) = config(node, environment: label)
    }
    if let node = env["secrets"] {
      let (names, sources) = secrets(node, environment: label, configKeys: configKeys)
      draft.spec.secrets = names
      draft.spec.secretSources = sources.isEmpty ? nil : sources
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
      } else if let word = choice(node, subject: "'approval'", among: ["required", "self", "none"]) {
        draft.spec.approvalRequired = word != "none"
        draft.spec.selfApproval = word == "self" ? true : nil
      }
    }
    if let node = env["notify"] { draft.notify = notify(node) }
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

  /// `secrets:` as a list of names (each optionally a one-key mapping to its source) or a mapping of names to
  /// sources; returns the names in order and the sources other than the process environment.
  func secrets(
    _ node: YAMLNode, environment: String, configKeys: [String: SourcePosition]
  ) -> ([String], [String: SecretSource]) {
    var entries: [(name: Located<String>, source: YAMLNode?)] = []
    switch node.content {
    case .mapping(let pairs):
      entries = pairs.map { (Located(value: $0.name, position: $0.key.position), $0.value) }
    case .sequence(let items):
      for item in items {
        if case .mapping(let pairs) = item.content {
          guard pairs.count == 1 else {
            report(
              "each mapping in 'secrets' names one secret and its source, like '{DB_PASSWORD: {file: /run/secrets/db}}'",
              at: item.position)
            continue
          }
          entries.append((Located(value: pairs[0].name, position: pairs[0].key.position), pairs[0].value))
        } else if let name = text(item, subject: "each entry of 'secrets'") {
          entries.append((Located(value: name, position: item.position), nil))
        }
      }
    default:
      if !node.isNull {
        mismatch(node, subject: "'secrets'", expected: "a list of secret names or a mapping of names to sources")
      }
    }
    var names: [String] = []
    var sources: [String: SecretSource] = [:]
    var seen: [String: SourcePosition] = [:]
    for (secret, sourceNode) in entries {
      if let first = seen[secret.value] {
        report("'\(secret.value)' is listed twice in 'secrets' (first at \(first))", at: secret.position)
        continue
      }
      seen[secret.value] = secret.position
      checkSecretName(secret, environment: environment, configKeys: configKeys)
      names.append(secret.value)
      if let sourceNode, let source = secretSource(sourceNode, secret: secret.value), source != .environment {
        sources[secret.value] = source
      }
    }
    return (names, sources)
  }

  private func checkSecretName(
    _ secret: Located<String>, environment: String, configKeys: [String: SourcePosition]
  ) {
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
          + "a secret's value comes from its source, so remove one of them", at: secret.position)
    }
  }

  /// One secret's source: `env`, or a mapping with `command` (and optionally `timeout`) or `file`.
  private func secretSource(_ node: YAMLNode, secret: String) -> SecretSource? {
    let expected = "'env', '{command: [program, args…]}' or '{file: PATH}'"
    if node.scalarType == .string {
      guard node.scalarText == "env" else {
        report(
          "the source of secret \(secret) must be \(expected), found '\(short(node.scalarText ?? ""))'",
          at: node.position)
        return nil
      }
      return .environment
    }
    guard
      let fields = fields(
        node, subject: "the source of secret \(secret)", allowed: SecretSource.Key.allCases.map(\.rawValue),
        context: "in the source of secret \(secret)", expected: expected)
    else { return nil }
    switch (fields[SecretSource.Key.command], fields[SecretSource.Key.file]) {
    case (.some, .some):
      report(
        "the source of secret \(secret) has both 'command' and 'file'; keep one of them", at: fields.position)
      return nil
    case (.some(let command), nil):
      var timeout: TimeSpan?
      if let node = fields[SecretSource.Key.timeout] {
        guard let span = duration(node, subject: "'timeout'", allowZero: false) else { return nil }
        timeout = span
      }
      guard let arguments = arguments(command, subject: "'command' of secret \(secret)") else { return nil }
      return .command(arguments: arguments, timeout: timeout)
    case (nil, .some(let file)):
      if let node = fields[SecretSource.Key.timeout] {
        report("'timeout' applies to a 'command' source only; remove it", at: node.position)
      }
      guard let path = text(file, subject: "'file' of secret \(secret)") else { return nil }
      guard !path.isEmpty else {
        report("'file' of secret \(secret) is empty; give the path of the file that holds it", at: file.position)
        return nil
      }
      return .file(path: path)
    case (nil, nil):
      if !fields.hadUnknownKeys {
        report("the source of secret \(secret) needs 'command' or 'file'", at: fields.position)
      }
      return nil
    }
  }
}
