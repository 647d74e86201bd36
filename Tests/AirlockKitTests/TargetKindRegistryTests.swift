import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

extension PipelineTestSupport {
  /// The draft decoding `text` gives and every diagnostic, also when the file is refused: what each environment's
  /// target decoded to, even a planned kind's.
  static func decoded(_ text: String, file: String = "pipelines/web.yml") -> (
    targets: [String: TargetSpec], diagnostics: [Diagnostic]
  ) {
    let (tree, read) = YAMLReader.read(text, file: file)
    guard let tree else { return ([:], read) }
    let decoder = PipelineDecoder(file: file)
    let environments = decoder.decode(tree)?.environments ?? []
    let targets = Dictionary(environments.map { ($0.spec.name, $0.spec.target) }) { first, _ in first }
    return (targets, read + decoder.diagnostics)
  }
}

/// A target that keeps its releases in a `LocalTarget` under `folder/mirror`, names its one host `mirror-1`, and says
/// so on the progress stream when it switches: a library user's kind, in a few lines.
struct MirrorTarget: Target {
  let local: LocalTarget

  var hosts: [String] { ["mirror-1"] }
  func currentVersion() throws -> String? { try local.currentVersion() }
  func hasRelease(_ version: String) -> Bool { local.hasRelease(version) }
  func releaseDirectory(_ version: String) -> URL { local.releaseDirectory(version) }
  func install(
    _ release: Release, configText: String, on hosts: [String], export: (URL) throws -> Void
  ) async throws -> [HostSwitch] {
    try await local.install(release, configText: configText, on: hosts, export: export)
  }
  func activate(_ version: String, on hosts: [String], context: SwitchContext) async throws -> [HostSwitch] {
    let outcomes = try await local.activate(version, on: hosts, context: context)
    context.progress("mirror: \(outcomes.map(\.description).joined(separator: ", ")) for \(version)")
    return outcomes
  }
  func prune(keep: Int, protecting: Set<String>) throws -> [String] {
    try local.prune(keep: keep, protecting: protecting)
  }
}

/// A target kind a library user registers is named in pipelines like a built-in kind, validated with line and
/// column, and runs deploys through the engine; the planned built-in kinds are decoded but refused.
@Suite struct TargetKindRegistryTests {
  static let key = "test-mirror-local"

  /// Registers the mirror kind once per process (the registry is global, and suites run in parallel).
  static func registered() -> String {
    _ = try? TargetKinds.register(
      CustomTargetKind(key: key, options: ["folder", "note"], required: ["folder"]) { definition in
        let folder = definition.resolve(definition.options["folder"] ?? "")
        return MirrorTarget(
          local: LocalTarget(root: folder.appendingPathComponent("mirror"), pipeline: definition.pipeline))
      })
    return key
  }

  static func pipeline(target: String, verify: String = "") -> String {
    """
    pipeline: web
    environments:
      - name: staging
        target:
    \(target)
    \(verify)
    """
  }

  @Test func aRegisteredKindLoadsWithItsOptions() throws {
    let key = Self.registered()
    let pipeline = try PipelineLoader.parse(
      Self.pipeline(target: "      \(key): {folder: targets/staging, note: 7}"), file: "pipelines/web.yml",
      root: URL(fileURLWithPath: "/project"))
    let target = try #require(pipeline.environments.first?.target)
    #expect(target == .custom(kind: key, options: ["folder": "targets/staging", "note": "7"]))
    #expect(target.keyword == key)
    let built = try TargetKinds.make(target, pipeline: "web", environment: "staging", root: "/project")
    #expect(built.hosts == ["mirror-1"])
    #expect(built.releaseDirectory("1.0").path == "/project/targets/staging/mirror/releases/1.0")
  }

  @Test func aRegisteredKindGetsTheSameLineAndColumnValidation() {
    let key = Self.registered()
    let misspelt = PipelineTestSupport.diagnostics(
      Self.pipeline(target: "      \(key):\n        folder: targets/staging\n        noet: x")
    ).map(\.description)
    #expect(
      misspelt == [
        "pipelines/web.yml:7:9: error: unknown key 'noet' in the \(key) target of environment 'staging' "
          + "(did you mean 'note'?)"
      ])
    let missing = PipelineTestSupport.diagnostics(Self.pipeline(target: "      \(key): {note: x}"))
      .map(\.description)
    #expect(
      missing == [
        "pipelines/web.yml:5:26: error: the \(key) target of environment 'staging' has no 'folder'; give it, like "
          + "'folder: …'"
      ])
    let list = PipelineTestSupport.diagnostics(Self.pipeline(target: "      \(key): {folder: [a, b]}"))
      .map(\.description)
    #expect(list.count == 1 && list[0].hasPrefix("pipelines/web.yml:5:35: error: 'folder' must be a value"), "\(list)")
    let two = PipelineTestSupport.diagnostics(
      Self.pipeline(target: "      local: targets/staging\n      \(key): {folder: x}")
    ).map(\.description)
    #expect(
      two == [
        "pipelines/web.yml:6:7: error: the target of environment 'staging' has both 'local' and '\(key)'; give "
          + "exactly one"
      ])
  }

  @Test func aKindNobodyRegisteredIsRefusedAtItsKey() {
    let diagnostics = PipelineTestSupport.diagnostics(Self.pipeline(target: "      nobody-registered: {path: x}"))
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.line == 5 && diagnostics.first?.column == 7)
    #expect(diagnostics.first?.message.contains("unknown key 'nobody-registered' in the target") == true)
  }

  @Test func aDeployRunsThroughTheRegisteredKind() async throws {
    let key = Self.registered()
    let project = try ScratchProject()
    try project.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            \(key): {folder: targets/staging}
          verify: [serving]
      checks:
        serving:
          command: [bin/serving, '{host}']
          attempts: 1
      """)
    try project.artifact(
      version: "1.0.0", files: ["bin/serving": "#!/bin/sh\ntest \"$1\" = mirror-1 && test -f VERSION\n"])
    try FileManager.default.setAttributes(
      [.posixPermissions: 0o755], ofItemAtPath: project.root.appendingPathComponent("artifacts/1.0.0/bin/serving").path)
    let report = try await project.deploy("staging", "1.0.0")
    #expect(report.outcome == .ok && report.exitCode == 0, "\(report.summary)")
    let mirror = project.target("staging").appendingPathComponent("mirror")
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: mirror.appendingPathComponent("current").path)
        == "releases/1.0.0")
    #expect(project.progress.value.contains("mirror: mirror-1: ok for 1.0.0"), "\(project.progress.value)")
    #expect(report.checks.map(\.verdict) == [.pass])
    let status = try project.orchestrator().status()
    #expect(status.first?.onTarget == "1.0.0")
    #expect(status.first?.interrupted == nil)
  }

  @Test func theBuiltInKindsBuildTheirTargets() throws {
    let text = """
      pipeline: web
      environments:
        - name: staging
          target:
            ssh:
              hosts: [web1.example.com, 10.0.0.7]
              user: deploy
              path: /srv/shop
              batch: 50%
        - name: cluster
          target:
            command:
              apply: [kubectl, apply, -f, k8s, --timeout, 30]
              current: [bin/current]
              timeout: 2m
              hosts: [k8s-a]
      """
    let (targets, diagnostics) = PipelineTestSupport.decoded(text)
    #expect(
      targets["staging"]
        == .ssh(
          SSHTargetSpec(
            hosts: ["web1.example.com", "10.0.0.7"], user: "deploy", path: "/srv/shop", batch: [.percent(50)])))
    #expect(
      targets["cluster"]
        == .command(
          CommandTargetSpec(
            apply: ["kubectl", "apply", "-f", "k8s", "--timeout", "30"], current: ["bin/current"],
            timeout: .seconds(120), hosts: ["k8s-a"])))
    #expect(diagnostics.isEmpty)
    let cluster = try TargetKinds.make(targets["cluster"]!, pipeline: "web", environment: "cluster", root: "/project")
    #expect(cluster.hosts == ["k8s-a"])
    #expect(cluster.releaseDirectory("1.0").path == "/project/.airlock/targets/web-cluster/releases/1.0")
    let fleet = try TargetKinds.make(targets["staging"]!, pipeline: "web", environment: "staging", root: "/project")
    #expect(fleet.hosts == ["web1.example.com", "10.0.0.7"])
    #expect(fleet.steps == [SwitchStep(hosts: ["web1.example.com"]), SwitchStep(hosts: ["10.0.0.7"])])
  }

  @Test func theKeyTablesComeFromTheKinds() {
    #expect(TargetKinds.builtIn == ["local", "ssh", "command"])
    #expect(
      BuiltInTargetKind.ssh.keys == [
        "hosts", "user", "path", "port", "batch", "ssh_config", "known_hosts", "connect_timeout",
      ])
    #expect(BuiltInTargetKind.command.keys == ["apply", "current", "timeout", "hosts"])
    #expect(BuiltInTargetKind.allCases.allSatisfy { $0.isImplemented })
    #expect(CheckKinds.builtIn == ["http", "tcp", "command", "heartbeat", "config", "drift"])
    #expect(
      PipelineDecoder.kindKeys == ["expect": "http", "contains": "http", "max_age": "heartbeat", "allow": "drift"])
  }

  @Test(arguments: ["local", "ssh", "command", "Bad Name"])
  func aKindCannotTakeABuiltInKeyOrAnInvalidName(_ key: String) {
    #expect(throws: AirlockError.self) {
      try TargetKinds.register(
        CustomTargetKind(key: key) { _ in LocalTarget(root: URL(fileURLWithPath: "/"), pipeline: "web") })
    }
  }

  @Test func aKindIsRegisteredOnceAndRequiresOnlyItsOwnOptions() {
    let key = Self.registered()
    #expect(throws: AirlockError.self) {
      try TargetKinds.register(
        CustomTargetKind(key: key) { _ in LocalTarget(root: URL(fileURLWithPath: "/"), pipeline: "web") })
    }
    #expect(throws: AirlockError.self) {
      try TargetKinds.register(
        CustomTargetKind(key: "test-requires-unlisted", options: ["a"], required: ["b"]) { _ in
          LocalTarget(root: URL(fileURLWithPath: "/"), pipeline: "web")
        })
    }
    #expect(TargetKinds.keys.contains(key))
  }
}

/// The shape every kind shares: hosts, steps, per-host outcomes.
@Suite struct TargetShapeTests {
  @Test func aLocalTargetIsOneHostSwitchedInOneStep() async throws {
    let folder = try ScratchProject("airlock-target-shape")
    let target = LocalTarget(root: folder.root, pipeline: "web")
    #expect(target.hosts == ["localhost"])
    #expect(target.steps == [SwitchStep(hosts: ["localhost"])])
    #expect(try target.currentVersions() == [HostVersion(host: "localhost", version: nil)])
    let missing = try await target.activate("9.9", on: target.hosts, context: SwitchContext(environment: [:]))
    #expect(missing.map(\.host) == ["localhost"])
    #expect(missing.first?.failure?.code == .missingRelease)
    #expect(try target.currentVersion() == nil)
  }

  @Test func aLoneHostsFailureIsItsOwnAndAFleetsNamesEachHost() {
    let full = TargetError(.io, "disk full on /srv/web")
    #expect(HostSwitch.failure(of: [.succeeded("web1")]) == nil)
    #expect(HostSwitch.failure(of: [.failed("localhost", full)])?.message == "disk full on /srv/web")
    let fleet = HostSwitch.failure(of: [.succeeded("web1"), .failed("web2", full), .failed("web3", full)])
    #expect(fleet?.code == .io)
    #expect(fleet?.message == "2 of 3 hosts failed: web2: disk full on /srv/web; web3: disk full on /srv/web")
  }
}
