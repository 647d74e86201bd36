import Foundation

/// Decoding targets: `local`, `ssh` fleets and `command` targets.
extension PipelineDecoder {
  static let targetKinds = ["local", "ssh", "command"]
  static let sshKeys = ["hosts", "user", "path", "port", "batch"]
  static let commandTargetKeys = ["deploy", "rollback", "current"]

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
}
