import Foundation

/// The target kinds Airlock itself knows, with the keys each takes.
///
/// Every built-in kind is implemented; `isImplemented` and `notImplementedMessage` stay for kinds specified before
/// they are built, so a pipeline that validates is one the commands can run.
public enum BuiltInTargetKind: String, CaseIterable, Sendable {
  /// A folder on this machine: `local: PATH`.
  case local
  /// A fleet of hosts reached with the system OpenSSH client.
  case ssh
  /// User commands such as kubectl or helm, run in a release folder Airlock keeps.
  case command

  /// The keys of the kind's mapping, in the order the docs list them; `local` takes a folder, not a mapping.
  public var keys: [String] {
    switch self {
    case .local: return []
    case .ssh: return SSHTargetSpec.Key.allCases.map(\.rawValue)
    case .command: return CommandTargetSpec.Key.allCases.map(\.rawValue)
    }
  }

  /// Whether this build of Airlock can run targets of the kind.
  public var isImplemented: Bool {
    switch self {
    case .local, .ssh, .command: return true
    }
  }

  /// Why a pipeline naming the kind is refused while it is not implemented.
  public var notImplementedMessage: String {
    "target kind '\(rawValue)' is not implemented in this build of airlock (it is planned); use 'local' or a "
      + "registered kind"
  }
}

/// A target kind a library user adds under a key of its own; pipelines then name that key like a built-in kind.
///
/// ```swift
/// try TargetKinds.register(CustomTargetKind(key: "rsync-mirror", options: ["path", "label"], required: ["path"]) {
///   definition in
///   MirrorTarget(root: definition.resolve(definition.options["path"]!), pipeline: definition.pipeline)
/// })
/// ```
/// An environment's `target: {rsync-mirror: {path: mirrors/web}}` is then validated like the built-in kinds: an
/// unknown or missing key, a value that is not text, or a second kind is reported with file, line and column.
public struct CustomTargetKind: Sendable {
  /// The YAML key that names the kind, e.g. `rsync-mirror`; its value is a mapping of the kind's options.
  public let key: String
  /// The keys that mapping may carry; their values are kept as text.
  public let options: [String]
  /// The keys among `options` the mapping must carry.
  public let required: [String]
  /// Builds the runnable target of one environment; a thrown error refuses the command (exit 2) with its text.
  public let make: @Sendable (CustomTargetDefinition) throws -> any Target

  /// A kind named `key` that takes `options` (of which `required` must be given), built by `make`.
  public init(
    key: String, options: [String] = [], required: [String] = [],
    make: @escaping @Sendable (CustomTargetDefinition) throws -> any Target
  ) {
    self.key = key
    self.options = options
    self.required = required
    self.make = make
  }
}

/// One environment's target of a registered kind, as `CustomTargetKind.make` receives it.
public struct CustomTargetDefinition: Sendable, Hashable {
  /// The pipeline the environment belongs to; retention must only touch releases this pipeline made.
  public var pipeline: String
  /// The environment whose target this is.
  public var environment: String
  /// The kind's key.
  public var kind: String
  /// The options the pipeline gives, as text.
  public var options: [String: String]
  /// The project root (the folder holding `pipelines/`), which relative paths resolve against.
  public var root: String

  /// A definition as the engine builds it.
  public init(pipeline: String, environment: String, kind: String, options: [String: String], root: String) {
    self.pipeline = pipeline
    self.environment = environment
    self.kind = kind
    self.options = options
    self.root = root
  }

  /// `path` as a folder: absolute paths as they are, relative ones under the project root.
  public func resolve(_ path: String) -> URL {
    URL(resolving: path, under: URL(fileURLWithPath: root))
  }
}

/// The target kinds of this process: Airlock's own (`BuiltInTargetKind`: `local`, `ssh` and `command`) and the ones library users registered.
///
/// Register before loading a pipeline that names the kind: the loader refuses a kind it does not know, so a pipeline
/// that passes validation is one the commands can run.
public enum TargetKinds {
  private static let registered = KindRegistry<CustomTargetKind>(what: "target kind")

  /// The keys of Airlock's own target kinds, which no registered kind may take.
  public static var builtIn: [String] { BuiltInTargetKind.allCases.map(\.rawValue) }

  /// Adds `kind`; throws when its key is not a valid name, is a built-in kind, or is taken, or when it requires a
  /// key it does not list among its options.
  public static func register(_ kind: CustomTargetKind) throws {
    if let unlisted = kind.required.first(where: { !kind.options.contains($0) }) {
      throw AirlockError(
        .invalidInput, "target kind '\(kind.key)' requires '\(unlisted)', which is not among its options")
    }
    try registered.add(kind, key: kind.key, reserved: builtIn)
  }

  /// The registered kind named `key`, if any.
  public static func kind(_ key: String) -> CustomTargetKind? { registered[key] }

  /// The registered kinds' keys, sorted.
  public static var keys: [String] { registered.keys }

  /// The registered kinds, by key.
  static var all: [String: CustomTargetKind] { registered.all }

  /// The runnable target `spec` describes for `environment` of `pipeline`, whose project root is `root`.
  ///
  /// Throws `AirlockError` `.invalidInput` (exit 2) for a kind this build cannot run: a planned one, or one this
  /// process has not registered (a ledger snapshot recorded by another program); and with the text of a registered
  /// kind's `make` when that refuses.
  public static func make(
    _ spec: TargetSpec, pipeline: String, environment: String, root: String
  ) throws -> any Target {
    switch spec {
    case .local(let path):
      let definition = CustomTargetDefinition(
        pipeline: pipeline, environment: environment, kind: "local", options: [:], root: root)
      return LocalTarget(root: definition.resolve(path), pipeline: pipeline)
    case .ssh(let spec):
      do {
        return try SSHTarget(spec, pipeline: pipeline, root: URL(fileURLWithPath: root))
      } catch let error as TargetError {
        throw AirlockError(.invalidInput, "\(environment): \(error.message)")
      }
    case .command(let spec):
      return CommandTarget(spec, pipeline: pipeline, environment: environment, root: URL(fileURLWithPath: root))
    case .custom(let key, let options):
      guard let registered = kind(key) else {
        throw AirlockError(
          .invalidInput,
          "\(environment): target kind '\(key)' is not registered in this program; run it with the program that "
            + "registers the kind (TargetKinds.register)")
      }
      do {
        return try registered.make(
          CustomTargetDefinition(
            pipeline: pipeline, environment: environment, kind: key, options: options, root: root))
      } catch {
        throw AirlockError(.invalidInput, "\(environment): the \(key) target cannot be built: \(error)")
      }
    }
  }
}
