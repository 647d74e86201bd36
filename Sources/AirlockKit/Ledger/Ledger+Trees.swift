internal import CGit2
import Foundation

/// What an entry of an artifact tree is, from its git file mode; its raw value is what `--json` prints.
public enum ArtifactEntryKind: String, Sendable, Codable, Hashable, CaseIterable {
  /// A regular file (mode 100644).
  case file
  /// A regular file with an execute bit (mode 100755).
  case executable
  /// A symbolic link (mode 120000); its blob is the link's target.
  case symlink
  /// A folder (mode 040000).
  case folder
  /// A submodule entry (mode 160000), which Airlock never stores but a foreign ledger might hold.
  case submodule
}

/// One file (or symlink) of an artifact: where it is and what it is.
public struct ArtifactFile: Sendable, Codable, Hashable {
  /// The path inside the artifact, `/`-separated; bytes that are not UTF-8 as `\xNN`.
  public var path: String
  /// What it is.
  public var kind: ArtifactEntryKind
  /// For a symlink: where it points, as stored.
  public var target: String?
}

/// One path both artifacts hold with a different content, mode or link target.
public struct ArtifactChange: Sendable, Codable, Hashable {
  /// The path inside the artifact.
  public var path: String
  /// What it was.
  public var before: ArtifactEntryKind
  /// What it is now.
  public var after: ArtifactEntryKind
  /// Whether the bytes differ (for symlinks: the target).
  public var contentChanged: Bool
  /// For a symlink before: where it pointed.
  public var targetBefore: String?
  /// For a symlink after: where it points.
  public var targetAfter: String?
}

/// The files one artifact tree adds, removes and changes against another, each list sorted by path.
public struct ArtifactChanges: Sendable, Codable, Hashable {
  /// Paths only the newer tree holds.
  public var added: [ArtifactFile] = []
  /// Paths only the older tree holds.
  public var removed: [ArtifactFile] = []
  /// Paths both hold, with another content, mode or link target.
  public var changed: [ArtifactChange] = []

  /// Whether the trees hold the same files.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}

extension Ledger {
  /// One entry of a tree as stored: its raw name, kind and object id.
  struct TreeEntry {
    var name: [UInt8]
    var kind: ArtifactEntryKind
    var id: ObjectID
  }

  /// The entries of tree `tree` (one level), in git's order; throws `.notFound` when it is not a tree here.
  func treeEntries(_ tree: ObjectID) throws -> [TreeEntry] {
    var object: OpaquePointer?
    var oid = tree.oid
    try check(git_tree_lookup(&object, repository, &oid), "reading tree \(tree)", ledger: path)
    defer { git_tree_free(object) }
    return (0..<git_tree_entrycount(object)).map { index in
      let entry = git_tree_entry_byindex(object, index)
      let name = git_tree_entry_name(entry)!
      let bytes = name.withMemoryRebound(to: UInt8.self, capacity: strlen(name)) {
        Array(UnsafeBufferPointer(start: $0, count: strlen(name)))
      }
      let kind: ArtifactEntryKind
      switch git_tree_entry_filemode(entry) {
      case GIT_FILEMODE_TREE: kind = .folder
      case GIT_FILEMODE_BLOB_EXECUTABLE: kind = .executable
      case GIT_FILEMODE_LINK: kind = .symlink
      case GIT_FILEMODE_COMMIT: kind = .submodule
      default: kind = .file
      }
      return TreeEntry(name: bytes, kind: kind, id: ObjectID(git_tree_entry_id(entry)!))
    }
  }

  /// What tree `new` adds, removes and changes against tree `old`, read from the ledger alone.
  ///
  /// Subtrees with the same id are skipped without being read, so the cost follows the size of the difference.
  /// A folder replaced by a file (or the other way round) is every file under the folder removed (or added) plus
  /// the file.
  public func changes(from old: ObjectID, to new: ObjectID) throws -> ArtifactChanges {
    var changes = ArtifactChanges()
    try compare(old, new, prefix: [], into: &changes)
    changes.added.sort { $0.path < $1.path }
    changes.removed.sort { $0.path < $1.path }
    changes.changed.sort { $0.path < $1.path }
    return changes
  }

  private func compare(_ old: ObjectID, _ new: ObjectID, prefix: [UInt8], into changes: inout ArtifactChanges)
    throws
  {
    guard old != new else { return }
    let before = Dictionary(try treeEntries(old).map { ($0.name, $0) }) { first, _ in first }
    let after = Dictionary(try treeEntries(new).map { ($0.name, $0) }) { first, _ in first }
    for name in Set(before.keys).union(after.keys) {
      let path = prefix + name
      switch (before[name], after[name]) {
      case (let was?, let now?) where was.kind == .folder && now.kind == .folder:
        try compare(was.id, now.id, prefix: path + [UInt8(ascii: "/")], into: &changes)
      case (let was?, let now?) where was.kind != .folder && now.kind != .folder:
        guard was.id != now.id || was.kind != now.kind else { continue }
        changes.changed.append(
          ArtifactChange(
            path: escaped(path), before: was.kind, after: now.kind, contentChanged: was.id != now.id,
            targetBefore: try linkTarget(was), targetAfter: try linkTarget(now)))
      case (let was, let now):
        if let was { changes.removed += try files(was, path: path) }
        if let now { changes.added += try files(now, path: path) }
      }
    }
  }

  /// `entry` as files: itself, or for a folder every file under it.
  private func files(_ entry: TreeEntry, path: [UInt8]) throws -> [ArtifactFile] {
    guard entry.kind == .folder else {
      return [ArtifactFile(path: escaped(path), kind: entry.kind, target: try linkTarget(entry))]
    }
    return try treeEntries(entry.id).flatMap { try files($0, path: path + [UInt8(ascii: "/")] + $0.name) }
  }

  private func linkTarget(_ entry: TreeEntry) throws -> String? {
    guard entry.kind == .symlink else { return nil }
    return escaped(Array(try readBlob(entry.id)))
  }
}
