import AirlockKit
import AirlockTestSupport
import Foundation

extension CheckContext {
  /// A context for tests: pipeline `web`, environment `staging`, version `1.4.2`, release `abc123`, and a manual
  /// clock unless one is given.
  static func testing(
    hosts: [String] = ["localhost"], version: String = "1.4.2", release: String = "abc123",
    releaseDirectory: URL? = nil, processEnvironment: [String: String] = CheckContext.baseEnvironment(),
    clock: any AirlockClock = ManualClock()
  ) -> CheckContext {
    CheckContext(
      pipeline: "web", environment: "staging", hosts: hosts, version: version, release: release,
      releaseDirectory: releaseDirectory, processEnvironment: processEnvironment, clock: clock)
  }
}

extension CheckResult {
  /// The reasons of every probe on `host` (the only host when `nil`), in order.
  func reasons(on host: String? = nil) -> [String] {
    hosts.first { host == nil || $0.host == host }?.probes.map(\.reason) ?? []
  }
}
