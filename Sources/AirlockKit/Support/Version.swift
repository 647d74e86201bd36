/// The version of Airlock, as `airlock version` and `airlock --version` print it.
public enum AirlockVersion {
  /// The version string, e.g. `0.1.0`; the one place it is written.
  public static let current = "0.1.0"
}
