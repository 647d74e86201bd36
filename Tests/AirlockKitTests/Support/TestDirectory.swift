import Foundation

/// A fresh directory under the system's temporary folder, removed by `remove()`.
///
/// Each test makes its own, so tests running in parallel never share files.
struct TestDirectory: Sendable {
  /// The directory, with symlinks resolved (so it compares equal to what `pwd` prints).
  let url: URL

  init(_ label: String = "airlock-test") throws {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath()
    url = base.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// The path of `relative` inside the directory.
  func path(_ relative: String) -> String {
    url.appendingPathComponent(relative).path
  }

  /// Writes `contents` to `relative`, creating folders, and applies `permissions` (e.g. `0o755` for a script).
  @discardableResult
  func write(_ relative: String, _ contents: String, permissions: Int? = nil) throws -> URL {
    let file = url.appendingPathComponent(relative)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try contents.write(to: file, atomically: false, encoding: .utf8)
    if let permissions {
      try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: file.path)
    }
    return file
  }

  func remove() {
    try? FileManager.default.removeItem(at: url)
  }
}
