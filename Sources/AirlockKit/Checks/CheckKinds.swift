/// A check kind a library user adds under a key of its own; pipelines then name that key like a built-in kind.
///
/// ```swift
/// try CheckKinds.register(CustomCheckKind(key: "min-free-space", options: ["bytes"]) { definition in
///   MinFreeSpaceCheck(definition)
/// })
/// ```
/// A pipeline's `checks: {disk: {min-free-space: release, bytes: 1000000}}` is then validated like the built-in
/// kinds: an unknown key, a key of another kind or a missing kind is reported with file, line and column.
public struct CustomCheckKind: Sendable {
  /// The YAML key that names the kind, e.g. `min-free-space`; its value is the check's subject, kept as text.
  public let key: String
  /// The further keys a definition of this kind may carry, besides the quorum keys (`attempts`, `pass`,
  /// `interval`, `timeout`, `hosts`, `dependency`); their values are kept as text.
  public let options: [String]
  /// Builds the runnable check from one definition; a thrown error refuses the command (exit 2) with its text.
  public let make: @Sendable (CustomCheckDefinition) throws -> any Check

  /// A kind named `key` that takes `options`, built by `make`.
  public init(
    key: String, options: [String] = [], make: @escaping @Sendable (CustomCheckDefinition) throws -> any Check
  ) {
    self.key = key
    self.options = options
    self.make = make
  }
}

/// One check of a registered kind, as a pipeline defines it.
public struct CustomCheckDefinition: Sendable, Codable, Hashable {
  /// The check's name in the pipeline.
  public var name: String
  /// The kind's key.
  public var kind: String
  /// The value given under the kind's key.
  public var subject: String
  /// The values of the kind's options that the definition gives, as text.
  public var options: [String: String]
  /// The retry quorum and host share.
  public var policy: ProbePolicy
  /// Whether a failure only blocks promotion and never rolls back.
  public var dependency: Bool

  /// A definition as the pipeline loader builds it.
  public init(
    name: String, kind: String, subject: String, options: [String: String], policy: ProbePolicy = ProbePolicy(),
    dependency: Bool = false
  ) {
    self.name = name
    self.kind = kind
    self.subject = subject
    self.options = options
    self.policy = policy
    self.dependency = dependency
  }
}

/// Airlock's own check kinds, with the keys that belong to each; the pipeline decoder's key tables come from here.
public enum BuiltInCheckKind: String, CaseIterable, Sendable {
  /// `http: URL`.
  case http
  /// `tcp: HOST:PORT`.
  case tcp
  /// `command: [PATH, ARG…]`.
  case command
  /// `heartbeat: PATH`.
  case heartbeat
  /// `config: [RULE…]`; preflight only.
  case config
  /// `drift: ENV`; preflight only.
  case drift

  /// The keys besides the kind's own that only this kind takes.
  public var ownKeys: [String] {
    switch self {
    case .http: return ["expect", "contains"]
    case .heartbeat: return ["max_age"]
    case .drift: return ["allow"]
    case .tcp, .command, .config: return []
    }
  }

  /// Whether the kind probes (and so takes the quorum keys); `config` and `drift` inspect configuration once,
  /// before the switch.
  public var probes: Bool {
    switch self {
    case .http, .tcp, .command, .heartbeat: return true
    case .config, .drift: return false
    }
  }
}

/// The check kinds library users have registered, for this process; Airlock's own kinds are built in.
///
/// Register before loading a pipeline that names the kind: the loader refuses a kind it does not know, so a pipeline
/// that passes validation is one the commands can run.
public enum CheckKinds {
  private static let registered = KindRegistry<CustomCheckKind>(what: "check kind")

  /// The keys of Airlock's own check kinds, which no registered kind may take.
  public static var builtIn: [String] { BuiltInCheckKind.allCases.map(\.rawValue) }

  /// Adds `kind`; throws when its key is not a valid name, is a built-in kind, a quorum key, or is taken.
  public static func register(_ kind: CustomCheckKind) throws {
    let reserved = builtIn + PipelineDecoder.probeKeys + Array(PipelineDecoder.kindKeys.keys)
    try registered.add(kind, key: kind.key, reserved: reserved)
  }

  /// The registered kind named `key`, if any.
  public static func kind(_ key: String) -> CustomCheckKind? { registered[key] }

  /// The registered kinds' keys, sorted.
  public static var keys: [String] { registered.keys }

  /// The registered kinds, by key.
  static var all: [String: CustomCheckKind] { registered.all }
}
