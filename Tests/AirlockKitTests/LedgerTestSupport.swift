import Foundation
import Testing

@testable import AirlockKit

/// A fresh temporary folder with a ledger in it; the folder is removed when the value is released.
final class ScratchLedger {
  let root: URL
  let ledgerURL: URL
  let ledger: Ledger

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-ledger-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    ledgerURL = root.appendingPathComponent("ledger.git")
    ledger = try Ledger.open(at: ledgerURL, create: true)
  }

  deinit {
    try? FileManager.default.removeItem(at: root)
  }

  /// A path inside the scratch folder (not created).
  func path(_ name: String) -> URL { root.appendingPathComponent(name) }

  /// Runs stock git against the ledger.
  @discardableResult
  func git(_ arguments: String..., input: Data? = nil) throws -> GitRun {
    try GitRun(["-C", ledgerURL.path] + arguments, input: input)
  }

  /// Makes a folder with the given files (path -> contents); parents are created as needed.
  func makeFolder(_ name: String, files: [String: String]) throws -> URL {
    let folder = path(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (file, contents) in files {
      let url = folder.appendingPathComponent(file)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(contents.utf8).write(to: url)
    }
    return folder
  }
}

/// One finished run of /usr/bin/git, isolated from the user's and the system's git config.
struct GitRun {
  let status: Int32
  let output: String
  let errors: String

  init(_ arguments: [String], input: Data? = nil) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
    environment["GIT_PAGER"] = "cat"
    process.environment = environment
    let stdout = Pipe()
    let stderr = Pipe()
    let stdin = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    status = process.terminationStatus
    output = String(decoding: out, as: UTF8.self)
    errors = String(decoding: err, as: UTF8.self)
  }

  /// Standard output without the final newline.
  var trimmed: String { output.trimmingCharacters(in: .newlines) }
}

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
