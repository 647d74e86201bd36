import Foundation

extension URL {
  /// A path from a pipeline, the command line or the ledger: an absolute one as it is, a relative one under `root`.
  init(resolving path: String, under root: URL) {
    self = path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
  }
}
