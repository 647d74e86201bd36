internal import CGit2
import Foundation

extension Ledger {
  /// Stores a directory tree as git objects and returns the tree id.
  ///
  /// Regular files get mode 100755 when any execute bit is set, else 100644; symlinks get mode 120000 with the
  /// link's target as content and are never followed; subdirectories are stored recursively. A top-level
  /// `.airlock` folder is skipped (Airlock writes config there). Sockets, FIFOs and devices, and names git refuses
  /// (such as `.git`), throw `.invalidArtifact` naming the path. Identical content gives the identical tree id;
  /// that is what "same release" means. Empty directories cannot be stored in git and are skipped.
  public func storeArtifact(directory: URL) throws -> ObjectID {
    let root = directory.standardizedFileURL.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw LedgerError(.invalidArtifact, "artifact \(root) is not a directory; pass the folder that holds the release")
    }
    if let tree = try storeFolder(root, relativePath: "", artifact: root) { return tree }
    return try TreeBuilder(self).write()
  }

  /// Returns nil for a folder with nothing storable in it, so that empty folders vanish as they do in git.
  private func storeFolder(_ folder: String, relativePath: String, artifact: String) throws -> ObjectID? {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder)
    } catch {
      throw LedgerError(
        .io, "cannot list \(folder) in artifact \(artifact): \(error.localizedDescription); check its permissions")
    }
    let builder = try TreeBuilder(self)
    for name in names where !(relativePath.isEmpty && name == ".airlock") {
      let full = folder + "/" + name
      let shown = relativePath + name
      var info = stat()
      guard lstat(full, &info) == 0 else {
        throw LedgerError(.io, "cannot read \(shown) in artifact \(artifact): \(errnoText()); check its permissions")
      }
      switch info.st_mode & S_IFMT {
      case S_IFREG:
        var oid = git_oid()
        try check(git_blob_create_from_disk(&oid, repository, full), "storing \(shown) from \(artifact)", ledger: path)
        let executable = info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
        try builder.insert(
          name, ObjectID(oid), mode: executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB, shownAs: shown)
      case S_IFLNK:
        let target = try linkTarget(full, size: Int(info.st_size), shownAs: shown, artifact: artifact)
        try builder.insert(name, try writeBlob(target), mode: GIT_FILEMODE_LINK, shownAs: shown)
      case S_IFDIR:
        if let tree = try storeFolder(full, relativePath: shown + "/", artifact: artifact) {
          try builder.insert(name, tree, mode: GIT_FILEMODE_TREE, shownAs: shown)
        }
      default:
        throw LedgerError(
          .invalidArtifact,
          "\(shown) in artifact \(artifact) is a socket, FIFO or device, which a release cannot contain; "
            + "remove it from the artifact (or create it at start-up instead)")
      }
    }
    return builder.isEmpty ? nil : try builder.write()
  }

  /// The raw bytes of a symlink's target: git stores them as they are, without following the link.
  private func linkTarget(_ link: String, size: Int, shownAs shown: String, artifact: String) throws -> Data {
    var buffer = [CChar](repeating: 0, count: max(size, Int(PATH_MAX)) + 1)
    let count = readlink(link, &buffer, buffer.count)
    guard count >= 0 else {
      throw LedgerError(.io, "cannot read the symlink \(shown) in artifact \(artifact): \(errnoText())")
    }
    return buffer.withUnsafeBytes { Data($0.prefix(count)) }
  }

  /// Writes the files of tree `tree` into `directory`, restoring exec bits and symlinks.
  ///
  /// `directory` is created; if it exists it must be an empty folder.
  /// Files get mode 0755 or 0644 less the process umask, as `git checkout` does. Entry names that are empty,
  /// `.`, `..` or `.git` (in any case), or contain `/` or NUL, are refused with `.corrupt` before anything is
  /// written under them, and nothing is ever written through a symlink: a hostile ledger cannot write outside
  /// `directory`. Submodule entries throw `.invalidArtifact`. A non-empty `directory` throws `.alreadyExists`.
  /// A failure part-way leaves a partial tree behind, so export into a fresh folder and rename it into place.
  public func exportTree(_ tree: ObjectID, to directory: URL) throws {
    let root = directory.standardizedFileURL.path
    let treeObject = try lookupTree(tree)
    defer { git_tree_free(treeObject) }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
      let isEmpty =
        isDirectory.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: root))?.isEmpty ?? false)
      guard isEmpty else {
        throw LedgerError(
          .alreadyExists,
          "cannot export release \(tree.short) to \(root): it exists and is not an empty folder; remove it first")
      }
    } else {
      do {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      } catch {
        throw LedgerError(.io, "cannot create \(root) to export release \(tree.short): \(error.localizedDescription)")
      }
    }
    try export(treeObject, into: root, relativePath: "", release: tree)
  }

  private func lookupTree(_ id: ObjectID) throws -> OpaquePointer? {
    var tree: OpaquePointer?
    var oid = id.oid
    try check(git_tree_lookup(&tree, repository, &oid), "reading tree \(id)", ledger: path)
    return tree
  }

  private func export(_ tree: OpaquePointer?, into folder: String, relativePath: String, release: ObjectID) throws {
    for index in 0..<git_tree_entrycount(tree) {
      let entry = git_tree_entry_byindex(tree, index)
      let name = String(cString: git_tree_entry_name(entry))
      let shown = relativePath + name
      guard Self.isSafeEntryName(name) else {
        throw LedgerError(
          .corrupt,
          "release \(release.short) in ledger \(path) has an entry \"\(shown)\" that would write outside the export "
            + "folder or into git's metadata; refusing to export it. Run `git -C \(path) fsck --strict` and check "
            + "who wrote this ledger")
      }
      let target = folder + "/" + name
      switch git_tree_entry_filemode(entry) {
      case GIT_FILEMODE_TREE:
        guard mkdir(target, 0o777) == 0 else { throw exportFailure(shown, release: release) }
        var subtree: OpaquePointer?
        try check(
          git_tree_lookup(&subtree, repository, git_tree_entry_id(entry)), "reading folder \(shown)", ledger: path)
        defer { git_tree_free(subtree) }
        try export(subtree, into: target, relativePath: shown + "/", release: release)
      case GIT_FILEMODE_BLOB:
        try writeFile(target, blob: git_tree_entry_id(entry), mode: 0o666, shownAs: shown, release: release)
      case GIT_FILEMODE_BLOB_EXECUTABLE:
        try writeFile(target, blob: git_tree_entry_id(entry), mode: 0o777, shownAs: shown, release: release)
      case GIT_FILEMODE_LINK:
        let destination = try readBlob(ObjectID(git_tree_entry_id(entry)!))
        guard !destination.contains(0) else {
          throw LedgerError(.corrupt, "symlink \(shown) of release \(release.short) in ledger \(path) has a NUL byte")
        }
        // Link targets are bytes, not necessarily UTF-8, so they go to symlink(2) unchanged.
        let linkTarget = destination.map { CChar(bitPattern: $0) } + [0]
        guard symlink(linkTarget, target) == 0 else { throw exportFailure(shown, release: release) }
      default:
        throw LedgerError(
          .invalidArtifact,
          "\(shown) in release \(release.short) of ledger \(path) is a submodule, which Airlock cannot export; "
            + "store the submodule's files in the artifact instead")
      }
    }
  }

  /// Names a hostile ledger could use to escape the export folder or plant git metadata in it.
  static func isSafeEntryName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && name.lowercased() != ".git" && !name.contains("/")
      && !name.contains("\0")
  }

  /// O_EXCL and O_NOFOLLOW make sure a file never lands on, or through, something already there.
  private func writeFile(
    _ target: String, blob id: UnsafePointer<git_oid>?, mode: mode_t, shownAs shown: String, release: ObjectID
  ) throws {
    var blob: OpaquePointer?
    try check(git_blob_lookup(&blob, repository, id), "reading \(shown) of release \(release.short)", ledger: path)
    defer { git_blob_free(blob) }
    let descriptor = createExclusively(target, mode: mode)
    guard descriptor >= 0 else { throw exportFailure(shown, release: release) }
    defer { close(descriptor) }
    var remaining = Int(git_blob_rawsize(blob))
    guard remaining > 0, var cursor = git_blob_rawcontent(blob) else { return }
    while remaining > 0 {
      let written = write(descriptor, cursor, remaining)
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { throw exportFailure(shown, release: release) }
      remaining -= written
      cursor += written
    }
  }

  private func exportFailure(_ shown: String, release: ObjectID) -> LedgerError {
    let duplicate = errno == EEXIST
    let reason = errnoText()
    return LedgerError(
      duplicate ? .corrupt : .io,
      "cannot write \(shown) while exporting release \(release.short) from ledger \(path): \(reason); "
        + (duplicate
          ? "the release names it twice, which no honest writer does; run `git -C \(path) fsck --strict`"
          : "check free space and permissions of the target folder"))
  }
}

/// A new file, refusing to reuse or follow anything already at `path`; a file descriptor, or -1 with `errno` set.
private func createExclusively(_ path: String, mode: mode_t) -> Int32 {
  open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
}

/// The current `errno` as words, e.g. "Permission denied".
func errnoText() -> String {
  String(cString: strerror(errno))
}
