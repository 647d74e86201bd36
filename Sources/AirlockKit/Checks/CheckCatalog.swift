/// Turns check definitions from a pipeline into runnable checks.
public enum CheckCatalog {
  /// The check for `spec`, or `nil` for the preflight kinds `config` and `drift`, which are built elsewhere because
  /// they need more than one environment's view.
  /// A check of a registered kind is built by its `CustomCheckKind.make`, whose error is rethrown; `nil` also means
  /// a kind this process has not registered.
  public static func make(_ spec: CheckSpec) throws -> (any Check)? {
    switch spec.kind {
    case .http(let url, let expect, let contains):
      return HTTPCheck(
        name: spec.name, url: url, expect: expect, contains: contains, policy: spec.policy,
        isDependency: spec.dependency)
    case .tcp(let address):
      return TCPCheck(name: spec.name, address: address, policy: spec.policy, isDependency: spec.dependency)
    case .command(let arguments):
      return CommandCheck(name: spec.name, arguments: arguments, policy: spec.policy, isDependency: spec.dependency)
    case .heartbeat(let path, let maxAge):
      return HeartbeatCheck(
        name: spec.name, path: path, maxAge: maxAge, policy: spec.policy, isDependency: spec.dependency)
    case .config, .drift:
      return nil
    case .custom(let kind, let subject, let options):
      guard let registered = CheckKinds.kind(kind) else { return nil }
      return try registered.make(
        CustomCheckDefinition(
          name: spec.name, kind: kind, subject: subject, options: options, policy: spec.policy,
          dependency: spec.dependency))
    }
  }
}
