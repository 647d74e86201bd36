import Synchronization

/// Kinds a library user registered under keys, for this process, each key at most once: what `CheckKinds` and
/// `TargetKinds` keep.
final class KindRegistry<Kind: Sendable>: Sendable {
  private let kinds = Mutex<[String: Kind]>([:])
  /// What a kind is called in messages, e.g. `check kind`.
  let what: String

  init(what: String) {
    self.what = what
  }

  /// Adds `kind` under `key`, with the name rule and the keys Airlock reserves checked first; throws when `key` is
  /// not a valid name, is reserved, or is taken.
  func add(_ kind: Kind, key: String, reserved: some Sequence<String>) throws {
    guard PipelineNames.isValidName(key) else {
      throw AirlockError(.invalidInput, "\(what) '\(key)' is not a valid name: \(PipelineNames.nameRule)")
    }
    guard !reserved.contains(key) else {
      throw AirlockError(.invalidInput, "\(what) '\(key)' is a key Airlock itself uses; choose another")
    }
    try kinds.withLock { kinds in
      guard kinds[key] == nil else { throw AirlockError(.invalidInput, "\(what) '\(key)' is registered already") }
      kinds[key] = kind
    }
  }

  /// The kind registered under `key`, if any.
  subscript(key: String) -> Kind? {
    kinds.withLock { $0[key] }
  }

  /// The registered keys, sorted.
  var keys: [String] {
    kinds.withLock { $0.keys.sorted() }
  }

  /// The registered kinds, by key.
  var all: [String: Kind] {
    kinds.withLock { $0 }
  }
}
