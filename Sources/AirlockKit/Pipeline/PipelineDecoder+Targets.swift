import Foundation

/// Decoding targets: `local`, `ssh` fleets, `command` targets and the kinds library users register.
extension PipelineDecoder {
  /// `'local', 'ssh' or 'command'`: the built-in kinds as messages list them.
  static var builtInTargetKindList: String {
    let names = BuiltInTargetKind.allCases.map { "'\($0.rawValue)'" }
    return names.dropLast().joined(separator: ", ") + " or " + names.last!
  }

  /// The target an environment names: a built-in kind, decoded by its own function, or a registered one. A planned
  /// kind is decoded (so its mistakes are reported as usual) and then refused at its key.
  func target(_ node: YAMLNode, environment: String) -> TargetSpec? {
    let context = "in the target of environment \(environment)"
    let custom = TargetKinds.all
    let kindNames = TargetKinds.builtIn + custom.keys.sorted()
    guard
      let target = fields(
        node, subject: "'target'", allowed: kindNames, context: context,
        expected: "a mapping with one of \(Self.builtInTargetKindList), like 'local: /srv/web'")
    else { return nil }
    guard let kind = target.pairs.first else {
      if !target.hadUnknownKeys {
        let registered = custom.keys.sorted().map { "'\($0)'" }
        report(
          "the target of environment \(environment) needs one of \(Self.builtInTargetKindList)"
            + (registered.isEmpty ? "" : ", or a registered kind: \(registered.joined(separator: ", "))"),
          at: node.position)
      }
      return nil
    }
    if target.pairs.count > 1 {
      report(
        "the target of environment \(environment) has both '\(kind.name)' and '\(target.pairs[1].name)'; give "
          + "exactly one", at: target.pairs[1].key.position)
    }
    guard let builtIn = BuiltInTargetKind(rawValue: kind.name) else {
      return custom[kind.name].flatMap { customTarget(kind.value, kind: $0, environment: environment) }
    }
    let spec: TargetSpec?
    switch builtIn {
    case .local:
      spec = text(kind.value, subject: "'local'").map { .local(path: $0) }
    case .ssh:
      spec = ssh(kind.value, environment: environment).map { .ssh($0) }
    case .command:
      spec = commandTarget(kind.value, environment: environment).map { .command($0) }
    }
    if !builtIn.isImplemented {
      report(builtIn.notImplementedMessage, at: kind.key.position)
    }
    return spec
  }

  /// A target of a registered kind: a mapping of its options, each given as text (or a number).
  func customTarget(_ node: YAMLNode, kind: CustomTargetKind, environment: String) -> TargetSpec? {
    let what = "the \(kind.key) target of environment \(environment)"
    let listed = kind.options.map { "'\($0)'" }.joined(separator: ", ")
    guard
      let fields = fields(
        node, subject: "'\(kind.key)'", allowed: kind.options, context: "in \(what)",
        expected: kind.options.isEmpty ? "an empty mapping ({})" : "a mapping of \(listed)")
    else { return nil }
    var options: [String: String] = [:]
    var valid = true
    for pair in fields.pairs {
      guard let value = scalar(pair.value, subject: "'\(pair.name)'") else {
        valid = false
        continue
      }
      options[pair.name] = value
    }
    for key in kind.required where fields[key] == nil {
      report("\(what) has no '\(key)'; give it, like '\(key): …'", at: node.position)
      valid = false
    }
    return valid ? .custom(kind: kind.key, options: options) : nil
  }

  func ssh(_ node: YAMLNode, environment: String) -> SSHTargetSpec? {
    typealias Key = SSHTargetSpec.Key
    guard
      let ssh = fields(
        node, subject: "'ssh'", allowed: BuiltInTargetKind.ssh.keys,
        context: "in the ssh target of environment \(environment)",
        expected: "a mapping with 'hosts' and 'path'")
    else { return nil }
    var spec = SSHTargetSpec(hosts: [], path: "")
    var valid = true
    if let node = ssh[Key.hosts] {
      let hosts = names(node, subject: "'hosts'", what: "host names")
      if case .sequence(let items) = node.content, items.isEmpty {
        report("'hosts' is empty; list at least one host", at: node.position)
      } else if node.isNull {
        report("'hosts' is empty; list at least one host", at: node.position)
      }
      var seen: [String: SourcePosition] = [:]
      for host in hosts {
        if SSHHost(host.value).map({ Self.isValidHost($0.name) }) != true {
          report(
            "invalid host '\(host.value)': use a host name or IP address (letters, digits, '.', '-', ':'), "
              + "not starting with '-', optionally as user@host:port", at: host.position)
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
    if let node = ssh[Key.user], let user = text(node, subject: "'user'") {
      if user.wholeMatch(of: /[A-Za-z_][A-Za-z0-9._-]*/) == nil {
        report(
          "invalid ssh user '\(user)': use letters, digits, '.', '_' and '-', not starting with '-'", at: node.position)
      }
      spec.user = user
    }
    if let node = ssh[Key.path] {
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
    if let node = ssh[Key.port] { spec.port = integer(node, subject: "'port'", in: 1...65535) }
    if let node = ssh[Key.batch] { spec.batch = rollingSteps(node) ?? spec.batch }
    for (key, path) in [(Key.sshConfig, \SSHTargetSpec.sshConfig), (Key.knownHosts, \SSHTargetSpec.knownHosts)] {
      if let node = ssh[key], let file = text(node, subject: "'\(key.rawValue)'") {
        if file.isEmpty {
          report("'\(key.rawValue)' is empty; give a file relative to the project root", at: node.position)
        }
        spec[keyPath: path] = file
      }
    }
    if let node = ssh[Key.connectTimeout] {
      spec.connectTimeout = duration(node, subject: "'connect_timeout'", allowZero: false)
    }
    return valid ? spec : nil
  }

  /// `batch`: one share (a count or a percentage), or a list of them, each step covering more hosts than the one
  /// before, as in `[1, 25%, 100%]`.
  func rollingSteps(_ node: YAMLNode) -> [Share]? {
    let what = "hosts switched by the end of a step"
    guard case .sequence(let items) = node.content else {
      return share(node, subject: "'batch'", of: "hosts switched at a time").map { [$0] }
    }
    if items.isEmpty {
      report(
        "'batch' is an empty list; give a count like 5, a share like 25%, or steps like [1, 25%, 100%]",
        at: node.position)
      return nil
    }
    var steps: [Share] = []
    for item in items {
      guard let step = share(item, subject: "a 'batch' step", of: what) else { return nil }
      if let last = steps.last, !Self.grows(from: last, to: step) {
        report(
          "'batch' steps must grow: \(step) after \(last) switches no more hosts; list them like [1, 25%, 100%]",
          at: item.position)
        return nil
      }
      steps.append(step)
    }
    return steps
  }

  /// Whether a step of `next` can cover more hosts than one of `last`: counts and shares compare among themselves;
  /// a count and a share depend on the fleet's size, so either order is allowed.
  static func grows(from last: Share, to next: Share) -> Bool {
    switch (last, next) {
    case (.count(let a), .count(let b)), (.percent(let a), .percent(let b)): return b > a
    default: return true
    }
  }

  func commandTarget(_ node: YAMLNode, environment: String) -> CommandTargetSpec? {
    typealias Key = CommandTargetSpec.Key
    guard
      let command = fields(
        node, subject: "'command'", allowed: BuiltInTargetKind.command.keys,
        context: "in the command target of environment \(environment)",
        expected: "a mapping with 'apply' (and optionally 'current', 'timeout' and 'hosts')")
    else { return nil }
    var spec = CommandTargetSpec(apply: [])
    if let node = command[Key.apply] {
      spec.apply = arguments(node, subject: "'apply'") ?? []
    } else {
      report(
        "the command target of environment \(environment) has no 'apply'; give the program that makes the release "
          + "live, like 'apply: [kubectl, apply, -k, .]'", at: node.position)
      return nil
    }
    if let node = command[Key.current] { spec.current = arguments(node, subject: "'current'") }
    if let node = command[Key.timeout] { spec.timeout = duration(node, subject: "'timeout'", allowZero: false) }
    if let node = command[Key.hosts] {
      let hosts = names(node, subject: "'hosts'", what: "host names")
      if case .sequence(let items) = node.content, items.isEmpty {
        report("'hosts' is empty; list at least one name, or leave 'hosts' out for localhost", at: node.position)
      }
      for host in hosts where !Self.isValidHost(host.value) {
        report(
          "invalid host '\(host.value)': use a host name or IP address (letters, digits, '.', '-', ':'), "
            + "not starting with '-'", at: host.position)
      }
      spec.hosts = hosts.map(\.value)
    }
    return spec
  }

  static func isValidHost(_ host: String) -> Bool {
    guard host.utf8.count <= 253 else { return false }
    if host.wholeMatch(of: /[A-Za-z0-9_][A-Za-z0-9_.-]*/) != nil { return true }
    // An IPv6 address; the leading character rule above keeps ssh from reading a host as an option.
    return host.contains(":") && host.wholeMatch(of: /[0-9A-Fa-f:.]+/) != nil
  }
}
