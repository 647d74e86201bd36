internal import CGit2
import Foundation

extension Ledger {
  /// Packs the ledger: every object worth keeping goes into one new pack, the loose and packed copies it makes
  /// redundant are deleted, and the refs are packed into `packed-refs`. Returns the disk usage before and after.
  ///
  /// Kept (packed) are the objects reachable from any ref or reflog entry, plus every object younger than `grace`
  /// and everything reachable from those: a concurrent writer may have just written an event's objects and not yet
  /// moved its branch, or be about to reuse an old object (libgit2 then refreshes the object's file time).
  /// Unreachable objects older than `grace` (a lease commit whose ref was deleted, the objects of an event that lost
  /// its race) are dropped; pass `nil` to keep every object. A loose object is deleted only after the new pack's
  /// index lists it, or when it is unreachable and older than `grace`; an old pack only when the new one holds all
  /// of its objects, or when it is older than `grace` (then its reachable objects are in the new pack).
  ///
  /// Safe while other runs append: packing only adds a pack and then removes copies the pack already holds, so a
  /// reader or writer always finds every object that is reachable or young. As with `git gc`, narrow windows
  /// remain: an old unreachable object reused by a writer in the instant between its age check and its deletion is
  /// lost; a ref deleted at the very moment refs are packed can reappear (a lease; it is then reported as stale and
  /// broken as usual); and a ref update that meets the lock libgit2 holds for an instant while packing that ref
  /// fails as a lost race would (nothing recorded; re-running succeeds). When another process is packing refs
  /// already, refs stay loose until the next `pack()`. Loose-object folders (`objects/ab/`) are kept even when
  /// empty, because removing one could make a concurrent writer's rename into it fail. A pack marked with a `.keep`
  /// file is left alone. A reader that still has a deleted pack open keeps reading it; one that opened the ledger
  /// before packing and looks for an object there afterwards may see a transient error and succeeds when re-run.
  @discardableResult
  public func pack(pruningUnreachableOlderThan grace: TimeInterval? = 3600, now: Date = Date()) throws
    -> (before: Int64, after: Int64)
  {
    let before = diskUsage()
    let cutoff = grace.map { now.addingTimeInterval(-$0) }
    let packFolder = url.appendingPathComponent("objects/pack")
    let loose = looseObjects()
    let replaceable = existingPacks(in: packFolder).filter { !$0.isKept }
    // One pack and no loose objects is as packed as it gets; rewriting it would only cost time.
    guard !loose.isEmpty || replaceable.count > 1 else {
      try packReferences()
      return (before, diskUsage())
    }
    let writer = try PackWriter(self)
    try addRoots(to: writer)
    for object in loose where cutoff.map({ object.modified >= $0 }) ?? true {
      try writer.add(object.id)
    }
    for pack in replaceable where cutoff.map({ pack.modified >= $0 }) ?? true {
      for raw in try packIndex(pack.index) { try writer.add(raw.objectID) }
    }
    guard let name = try writer.write(into: packFolder) else {
      try packReferences()
      return (before, diskUsage())
    }
    let newIndex = packFolder.appendingPathComponent("pack-\(name).idx")
    let packed = Set(try packIndex(newIndex))
    guard packed.count == writer.count else {
      throw LedgerError(
        .corrupt,
        "the new pack \(newIndex.path) lists \(packed.count) objects, not the \(writer.count) written; nothing was "
          + "deleted. \(LedgerError.Code.corrupt.advice(ledger: path))")
    }
    try syncObjects(before: "deleting the loose and packed copies the new pack \(name) replaces")
    try refreshObjects()
    for object in loose where packed.contains(object.raw) || isExpired(object.file, cutoff: cutoff) {
      unlink(object.file.path)
    }
    shrinkEmptyFolders(Set(loose.map { $0.file.deletingLastPathComponent() }))
    for pack in replaceable where pack.index != newIndex {
      guard try packIndex(pack.index).allSatisfy(packed.contains) || isExpired(pack.data, cutoff: cutoff) else {
        continue
      }
      // The index goes first: readers find packs by their index, and one that already has the pack open keeps it.
      for suffix in ["idx", "pack", "rev", "bitmap", "mtimes"] {
        unlink(pack.index.deletingPathExtension().appendingPathExtension(suffix).path)
      }
    }
    try packReferences()
    return (before, diskUsage())
  }

  /// Bytes on disk under the repository folder: the allocated size of every file and folder, as `du` counts.
  ///
  /// A loose object of 200 bytes occupies a whole file-system block, which is why packing shrinks a ledger.
  public func diskUsage() -> Int64 {
    var total: Int64 = 0
    var info = stat()
    if lstat(path, &info) == 0 { total += Int64(info.st_blocks) * 512 }
    guard let walk = FileManager.default.enumerator(atPath: path) else { return total }
    while let relative = walk.nextObject() as? String {
      if lstat(path + "/" + relative, &info) == 0 { total += Int64(info.st_blocks) * 512 }
    }
    return total
  }

  /// Packs refs into `packed-refs`; libgit2 removes a loose ref only while holding its lock and only if unchanged.
  private func packReferences() throws {
    var refdb: OpaquePointer?
    try check(git_repository_refdb(&refdb, repository), "opening the ref database", ledger: path)
    defer { git_refdb_free(refdb) }
    do {
      try check(git_refdb_compress(refdb), "packing refs", ledger: path)
    } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .alreadyExists {
      // Another process holds packed-refs.lock (packing or deleting a packed ref): the refs stay loose for now.
    }
  }

  /// Every ref's target and every id its reflog mentions, as git gc keeps them.
  private func addRoots(to writer: PackWriter) throws {
    for (name, target) in try references(withPrefix: "refs/") {
      try writer.add(target)
      var reflog: OpaquePointer?
      try check(git_reflog_read(&reflog, repository, name), "reading the reflog of \(name)", ledger: path)
      defer { git_reflog_free(reflog) }
      for index in 0..<git_reflog_entrycount(reflog) {
        let entry = git_reflog_entry_byindex(reflog, index)
        for oid in [git_reflog_entry_id_old(entry), git_reflog_entry_id_new(entry)] {
          // A reflog may remember a value whose objects are long gone; that is no reason to stop.
          guard let oid, git_oid_is_zero(oid) == 0, try writer.contains(ObjectID(oid)) else { continue }
          try writer.add(ObjectID(oid))
        }
      }
    }
  }

  /// Whether the object database holds `id`, loose or packed.
  func containsObject(_ id: ObjectID) throws -> Bool {
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, repository), "opening the object database", ledger: path)
    defer { git_odb_free(odb) }
    var oid = id.oid
    return try check(git_odb_exists(odb, &oid), "looking for object \(id)", ledger: path) == 1
  }

  /// Makes objects written by others (another process's pack, say) visible to this instance.
  func refreshObjects() throws {
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, repository), "opening the object database", ledger: path)
    defer { git_odb_free(odb) }
    try check(git_odb_refresh(odb), "rescanning the object database", ledger: path)
  }

  /// Replaces each empty loose-object folder that has grown (a folder keeps the blocks of the entries it once held:
  /// about 100 KB for 1,500 objects, 25 MB across the 256 folders of a ledger of 100,000 events) by a fresh one.
  ///
  /// rename(2) replaces an empty directory atomically and fails if it is not empty, so a writer always finds the
  /// folder it just created or found: a file renamed into the old folder first makes the swap fail and stay as it is.
  private func shrinkEmptyFolders(_ folders: Set<URL>) {
    var info = stat()
    for folder in folders where lstat(folder.path, &info) == 0 && Int64(info.st_blocks) * 512 > 4096 {
      guard (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty == true else { continue }
      let fresh = folder.deletingLastPathComponent()
        .appendingPathComponent(
          "tmp-airlock-\(folder.lastPathComponent)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
      guard mkdir(fresh.path, info.st_mode & 0o7777) == 0 else { continue }
      _ = chmod(fresh.path, info.st_mode & 0o7777)
      if rename(fresh.path, folder.path) != 0 { rmdir(fresh.path) }
    }
  }

  /// Loose object files (`objects/ab/cdef…`) with their ids and modification times.
  private func looseObjects() -> [LooseObject] {
    let objects = url.appendingPathComponent("objects")
    var found: [LooseObject] = []
    for folder in (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []
    where folder.utf8.count == 2 && folder.utf8.allSatisfy(\.isLowercaseHexDigit) {
      let folderURL = objects.appendingPathComponent(folder)
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folderURL.path)) ?? [] {
        let file = folderURL.appendingPathComponent(name)
        guard let id = ObjectID(hex: folder + name), id.hex == folder + name, let raw = RawObjectID(hex: id.hex),
          let modified = modificationDate(file)
        else { continue }
        found.append(LooseObject(id: id, raw: raw, file: file, modified: modified))
      }
    }
    return found
  }

  private func existingPacks(in folder: URL) -> [ExistingPack] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasPrefix("pack-") && $0.hasSuffix(".idx") }.sorted().compactMap { name in
      let index = folder.appendingPathComponent(name)
      let data = index.deletingPathExtension().appendingPathExtension("pack")
      guard let modified = modificationDate(data) else { return nil }
      let keep = FileManager.default.fileExists(
        atPath: index.deletingPathExtension().appendingPathExtension("keep").path)
      return ExistingPack(index: index, data: data, modified: modified, isKept: keep)
    }
  }

  /// The object ids a pack index lists (version 2, or the original version 1).
  private func packIndex(_ file: URL) throws -> [RawObjectID] {
    let bytes: Data
    do {
      bytes = try Data(contentsOf: file, options: .alwaysMapped)
    } catch {
      throw LedgerError(.io, "cannot read pack index \(file.path): \(error.localizedDescription)")
    }
    return try bytes.withUnsafeBytes { raw -> [RawObjectID] in
      func word(_ offset: Int) -> Int {
        Int(raw[offset]) << 24 | Int(raw[offset + 1]) << 16 | Int(raw[offset + 2]) << 8 | Int(raw[offset + 3])
      }
      let isVersion2 = raw.count >= 8 && raw[0] == 0xff && raw[1] == 0x74 && raw[2] == 0x4f && raw[3] == 0x63
      let fanout = isVersion2 ? 8 : 0
      guard raw.count >= fanout + 1024, !isVersion2 || word(4) == 2 else {
        throw LedgerError(
          .corrupt, "pack index \(file.path) is damaged; \(LedgerError.Code.corrupt.advice(ledger: path))")
      }
      let count = word(fanout + 1020)
      let first = fanout + 1024
      let stride = isVersion2 ? 20 : 24
      let skip = isVersion2 ? 0 : 4
      guard raw.count >= first + count * stride else {
        throw LedgerError(
          .corrupt, "pack index \(file.path) is cut short; \(LedgerError.Code.corrupt.advice(ledger: path))")
      }
      return (0..<count).map { RawObjectID(raw, at: first + $0 * stride + skip) }
    }
  }
}

private struct LooseObject {
  let id: ObjectID
  let raw: RawObjectID
  let file: URL
  let modified: Date
}

private struct ExistingPack {
  let index: URL
  let data: URL
  let modified: Date
  let isKept: Bool
}

/// The 20 raw bytes of an object id in three integers: a compact, fast set member for hundreds of thousands of ids.
struct RawObjectID: Hashable {
  let high: UInt64
  let middle: UInt64
  let low: UInt32

  init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
    var high: UInt64 = 0
    var middle: UInt64 = 0
    var low: UInt32 = 0
    for index in 0..<8 { high = high << 8 | UInt64(bytes[offset + index]) }
    for index in 8..<16 { middle = middle << 8 | UInt64(bytes[offset + index]) }
    for index in 16..<20 { low = low << 8 | UInt32(bytes[offset + index]) }
    self.high = high
    self.middle = middle
    self.low = low
  }

  init?(hex: String) {
    let utf8 = Array(hex.utf8)
    guard utf8.count == 40 else { return nil }
    var bytes = [UInt8](repeating: 0, count: 20)
    for index in 0..<20 {
      guard let high = utf8[2 * index].hexValue, let low = utf8[2 * index + 1].hexValue else { return nil }
      bytes[index] = high << 4 | low
    }
    self = bytes.withUnsafeBytes { RawObjectID($0, at: 0) }
  }

  var objectID: ObjectID {
    ObjectID(hex: String(format: "%016llx%016llx%08x", high, middle, low))!
  }
}

/// A libgit2 pack builder fed by a revision walk for commits; both are freed together.
final class PackWriter {
  private let ledger: Ledger
  private let builder: OpaquePointer
  private let walk: OpaquePointer
  private let odb: OpaquePointer
  private var walkIsEmpty = true

  init(_ ledger: Ledger) throws {
    var odb: OpaquePointer?
    try check(git_repository_odb(&odb, ledger.repository), "opening the object database", ledger: ledger.path)
    var builder: OpaquePointer?
    do {
      try check(git_packbuilder_new(&builder, ledger.repository), "starting a pack", ledger: ledger.path)
    } catch {
      git_odb_free(odb)
      throw error
    }
    var walk: OpaquePointer?
    do {
      try check(git_revwalk_new(&walk, ledger.repository), "starting a history walk", ledger: ledger.path)
    } catch {
      git_packbuilder_free(builder)
      git_odb_free(odb)
      throw error
    }
    self.ledger = ledger
    self.odb = odb!
    self.builder = builder!
    self.walk = walk!
    // 0 = one delta-search thread per processor, when libgit2 was built with threads.
    _ = git_packbuilder_set_threads(self.builder, 0)
  }

  deinit {
    git_revwalk_free(walk)
    git_packbuilder_free(builder)
    git_odb_free(odb)
  }

  /// Objects inserted so far (after `write`, all of them).
  var count: Int { Int(git_packbuilder_object_count(builder)) }

  func contains(_ id: ObjectID) throws -> Bool {
    var oid = id.oid
    return try check(git_odb_exists(odb, &oid), "looking for object \(id)", ledger: ledger.path) == 1
  }

  private func isCommit(_ id: ObjectID) throws -> Bool {
    var oid = id.oid
    var size = 0
    var type = GIT_OBJECT_INVALID
    try check(git_odb_read_header(&size, &type, odb, &oid), "reading object \(id)", ledger: ledger.path)
    return type == GIT_OBJECT_COMMIT
  }

  /// Adds `id` and everything it reaches (a commit's whole history, a tree's entries).
  func add(_ id: ObjectID) throws {
    var oid = id.oid
    if try isCommit(id) {
      try check(git_revwalk_push(walk, &oid), "walking the history of \(id)", ledger: ledger.path)
      walkIsEmpty = false
    } else {
      try check(git_packbuilder_insert_recur(builder, &oid, nil), "adding \(id) to a pack", ledger: ledger.path)
    }
  }

  /// Leaves out commit `id`, its history and its tree: the receiver has them already.
  func hide(_ id: ObjectID) throws {
    guard try contains(id), try isCommit(id) else { return }
    var oid = id.oid
    try check(git_revwalk_hide(walk, &oid), "walking the history of \(id)", ledger: ledger.path)
  }

  /// Writes the pack (and its index) into `folder`; returns the pack's name, or nil when there was nothing to pack.
  func write(into folder: URL) throws -> String? {
    if !walkIsEmpty {
      try check(git_packbuilder_insert_walk(builder, walk), "collecting objects to pack", ledger: ledger.path)
    }
    guard count > 0 else { return nil }
    try check(
      git_packbuilder_write(builder, folder.path, 0, nil, nil), "writing a pack into \(folder.path)",
      ledger: ledger.path)
    return git_packbuilder_name(builder).map { String(cString: $0) }
  }
}

/// Whether `file` was last modified before `cutoff`; read at the last moment, so that an object a writer has just
/// reused (libgit2 then refreshes its file's time) is not deleted. False without a cutoff or when the file is gone.
private func isExpired(_ file: URL, cutoff: Date?) -> Bool {
  guard let cutoff, let modified = modificationDate(file) else { return false }
  return modified < cutoff
}

/// The modification time of a file, not following a symlink; nil if it is gone.
private func modificationDate(_ file: URL) -> Date? {
  var info = stat()
  guard lstat(file.path, &info) == 0 else { return nil }
  return Date(
    timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1_000_000_000)
}

extension UInt8 {
  fileprivate var isLowercaseHexDigit: Bool {
    hexValue != nil && !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
  }

  fileprivate var hexValue: UInt8? {
    switch self {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return self - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return self - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return self - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
