import Foundation

@testable import AirlockKit

/// Helpers shared by the pipeline tests.
enum PipelineTestSupport {
  /// The diagnostics of parsing `text`, or an empty list when it is valid.
  static func diagnostics(_ text: String, file: String = "pipelines/web.yml") -> [Diagnostic] {
    do {
      _ = try PipelineLoader.parse(text, file: file, root: URL(fileURLWithPath: "/project"))
      return []
    } catch {
      return error.diagnostics
    }
  }

  /// The package root, found from this source file's location (Tests/AirlockKitTests/…).
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A minimal valid pipeline named `name` with one local environment.
  static func minimalPipeline(_ name: String) -> String {
    """
    pipeline: \(name)
    environments:
      - name: staging
        target: {local: /srv/\(name)}

    """
  }
}
