import Foundation

/// A release: an artifact tree plus its version label.
///
/// Two environments run the same release exactly when their `id`s (the artifact's git tree id) are equal.
public struct Release: Sendable, Codable, Hashable, CustomStringConvertible {
  /// The artifact's git tree id.
  public var id: ObjectID
  /// The version label, unique per pipeline.
  public var version: String

  /// The release of artifact tree `id` under `version`.
  public init(id: ObjectID, version: String) {
    self.id = id
    self.version = version
  }

  /// `1.4.2 (3f9c2a1b4d5e)`: the label and the short tree id.
  public var description: String { "\(version) (\(id.short))" }

  /// Whether `label` is a valid version label: see `PipelineNames.isValidLabel(_:)`.
  public static func isValidLabel(_ label: String) -> Bool {
    PipelineNames.isValidLabel(label)
  }
}

/// What kind of event a ledger commit records.
public enum EventKind: String, Sendable, Codable, Hashable {
  case deploy, promote, rollback, verify, lock, unlock, approve, recover
}

/// How an event ended.
public enum EventOutcome: String, Sendable, Codable, Hashable {
  /// Switched (or verified) and verified good.
  case ok
  /// Refused before anything changed: preflight, a hook, or a promotion rule.
  case blocked
  /// Verify failed; the environment was left as it is (or a rollback followed as its own event).
  case failed
  /// Verify could not be performed because a check is broken.
  case inconclusive
  /// After a rollback the restored release failed the same checks: the check or the environment is suspect.
  case suspect
  /// The release was already running and verified; nothing was done.
  case unchanged
  /// A previous run was interrupted; this event records what was found and repaired.
  case interrupted
  /// The run was stopped by a signal; the record says how far it got.
  case aborted
}

/// Whether an environment's current release is known good.
public enum ReleaseStatus: String, Sendable, Codable, Hashable {
  case verified, unverified, failed, suspect
}

/// The `release.json` of a ledger commit: what the event was, about which release, and how it ended.
public struct EventRecord: Sendable, Codable, Hashable {
  /// The pipeline's name.
  public var pipeline: String
  /// The environment the event happened in.
  public var environment: String
  /// What happened.
  public var event: EventKind
  /// How it ended.
  public var outcome: EventOutcome
  /// The release the event is about (the one deployed, promoted, rolled back to, or verified).
  public var release: Release?
  /// The release running in the environment after the event.
  public var current: Release?
  /// The release running before the event.
  public var previous: Release?
  /// For promotions: the environment the release was verified in.
  public var sourceEnvironment: String?
  /// Whether Airlock did this on its own (an automatic rollback after a failed verify).
  public var automatic: Bool
  /// For an automatic event, the run it answered: `alice's deploy of 1.2.0 failed verify`. Airlock acted on that
  /// run's behalf; `actor` is still who ran the command.
  public var cause: String?
  /// Who made the change: the commit author's name.
  public var actor: String
  /// When the command started.
  public var startedAt: Date
  /// When it finished: the commit time, and the event's time in `history`.
  public var finishedAt: Date
  /// `finishedAt - startedAt`, rounded to milliseconds.
  public var durationMilliseconds: Int
  /// One human line with the reason or the result.
  public var detail: String
  /// For a fleet: the label each host's `current` points at after the event; a host that could not be read, or
  /// runs nothing yet, is absent. `nil` for a one-host target.
  public var hosts: [String: String]?
  /// A link to the CI job that ran the command (`CIRun.url`); `nil` outside CI and in records written before the
  /// field existed.
  public var runURL: String?

  /// A record; `durationMilliseconds` is derived from `startedAt` and `finishedAt`.
  public init(
    pipeline: String, environment: String, event: EventKind, outcome: EventOutcome, release: Release?,
    current: Release?, previous: Release?, sourceEnvironment: String? = nil, automatic: Bool = false,
    cause: String? = nil, actor: String, startedAt: Date, finishedAt: Date, detail: String
  ) {
    self.pipeline = pipeline
    self.environment = environment
    self.event = event
    self.outcome = outcome
    self.release = release
    self.current = current
    self.previous = previous
    self.sourceEnvironment = sourceEnvironment
    self.automatic = automatic
    self.cause = cause
    self.actor = actor
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.durationMilliseconds = max(0, Int((finishedAt.timeIntervalSince(startedAt) * 1000).rounded()))
    self.detail = detail
  }

  /// Whether `detail` says more than the commit message: why a failure or refusal happened, or what a rollback,
  /// lock or recovery quarantined, held or repaired (a plain success's detail only repeats its outcome).
  public var detailExplains: Bool {
    outcome != .ok || [.rollback, .lock, .unlock, .recover].contains(event)
  }
}

/// A release that was verified good in an environment, and where its config snapshot lives.
public struct GoodRelease: Sendable, Codable, Hashable {
  /// The release verified.
  public var release: Release
  /// The blob of the `config.env` the release was verified with: the snapshot rollback restores.
  public var config: ObjectID
  /// When its verify passed.
  public var verifiedAt: Date
}

/// A named person's approval to promote one artifact into an environment with `approval: required`.
public struct Approval: Sendable, Codable, Hashable {
  /// The release approved; the approval holds for its artifact tree id, whatever label names it.
  public var release: Release
  /// Who approved it.
  public var actor: String
  /// When it was approved.
  public var at: Date
}

/// A release that failed or was rolled back in an environment; promotion refuses it without `--force`.
public struct Quarantine: Sendable, Codable, Hashable {
  /// The release quarantined.
  public var release: Release
  /// Why: the failed check or the rollback that left it.
  public var reason: String
  /// When it was quarantined.
  public var since: Date
  /// The config snapshot it was last good with, so `rollback --to … --force` can still restore it.
  public var config: ObjectID?
}

/// The `state.json` of a ledger commit: the environment's derived state after the event.
///
/// Airlock keeps it in every commit so that status, promotion and rollback read one commit instead of walking
/// history; it is fully derivable from the events before it.
public struct EnvironmentState: Sendable, Codable, Hashable {
  /// What runs now.
  public var current: Release?
  /// Whether `current` is verified, being verified, or failed; `nil` when nothing runs.
  public var currentStatus: ReleaseStatus?
  /// Verified-good releases, newest verification first, one entry per release, at most `goodLimit`.
  public var good: [GoodRelease]
  /// Quarantined releases by artifact tree id.
  public var quarantined: [Quarantine]
  /// How many events the branch holds, this one included.
  public var sequence: Int
  /// Approvals for promotion here (environments with `approval: required`), bound to artifact tree ids.
  public var approvals: [Approval]

  /// How many verified-good releases the state remembers; rollback further back is by `--to`.
  public static let goodLimit = 100

  /// The state of an environment with no events.
  public init() {
    current = nil
    currentStatus = nil
    good = []
    quarantined = []
    sequence = 0
    approvals = []
  }

  private enum CodingKeys: String, CodingKey {
    case current, currentStatus, good, quarantined, sequence, approvals
  }

  /// Decodes a state written by any version: fields added later (approvals) default to empty.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    current = try container.decodeIfPresent(Release.self, forKey: .current)
    currentStatus = try container.decodeIfPresent(ReleaseStatus.self, forKey: .currentStatus)
    good = try container.decodeIfPresent([GoodRelease].self, forKey: .good) ?? []
    quarantined = try container.decodeIfPresent([Quarantine].self, forKey: .quarantined) ?? []
    sequence = try container.decodeIfPresent(Int.self, forKey: .sequence) ?? 0
    approvals = try container.decodeIfPresent([Approval].self, forKey: .approvals) ?? []
  }

  /// The approval of `id` here, if someone gave one.
  public func approval(of id: ObjectID) -> Approval? { approvals.first { $0.release.id == id } }

  /// Whether `release` was verified good here and has not been quarantined since.
  public func isVerified(_ id: ObjectID) -> Bool { good.contains { $0.release.id == id } }

  /// The quarantine entry of `id`, if it is quarantined here.
  public func quarantine(of id: ObjectID) -> Quarantine? { quarantined.first { $0.release.id == id } }

  /// Records `release` as verified good at `commit`, newest first.
  mutating func markGood(_ release: Release, config: ObjectID, at time: Date) {
    good.removeAll { $0.release.id == release.id }
    good.insert(GoodRelease(release: release, config: config, verifiedAt: time), at: 0)
    if good.count > Self.goodLimit { good.removeLast(good.count - Self.goodLimit) }
    quarantined.removeAll { $0.release.id == release.id }
  }

  /// Quarantines `release`: it is no longer a rollback target and promotion refuses it.
  mutating func quarantine(_ release: Release, reason: String, at time: Date) {
    let config = good.first { $0.release.id == release.id }?.config
    good.removeAll { $0.release.id == release.id }
    quarantined.removeAll { $0.release.id == release.id }
    quarantined.append(Quarantine(release: release, reason: reason, since: time, config: config))
  }
}

/// The `environment.json` of a ledger commit: everything needed to act on the environment without the pipeline
/// file (rollback when the file is broken).
public struct EnvironmentSnapshot: Sendable, Codable, Hashable {
  /// The pipeline's name.
  public var pipeline: String
  /// The project root the environment's relative paths were resolved against.
  public var root: String
  /// How many releases the target keeps.
  public var keep: Int
  /// The hooks folder, as written in the pipeline.
  public var hooks: String
  /// The environment's definition.
  public var environment: EnvironmentSpec
  /// The definitions of the checks the environment uses.
  public var checks: [String: CheckSpec]

  /// The snapshot of `environment` as `pipeline` defines it, with the checks it uses.
  public init(pipeline: Pipeline, environment: EnvironmentSpec) {
    self.pipeline = pipeline.name
    self.root = pipeline.root
    self.keep = pipeline.keep
    self.hooks = pipeline.hooks
    self.environment = environment
    let names = Set(environment.preflight + environment.verify)
    self.checks = pipeline.checks.filter { names.contains($0.key) }
  }

  /// Resolves a path from the snapshot against the project root it was taken in.
  public func resolve(_ path: String) -> URL {
    URL(resolving: path, under: URL(fileURLWithPath: root))
  }
}

/// Encoders shared by every ledger file, so the same state always serialises to the same bytes.
enum LedgerCoding {
  static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    return encoder
  }

  static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
      let text = try decoder.singleValueContainer().decode(String.self)
      guard let date = Timestamp.parse(text) else {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time \(text)"))
      }
      return date
    }
    return decoder
  }

  static func encode<T: Encodable>(_ value: T) throws -> Data {
    var data = try encoder().encode(value)
    data.append(0x0A)
    return data
  }

  static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    try decoder().decode(type, from: data)
  }

  /// One line saying why `decode` failed: where in the document and what was wrong, without Swift's type dump.
  static func explain(_ error: any Error) -> String {
    func place(_ path: [any CodingKey]) -> String {
      path.isEmpty
        ? "the document" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error as? DecodingError {
    case .dataCorrupted(let context)?:
      // The JSON parser's own words sit in the underlying error; the context only says "not valid JSON".
      let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
      return context.codingPath.isEmpty
        ? "not valid JSON\(detail.map { " (\($0))" } ?? "")"
        : "\(place(context.codingPath)): \(context.debugDescription)"
    case .keyNotFound(let key, let context)?: return "\(place(context.codingPath + [key])) is missing"
    case .typeMismatch(let type, let context)?: return "\(place(context.codingPath)) is not of type \(type)"
    case .valueNotFound(let type, let context)?: return "\(place(context.codingPath)) is null, not \(type)"
    default: return "\(error)"
    }
  }
}

/// ISO 8601 timestamps with milliseconds in UTC (`2026-11-23T03:14:07.123Z`), as every ledger file writes them.
public enum Timestamp {
  /// `date` as the ledger writes it, e.g. `2026-11-23T03:14:07.123Z`.
  public static func format(_ date: Date) -> String {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
    let fraction = Int(milliseconds - Int64(seconds) * 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    // `%04d-%02d-%02dT%02d:%02d:%02d.%03dZ` by hand, into bytes: `String(format:)` boxes each argument as a
    // `CVarArg` and casts it at run time, and string interpolation allocates per piece; every ledger file holds
    // dozens of timestamps.
    var text: [UInt8] = []
    text.reserveCapacity(24)
    let fields: [(value: Int, width: Int, then: Unicode.Scalar)] = [
      (Int(parts.tm_year) + 1900, 4, "-"), (Int(parts.tm_mon) + 1, 2, "-"), (Int(parts.tm_mday), 2, "T"),
      (Int(parts.tm_hour), 2, ":"), (Int(parts.tm_min), 2, ":"), (Int(parts.tm_sec), 2, "."), (fraction, 3, "Z"),
    ]
    for field in fields {
      appendDigits(field.value, width: field.width, to: &text)
      text.append(UInt8(ascii: field.then))
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// `value` as `%0<width>d` writes it: zeros between the sign and the digits up to `width` characters in all.
  static func digits(_ value: Int, _ width: Int) -> String {
    var text: [UInt8] = []
    appendDigits(value, width: width, to: &text)
    return String(decoding: text, as: UTF8.self)
  }

  private static func appendDigits(_ value: Int, width: Int, to text: inout [UInt8]) {
    var magnitude = value.magnitude
    var reversed: [UInt8] = []
    repeat {
      reversed.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
      magnitude /= 10
    } while magnitude > 0
    if value < 0 { text.append(UInt8(ascii: "-")) }
    let sign = value < 0 ? 1 : 0
    text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - sign - reversed.count)))
    text.append(contentsOf: reversed.reversed())
  }

  /// Parses what `format` writes, with or without the milliseconds: six or seven runs of digits between `-`, `T`,
  /// `:`, `.` and a final `Z`; anything else is nil.
  public static func parse(_ text: String) -> Date? {
    // Over the UTF-8 bytes: splitting the String would walk it Character by Character (grapheme breaking), which
    // made reading a state.json's timestamps cost more than the rest of decoding it.
    var values: [Int] = []
    var current: Int?
    var digitCount = 0
    var last: UInt8 = 0
    for byte in text.utf8 {
      last = byte
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        // 18 digits fit an Int; a longer run is not a timestamp.
        guard digitCount < 18 else { return nil }
        current = (current ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
        digitCount += 1
      case UInt8(ascii: "-"), UInt8(ascii: "T"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "Z"):
        if let value = current { values.append(value) }
        current = nil
        digitCount = 0
      default:
        return nil
      }
    }
    guard last == UInt8(ascii: "Z"), values.count == 6 || values.count == 7 else { return nil }
    var parts = tm()
    parts.tm_year = Int32(clamping: values[0] - 1900)
    parts.tm_mon = Int32(clamping: values[1] - 1)
    parts.tm_mday = Int32(clamping: values[2])
    parts.tm_hour = Int32(clamping: values[3])
    parts.tm_min = Int32(clamping: values[4])
    parts.tm_sec = Int32(clamping: values[5])
    let seconds = timegm(&parts)
    let milliseconds = values.count == 7 ? values[6] : 0
    return Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000)
  }
}
