import Foundation

// The floor `airlock-bench rollback` compares `airlock` against: a Swift program that loads Foundation and prints,
// built by the same command with the same flags.
print("hello from \(ProcessInfo.processInfo.processName)")
