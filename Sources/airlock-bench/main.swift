import AirlockKit

print("airlock \(AirlockVersion.string)")
