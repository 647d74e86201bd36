/// Turns check definitions from a pipeline into runnable checks.
public enum CheckCatalog {
  /// The check for `spec`, or `nil` for the preflight kinds `config` and `drift`, which are built elsewhere because
  /// they need more than one environment's view.
  public static func make(_ spec: CheckSpec) -> (any Check)? {
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
    }
  }
}
