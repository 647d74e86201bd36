import Foundation

@testable import AirlockKit

/// Helpers shared by the pipeline tests.
enum PipelineTestSupport {
  /// A fresh, empty folder for one test; the caller removes it.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("airlock-pipeline-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.resolvingSymlinksInPath()
  }

  /// Runs `body` with a fresh temporary folder and removes it afterwards.
  static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let folder = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
  }

  /// Writes `text` to `path` under `folder`, creating parent folders.
  @discardableResult
  static func write(_ text: String, to path: String, in folder: URL) throws -> URL {
    let url = folder.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

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
