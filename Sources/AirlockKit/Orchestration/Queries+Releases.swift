import Foundation

/// Every release one environment has run, newest first: `airlock releases ENV`.
public struct ReleaseList: Sendable, Codable {
  /// The environment.
  public var environment: String
  /// One entry per release, the most recently first shipped first.
  public var releases: [EnvironmentRelease]
}

/// One release as an environment knows it: its standing there and when it was shipped and last seen.
public struct EnvironmentRelease: Sendable, Codable {
  /// Where a release stands in an environment; its raw value is what `--json` prints.
  public enum Standing: String, Sendable, Codable, CaseIterable {
    /// Verified good and not quarantined since: promotable from here, a rollback target.
    case verified
    /// Running, or ran, without a verdict (a broken check, a dependency down, an interrupted run).
    case unverified
    /// Its newest verdict here was a failure (`airlock verify`, or a watch window) and it is not quarantined.
    case failed
    /// After a rollback it failed the same checks the release before it failed: the check is suspect.
    case suspect
    /// Failed or rolled back: rollback never picks it, promotion refuses it without `--force`.
    case quarantined
  }

  /// The release.
  public var release: Release
  /// Whether it runs there now.
  public var current: Bool
  /// Whether `airlock rollback` would go to it now.
  public var rollbackTarget: Bool
  /// Where it stands.
  public var status: Standing
  /// Why it is quarantined, when it is.
  public var quarantineReason: String?
  /// When it was first shipped there (the oldest deploy, promotion or rollback that switched to it).
  public var firstShippedAt: Date
  /// Who shipped it then.
  public var firstShippedBy: String
  /// The commit of that event.
  public var firstShipped: ObjectID
  /// When the newest event about it finished.
  public var lastEventAt: Date
  /// The commit of the newest event about it.
  public var lastEvent: ObjectID
  /// What that event was.
  public var lastEventKind: EventKind
  /// How that event ended.
  public var lastOutcome: EventOutcome
  /// When its verify last passed there, if ever.
  public var lastVerifiedAt: Date?
  /// How many events were about it there.
  public var events: Int
}

extension EnvironmentState {
  /// Where `airlock rollback` goes: the newest verified-good release other than the current one.
  public var rollbackTarget: Release? { good.first { $0.release.id != current?.id }?.release }
}

extension Orchestrator {
  /// Every release `environment` has run, from its ledger branch alone; changes nothing.
  ///
  /// A release has run there when a deploy, promotion or rollback that was not refused switched to it (or tried
  /// to and failed). The standing comes from the newest `state.json`; the times and actors from the events.
  public func releases(environment name: String) throws -> ReleaseList {
    try requireKnownEnvironment(name)
    let head = try ledger.head(of: name)
    let state = head.state
    // Oldest first, so the first event seen for a release is the one that shipped it.
    let events = try ledger.history(of: name, limit: nil).reversed()
    var order: [ObjectID] = []
    var found: [ObjectID: EnvironmentRelease] = [:]
    for (commit, record) in events where Self.concernsReleases(record) {
      // A rollback is about the release it went to and the one it left.
      let left = record.event == .rollback ? record.previous.map { [$0] } ?? [] : []
      for release in (record.release.map { [$0] } ?? []) + left {
        if var known = found[release.id] {
          known.lastEventAt = record.finishedAt
          known.lastEvent = commit.id
          known.lastEventKind = record.event
          known.lastOutcome = record.outcome
          if record.outcome == .ok, record.release == release { known.lastVerifiedAt = record.finishedAt }
          known.events += 1
          found[release.id] = known
        } else if record.event != .verify, record.release == release {
          order.append(release.id)
          found[release.id] = EnvironmentRelease(
            release: release, current: false, rollbackTarget: false, status: .unverified, quarantineReason: nil,
            firstShippedAt: record.finishedAt, firstShippedBy: record.actor, firstShipped: commit.id,
            lastEventAt: record.finishedAt, lastEvent: commit.id, lastEventKind: record.event,
            lastOutcome: record.outcome, lastVerifiedAt: record.outcome == .ok ? record.finishedAt : nil, events: 1)
        }
      }
    }
    let releases = order.reversed().compactMap { id -> EnvironmentRelease? in
      guard var entry = found[id] else { return nil }
      entry.current = state.current?.id == id
      entry.rollbackTarget = state.rollbackTarget?.id == id
      entry.lastVerifiedAt = state.good.first { $0.release.id == id }?.verifiedAt ?? entry.lastVerifiedAt
      entry.status = Self.standing(of: entry, in: state)
      entry.quarantineReason = state.quarantine(of: id)?.reason
      return entry
    }
    return ReleaseList(environment: name, releases: releases)
  }

  /// Whether `record` is a deploy, promotion, rollback or verify that was not refused: the events that ship,
  /// judge or leave a release.
  static func concernsReleases(_ record: EventRecord) -> Bool {
    [.deploy, .promote, .rollback, .verify].contains(record.event) && record.outcome != .blocked
  }

  /// The standing of a release in `state`, from what the state says, else from its newest event.
  static func standing(of entry: EnvironmentRelease, in state: EnvironmentState) -> EnvironmentRelease.Standing {
    let id = entry.release.id
    if state.quarantine(of: id) != nil { return .quarantined }
    if state.current?.id == id, let status = state.currentStatus {
      switch status {
      case .verified: return .verified
      case .unverified: return .unverified
      case .failed: return .failed
      case .suspect: return .suspect
      }
    }
    if state.isVerified(id) { return .verified }
    return entry.lastOutcome == .failed ? .failed : .unverified
  }

  /// Refuses an environment neither the pipeline nor the ledger knows, naming those that exist (exit 2).
  func requireKnownEnvironment(_ name: String) throws {
    let recorded = try ledger.recordedEnvironments()
    guard !recorded.contains(name), pipeline?.environment(named: name) == nil else { return }
    let declared = pipeline?.environments.map(\.name) ?? []
    throw AirlockError.noEnvironment(
      name, in: ledger.pipeline, known: declared + recorded.filter { !declared.contains($0) })
  }
}
