internal import CMbedCrypto
import Foundation

/// Secret values resolved from their sources, and the means to keep them out of everything but the target.
public struct SecretSet: Sendable {
  /// Secret name to value; only names the environment declares.
  public let values: [String: String]
  /// Names the environment declares to come from the process environment which it does not set.
  public let missing: [String]
  /// The pipeline name, which salts fingerprints so they cannot be matched across pipelines.
  public let pipeline: String

  /// Reads each of `names` from `environment`.
  public init(names: [String], from environment: [String: String], pipeline: String) {
    var values: [String: String] = [:]
    var missing: [String] = []
    for name in names {
      if let value = environment[name] { values[name] = value } else { missing.append(name) }
    }
    self.init(values: values, missing: missing, pipeline: pipeline)
  }

  /// A set of values already resolved.
  init(values: [String: String], missing: [String] = [], pipeline: String) {
    self.values = values
    self.missing = missing
    self.pipeline = pipeline
  }

  /// The fingerprint recorded in the ledger instead of the value: `sha256:` and 64 hex digits.
  ///
  /// Salted with the pipeline and key so equal secrets of two environments compare equal, while the value itself
  /// never leaves the process.
  public static func fingerprint(of value: String, key: String, pipeline: String) -> String {
    let input = Array("airlock\u{0}\(pipeline)\u{0}\(key)\u{0}\(value)".utf8)
    var digest = [UInt8](repeating: 0, count: 32)
    // mbed TLS's one-shot SHA-256 fails only on a hardware accelerator error, which this build does not use.
    let status = airlock_sha256(input, input.count, &digest)
    precondition(status == 0, "SHA-256 failed (mbed TLS error \(status))")
    return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
  }

  /// Fingerprints of every secret that is set.
  public var fingerprints: [String: String] {
    values.reduce(into: [:]) { $0[$1.key] = Self.fingerprint(of: $1.value, key: $1.key, pipeline: pipeline) }
  }

  /// `text` with every secret value replaced by `[secret NAME]`, for output that may echo a value.
  public func redact(_ text: String) -> String {
    var result = text
    for (name, value) in values.sorted(by: { $0.value.count > $1.value.count }) where value.count >= 3 {
      result = result.replacingOccurrences(of: value, with: "[secret \(name)]")
    }
    return result
  }
}
