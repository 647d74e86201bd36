import AirlockKit
import ArgumentParser
import Foundation

/// `airlock init`: a starter project in the current folder.
struct Init: AsyncParsableCommand, Sendable {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Write a starter project here: pipelines/app.yml, example hooks and an example artifact.",
    discussion: """
      The pipeline has two local environments (staging, then production with `requires: staging`) and a command \
      health check, so `airlock validate`, a deploy to staging and a promotion to production work at once. Writes \
      nothing, and exits 2, when any of its files is already there.
      """)

  @OptionGroup var output: JSONOption

  func run() async throws {
    try await perform(json: output.json) {
      let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      let files = try StarterProject.write(into: folder)
      struct Document: Encodable {
        var directory: String
        var files: [String]
        var next: [String]
      }
      if output.json {
        Output.json(Document(directory: folder.path, files: files, next: StarterProject.nextCommands))
      } else {
        print("wrote a starter project in \(folder.path):")
        for file in files { print("  \(file)") }
        print("next: \(StarterProject.nextCommands.joined(separator: "\n  then: "))")
      }
      return .success
    }
  }
}
