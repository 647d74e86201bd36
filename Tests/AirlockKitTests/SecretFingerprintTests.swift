import AirlockKit
import Testing

/// Fingerprints are recorded in every ledger, so their bytes are a contract: the same secret must give the same
/// fingerprint in every Airlock version, or every rollback would warn that its secrets changed.
@Suite struct SecretFingerprintTests {
  /// Known answers computed independently (`hashlib.sha256(b"airlock\0web\0API_TOKEN\0s3cr3t")` in Python).
  @Test(arguments: [
    ("s3cr3t", "API_TOKEN", "sha256:5c9bc9ca97bdba88c9ff52a71f46c74ea9d9ae7601fb779e3d4caf999b7a242d"),
    ("", "EMPTY", "sha256:146af7d989ddda098ad7fd3a75743faaca8cf7595a0279af61a9ef9056edec47"),
  ])
  func aFingerprintIsTheSaltedSHA256OfTheValue(_ value: String, _ key: String, _ expected: String) {
    #expect(SecretSet.fingerprint(of: value, key: key, pipeline: "web") == expected)
  }

  @Test func theSaltKeepsEqualValuesOfOtherKeysOrPipelinesApart() {
    let fingerprint = SecretSet.fingerprint(of: "same", key: "A", pipeline: "web")
    #expect(fingerprint != SecretSet.fingerprint(of: "same", key: "B", pipeline: "web"))
    #expect(fingerprint != SecretSet.fingerprint(of: "same", key: "A", pipeline: "api"))
  }
}
