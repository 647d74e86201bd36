import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A directory on this machine: `PATH/releases/<label>/` plus a `current` symlink.
public struct LocalTarget: Target {
  /// The target's root directory.
  public let root: URL

  public init(root: URL) {
    self.root = root
  }

  public var hosts: [String] { ["localhost"] }

  var releases: URL { root.appendingPathComponent("releases") }
  var currentLink: URL { root.appendingPathComponent("current") }

  public func releaseDirectory(_ version: String) -> URL { releases.appendingPathComponent(version) }

  public func currentVersion() throws -> String? {
    guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: currentLink.path) else {
      if FileManager.default.fileExists(atPath: currentLink.path) {
        throw TargetError("\(currentLink.path) exists but is not a symlink; move it away so Airlock can manage it")
      }
      return nil
    }
    return URL(fileURLWithPath: destination).lastPathComponent
  }

  public func hasRelease(_ version: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: releaseDirectory(version).path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }

  public func install(version: String, configText: String, export: (URL) throws -> Void) throws {
    let fileManager = FileManager.default
    do {
      try fileManager.createDirectory(at: releases, withIntermediateDirectories: true)
    } catch {
      throw TargetError("cannot create \(releases.path): \(error.localizedDescription)")
    }
    let final = releaseDirectory(version)
    if hasRelease(version) {
      try writeConfig(configText, into: final)
      return
    }
    // Build beside the final name and rename into place, so a release directory is either complete or absent.
    let staging = releases.appendingPathComponent(".incoming-\(version)-\(getpid())")
    try? fileManager.removeItem(at: staging)
    do {
      try export(staging)
      try writeConfig(configText, into: staging)
      try rename(staging, to: final)
    } catch {
      try? fileManager.removeItem(at: staging)
      throw error
    }
  }

  public func activate(_ version: String) throws {
    guard hasRelease(version) else { throw TargetError("release \(version) is not on \(root.path)") }
    let temporary = root.appendingPathComponent(".current-\(getpid())")
    unlink(temporary.path)
    guard symlink("releases/\(version)", temporary.path) == 0 else {
      throw TargetError("cannot create a symlink in \(root.path): \(String(cString: strerror(errno)))")
    }
    do {
      try rename(temporary, to: currentLink)
    } catch {
      unlink(temporary.path)
      throw error
    }
    // The directory's mtime orders releases by last activation for retention.
    utimes(releaseDirectory(version).path, nil)
  }

  public func prune(keep: Int, protecting: Set<String>) throws -> [String] {
    let fileManager = FileManager.default
    guard let names = try? fileManager.contentsOfDirectory(atPath: releases.path) else { return [] }
    var deleted: [String] = []
    for name in names where name.hasPrefix(".incoming-") {
      // Leftovers of an interrupted install; the caller holds the environment's lease, so none is in use.
      try? fileManager.removeItem(at: releases.appendingPathComponent(name))
    }
    let current = try currentVersion()
    let ordered =
      names
      .filter { !$0.hasPrefix(".") }
      .map { (name: $0, modified: modificationTime(releases.appendingPathComponent($0))) }
      .sorted { $0.modified > $1.modified }
    for (index, entry) in ordered.enumerated()
    where index >= keep && !protecting.contains(entry.name) && entry.name != current {
      do {
        try fileManager.removeItem(at: releases.appendingPathComponent(entry.name))
        deleted.append(entry.name)
      } catch {
        throw TargetError("cannot delete old release \(entry.name) on \(root.path): \(error.localizedDescription)")
      }
    }
    return deleted
  }

  private func writeConfig(_ text: String, into directory: URL) throws {
    let folder = directory.appendingPathComponent(".airlock")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let file = folder.appendingPathComponent("config.env")
    let temporary = folder.appendingPathComponent(".config.env-\(getpid())")
    // Created 0600 before any byte is written, so secrets are never readable by others, not even briefly.
    let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw TargetError("cannot write \(temporary.path): \(String(cString: strerror(errno)))")
    }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    fchmod(descriptor, 0o600)
    close(descriptor)
    guard written == bytes.count else { throw TargetError("short write to \(temporary.path)") }
    try rename(temporary, to: file)
  }

  private func rename(_ source: URL, to destination: URL) throws {
    guard Glibc.rename(source.path, destination.path) == 0 else {
      throw TargetError(
        "cannot rename \(source.path) to \(destination.path): \(String(cString: strerror(errno)))")
    }
  }

  private func modificationTime(_ url: URL) -> Double {
    var info = stat()
    guard lstat(url.path, &info) == 0 else { return 0 }
    return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
  }
}
