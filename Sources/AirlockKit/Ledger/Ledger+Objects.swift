internal import CGit2
import Foundation

extension Ledger {
  /// Stores `data` as a blob and returns its id; storing the same bytes again returns the same id.
  public func writeBlob(_ data: Data) throws -> ObjectID {
    var oid = git_oid()
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, repository), "opening the object database", ledger: path)
    defer { git_odb_free(odb) }
    try data.withUnsafeBytes { bytes in
      // git_odb_write hashes first and only freshens (touches) an object already stored: most of an event's files
      // (config.env, checks.json, environment.json) repeat the previous event's bytes, and the blob API deflated
      // each into a temporary file before finding it there.
      _ = try check(
        git_odb_write(&oid, odb, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "storing a blob", ledger: path)
    }
    return ObjectID(oid)
  }

  /// The bytes of blob `id`; throws `.notFound` if there is no blob with that id.
  public func readBlob(_ id: ObjectID) throws -> Data {
    var blob: OpaquePointer?
    var oid = id.oid
    try check(git_blob_lookup(&blob, repository, &oid), "reading blob \(id)", ledger: path)
    defer { git_blob_free(blob) }
    return blobData(blob)
  }

  func blobData(_ blob: OpaquePointer?) -> Data {
    let size = Int(git_blob_rawsize(blob))
    guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
    return Data(bytes: bytes, count: size)
  }

  /// Builds a tree of top-level files and subtrees and returns its id.
  ///
  /// `files` maps names to contents (stored with mode 100644); `subtrees` maps names to existing tree ids
  /// (e.g. `"artifact"`).
  /// Names must be valid git entry names: not empty, `.`, `..` or `.git`, without `/`, and not used twice.
  /// Violations throw `.invalidArtifact`; a subtree id that is not a tree in the ledger throws as well.
  public func writeTree(files: [String: Data], subtrees: [String: ObjectID]) throws -> ObjectID {
    if let clash = Set(files.keys).intersection(subtrees.keys).sorted().first {
      throw LedgerError(
        .invalidArtifact, "cannot write a tree to ledger \(path) with \"\(clash)\" as both a file and a folder")
    }
    let builder = try TreeBuilder(self)
    for (name, contents) in files {
      try builder.insert(name, try writeBlob(contents), mode: GIT_FILEMODE_BLOB, shownAs: name)
    }
    for (name, tree) in subtrees {
      try builder.insert(name, tree, mode: GIT_FILEMODE_TREE, shownAs: name)
    }
    return try builder.write()
  }

  /// Writes a commit object (does not move any ref).
  ///
  /// Author and committer are both `author`; `time` is kept to the second, in UTC. The message is stored with one
  /// trailing newline, as git does, and `commit(_:)` gives it back without. Every parent and the tree must already
  /// be in the ledger. Throws if `author` has an empty name or email or contains `<`, `>` or a line break.
  public func writeCommit(tree: ObjectID, parents: [ObjectID], message: String, author: Signature, time: Date)
    throws -> ObjectID
  {
    let signature = try makeSignature(author, time: time)
    defer { git_signature_free(signature) }
    var treeObject: OpaquePointer?
    var treeID = tree.oid
    try check(git_tree_lookup(&treeObject, repository, &treeID), "reading tree \(tree) for a commit", ledger: path)
    defer { git_tree_free(treeObject) }
    var parentObjects: [OpaquePointer?] = []
    defer { parentObjects.forEach(git_commit_free) }
    for parent in parents {
      var commit: OpaquePointer?
      var parentID = parent.oid
      try check(git_commit_lookup(&commit, repository, &parentID), "reading parent commit \(parent)", ledger: path)
      parentObjects.append(commit)
    }
    let text = message.hasSuffix("\n") ? message : message + "\n"
    var oid = git_oid()
    try check(
      git_commit_create(
        &oid, repository, nil, signature, signature, nil, text, treeObject, parentObjects.count, &parentObjects),
      "writing a commit", ledger: path)
    return ObjectID(oid)
  }

  func makeSignature(_ author: Signature, time: Date) throws -> UnsafeMutablePointer<git_signature> {
    let forbidden: Set<Character> = ["<", ">", "\n", "\r", "\0"]
    for (field, value) in [("name", author.name), ("email", author.email)] {
      if value.trimmingCharacters(in: .whitespaces).isEmpty || value.contains(where: forbidden.contains) {
        throw LedgerError(
          .invalidArtifact,
          "cannot record an event in ledger \(path) by \"\(author.name) <\(author.email)>\": the \(field) must be "
            + "non-empty and free of <, > and line breaks; set AIRLOCK_ACTOR or git's user.name and user.email")
      }
    }
    var signature: UnsafeMutablePointer<git_signature>?
    let seconds = git_time_t(time.timeIntervalSince1970.rounded(.down))
    try check(
      git_signature_new(&signature, author.name, author.email, seconds, 0), "making the commit signature",
      ledger: path)
    return signature!
  }

  /// The commit `id`: its tree, parents, message, author and time. Throws `.notFound` if it is not a commit here.
  public func commit(_ id: ObjectID) throws -> LedgerCommit {
    let commit = try lookupCommit(id)
    defer { git_commit_free(commit) }
    let parents = (0..<git_commit_parentcount(commit)).map { ObjectID(git_commit_parent_id(commit, $0)) }
    let author = git_commit_author(commit)!.pointee
    var message = git_commit_message(commit).map { String(cString: $0) } ?? ""
    while message.hasSuffix("\n") { message.removeLast() }
    return LedgerCommit(
      id: id,
      tree: ObjectID(git_commit_tree_id(commit)),
      parents: parents,
      message: message,
      author: Signature(name: String(cString: author.name), email: String(cString: author.email)),
      time: Date(timeIntervalSince1970: TimeInterval(author.when.time)))
  }

  func lookupCommit(_ id: ObjectID) throws -> OpaquePointer? {
    var commit: OpaquePointer?
    var oid = id.oid
    try check(git_commit_lookup(&commit, repository, &oid), "reading commit \(id)", ledger: path)
    return commit
  }

  /// The blob at `path` (e.g. "release.json", or "artifact/bin/start") in commit `commit`'s tree, or nil if absent.
  ///
  /// Also nil when `path` names a folder. For a symlink entry the blob is the link's target.
  public func readFile(_ path: String, inCommit commit: ObjectID) throws -> Data? {
    try withEntry(path, inCommit: commit) { entry in
      guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
      var blob: OpaquePointer?
      try check(
        git_blob_lookup(&blob, repository, git_tree_entry_id(entry)), "reading \(path) in commit \(commit)",
        ledger: self.path)
      defer { git_blob_free(blob) }
      return blobData(blob)
    }
  }

  /// The id of the tree or blob entry at `path` (e.g. "artifact") in the commit's tree, or nil.
  ///
  /// An empty `path` gives the commit's root tree.
  public func entry(_ path: String, inCommit commit: ObjectID) throws -> ObjectID? {
    if path.isEmpty { return try self.commit(commit).tree }
    return try withEntry(path, inCommit: commit) { ObjectID(git_tree_entry_id($0)) }
  }

  private func withEntry<T>(_ path: String, inCommit commit: ObjectID, _ body: (OpaquePointer?) throws -> T?)
    throws -> T?
  {
    let commitObject = try lookupCommit(commit)
    defer { git_commit_free(commitObject) }
    var tree: OpaquePointer?
    try check(git_commit_tree(&tree, commitObject), "reading the tree of commit \(commit)", ledger: self.path)
    defer { git_tree_free(tree) }
    var entry: OpaquePointer?
    guard
      try checkFound(
        git_tree_entry_bypath(&entry, tree, path), "looking up \(path) in commit \(commit)", ledger: self.path)
    else { return nil }
    defer { git_tree_entry_free(entry) }
    return try body(entry)
  }

  /// Resolves a hex prefix (>= 4 digits) to a full object id of any type if unique; nil if none; throws if ambiguous.
  ///
  /// Anything that is not 4 to 40 hex digits (a version label such as `1.4.2`, say) gives nil, so callers can try
  /// a label first and a prefix second. The ambiguity error has code `.notFound` and asks for more digits.
  public func resolvePrefix(_ prefix: String) throws -> ObjectID? {
    let length = prefix.utf8.count
    guard length >= Int(GIT_OID_MINPREFIXLEN), length <= 40,
      let padded = ObjectID(hex: prefix + String(repeating: "0", count: 40 - length))
    else { return nil }
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, repository), "opening the object database", ledger: path)
    defer { git_odb_free(odb) }
    var shortID = padded.oid
    var fullID = git_oid()
    let status = git_odb_exists_prefix(&fullID, odb, &shortID, length)
    if status == GIT_EAMBIGUOUS.rawValue {
      git_error_clear()
      throw LedgerError(
        .notFound, "\(prefix) matches more than one object in ledger \(path); give more hex digits or the version label"
      )
    }
    guard try checkFound(status, "resolving \(prefix)", ledger: path) else { return nil }
    return ObjectID(fullID)
  }
}

/// A libgit2 tree builder that frees itself; entries are sorted by libgit2, so insertion order does not matter.
final class TreeBuilder {
  private let ledger: Ledger
  private let builder: OpaquePointer

  init(_ ledger: Ledger) throws {
    var builder: OpaquePointer?
    try check(git_treebuilder_new(&builder, ledger.repository, nil), "starting a tree", ledger: ledger.path)
    self.ledger = ledger
    self.builder = builder!
  }

  deinit {
    git_treebuilder_free(builder)
  }

  var isEmpty: Bool { git_treebuilder_entrycount(builder) == 0 }

  /// Adds one entry; libgit2 refuses unsafe names (`..`, `.git`, names with `/`), which is the artifact's fault.
  func insert(_ name: String, _ id: ObjectID, mode: git_filemode_t, shownAs shown: String) throws {
    try insert(rawName: Array(name.utf8), id, mode: mode, shownAs: shown)
  }

  /// Adds one entry named by raw bytes: file names need not be UTF-8, and git stores them as they are.
  func insert(rawName name: [UInt8], _ id: ObjectID, mode: git_filemode_t, shownAs shown: String) throws {
    var oid = id.oid
    try check(
      withCPath(name) { git_treebuilder_insert(nil, builder, $0, &oid, mode) }, "storing \"\(shown)\"",
      ledger: ledger.path, as: .invalidArtifact)
  }

  func write() throws -> ObjectID {
    var oid = git_oid()
    try check(git_treebuilder_write(&oid, builder), "writing a tree", ledger: ledger.path)
    return ObjectID(oid)
  }
}
