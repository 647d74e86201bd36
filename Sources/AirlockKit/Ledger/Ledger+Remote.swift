internal import CGit2
import Foundation

/// Sharing a ledger between runners: a local bare mirror fetched from and pushed to one remote ledger.
///
/// A runner fetches before an event and pushes after it. Branch updates are not forced, so the remote refuses one
/// that does not descend from what it holds: each event's parent is the previous head, so of two runners that
/// recorded an event on the same head only the first push is accepted and the other learns that it lost the race.
/// A ref the remote does not have yet (a lease, a version tag) is created only if still absent; a tag or lease the
/// remote holds with another value is rejected, because two unrelated commits are never a fast-forward.
///
/// Remotes on this machine (`file://` URLs and plain paths) are updated by compare-and-swap under the remote ref's
/// lock, so the check and the update are one step even when runners push at the same instant. libgit2's own local
/// transport checks fast-forward when it connects and then overwrites the ref, which could let a concurrent push
/// be lost. Other URLs (`ssh://`, `user@host:path`) go through libgit2's transport; the receiving `git
/// receive-pack` moves each ref only from the old value this runner saw, under the ref's lock, which is the same
/// compare-and-swap.
extension Ledger {
  /// The refspecs `fetch` uses by default: branches, tags and Airlock's own refs (leases), mirrored 1:1 and forced.
  public static let mirrorRefspecs = [
    "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+refs/airlock/*:refs/airlock/*",
  ]

  /// Whether `text` names a remote ledger (`file://`, `ssh://` or another `scheme://` URL, or git's scp-like
  /// `[user@]host:path`) rather than a local path.
  ///
  /// As with git, a colon before the first slash means scp-like syntax: write a local folder whose name contains a
  /// colon as `./name:with:colons`.
  public static func isRemote(_ text: String) -> Bool {
    if let separator = text.range(of: "://") {
      let scheme = text[..<separator.lowerBound]
      return !scheme.isEmpty
        && scheme.unicodeScalars.allSatisfy {
          $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "+.-".unicodeScalars.contains($0))
        }
    }
    guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
    if let slash = text.firstIndex(of: "/"), slash < colon { return false }
    return true
  }

  /// Fetches `refspecs` (default: `mirrorRefspecs`) from `remote` into this repository.
  ///
  /// Refs under the refspecs' destinations that the remote no longer has are deleted (a released lease disappears),
  /// so with the default refspecs this ledger becomes a mirror: local events that were never pushed are replaced by
  /// the remote's. `remote` is a URL or a path to a bare repository. A transport failure (unreachable host, no
  /// repository there, refused key) throws `.io` naming the URL. For `ssh://` the keys come from ssh-agent.
  public func fetch(from remote: String, refspecs: [String]? = nil) throws {
    let session = TransferSession()
    try withAnonymousRemote(remote) { handle in
      var options = git_fetch_options()
      try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "preparing a fetch", ledger: path)
      options.callbacks = try session.callbacks(ledger: path)
      options.prune = GIT_FETCH_PRUNE
      options.update_fetchhead = 0
      // Tags arrive through the refspecs; libgit2's automatic tag following would only add refs nobody asked for.
      options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
      let status = withStringArray(refspecs ?? Self.mirrorRefspecs) { specs in
        withExtendedLifetime(session) { git_remote_fetch(handle, &specs, &options, "airlock: fetch from \(remote)") }
      }
      try checkTransport(status, "fetching from \(remote)", remote: remote, session: session)
    }
  }

  /// Pushes each ref in `refs` (full names, e.g. `refs/heads/web/production`) to the same name on `remote`,
  /// without force; returns the refs the remote rejected, in the order given (empty when all were accepted).
  ///
  /// A ref is rejected when the remote holds it at a commit that the local value does not descend from (another
  /// runner's event, or a tag or lease with another value), or when another push moved it first. Each ref is
  /// accepted or rejected on its own. A ref that already matches counts as accepted. A transport failure throws
  /// `.io` naming the URL; a ref missing here throws `.notFound`. The objects of a rejected ref may stay in the
  /// remote unreferenced; `pack()` there drops them once they are older than its grace period.
  public func push(_ refs: [String], to remote: String) throws -> [String] {
    try push(refs, to: remote, route: .automatic)
  }

  /// Deletes ref `name` on `remote` only if it still points at `expected` there; false if it moved or is gone.
  ///
  /// For a lease: only the holder's own lease is removed, never one another runner took meanwhile. On a remote on
  /// this machine the comparison and the deletion happen under the ref's lock. Over ssh, the value is read when
  /// connecting and the delete is sent with that value as the old one; `git receive-pack` deletes only if the ref
  /// still has it, under the ref's lock. (A server that ignores the old value would leave a window between reading
  /// and deleting.) After a deletion the local copy goes too, if it still points at `expected`.
  public func deleteRemoteReference(_ name: String, expected: ObjectID, on remote: String) throws -> Bool {
    try deleteRemoteReference(name, expected: expected, on: remote, route: .automatic)
  }

  /// How a push reaches the remote; tests force `.transport` to exercise libgit2's transport on `file://`.
  enum PushRoute {
    /// Compare-and-swap on a remote on this machine, libgit2's transport for every other URL.
    case automatic
    /// libgit2's transport (`git_remote_push`) whatever the URL.
    case transport
  }

  func push(_ refs: [String], to remote: String, route: PushRoute) throws -> [String] {
    for name in refs where try reference(name) == nil {
      throw LedgerError(
        .notFound, "cannot push \(name) from ledger \(path) to \(remote): it does not exist in this ledger")
    }
    guard !refs.isEmpty else { return [] }
    if route == .automatic, let folder = Self.localFolder(of: remote) {
      return try pushByCompareAndSwap(refs, to: try openRemoteLedger(at: folder, remote: remote), remote: remote)
    }
    let all = try pushThroughTransport(refs, to: remote)
    guard all.nonFastForward else { return refs.filter { all.rejected.contains($0) } }
    // libgit2 checks fast-forward before sending and then gives up on the whole push, without saying which ref
    // failed; one push per ref finds out (nothing was sent, so nothing is pushed twice).
    guard refs.count > 1 else { return refs }
    return try refs.filter { name in
      let single = try pushThroughTransport([name], to: remote)
      return single.nonFastForward || single.rejected.contains(name)
    }
  }

  func deleteRemoteReference(_ name: String, expected: ObjectID, on remote: String, route: PushRoute) throws -> Bool {
    let deleted: Bool
    if route == .automatic, let folder = Self.localFolder(of: remote) {
      let target = try openRemoteLedger(at: folder, remote: remote)
      do {
        try target.deleteReference(name, expected: expected)
        deleted = true
      } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .notFound {
        deleted = false
      }
    } else {
      deleted = try deleteThroughTransport(name, expected: expected, on: remote)
    }
    if deleted, try reference(name) == expected {
      do {
        try deleteReference(name, expected: expected)
      } catch let error as LedgerError where error.code == .concurrentUpdate || error.code == .notFound {
        // Someone moved the local copy meanwhile; the next fetch makes it match the remote again.
      }
    }
    return deleted
  }

  // MARK: Remotes on this machine

  /// The folder of a remote on this machine (`file:///path` or a plain path), or nil for a network URL.
  static func localFolder(of remote: String) -> String? {
    guard remote.hasPrefix("file://") else {
      return isRemote(remote) ? nil : URL(fileURLWithPath: remote).standardizedFileURL.path
    }
    var rest = String(remote.dropFirst("file://".count))
    if rest.hasPrefix("localhost/") { rest.removeFirst("localhost".count) }
    guard rest.hasPrefix("/") else { return nil }
    return rest.removingPercentEncoding ?? rest
  }

  private func openRemoteLedger(at folder: String, remote: String) throws -> Ledger {
    try requireRemoteFolder(folder, remote: remote)
    do {
      return try Ledger.open(at: URL(fileURLWithPath: folder), create: false)
    } catch let error as LedgerError {
      throw LedgerError(.io, "cannot use the remote ledger \(remote) from ledger \(path): \(error.message)")
    }
  }

  /// libgit2 takes a path that does not exist for a URL of an unknown kind ("unsupported URL protocol"); say what
  /// is really wrong instead.
  private func requireRemoteFolder(_ folder: String, remote: String) throws {
    guard !FileManager.default.fileExists(atPath: folder) else { return }
    throw LedgerError(
      .io,
      "cannot reach the remote ledger \(remote) from ledger \(path): there is no ledger at \(folder); check the URL, "
        + "or create the shared ledger once with `git init --bare \(folder)`")
  }

  /// Copies the objects each ref needs, then moves the remote ref from the value just read, under its lock.
  private func pushByCompareAndSwap(_ refs: [String], to target: Ledger, remote: String) throws -> [String] {
    var rejected: [String] = []
    for name in refs {
      guard let ours = try reference(name) else { continue }
      let theirs = try target.reference(name)
      if theirs == ours { continue }
      if let theirs, try !descends(ours, from: theirs) {
        rejected.append(name)
        continue
      }
      try copyObjects(reachableFrom: ours, to: target)
      do {
        try target.updateReference(name, to: ours, expected: theirs, logMessage: "airlock: push from \(path)")
      } catch let error as LedgerError where error.code == .concurrentUpdate {
        rejected.append(name)
      }
    }
    return rejected
  }

  /// Whether commit `descendant` has `ancestor` in its history; false when `ancestor` is not in this ledger at all.
  private func descends(_ descendant: ObjectID, from ancestor: ObjectID) throws -> Bool {
    guard try containsObject(ancestor) else { return false }
    var descendantID = descendant.oid
    var ancestorID = ancestor.oid
    return try check(
      git_graph_descendant_of(repository, &descendantID, &ancestorID),
      "comparing \(descendant.short) with \(ancestor.short)", ledger: path) == 1
  }

  /// Writes one pack into `target` with what `id` reaches, leaving out the history its refs already have.
  private func copyObjects(reachableFrom id: ObjectID, to target: Ledger) throws {
    let writer = try PackWriter(self)
    try writer.add(id)
    for (_, theirs) in try target.references(withPrefix: "refs/") {
      try writer.hide(theirs)
    }
    guard try writer.write(into: target.url.appendingPathComponent("objects/pack")) != nil else { return }
    // The target's object database was scanned before the pack existed; the ref update checks the object is there.
    try target.refreshObjects()
  }

  // MARK: libgit2's transport

  /// Runs `body` with an anonymous remote for `url` (no config written); the remote is freed afterwards.
  private func withAnonymousRemote<T>(_ url: String, _ body: (OpaquePointer) throws -> T) throws -> T {
    if let folder = Self.localFolder(of: url) {
      try requireRemoteFolder(folder, remote: url)
    } else {
      try requireTransportCertificates()
    }
    var remote: OpaquePointer?
    let status = git_remote_create_anonymous(&remote, repository, url)
    try checkTransport(status, "using \(url) as a remote", remote: url, session: nil)
    defer { git_remote_free(remote) }
    return try body(remote!)
  }

  /// One `git_remote_push` of `refs` to the same names; `nonFastForward` when libgit2 refused before sending.
  private func pushThroughTransport(_ refs: [String], to remote: String) throws -> (
    rejected: Set<String>, nonFastForward: Bool
  ) {
    let session = TransferSession()
    return try withAnonymousRemote(remote) { handle in
      var options = git_push_options()
      try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "preparing a push", ledger: path)
      options.callbacks = try session.callbacks(ledger: path)
      let status = withStringArray(refs.map { "\($0):\($0)" }) { specs in
        withExtendedLifetime(session) { git_remote_push(handle, &specs, &options) }
      }
      if status == GIT_ENONFASTFORWARD.rawValue {
        git_error_clear()
        return ([], true)
      }
      try checkTransport(status, "pushing to \(remote)", remote: remote, session: session)
      return (Set(session.rejections.keys), false)
    }
  }

  /// Connects once, compares the advertised value with `expected`, and deletes over the same connection.
  private func deleteThroughTransport(_ name: String, expected: ObjectID, on remote: String) throws -> Bool {
    let session = TransferSession()
    return try withAnonymousRemote(remote) { handle in
      var callbacks = try session.callbacks(ledger: path)
      let connected = withExtendedLifetime(session) {
        git_remote_connect(handle, GIT_DIRECTION_PUSH, &callbacks, nil, nil)
      }
      try checkTransport(connected, "connecting to \(remote)", remote: remote, session: session)
      var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
      var count = 0
      try checkTransport(
        git_remote_ls(&heads, &count, handle), "listing the refs of \(remote)", remote: remote, session: session)
      let current = (0..<count).lazy.compactMap { heads?[$0]?.pointee }
        .first { String(cString: $0.name) == name }
        .map { ObjectID($0.oid) }
      guard current == expected else { return false }
      var options = git_push_options()
      try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "preparing a push", ledger: path)
      options.callbacks = callbacks
      let status = withStringArray([":" + name]) { specs in
        withExtendedLifetime(session) { git_remote_upload(handle, &specs, &options) }
      }
      try checkTransport(status, "deleting \(name) on \(remote)", remote: remote, session: session)
      return session.rejections[name] == nil
    }
  }

  /// `check` for transport calls: every failure is `.io` and names the URL, with advice about the remote rather
  /// than about this ledger's disk.
  private func checkTransport(_ status: Int32, _ action: String, remote: String, session: TransferSession?) throws {
    do {
      try check(status, action, ledger: path, as: .io)
    } catch let error as LedgerError {
      let localAdvice = "; " + LedgerError.Code.io.advice(ledger: path)
      var message =
        error.message.hasSuffix(localAdvice) ? String(error.message.dropLast(localAdvice.count)) : error.message
      if let note = session?.note { message += " (\(note))" }
      throw LedgerError(
        .io,
        message + "; check that \(remote) is the right URL, that a ledger exists there and that this machine can "
          + "reach it (for ssh, that ssh-agent holds a key the host accepts)")
    }
  }
}

/// What one fetch, push or delete learns through libgit2's callbacks; passed to them as an unretained `payload`.
///
/// libgit2 calls back synchronously on the calling thread, inside `git_remote_fetch` / `git_remote_push`, so the
/// session is only ever touched by one thread; `withExtendedLifetime` keeps it alive across those calls.
private final class TransferSession {
  /// Refs the remote refused, with its reason (`push_update_reference` with a non-nil status).
  var rejections: [String: String] = [:]
  /// Why authentication failed, when it did: libgit2's own message says little.
  var note: String?
  var keyAttempts = 0
  let defaultUser: String

  init() {
    let environment = ProcessInfo.processInfo.environment
    defaultUser =
      environment["USER"] ?? environment["LOGNAME"] ?? getpwuid(getuid()).flatMap {
        String(cString: $0.pointee.pw_name)
      }
      ?? "git"
  }

  /// Callbacks that report per-ref push results into this session and authenticate ssh with the agent's keys.
  ///
  /// The calls made inside the callbacks return their status to libgit2, which reports it from the outer call;
  /// that outer call goes through `check`.
  func callbacks(ledger: String) throws -> git_remote_callbacks {
    var callbacks = git_remote_callbacks()
    try check(
      git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)), "preparing remote callbacks",
      ledger: ledger)
    callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
    callbacks.push_update_reference = { name, status, payload in
      guard let name, let status, let payload else { return 0 }
      let session = Unmanaged<TransferSession>.fromOpaque(payload).takeUnretainedValue()
      session.rejections[String(cString: name)] = String(cString: status)
      return 0
    }
    callbacks.credentials = { credential, _, userFromURL, allowed, payload in
      guard let payload else { return GIT_PASSTHROUGH.rawValue }
      let session = Unmanaged<TransferSession>.fromOpaque(payload).takeUnretainedValue()
      let user = userFromURL.map { String(cString: $0) } ?? session.defaultUser
      if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
        // libgit2 asks again after a refusal; the agent already offered every key it holds, so stop here.
        session.keyAttempts += 1
        guard session.keyAttempts == 1 else {
          session.note = "the host refused every key ssh-agent offered for user \(user)"
          return GIT_EAUTH.rawValue
        }
        return git_credential_ssh_key_from_agent(credential, user)
      }
      if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
        return git_credential_username_new(credential, user)
      }
      session.note = "the remote asked for a password or token; Airlock authenticates only with ssh-agent keys"
      return GIT_PASSTHROUGH.rawValue
    }
    // Defer to libgit2's own host-key verdict: it checks the key against ~/.ssh/known_hosts and refuses an unknown
    // or changed one ("invalid or unknown remote ssh hostkey"), so add the ledger host there first (ssh-keyscan).
    callbacks.certificate_check = { _, _, _, _ in GIT_PASSTHROUGH.rawValue }
    return callbacks
  }
}

/// Runs `body` with a `git_strarray` of copies of `strings`, freed afterwards.
private func withStringArray<T>(_ strings: [String], _ body: (inout git_strarray) -> T) -> T {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  var pointers = copies
  return pointers.withUnsafeMutableBufferPointer { buffer in
    var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
    return body(&array)
  }
}
