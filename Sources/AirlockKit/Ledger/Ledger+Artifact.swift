internal import CGit2
import Foundation

extension Ledger {
  /// Stores a directory tree as git objects and returns the tree id.
  ///
  /// Regular files get mode 100755 when any execute bit is set, else 100644; symlinks get mode 120000 with the
  /// link's target as content and are never followed; subdirectories are stored recursively. File names are
  /// stored as the bytes the file system holds (they need not be UTF-8). A top-level `.airlock` folder is
  /// skipped (Airlock writes config there). Empty directories cannot be stored in git and are skipped.
  /// Identical content gives the identical tree id; that is what "same release" means.
  ///
  /// Everything `Ledger.checkArtifact(directory:)` refuses throws `.invalidArtifact` naming the path, before the
  /// tree holding it is written: the ledger stays `git fsck --strict` clean.
  public func storeArtifact(directory: URL) throws -> ObjectID {
    let walk = try ArtifactWalk(directory)
    if let tree = try walk.folder(walk.root, relativePath: [], storingIn: self) { return tree }
    return try TreeBuilder(self).write()
  }

  /// Checks that `directory` can be stored as an artifact, writing nothing.
  ///
  /// Refuses (`.invalidArtifact`, naming the path and why) sockets, FIFOs and devices, and every entry stock
  /// `git fsck --strict` flags: a name git, Windows or macOS reads as `.git`; a symlink read as `.gitmodules`,
  /// `.gitattributes`, `.gitignore` or `.mailmap`; a folder read as `.gitmodules` or `.gitattributes`; a
  /// `.gitmodules` git cannot parse or whose submodule names, URLs, paths or update commands fsck rejects; a
  /// `.gitattributes` over 100 MiB or with a line of 2048 bytes or more. Unreadable entries throw `.io`.
  public static func checkArtifact(directory: URL) throws {
    let walk = try ArtifactWalk(directory)
    _ = try walk.folder(walk.root, relativePath: [], storingIn: nil)
  }
}

/// One pass over an artifact folder by raw names (`readdir`, never decoded), checking and optionally storing.
private struct ArtifactWalk {
  let root: [UInt8]
  let artifact: String

  init(_ directory: URL) throws {
    artifact = directory.standardizedFileURL.path
    root = Array(artifact.utf8)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: artifact, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw LedgerError(
        .invalidArtifact, "artifact \(artifact) is not a directory; pass the folder that holds the release")
    }
  }

  /// Checks (and with a ledger, stores) one folder; nil for a folder with nothing storable in it, so that empty
  /// folders vanish as they do in git.
  func folder(_ folder: [UInt8], relativePath: [UInt8], storingIn ledger: Ledger?) throws -> ObjectID? {
    let builder = try ledger.map { try TreeBuilder($0) }
    for name in try names(in: folder, relativePath: relativePath)
    where !(relativePath.isEmpty && name == Array(".airlock".utf8)) {
      let full = folder + [UInt8(ascii: "/")] + name
      let relative = relativePath + name
      var info = stat()
      guard withCPath(full, { lstat($0, &info) }) == 0 else {
        throw LedgerError(
          .io, "cannot read \(escaped(relative)) in artifact \(artifact): \(errnoText()); check its permissions")
      }
      let kind: ArtifactRules.EntryKind
      switch info.st_mode & S_IFMT {
      case S_IFREG: kind = .file
      case S_IFLNK: kind = .symlink
      case S_IFDIR: kind = .folder
      default:
        throw LedgerError(
          .invalidArtifact,
          "\(escaped(relative)) in artifact \(artifact) is a socket, FIFO or device, which a release cannot contain; "
            + "remove it from the artifact (or create it at start-up instead)")
      }
      if let refusal = ArtifactRules.problem(name: name, kind: kind) { throw refused(relative, refusal) }
      switch kind {
      case .file:
        let executable = info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
        let blob = try file(full, name: name, relative: relative, storingIn: ledger)
        if let builder, let blob {
          try builder.insert(
            rawName: name, blob, mode: executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB,
            shownAs: escaped(relative))
        }
      case .symlink:
        let target = try linkTarget(full, size: Int(info.st_size), relative: relative)
        if let ledger, let builder {
          try builder.insert(
            rawName: name, try ledger.writeBlob(target), mode: GIT_FILEMODE_LINK, shownAs: escaped(relative))
        }
      case .folder:
        let tree = try self.folder(full, relativePath: relative + [UInt8(ascii: "/")], storingIn: ledger)
        if let builder, let tree {
          try builder.insert(rawName: name, tree, mode: GIT_FILEMODE_TREE, shownAs: escaped(relative))
        }
      }
    }
    guard let builder, !builder.isEmpty else { return nil }
    return try builder.write()
  }

  /// The raw names in `folder`, without `.` and `..`.
  private func names(in folder: [UInt8], relativePath: [UInt8]) throws -> [[UInt8]] {
    guard let stream = withCPath(folder, { opendir($0) }) else {
      throw LedgerError(
        .io,
        "cannot list \(relativePath.isEmpty ? "the top folder" : escaped(relativePath)) of artifact \(artifact): "
          + "\(errnoText()); check its permissions")
    }
    defer { closedir(stream) }
    var names: [[UInt8]] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name != [UInt8(ascii: ".")] && name != Array("..".utf8) { names.append(name) }
    }
    return names
  }

  /// Stores one regular file; the content of a file fsck parses is read once, checked, and stored as checked.
  private func file(_ full: [UInt8], name: [UInt8], relative: [UInt8], storingIn ledger: Ledger?) throws -> ObjectID? {
    if ArtifactRules.needsContentCheck(name) {
      let content = try contents(full, relative: relative)
      if let refusal = ArtifactRules.contentProblem(name: name, content: content) { throw refused(relative, refusal) }
      return try ledger?.writeBlob(Data(content))
    }
    guard let ledger else { return nil }
    var oid = git_oid()
    try check(
      withCPath(full) { git_blob_create_from_disk(&oid, ledger.repository, $0) },
      "storing \(escaped(relative)) from \(artifact)", ledger: ledger.path)
    return ObjectID(oid)
  }

  private func contents(_ full: [UInt8], relative: [UInt8]) throws -> [UInt8] {
    let descriptor = withCPath(full) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
    guard descriptor >= 0 else { throw unreadable(relative) }
    defer { close(descriptor) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while content.count <= ArtifactRules.maximumSpecialFileSize {
      let count = read(descriptor, &chunk, chunk.count)
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else { throw unreadable(relative) }
      if count == 0 { break }
      content += chunk.prefix(count)
    }
    return content
  }

  /// The raw bytes of a symlink's target: git stores them as they are, without following the link.
  private func linkTarget(_ link: [UInt8], size: Int, relative: [UInt8]) throws -> Data {
    var buffer = [CChar](repeating: 0, count: max(size, Int(PATH_MAX)) + 1)
    let count = withCPath(link) { readlink($0, &buffer, buffer.count) }
    guard count >= 0 else {
      throw LedgerError(
        .io, "cannot read the symlink \(escaped(relative)) in artifact \(artifact): \(errnoText())")
    }
    return buffer.withUnsafeBytes { Data($0.prefix(count)) }
  }

  private func unreadable(_ relative: [UInt8]) -> LedgerError {
    LedgerError(.io, "cannot read \(escaped(relative)) in artifact \(artifact): \(errnoText()); check its permissions")
  }

  private func refused(_ relative: [UInt8], _ refusal: ArtifactRules.Refusal) -> LedgerError {
    LedgerError(
      .invalidArtifact,
      "\(escaped(relative)) in artifact \(artifact) \(refusal.reason); `git fsck --strict` would flag the ledger "
        + "(\(refusal.fsckMessage)), so nothing was stored or deployed: rename, replace or remove it and try again")
  }
}

/// Calls `body` with `bytes` as a NUL-terminated C path (file names are bytes, not necessarily UTF-8).
func withCPath<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
  try (bytes + [0]).withUnsafeBufferPointer { buffer in
    try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
  }
}

extension Ledger {
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
    try export(treeObject, into: Array(root.utf8), relativePath: [], release: tree)
  }

  private func lookupTree(_ id: ObjectID) throws -> OpaquePointer? {
    var tree: OpaquePointer?
    var oid = id.oid
    try check(git_tree_lookup(&tree, repository, &oid), "reading tree \(id)", ledger: path)
    return tree
  }

  private func export(_ tree: OpaquePointer?, into folder: [UInt8], relativePath: [UInt8], release: ObjectID) throws {
    for index in 0..<git_tree_entrycount(tree) {
      let entry = git_tree_entry_byindex(tree, index)
      // Names are bytes: a name that is not UTF-8 is written back exactly as it was stored.
      let namePointer = git_tree_entry_name(entry)!
      let name = namePointer.withMemoryRebound(to: UInt8.self, capacity: strlen(namePointer)) {
        Array(UnsafeBufferPointer(start: $0, count: strlen(namePointer)))
      }
      let shown = escaped(relativePath + name)
      guard Self.isSafeEntryName(name) else {
        throw LedgerError(
          .corrupt,
          "release \(release.short) in ledger \(path) has an entry \"\(shown)\" that would write outside the export "
            + "folder or into git's metadata; refusing to export it. Run `git -C \(path) fsck --strict` and check "
            + "who wrote this ledger")
      }
      let target = folder + [UInt8(ascii: "/")] + name
      switch git_tree_entry_filemode(entry) {
      case GIT_FILEMODE_TREE:
        guard withCPath(target, { mkdir($0, 0o777) }) == 0 else { throw exportFailure(shown, release: release) }
        var subtree: OpaquePointer?
        try check(
          git_tree_lookup(&subtree, repository, git_tree_entry_id(entry)), "reading folder \(shown)", ledger: path)
        defer { git_tree_free(subtree) }
        try export(subtree, into: target, relativePath: relativePath + name + [UInt8(ascii: "/")], release: release)
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
        guard withCPath(target, { symlink(linkTarget, $0) }) == 0 else {
          throw exportFailure(shown, release: release)
        }
      default:
        throw LedgerError(
          .invalidArtifact,
          "\(shown) in release \(release.short) of ledger \(path) is a submodule, which Airlock cannot export; "
            + "store the submodule's files in the artifact instead")
      }
    }
  }

  /// Names a hostile ledger could use to escape the export folder or plant git metadata in it.
  static func isSafeEntryName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name != [UInt8(ascii: ".")] && name != Array("..".utf8)
      && name.map(asciiLower) != Array(".git".utf8) && !name.contains(UInt8(ascii: "/")) && !name.contains(0)
  }

  /// O_EXCL and O_NOFOLLOW make sure a file never lands on, or through, something already there.
  private func writeFile(
    _ target: [UInt8], blob id: UnsafePointer<git_oid>?, mode: mode_t, shownAs shown: String, release: ObjectID
  ) throws {
    var blob: OpaquePointer?
    try check(git_blob_lookup(&blob, repository, id), "reading \(shown) of release \(release.short)", ledger: path)
    defer { git_blob_free(blob) }
    let descriptor = withCPath(target) { createExclusively($0, mode: mode) }
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
private func createExclusively(_ path: UnsafePointer<CChar>, mode: mode_t) -> Int32 {
  open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
}

/// The current `errno` as words, e.g. "Permission denied".
func errnoText() -> String {
  String(cString: strerror(errno))
}
