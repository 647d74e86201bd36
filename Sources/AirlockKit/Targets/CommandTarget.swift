import Foundation

/// Anything with a CLI (kubectl, helm, nomad, a load balancer script): Airlock keeps the releases in a folder of
/// its own and runs the user's `apply` in a release's folder to make it live.
///
/// The releases live in `.airlock/targets/<pipeline>-<environment>/releases/<label>/` under the project root, laid out
/// and retained like a `local` target's (complete-or-absent, `.airlock/config.env` at mode 0600, `keep` kept). Its
/// `current` symlink is Airlock's own bookkeeping: the release the last successful `apply` made live. `apply` runs
/// without a shell, in the release folder, with the config, the secrets, the `AIRLOCK_*` variables and
/// `AIRLOCK_RELEASE_DIR`; its process group is ended on timeout or signal. A failing `apply` is the release failing
/// (`TargetError.Code.applyFailed`), not a failed switch: the engine records it as a failed check and applies the
/// failure policy. A rollback is `apply` in the older release's folder, exported again when it is no longer kept.
///
/// With `current`, what really runs is what that program prints (a label or a tree id), run in the folder of the
/// release last applied with that release's config; without it, the last applied release. Before anything was
/// applied, nothing runs as far as Airlock knows, and `current` is not run.
public struct CommandTarget: Target {
  /// The target as the pipeline declares it.
  public let spec: CommandTargetSpec
  /// The folder holding the releases and the bookkeeping `current` link.
  public let folder: LocalTarget
  private let environment: String
  private let runner: ProcessRunner

  /// The target of `environment` of `pipeline`, whose releases live under the project `root`.
  public init(
    _ spec: CommandTargetSpec, pipeline: String, environment: String, root: URL, runner: ProcessRunner = ProcessRunner()
  ) {
    self.spec = spec
    self.environment = environment
    self.runner = runner
    folder = LocalTarget(
      root: root.appendingPathComponent(".airlock/targets/\(pipeline)-\(environment)"), pipeline: pipeline)
  }

  /// How long each run of `apply` or `current` may take.
  public var timeout: Duration { spec.timeout?.duration ?? .seconds(300) }

  /// The names `hosts` gives, else `localhost`.
  public var hosts: [String] { spec.hosts ?? ["localhost"] }

  /// `.airlock/targets/<pipeline>-<environment>/releases/<version>`.
  public func releaseDirectory(_ version: String) -> URL { folder.releaseDirectory(version) }

  /// Whether the release folder is there.
  public func hasRelease(_ version: String) -> Bool { folder.hasRelease(version) }

  /// What `current` prints, as a label when it names a release folder's label or tree id; without `current`, the
  /// release the last successful `apply` made live. Throws `TargetError` `.unknownState` when `current` fails.
  public func currentVersion() throws -> String? {
    // Before Airlock applied anything there is no release folder for `current` to run in, and nothing of its own
    // to report.
    guard let applied = try folder.currentVersion() else { return nil }
    guard let program = spec.current, !program.isEmpty else { return applied }
    let directory = releaseDirectory(applied)
    var variables = CheckContext.baseEnvironment()
    let config = (try? String(contentsOf: directory.appendingPathComponent(".airlock/config.env"), encoding: .utf8))
      .map(ConfigFile.parse)
    variables.merge(config?.config ?? [:]) { $1 }
    variables.merge(config?.secrets ?? [:]) { $1 }
    variables["AIRLOCK_VERSION"] = applied
    variables["AIRLOCK_RELEASE_DIR"] = directory.path
    variables["AIRLOCK_PIPELINE"] = folder.pipeline
    variables["AIRLOCK_ENVIRONMENT"] = environment
    let result = runner.runAll([resolved(program, in: directory)], environment: variables, timeout: timeout)[0]
    guard result.succeeded else {
      throw TargetError(
        .unknownState,
        "the target's current program (\(program.joined(separator: " "))) failed: \(result.termination.reason)"
          + (Self.tail(result.output).map { ": \($0)" } ?? ""))
    }
    guard
      let said = result.output.split(whereSeparator: \.isNewline).last.map({ $0.trimmingCharacters(in: .whitespaces) }),
      !said.isEmpty
    else { return nil }
    return label(naming: said) ?? said
  }

  /// The release the last successful `apply` made live, from Airlock's own bookkeeping; `current` is not run.
  public func switchedVersion() throws -> String? { try folder.currentVersion() }

  /// The label of the release folder whose label is `text` or whose tree id starts with it (at least 7 digits).
  func label(naming text: String) -> String? {
    if folder.mark(of: text) != nil { return text }
    guard text.count >= 7, text.allSatisfy(\.isHexDigit) else { return nil }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.releases.path)) ?? []
    return names.first { name in folder.mark(of: name)?.tree.hex.hasPrefix(text.lowercased()) == true }
  }

  /// Exports the release into its folder (or reuses it when its mark shows the same tree) with the config.
  public func install(
    _ release: Release, configText: String, on hosts: [String], export: (URL) throws -> Void
  ) async throws -> [HostSwitch] {
    try await folder.install(release, configText: configText, on: hosts, export: export)
  }

  /// Runs `apply` in the release's folder; once it exits 0, records the release as the one applied. One outcome per
  /// host, all the same: `apply` makes the release live everywhere the target reaches.
  public func activate(_ version: String, on hosts: [String], context: SwitchContext) async throws -> [HostSwitch] {
    guard hasRelease(version) else {
      let error = TargetError(.missingRelease, "release \(version) is not in \(folder.releases.path)")
      return hosts.map { .failed($0, error) }
    }
    let directory = releaseDirectory(version)
    var environment = context.environment
    environment["AIRLOCK_RELEASE_DIR"] = directory.path
    context.progress("→ apply: \(spec.apply.joined(separator: " "))")
    let result = await context.runner.run(
      resolved(spec.apply, in: directory), in: directory, environment: environment, timeout: timeout)
    let output = context.redact(result.output)
    for line in output.split(whereSeparator: \.isNewline).suffix(5) { context.progress("  | \(line)") }
    guard result.succeeded else {
      let error = TargetError(
        .applyFailed, "apply \(result.termination.reason)" + (Self.tail(output).map { ": \($0)" } ?? ""))
      return hosts.map { .failed($0, error) }
    }
    try folder.activate(version)
    return hosts.map { .succeeded($0) }
  }

  /// Deletes this pipeline's releases beyond the newest `keep`, never the applied one nor one in `protecting`.
  public func prune(keep: Int, protecting: Set<String>) throws -> [String] {
    try folder.prune(keep: keep, protecting: protecting)
  }

  /// `arguments` with a relative program path (one containing `/`) resolved in `directory`; bare names are looked up
  /// on `PATH` by the runner.
  private func resolved(_ arguments: [String], in directory: URL) -> [String] {
    guard var program = arguments.first else { return arguments }
    if program.contains("/") && !program.hasPrefix("/") { program = directory.appendingPathComponent(program).path }
    return [program] + arguments.dropFirst()
  }

  /// The last few lines of `output`, joined, or `nil` when it said nothing.
  static func tail(_ output: String) -> String? {
    let lines = output.split(whereSeparator: \.isNewline).suffix(3).map { $0.trimmingCharacters(in: .whitespaces) }
    let text = lines.filter { !$0.isEmpty }.joined(separator: " / ")
    return text.isEmpty ? nil : String(text.prefix(500))
  }
}
