import Foundation

/// Decoding environments: their keys, config, secrets and references to checks.
extension PipelineDecoder {
  static let environmentKeys = [
    "name", "requires", "target", "config", "secrets", "start", "preflight", "verify", "watch", "on_failure",
    "approval",
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
      } else if let word = choice(node, subject: "'approval'", among: ["required", "self", "none"]) {
        draft.spec.approvalRequired = word != "none"
        draft.spec.selfApproval = word == "self" ? true : nil
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
}
