public enum AirlockVersion { public static let string = "0.1.0" }
