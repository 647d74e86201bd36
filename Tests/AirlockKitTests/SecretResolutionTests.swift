import Foundation
import Testing

@testable import AirlockKit

/// How a source's output becomes a value: exactly one final newline dropped, as `$(…)` would not (it drops all).
@Suite struct SecretResolutionTests {
  @Test(arguments: [
    ("value\n", "value"), ("value", "value"), ("value\n\n", "value\n"), ("value\r\n", "value"), ("", ""),
    ("\n", ""), (" spaced \n", " spaced "),
  ])
  func dropsOneFinalNewline(_ text: String, _ value: String) {
    #expect(SecretResolution.droppingFinalNewline(text) == value)
  }

  @Test func aCommandThatPrintsTooMuchIsRefusedNotCut() async throws {
    let resolution = SecretResolution(
      environment: [:], childEnvironment: ["PATH": "/usr/bin:/bin"], root: URL(fileURLWithPath: "/"),
      runner: ProcessRunner(), pipeline: "web")
    let source = SecretSource.command(arguments: ["head", "-c", "70000", "/dev/zero"], timeout: nil)
    await #expect {
      try await resolution.resolve(["BIG"]) { _ in source }
    } throws: { error in
      "\(error)".contains("secret BIG: command head printed 64 KiB or more")
    }
  }
}
