internal import CGit2
import Foundation

/// Airlock's ledger: a bare git repository, written through libgit2, that records every event as a commit.
///
/// One branch per pipeline and environment (`refs/heads/web/production`); each commit's tree is the environment's
/// state after the event. Refs only move by compare-and-swap, so concurrent runs on one machine or on a shared
/// file system never overwrite each other: the loser gets `LedgerError.Code.concurrentUpdate`.
///
/// Not thread-safe: use one instance from one task at a time. Separate instances (even in separate processes) on
/// the same path are safe; that is how concurrent runs share a ledger.
public final class Ledger {
  /// Where the bare repository lives.
  public let url: URL
  /// The open `git_repository`, owned by this instance and freed in `deinit`.
  let repository: OpaquePointer
  /// The ledger path as shown in error messages.
  var path: String { url.path }
  /// How this ledger's writes are made durable; starts as `Ledger.defaultDurability`.
  public var durability: LedgerDurability {
    didSet { Self.noteFullDurability(from: oldValue, to: durability) }
  }
  /// How many times this instance synced the file system before a ref moved, and synced a moved ref.
  var syncs = (objects: 0, references: 0)

  /// Takes ownership of `repository` (freed in `deinit`, also when this throws) and guards its loose objects.
  private init(url: URL, repository: OpaquePointer) throws {
    self.url = url
    self.repository = repository
    self.durability = Self.defaultDurability
    Self.noteFullDurability(from: .none, to: durability)
    try guardLooseObjects()
  }

  deinit {
    Self.noteFullDurability(from: durability, to: .none)
    git_repository_free(repository)
  }

  /// Puts Airlock's loose-object reader in front of libgit2's, whose inflate loop spins forever on an object the
  /// file system cut short (see `airlock_guard_read` in CGit2's shim.h); a damaged object then throws `.corrupt`
  /// naming the object and its file.
  private func guardLooseObjects() throws {
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, repository), "opening the object database", ledger: path)
    defer { git_odb_free(odb) }
    try check(
      airlock_odb_add_loose_guard(odb, url.appendingPathComponent("objects").path), "guarding loose objects",
      ledger: path)
  }

  /// Opens the bare repository at `url`; creates it (and missing parent folders) if `create` and nothing is there.
  ///
  /// An empty folder counts as nothing. Throws `.notFound` when nothing is there and `create` is false, and
  /// `.corrupt` when something else (a file, a folder of other things, a working copy) is in the way.
  /// A ledger created here writes reflogs for its branches (`core.logAllRefUpdates`), so `git reflog` shows moves.
  public static func open(at url: URL, create: Bool) throws -> Ledger {
    try requireLibgit2()
    let url = url.standardizedFileURL
    let path = url.path
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    let isEmptyDirectory =
      exists && isDirectory.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: path).isEmpty) ?? false)
    if !exists || isEmptyDirectory {
      guard create else {
        throw LedgerError(
          .notFound,
          "no ledger at \(path); deploy once to create it, or point --ledger / AIRLOCK_LEDGER at the existing one")
      }
      return try initialise(at: url)
    }
    guard isDirectory.boolValue else {
      throw LedgerError(
        .corrupt, "\(path) is a file, not a ledger; move it away or point --ledger / AIRLOCK_LEDGER elsewhere")
    }
    return try openExisting(at: url)
  }

  /// Creates the 256 fan-out folders of loose objects (`objects/00` … `objects/ff`), which git makes on demand.
  ///
  /// Made on demand, each of a young ledger's first events paid a few folder creations on the path of a deploy or a
  /// rollback, and its sync then flushed their metadata too. Best effort: libgit2 still creates any that are missing.
  func createObjectFolders() {
    let objects = url.appendingPathComponent("objects").path
    for index in 0..<256 {
      let hex = String(index, radix: 16)
      _ = mkdir(objects + "/" + (hex.count == 1 ? "0" + hex : hex), 0o777)
    }
  }

  private static func openExisting(at url: URL) throws -> Ledger {
    var repository: OpaquePointer?
    guard try checkFound(git_repository_open_bare(&repository, url.path), "opening the ledger", ledger: url.path),
      let repository
    else {
      throw LedgerError(
        .corrupt,
        "\(url.path) exists but is not a git repository; point --ledger / AIRLOCK_LEDGER at the ledger "
          + "(for a working copy, its .git folder) or move the folder away")
    }
    return try Ledger(url: url, repository: repository)
  }

  private static func initialise(at url: URL) throws -> Ledger {
    var options = git_repository_init_options()
    try check(
      git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
      "preparing to create the ledger", ledger: url.path)
    options.flags =
      GIT_REPOSITORY_INIT_BARE.rawValue | GIT_REPOSITORY_INIT_MKPATH.rawValue | GIT_REPOSITORY_INIT_NO_REINIT.rawValue
    var repository: OpaquePointer?
    let status = git_repository_init_ext(&repository, url.path, &options)
    if status == GIT_EEXISTS.rawValue {
      // Another run created it between our look and our init; theirs is as good as ours.
      git_error_clear()
      return try openExisting(at: url)
    }
    try check(status, "creating the ledger", ledger: url.path)
    let ledger = try Ledger(url: url, repository: repository!)
    try ledger.enableBranchReflogs()
    ledger.createObjectFolders()
    return ledger
  }

  /// Bare repositories keep no reflogs by default; the reflog is the cheap audit trail of every ref move.
  private func enableBranchReflogs() throws {
    var config: OpaquePointer?
    try check(git_repository_config(&config, repository), "reading the ledger's config", ledger: path)
    defer { git_config_free(config) }
    try check(
      git_config_set_bool(config, "core.logallrefupdates", 1), "enabling reflogs in the ledger's config", ledger: path)
  }

  // MARK: References

  /// The object `name` points at (symbolic refs such as HEAD are followed), or nil if the ref does not exist.
  ///
  /// `name` is a full ref name, e.g. `refs/heads/web/production`; an invalid name throws.
  public func reference(_ name: String) throws -> ObjectID? {
    var oid = git_oid()
    guard try checkFound(git_reference_name_to_id(&oid, repository, name), "reading ref \(name)", ledger: path) else {
      return nil
    }
    return ObjectID(oid)
  }

  /// Compare-and-swap: moves `name` to `new` only if it currently points at `expected` (nil = must not exist yet).
  ///
  /// Anything else (the ref moved, appeared, vanished, or another writer holds its lock) throws `.concurrentUpdate`
  /// and leaves the ref as it is. The check happens under the ref's lock file, so it holds across processes.
  /// `logMessage` goes to the reflog. `new` must already be in the ledger.
  ///
  /// With `durable` (the default) the ledger's durability applies: in `.batch` mode the objects are synced before
  /// the ref moves and the ref after. A ref that only matters while this process lives (an operation lease) passes
  /// `false` and skips both flushes: other processes see it at once, and a power cut can lose it or leave it
  /// unreadable, which is what it guards against anyway.
  public func updateReference(
    _ name: String, to new: ObjectID, expected: ObjectID?, logMessage: String, durable: Bool = true
  ) throws {
    var newID = new.oid
    // With expected == nil this passes the all-zero id instead of using force=0: libgit2 checks "must not exist"
    // for force=0 before taking the lock, so two creators could both pass; the zero id is compared under the lock.
    var expectedID = expected?.oid ?? git_oid()
    if durable { try syncObjects(before: "moving \(name)") }
    var created: OpaquePointer?
    let status = git_reference_create_matching(
      &created, repository, name, &newID, expected == nil ? 0 : 1, &expectedID, logMessage)
    do {
      try check(status, "moving \(name) to \(new.short)", ledger: path)
    } catch let error as LedgerError {
      throw raceOrFailure(error, name, expected: expected, doing: "move it to \(new.short)")
    }
    git_reference_free(created)
    if durable { syncMovedReference(name) }
  }

  /// Deletes `name` only if it points at `expected` (compare-and-swap).
  ///
  /// Throws `.notFound` if the ref is absent and `.concurrentUpdate` if it points elsewhere or is locked; in both
  /// cases nothing changes. The ref's reflog goes with it.
  public func deleteReference(_ name: String, expected: ObjectID) throws {
    var found: OpaquePointer?
    guard try checkFound(git_reference_lookup(&found, repository, name), "reading ref \(name)", ledger: path) else {
      throw LedgerError(.notFound, "cannot delete \(name) in ledger \(path): it does not exist")
    }
    defer { git_reference_free(found) }
    guard let target = git_reference_target(found), ObjectID(target) == expected else {
      throw raceOrFailure(nil, name, expected: expected, doing: "delete it")
    }
    do {
      // libgit2 compares the ref with the looked-up target again under the ref's lock.
      try check(git_reference_delete(found), "deleting \(name)", ledger: path)
    } catch let error as LedgerError {
      throw raceOrFailure(error, name, expected: expected, doing: "delete it")
    }
  }

  /// Tells a lost compare-and-swap (another writer moved or locked the ref) from any other failure.
  ///
  /// libgit2 reports a lost race as "modified", "locked", "exists" or "not found" depending on where it noticed;
  /// when the ref still looks exactly as expected and nobody holds its lock, the failure had another cause
  /// (say, `refs/heads/web` blocking `refs/heads/web/production`) and `failure` is returned unchanged.
  private func raceOrFailure(_ failure: LedgerError?, _ name: String, expected: ObjectID?, doing action: String)
    -> LedgerError
  {
    let raceCodes: Set<LedgerError.Code> = [.notFound, .alreadyExists, .concurrentUpdate]
    if let failure, !raceCodes.contains(failure.code) { return failure }
    let expectedText = expected.map { "at \($0.short)" } ?? "absent"
    let actual: String
    switch Result(catching: { try reference(name) }) {
    case .success(let id?) where id != expected: actual = "it is at \(id.short)"
    case .success(nil) where expected != nil: actual = "it does not exist"
    case .success:
      // "Already exists" for a ref that is absent again: another run created it and has deleted it since (a lease
      // taken and given back while we synced), which is a race like any other.
      guard let failure, failure.code != .concurrentUpdate, failure.code != .alreadyExists else {
        actual = failure?.code == .alreadyExists ? "another run created it meanwhile" : "another writer held its lock"
        break
      }
      return failure
    case .failure: actual = "it could not be read"
    }
    return LedgerError(
      .concurrentUpdate,
      "\(name) in ledger \(path) was expected \(expectedText) but \(actual), so Airlock did not \(action); "
        + "another run changed it first: look at the new state and re-run the command")
  }

  /// All reference names starting with `prefix`, with their targets, sorted by name.
  ///
  /// Symbolic refs are followed; ones that point nowhere are left out.
  public func references(withPrefix prefix: String) throws -> [(name: String, target: ObjectID)] {
    var iterator: OpaquePointer?
    // Ref names cannot contain glob characters, so "<prefix>*" matches exactly the names starting with prefix.
    try check(
      git_reference_iterator_glob_new(&iterator, repository, prefix + "*"), "listing refs under \(prefix)",
      ledger: path)
    defer { git_reference_iterator_free(iterator) }
    var found: [(name: String, target: ObjectID)] = []
    while true {
      var reference: OpaquePointer?
      guard try checkIterating(git_reference_next(&reference, iterator), "listing refs under \(prefix)") else {
        break
      }
      defer { git_reference_free(reference) }
      let name = String(cString: git_reference_name(reference))
      var resolved: OpaquePointer?
      guard try checkFound(git_reference_resolve(&resolved, reference), "resolving \(name)", ledger: path) else {
        continue
      }
      defer { git_reference_free(resolved) }
      if let target = git_reference_target(resolved) {
        found.append((name, ObjectID(target)))
      }
    }
    return found.sorted { $0.name < $1.name }
  }

  /// Iterators end with GIT_ITEROVER, which is not a failure.
  func checkIterating(_ status: Int32, _ action: @autoclosure () -> String) throws -> Bool {
    if status == GIT_ITEROVER.rawValue {
      git_error_clear()
      return false
    }
    try check(status, action(), ledger: path)
    return true
  }
}

extension Ledger {
  /// The `user.name` and `user.email` of the git configuration this repository sees (its own, then global and
  /// system config), or `nil` when either is unset.
  public func configuredIdentity() -> Signature? {
    var signature: UnsafeMutablePointer<git_signature>?
    guard git_signature_default(&signature, repository) == 0, let signature else {
      git_error_clear()
      return nil
    }
    defer { git_signature_free(signature) }
    return Signature(name: String(cString: signature.pointee.name), email: String(cString: signature.pointee.email))
  }
}
