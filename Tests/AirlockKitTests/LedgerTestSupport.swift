import Foundation
import Testing

@testable import AirlockKit

let ada = Signature(name: "Ada Lovelace", email: "ada@example.com")
let eventTime = Date(timeIntervalSince1970: 1_700_000_000)

extension Ledger {
  /// Appends a small event with the usual ledger files to `branch`, on top of its current head.
  @discardableResult
  func appendTestEvent(
    branch: String, message: String, config: String = "KEY=value\n", artifact: ObjectID? = nil, time: Date = eventTime
  ) throws -> ObjectID {
    let head = try reference("refs/heads/" + branch)
    let artifactTree = try artifact ?? writeTree(files: ["index.html": Data("hello".utf8)], subtrees: [:])
    return try appendEvent(
      branch: branch, expectedHead: head,
      files: [
        "release.json": Data(#"{"version":"\#(message)"}"#.utf8), "config.env": Data(config.utf8),
        "environment.json": Data("{}".utf8), "checks.json": Data("[]".utf8),
      ],
      subtrees: ["artifact": artifactTree], message: message, author: ada, time: time)
  }
}

extension Data {
  /// The raw 20 bytes of an object id, as git writes them inside tree objects.
  init(rawID id: ObjectID) {
    let digits = Array(id.hex.utf8).map { UInt8(String(UnicodeScalar($0)), radix: 16)! }
    self.init(stride(from: 0, to: 40, by: 2).map { digits[$0] << 4 | digits[$0 + 1] })
  }
}

/// The lstat mode bits of `url` (file type and permissions), without following a symlink.
func linkMode(_ url: URL) -> mode_t? {
  var info = stat()
  return lstat(url.path, &info) == 0 ? info.st_mode : nil
}
