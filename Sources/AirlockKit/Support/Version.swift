/// The version of Airlock, as `airlock --version` prints it.
public enum AirlockVersion {
  /// The version string, e.g. `0.1.0`.
  public static let string = "0.1.0"
}
