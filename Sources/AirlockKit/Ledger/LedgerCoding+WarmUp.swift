import Foundation

extension LedgerCoding {
  /// Encodes and decodes one small sample of every document an event writes (`state.json`, `release.json`,
  /// `checks.json`, `environment.json`, `lease.json`), in memory, and throws the results away.
  ///
  /// The first time a process encodes or decodes a type, the Swift runtime instantiates the coders' generic
  /// containers for it and looks up the conformances they require (its `CodingKeys` as `CodingKey`, among others),
  /// and each first lookup walks every conformance record in the binary: about a millisecond for the ledger's types,
  /// repeated in every process.
  /// `Startup.prepareInBackground()` runs this on its own thread after libgit2's initialisation, so the runtime's
  /// caches are warm by the time the command reads its environment's state, while argument parsing and the pipeline
  /// load go on beside it. Nothing is written and nothing is shared but those caches. Returns how many of the five
  /// samples came back equal (a test pins five, so a sample that stops decoding is noticed).
  @discardableResult
  static func warmUp() -> Int {
    let time = Date(timeIntervalSince1970: 0)
    let id = ObjectID(hex: String(repeating: "0", count: 40))!
    let release = Release(id: id, version: "warm-up")
    var state = EnvironmentState()
    state.current = release
    state.currentStatus = .verified
    state.good = [GoodRelease(release: release, config: id, verifiedAt: time)]
    state.quarantined = [Quarantine(release: release, reason: "warm-up", since: time, config: id)]
    state.approvals = [Approval(release: release, actor: "warm-up", at: time)]
    let record = EventRecord(
      pipeline: "warm-up", environment: "warm-up", event: .rollback, outcome: .ok, release: release, current: release,
      previous: release, actor: "warm-up", startedAt: time, finishedAt: time, detail: "warm-up")
    let probe = Probe(host: "localhost", attempt: 1, outcome: .ok, reason: "warm-up", startedAt: time, milliseconds: 0)
    let checks = [
      CheckResult(
        name: "warm-up", kind: "warm-up", dependency: false, verdict: .pass,
        hosts: [HostResult(host: "localhost", verdict: .pass, probes: [probe])])
    ]
    let environment = EnvironmentSpec(name: "warm-up", target: .local(path: "warm-up"), config: ["warm-up": ""])
    let snapshot = EnvironmentSnapshot(
      pipeline: Pipeline(name: "warm-up", file: "", root: "/", environments: [environment], checks: [:]),
      environment: environment)
    let holder = LeaseHolder(
      kind: .operation, actor: "warm-up", host: "localhost", pid: 0, operation: "warm-up", reason: nil,
      started: time, expires: time)
    let roundTrips = [
      (try? decode(EnvironmentState.self, from: encode(state))) == state,
      (try? decode(EventRecord.self, from: encode(record))) == record,
      (try? decode([CheckResult].self, from: encode(checks))) == checks,
      (try? decode(EnvironmentSnapshot.self, from: encode(snapshot))) == snapshot,
      (try? decode(LeaseHolder.self, from: encode(holder))) == holder,
    ]
    return roundTrips.filter { $0 }.count
  }
}
