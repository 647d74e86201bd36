import Foundation

/// One pipeline's view of the ledger: its environment branches, release tags and leases.
///
/// Every event becomes one commit on `refs/heads/<pipeline>/<environment>` whose tree is the environment's state
/// after the event; labels are bound once with `refs/tags/<pipeline>/<label>`.
public final class PipelineLedger {
  /// The underlying git repository; not public, so callers go through the pipeline-scoped methods.
  let ledger: Ledger
  /// The pipeline name that prefixes every ref.
  public let pipeline: String

  /// The shared ledger this one mirrors (`file://`, `ssh://`…), or `nil` when the local ledger is the ledger.
  public let remote: String?

  /// A view of `ledger` for `pipeline`; with `remote`, `ledger` is the local mirror of that shared ledger.
  public init(ledger: Ledger, pipeline: String, remote: String? = nil) {
    self.ledger = ledger
    self.pipeline = pipeline
    self.remote = remote
  }

  // MARK: Sharing

  /// Brings the local mirror up to date with the shared ledger; nothing to do for a local ledger.
  public func synchronize() throws {
    guard let remote else { return }
    do {
      try ledger.fetch(from: remote)
    } catch let error as LedgerError {
      throw LedgerError(.remote, LedgerError.unreachable(remote, reason: error.message))
    }
  }

  /// Pushes `refs` to the shared ledger without force; a rejection means another runner moved them first.
  func publish(_ refs: [String], what: String) throws {
    guard let remote else { return }
    let rejected: [String]
    do {
      rejected = try ledger.push(refs, to: remote)
    } catch let error as LedgerError {
      throw LedgerError(.remote, LedgerError.notPublished(what, to: remote, reason: error.message))
    }
    guard rejected.isEmpty else {
      try? ledger.fetch(from: remote)
      throw LedgerError(.concurrentUpdate, LedgerError.publishRejected(what, by: remote))
    }
  }

  /// Deletes `name` from the shared ledger if it still points at `expected`.
  func retract(_ name: String, expected: ObjectID) {
    guard let remote else { return }
    _ = try? ledger.deleteRemoteReference(name, expected: expected, on: remote)
  }

  /// The newest commit of an environment's branch, decoded.
  public struct Head: Sendable {
    /// The commit id; `nil` when the environment has no events yet.
    public var commit: ObjectID?
    /// The environment's derived state after the newest event.
    public var state: EnvironmentState
  }

  /// The branch name of `environment`, e.g. `web/production`.
  public func branch(_ environment: String) -> String { "\(pipeline)/\(environment)" }

  /// The newest state of `environment`, read from one commit.
  public func head(of environment: String) throws -> Head {
    guard let commit = try ledger.reference("refs/heads/" + branch(environment)) else {
      return Head(commit: nil, state: EnvironmentState())
    }
    guard let data = try ledger.readFile("state.json", inCommit: commit) else {
      throw LedgerError(
        .corrupt,
        LedgerError.missing("state.json", commit: commit, place: "on \(branch(environment))", ledger: ledger.path))
    }
    let state = try decode(EnvironmentState.self, "state.json", of: commit, branch: branch(environment), from: data)
    return Head(commit: commit, state: state)
  }

  /// The decoded `release.json` of a commit.
  ///
  /// One that does not decode throws `LedgerError` `.corrupt` naming the commit and the file, and what to do.
  public func record(at commit: ObjectID) throws -> EventRecord {
    guard let data = try ledger.readFile("release.json", inCommit: commit) else {
      throw LedgerError(.corrupt, LedgerError.missing("release.json", commit: commit, place: nil, ledger: ledger.path))
    }
    return try decode(EventRecord.self, "release.json", of: commit, from: data)
  }

  /// The decoded `environment.json` of a commit, if it has one.
  public func snapshot(at commit: ObjectID) throws -> EnvironmentSnapshot? {
    guard let data = try ledger.readFile("environment.json", inCommit: commit) else { return nil }
    return try decode(EnvironmentSnapshot.self, "environment.json", of: commit, from: data)
  }

  /// Decodes one ledger file; a failure becomes `LedgerError` `.corrupt` naming the commit and file.
  private func decode<T: Decodable>(
    _ type: T.Type, _ file: String, of commit: ObjectID, branch: String? = nil, from data: Data
  ) throws -> T {
    do {
      return try LedgerCoding.decode(type, from: data)
    } catch {
      throw LedgerError(
        .corrupt,
        LedgerError.unreadable(
          file, commit: commit, branch: branch, ledger: ledger.path, reason: LedgerCoding.explain(error)))
    }
  }

  /// The `config.env` text of a commit (secrets as fingerprints).
  public func configText(at commit: ObjectID) throws -> String? {
    try ledger.readFile("config.env", inCommit: commit).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The `config.env` text of an environment's newest event, or empty when it has none: what an event that
  /// changes no release records again.
  public func recordedConfigText(_ head: Head) throws -> String {
    try head.commit.flatMap { try configText(at: $0) } ?? ""
  }

  /// The config the release running in `environment` was recorded with, or `nil` when nothing runs there yet.
  ///
  /// Events that ran nothing (a refused or aborted first deploy) carry an empty config; counting them would make
  /// the environment's declared config look empty to `drift` and `differs_from`.
  func runningConfigText(of environment: String) throws -> String? {
    try runningConfigText(try head(of: environment))
  }

  /// The config the release running at `head` was recorded with, or `nil` when nothing runs there yet.
  func runningConfigText(_ head: Head) throws -> String? {
    guard head.state.current != nil, let commit = head.commit else { return nil }
    return try configText(at: commit)
  }

  /// The check results (`checks.json`) of a commit.
  public func checkResults(at commit: ObjectID) throws -> [CheckResult] {
    guard let data = try ledger.readFile("checks.json", inCommit: commit) else { return [] }
    return try decode([CheckResult].self, "checks.json", of: commit, from: data)
  }

  /// Everything one event commit holds besides the artifact.
  public struct EventFiles {
    /// The event's `release.json`.
    public var record: EventRecord
    /// The environment's state after the event (`state.json`).
    public var state: EnvironmentState
    /// The `config.env` text; secrets as fingerprints only.
    public var configText: String
    /// Every probe of every check run (`checks.json`).
    public var checks: [CheckResult]
    /// The environment's definition (`environment.json`), so rollback works without the pipeline file.
    public var snapshot: EnvironmentSnapshot?
    /// The artifact tree of the release running after the event, if any.
    public var artifact: ObjectID?
  }

  /// Appends one event to `environment`'s branch with a compare-and-swap from `expected`.
  ///
  /// A branch that moved since `expected` was read throws `LedgerError` `.concurrentUpdate` and writes nothing.
  @discardableResult
  public func append(
    _ files: EventFiles, to environment: String, expected: ObjectID?, message: String, author: Signature,
    beforeReferenceUpdate: () -> Void = {}
  ) throws -> ObjectID {
    var blobs: [String: Data] = [
      "release.json": try LedgerCoding.encode(files.record),
      "state.json": try LedgerCoding.encode(files.state),
      "config.env": Data(files.configText.utf8),
      "checks.json": try LedgerCoding.encode(files.checks),
    ]
    if let snapshot = files.snapshot { blobs["environment.json"] = try LedgerCoding.encode(snapshot) }
    let tree = try ledger.writeTree(files: blobs, subtrees: files.artifact.map { ["artifact": $0] } ?? [:])
    let commit = try ledger.writeCommit(
      tree: tree, parents: expected.map { [$0] } ?? [], message: message, author: author,
      time: files.record.finishedAt)
    beforeReferenceUpdate()
    do {
      try ledger.updateReference(
        "refs/heads/" + branch(environment), to: commit, expected: expected, logMessage: "airlock: \(message)")
    } catch let error as LedgerError where error.code == .concurrentUpdate {
      throw LedgerError(.concurrentUpdate, LedgerError.recordedMeanwhile(environment))
    }
    try publish(["refs/heads/" + branch(environment)], what: "the \(environment) branch")
    return commit
  }

  /// Newest-first events of `environment`, at most `limit`; an event whose `release.json` does not decode throws.
  public func history(of environment: String, limit: Int?) throws -> [(commit: LedgerCommit, record: EventRecord)] {
    try events(of: environment, limit: limit).map { ($0.commit, try $0.record.get()) }
  }

  /// Newest-first events of `environment`, at most `limit`, each with its `release.json` or why it cannot be read
  /// (`LedgerError` `.corrupt` naming the commit and file), so one unreadable event does not hide the others.
  public func events(of environment: String, limit: Int?) throws
    -> [(commit: LedgerCommit, record: Result<EventRecord, LedgerError>)]
  {
    guard try ledger.reference("refs/heads/" + branch(environment)) != nil else { return [] }
    return try ledger.history(branch: branch(environment), limit: limit).map { commit in
      do {
        return (commit, .success(try record(at: commit.id)))
      } catch let error as LedgerError where error.code == .corrupt {
        return (commit, .failure(error))
      }
    }
  }

  /// Environments that have at least one event, by branch name.
  public func recordedEnvironments() throws -> [String] {
    let prefix = "refs/heads/\(pipeline)/"
    return try ledger.references(withPrefix: prefix).map { String($0.name.dropFirst(prefix.count)) }
  }

  // MARK: Releases

  private func tagName(_ label: String) -> String { "refs/tags/\(pipeline)/\(label)" }

  /// The release bound to `label`, if any.
  public func release(labelled label: String) throws -> Release? {
    guard Release.isValidLabel(label), let commit = try ledger.reference(tagName(label)) else { return nil }
    guard let tree = try ledger.entry("artifact", inCommit: commit) else {
      throw LedgerError(
        .corrupt,
        LedgerError.missing("artifact", commit: commit, place: "of tag \(pipeline)/\(label)", ledger: ledger.path))
    }
    return Release(id: tree, version: label)
  }

  /// Stores `directory` as an artifact and binds its label (default: the tree id's first 12 hex digits).
  ///
  /// A label already bound to a different tree is refused; the same tree under the same label is the same release.
  public func storeRelease(directory: URL, version: String?, actor: Signature, time: Date) throws -> Release {
    if let version, !Release.isValidLabel(version) {
      throw LedgerError(.invalidInput, PipelineNames.invalidLabel(version))
    }
    let tree = try ledger.storeArtifact(directory: directory)
    let label = version ?? tree.short
    if let bound = try release(labelled: label) {
      guard bound.id == tree else {
        throw LedgerError(.invalidInput, LedgerError.labelBound(label, to: bound.id, not: tree))
      }
      return bound
    }
    let release = Release(id: tree, version: label)
    let manifest = try LedgerCoding.encode(
      ReleaseManifest(pipeline: pipeline, version: label, id: tree, createdAt: time, actor: actor.name))
    let tagTree = try ledger.writeTree(files: ["release.json": manifest], subtrees: ["artifact": tree])
    let commit = try ledger.writeCommit(
      tree: tagTree, parents: [], message: "release \(pipeline) \(label)", author: actor, time: time)
    do {
      try ledger.updateReference(tagName(label), to: commit, expected: nil, logMessage: "airlock: bind \(label)")
      try publish([tagName(label)], what: "version \(label)")
    } catch let error as LedgerError where error.code == .concurrentUpdate {
      // Another runner bound the label first, here or in the shared ledger: fine if it bound the same tree.
      guard let bound = try self.release(labelled: label), bound.id == tree else {
        throw LedgerError(.invalidInput, LedgerError.labelJustBound(label))
      }
    }
    return release
  }

  /// Every release label of the pipeline with its tag commit, in ref order.
  public func boundLabels() throws -> [(label: String, commit: ObjectID)] {
    let prefix = "refs/tags/\(pipeline)/"
    return try ledger.references(withPrefix: prefix).map { (String($0.name.dropFirst(prefix.count)), $0.target) }
  }

  /// Every release label of the pipeline, newest first (by when the label was bound).
  public func releaseLabels() throws -> [String] {
    try boundLabels().map { (label: $0.label, time: try ledger.commit($0.commit).time) }
      .sorted { ($0.time, $0.label) > ($1.time, $1.label) }.map(\.label)
  }

  /// The refusal of a `reference` that names no release: exit 2, listing the labels that exist.
  func noRelease(_ reference: String) -> AirlockError {
    AirlockError.noRelease(reference, in: pipeline, known: (try? releaseLabels()) ?? [])
  }

  /// Finds a release by label or by a unique prefix (at least 4 hex digits) of its tree id.
  ///
  /// `known` releases (for example those an environment's state mentions) are searched first, so the common case
  /// needs no scan of the tags.
  public func findRelease(_ reference: String, among known: [Release] = []) throws -> Release? {
    if let match = known.first(where: { $0.version == reference }) { return match }
    if let bound = try release(labelled: reference) { return bound }
    let prefix = reference.lowercased()
    guard prefix.count >= 4, prefix.count <= 40, prefix.allSatisfy(\.isHexDigit) else { return nil }
    var matches = Set(known.filter { $0.id.hex.hasPrefix(prefix) })
    if matches.isEmpty {
      for (label, commit) in try boundLabels() {
        guard let tree = try ledger.entry("artifact", inCommit: commit), tree.hex.hasPrefix(prefix) else { continue }
        matches.insert(Release(id: tree, version: label))
      }
    }
    let trees = Set(matches.map(\.id))
    guard trees.count <= 1 else {
      throw LedgerError(.invalidInput, LedgerError.ambiguousPrefix(reference, matches: trees.count))
    }
    return matches.sorted { $0.version < $1.version }.first
  }
}

/// The `release.json` of a label's tag commit.
struct ReleaseManifest: Codable {
  var pipeline: String
  var version: String
  var id: ObjectID
  var createdAt: Date
  var actor: String
}
