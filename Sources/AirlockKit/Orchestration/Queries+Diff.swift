import Foundation

/// How two releases differ: their artifact files and the config each last ran with: `airlock diff ID OTHER`.
public struct ReleaseDiff: Sendable, Codable {
  /// The first release named.
  public var from: Release
  /// The second release named.
  public var to: Release
  /// Whether both are the same artifact tree (then `files` is empty).
  public var sameTree: Bool
  /// What `to`'s artifact adds, removes and changes against `from`'s.
  public var files: ArtifactChanges
  /// The config each was recorded with, compared.
  public var config: ConfigComparison
}

/// The config two releases were recorded with, compared key by key (secrets by fingerprint only).
public struct ConfigComparison: Sendable, Codable {
  /// The event whose `config.env` one side's config comes from.
  public struct Source: Sendable, Codable, Hashable {
    /// The environment it ran in.
    public var environment: String
    /// The event's commit.
    public var event: ObjectID
    /// When the event finished.
    public var at: Date
  }

  /// Where the first release's config comes from; absent when it never ran anywhere.
  public var from: Source?
  /// Where the second release's config comes from; absent when it never ran anywhere.
  public var to: Source?
  /// Whether both come from one environment: the one both most recently ran in.
  public var sameEnvironment: Bool
  /// Keys added, removed or changed from `from`'s config to `to`'s, sorted by key; empty when a side is absent.
  public var changes: [ConfigChange]
}

extension Orchestrator {
  /// Compares two releases, named by label or unique tree-id prefix, from the ledger alone; changes nothing.
  ///
  /// The config of each is the one recorded with its newest event in the environment both most recently ran in
  /// (the one whose older of the two newest events is the newest); when no environment ran both, each one's newest
  /// event anywhere.
  public func diff(_ reference: String, _ other: String) throws -> ReleaseDiff {
    let from = try requireRelease(reference)
    let to = try requireRelease(other)
    let files = from.id == to.id ? ArtifactChanges() : try ledger.ledger.changes(from: from.id, to: to.id)
    var newest: [String: (from: ConfigComparison.Source?, to: ConfigComparison.Source?)] = [:]
    for environment in try ledger.recordedEnvironments() {
      for (commit, record) in try ledger.history(of: environment, limit: nil) where Self.concernsReleases(record) {
        let source = ConfigComparison.Source(environment: environment, event: commit.id, at: record.finishedAt)
        if record.release?.id == from.id, newest[environment]?.from == nil {
          newest[environment, default: (nil, nil)].from = source
        }
        if record.release?.id == to.id, newest[environment]?.to == nil {
          newest[environment, default: (nil, nil)].to = source
        }
      }
    }
    let shared = newest.values.compactMap { pair in pair.from.flatMap { a in pair.to.map { (a, $0) } } }
    let sides: (from: ConfigComparison.Source?, to: ConfigComparison.Source?)
    if let both = shared.max(by: { Self.bothRan($0) < Self.bothRan($1) }) {
      sides = both
    } else {
      sides = (
        newest.values.compactMap(\.from).max { ($0.at, $0.event) < ($1.at, $1.event) },
        newest.values.compactMap(\.to).max { ($0.at, $0.event) < ($1.at, $1.event) }
      )
    }
    var changes: [ConfigChange] = []
    if let before = sides.from, let after = sides.to {
      changes = Self.configChanges(
        from: ConfigFile.parse(try ledger.configText(at: before.event) ?? ""),
        to: ConfigFile.parse(try ledger.configText(at: after.event) ?? ""), secretNames: [])
    }
    return ReleaseDiff(
      from: from, to: to, sameTree: from.id == to.id, files: files,
      config: ConfigComparison(
        from: sides.from, to: sides.to,
        sameEnvironment: sides.from != nil && sides.from?.environment == sides.to?.environment,
        changes: changes))
  }

  /// When both sides had run: the older of the two events, with the commit ids to break ties.
  private static func bothRan(_ pair: (ConfigComparison.Source, ConfigComparison.Source)) -> (Date, String) {
    let (one, other) = ((pair.0.at, pair.0.event.hex), (pair.1.at, pair.1.event.hex))
    return one < other ? one : other
  }

  /// The release `reference` names, or the `noRelease` refusal (exit 2) listing the labels that exist.
  func requireRelease(_ reference: String) throws -> Release {
    guard let release = try ledger.findRelease(reference) else { throw ledger.noRelease(reference) }
    return release
  }
}
