import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What `releases/<label>/.airlock/release.json` records: who made the folder and which artifact tree it holds.
struct ReleaseMark: Codable, Equatable {
  static let path = ".airlock/release.json"
  var pipeline: String
  var version: String
  var tree: ObjectID
}

/// The files Airlock adds to a release folder, shared by the kinds that keep the `releases/<label>/` layout.
enum ReleaseFiles {
  /// Writes `mark` as `.airlock/release.json` under `directory`.
  static func writeMark(_ mark: ReleaseMark, into directory: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let file = directory.appendingPathComponent(ReleaseMark.path)
    try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    do {
      try (encoder.encode(mark) + Data("\n".utf8)).write(to: file)
    } catch {
      throw TargetError(.io, "cannot write \(file.path): \(error.localizedDescription)")
    }
  }

  /// Writes `text` as `.airlock/config.env` under `directory`, at mode 0600, renamed into place.
  static func writeConfig(_ text: String, into directory: URL) throws {
    let folder = directory.appendingPathComponent(".airlock")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let file = folder.appendingPathComponent("config.env")
    let temporary = folder.appendingPathComponent(".config.env-\(getpid())")
    try writePrivate(text, to: temporary)
    guard rename(temporary.path, file.path) == 0 else {
      throw TargetError(.io, "cannot rename \(temporary.path) to \(file.path): \(String(cString: strerror(errno)))")
    }
  }

  /// Writes `text` to `file`, created at mode 0600 before any byte is written, so secrets are never readable by
  /// others, not even briefly.
  static func writePrivate(_ text: String, to file: URL) throws {
    let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw TargetError(.io, "cannot write \(file.path): \(String(cString: strerror(errno)))")
    }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    fchmod(descriptor, 0o600)
    close(descriptor)
    guard written == bytes.count else { throw TargetError(.io, "short write to \(file.path)") }
  }
}
