import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A directory on this machine: `PATH/releases/<label>/` plus a `current` symlink; one host, `localhost`, switched
/// in one step.
///
/// Every release folder Airlock makes carries a mark, `.airlock/release.json`, naming the pipeline, the label and
/// the artifact's tree id. Install reuses a folder only when its mark shows the same tree, and retention deletes
/// only folders whose mark shows this pipeline made them, so a stray or foreign folder is never run nor deleted.
public struct LocalTarget: Target {
  /// The target's root directory.
  public let root: URL
  /// The pipeline whose releases this target holds; retention deletes only folders marked with it.
  public let pipeline: String

  /// A target under `root` holding `pipeline`'s releases.
  public init(root: URL, pipeline: String) {
    self.root = root
    self.pipeline = pipeline
  }

  /// Always `localhost`: the one host `{host}` stands for.
  public var hosts: [String] { ["localhost"] }

  var releases: URL { root.appendingPathComponent("releases") }
  var currentLink: URL { root.appendingPathComponent("current") }

  /// `root/releases/<version>`.
  public func releaseDirectory(_ version: String) -> URL { releases.appendingPathComponent(version) }

  /// The label `current` points at; throws an unmanaged `TargetError` when `current` is not a symlink Airlock
  /// made: a directory or file, or a link to anything but a folder directly under `releases/`.
  public func currentVersion() throws -> String? {
    guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: currentLink.path) else {
      var info = stat()
      if lstat(currentLink.path, &info) == 0 {
        throw TargetError(
          .unmanaged,
          "\(currentLink.path) is not a symlink, so Airlock did not make it; move it away (or replace it with "
            + "`ln -sfn releases/LABEL \(currentLink.path)`), then run the command again")
      }
      return nil
    }
    let label = URL(fileURLWithPath: destination).lastPathComponent
    let inReleases =
      destination == "releases/\(label)" || destination == releases.path + "/" + label
      || destination == releases.standardizedFileURL.path + "/" + label
    guard inReleases, !label.hasPrefix("."), hasRelease(label) else {
      throw TargetError(
        .unmanaged,
        "\(currentLink.path) points at \(destination), which is not a release folder under \(releases.path): "
          + "a state Airlock did not make; point it back (`ln -sfn releases/LABEL \(currentLink.path)`) or move "
          + "it away, then run the command again")
    }
    return label
  }

  /// Whether `releases/<version>/` is a folder.
  public func hasRelease(_ version: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: releaseDirectory(version).path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }

  /// Exports into a hidden folder beside the final name, writes mark and config there, then renames it into place;
  /// the one outcome is `localhost`'s. An error of `export` itself (the ledger's) is rethrown.
  public func install(
    _ release: Release, configText: String, on hosts: [String], export: (URL) throws -> Void
  ) async throws -> [HostSwitch] {
    do {
      try install(release, configText: configText, export: export)
      return hosts.map { .succeeded($0) }
    } catch let error as TargetError {
      return hosts.map { .failed($0, error) }
    }
  }

  /// Points `current` at `releases/<version>` with one atomic rename of a fresh symlink; the one outcome is
  /// `localhost`'s. Nothing runs, so `context` is not needed.
  public func activate(_ version: String, on hosts: [String], context: SwitchContext) async throws -> [HostSwitch] {
    do {
      try activate(version)
      return hosts.map { .succeeded($0) }
    } catch let error as TargetError {
      return hosts.map { .failed($0, error) }
    }
  }

  /// Makes `releases/<version>/` complete, or throws `TargetError` (or `export`'s error).
  func install(_ release: Release, configText: String, export: (URL) throws -> Void) throws {
    let fileManager = FileManager.default
    do {
      try fileManager.createDirectory(at: releases, withIntermediateDirectories: true)
    } catch {
      throw TargetError(.io, "cannot create \(releases.path): \(error.localizedDescription)")
    }
    let final = releaseDirectory(release.version)
    let existing = hasRelease(release.version) ? mark(of: release.version) : nil
    if let existing, existing.tree == release.id {
      try ReleaseFiles.writeConfig(configText, into: final)
      return
    }
    // Build beside the final name and rename into place, so a release directory is either complete or absent.
    let staging = releases.appendingPathComponent(".incoming-\(release.version)-\(getpid())")
    try? fileManager.removeItem(at: staging)
    do {
      try export(staging)
      try ReleaseFiles.writeMark(
        ReleaseMark(pipeline: pipeline, version: release.version, tree: release.id), into: staging)
      try ReleaseFiles.writeConfig(configText, into: staging)
      if hasRelease(release.version) {
        // A folder of that name holds other files (no mark, or another tree): swap the fresh export in, so the
        // name never stops naming a complete release, then delete what it held.
        try exchange(staging, final)
        try? fileManager.removeItem(at: staging)
      } else {
        try rename(staging, to: final)
      }
    } catch {
      try? fileManager.removeItem(at: staging)
      throw error
    }
  }

  /// Points `current` at `releases/<version>`, or throws `TargetError`.
  func activate(_ version: String) throws {
    guard hasRelease(version) else { throw TargetError(.missingRelease, "release \(version) is not on \(root.path)") }
    let temporary = root.appendingPathComponent(".current-\(getpid())")
    unlink(temporary.path)
    guard symlink("releases/\(version)", temporary.path) == 0 else {
      throw TargetError(.io, "cannot create a symlink in \(root.path): \(String(cString: strerror(errno)))")
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

  /// Deletes this pipeline's releases beyond the newest `keep` (by last switch), never `current` or one in `protecting`.
  public func prune(keep: Int, protecting: Set<String>) throws -> [String] {
    let fileManager = FileManager.default
    guard let names = try? fileManager.contentsOfDirectory(atPath: releases.path) else { return [] }
    var deleted: [String] = []
    for name in names where name.hasPrefix(".incoming-") || name.hasPrefix(".stale-") {
      // Leftovers of an interrupted install; the caller holds the environment's lease, so none is in use.
      try? fileManager.removeItem(at: releases.appendingPathComponent(name))
    }
    let folders = names.filter { !$0.hasPrefix(".") }
    // Fewer folders than `keep` (a rollback to a kept release adds none): nothing to read, nothing to delete.
    guard folders.count > keep else { return deleted }
    let current = try? currentVersion()
    // Only folders whose mark shows this pipeline made them: a ledger or anyone's files placed under releases/
    // are never Airlock's to delete.
    let ordered =
      folders
      .filter { mark(of: $0)?.pipeline == pipeline }
      .map { (name: $0, modified: modificationTime(releases.appendingPathComponent($0))) }
      .sorted { $0.modified > $1.modified }
    for (index, entry) in ordered.enumerated()
    where index >= keep && !protecting.contains(entry.name) && entry.name != current {
      do {
        try fileManager.removeItem(at: releases.appendingPathComponent(entry.name))
        deleted.append(entry.name)
      } catch {
        throw TargetError(.io, "cannot delete old release \(entry.name) on \(root.path): \(error.localizedDescription)")
      }
    }
    return deleted
  }

  /// The mark of the release folder `version`, or nil when it has none or it cannot be read.
  func mark(of version: String) -> ReleaseMark? {
    let file = releaseDirectory(version).appendingPathComponent(ReleaseMark.path)
    guard let data = FileManager.default.contents(atPath: file.path),
      let mark = try? JSONDecoder().decode(ReleaseMark.self, from: data), mark.version == version
    else { return nil }
    return mark
  }

  private func rename(_ source: URL, to destination: URL) throws {
    guard Glibc.rename(source.path, destination.path) == 0 else {
      throw TargetError(
        .io, "cannot rename \(source.path) to \(destination.path): \(String(cString: strerror(errno)))")
    }
  }

  /// Swaps two folders in one atomic step (renameat2 with RENAME_EXCHANGE), falling back to two renames where the
  /// kernel or file system cannot.
  private func exchange(_ fresh: URL, _ final: URL) throws {
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") {
      let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
      if renameat2(AT_FDCWD, fresh.path, AT_FDCWD, final.path, 1 << 1) == 0 { return }  // RENAME_EXCHANGE
    }
    let aside = releases.appendingPathComponent(".stale-\(final.lastPathComponent)-\(getpid())")
    try rename(final, to: aside)
    try rename(fresh, to: final)
    try rename(aside, to: fresh)
  }

  private func modificationTime(_ url: URL) -> Double {
    var info = stat()
    guard lstat(url.path, &info) == 0 else { return 0 }
    return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
  }
}
