import AirlockTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

/// One bare remote ledger made by stock git and local mirrors of it, as two runners on two machines would have.
final class SharedLedger {
  let scratch: ScratchProject
  let remoteFolder: URL
  /// How the mirrors name the remote: a `file://` URL or a plain path.
  let remote: String

  enum Form: String, CaseIterable, CustomTestStringConvertible {
    case fileURL, path
    var testDescription: String { rawValue }
  }

  /// `folder` has a space by default, so `file://` URLs must be percent-decoded to be found.
  init(_ form: Form, folder: String = "shared ledger.git") async throws {
    scratch = try ScratchProject()
    remoteFolder = scratch.url(folder)
    let initialised = try await scratch.git(in: scratch.root, "init", "--bare", "--quiet", remoteFolder.path)
    #expect(initialised.code == 0, "\(initialised.stderr)")
    switch form {
    case .fileURL: remote = remoteFolder.absoluteString
    case .path: remote = remoteFolder.path
    }
  }

  /// A fresh local mirror, as a runner's `.airlock/ledger-cache/…` would be.
  func mirror(_ name: String) throws -> Ledger {
    try Ledger.open(at: scratch.url("\(name).git"), create: true)
  }

  /// Stock git run against the remote.
  func git(_ arguments: String...) async throws -> ScratchProject.Run {
    try await scratch.git(arguments: arguments, in: remoteFolder)
  }

  func remoteReference(_ name: String) async throws -> String? {
    let run = try await git("rev-parse", "--verify", "--quiet", name)
    return run.code == 0 ? run.trimmed : nil
  }

  func expectRemoteIsClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let fsck = try await git("fsck", "--strict")
    #expect(fsck.code == 0, "\(fsck.stdout)\(fsck.stderr)", sourceLocation: sourceLocation)
    #expect(!fsck.stderr.contains("error"), "\(fsck.stderr)", sourceLocation: sourceLocation)
  }
}

/// A parentless commit such as a version tag or a lease points at.
private func standaloneCommit(_ ledger: Ledger, _ text: String) throws -> ObjectID {
  let tree = try ledger.writeTree(files: ["release.json": Data(text.utf8)], subtrees: [:])
  return try ledger.writeCommit(tree: tree, parents: [], message: text, author: ada, time: eventTime)
}

@Suite struct LedgerRemoteTests {
  static let routes: [Ledger.PushRoute] = [.automatic, .transport]
  let branch = "refs/heads/web/staging"

  @Test(arguments: SharedLedger.Form.allCases, routes)
  func theSecondRunnerOnTheSameHeadIsRejectedAndThenSeesTheWinner(form: SharedLedger.Form, route: Ledger.PushRoute)
    async throws
  {
    let shared = try await SharedLedger(form)
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    try runnerA.fetch(from: shared.remote)
    let first = try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok")
    #expect(try runnerA.push([branch], to: shared.remote, route: route) == [])
    try runnerB.fetch(from: shared.remote)
    #expect(try runnerB.reference(branch) == first)

    let second = try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.1 staging: ok")
    #expect(try runnerA.push([branch], to: shared.remote, route: route) == [])
    #expect(
      try await shared.git("log", "--format=%s", "web/staging").trimmed
        == "deploy web 1.1 staging: ok\ndeploy web 1.0 staging: ok")

    // B has not fetched since A's second event, so B records its own event on top of the first one.
    let losing = try runnerB.appendTestEvent(branch: "web/staging", message: "deploy web 1.2 staging: ok")
    #expect(try runnerB.push([branch], to: shared.remote, route: route) == [branch])
    #expect(try await shared.remoteReference(branch) == second.hex)

    try runnerB.fetch(from: shared.remote)
    #expect(try runnerB.reference(branch) == second)
    #expect(try runnerB.history(branch: "web/staging", limit: nil).map(\.id) == [second, first])
    #expect(try await shared.git("cat-file", "-e", losing.hex).code != 0)
    try await shared.expectRemoteIsClean()
  }

  @Test(arguments: SharedLedger.Form.allCases, routes)
  func eachRefIsAcceptedOrRejectedOnItsOwn(form: SharedLedger.Form, route: Ledger.PushRoute) async throws {
    let shared = try await SharedLedger(form)
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok")
    #expect(try runnerA.push([branch], to: shared.remote, route: route) == [])
    try runnerB.fetch(from: shared.remote)
    let winner = try runnerA.appendTestEvent(branch: "web/staging", message: "verify web 1.0 staging: ok")
    #expect(try runnerA.push([branch], to: shared.remote, route: route) == [])

    try runnerB.appendTestEvent(branch: "web/staging", message: "deploy web 2.0 staging: ok")
    let production = try runnerB.appendTestEvent(branch: "web/production", message: "deploy web 2.0 production: ok")
    let tag = "refs/tags/web/2.0"
    let release = try standaloneCommit(runnerB, "release web 2.0")
    try runnerB.updateReference(tag, to: release, expected: nil, logMessage: "bind 2.0")
    let productionBranch = "refs/heads/web/production"
    #expect(try runnerB.push([branch, productionBranch, tag], to: shared.remote, route: route) == [branch])
    #expect(try await shared.remoteReference(branch) == winner.hex)
    #expect(try await shared.remoteReference(productionBranch) == production.hex)
    #expect(try await shared.remoteReference(tag) == release.hex)
    try await shared.expectRemoteIsClean()
  }

  @Test(arguments: SharedLedger.Form.allCases, routes)
  func aTagIsCreatedOnceAndNeverMoved(form: SharedLedger.Form, route: Ledger.PushRoute) async throws {
    let shared = try await SharedLedger(form)
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    let tag = "refs/tags/web/1.0"
    let ours = try standaloneCommit(runnerA, "release web 1.0 from A")
    try runnerA.updateReference(tag, to: ours, expected: nil, logMessage: "bind 1.0")
    #expect(try runnerA.push([tag], to: shared.remote, route: route) == [])
    #expect(try await shared.remoteReference(tag) == ours.hex)
    // Pushing the same value again is not a change, so it is accepted.
    #expect(try runnerA.push([tag], to: shared.remote, route: route) == [])

    let theirs = try standaloneCommit(runnerB, "release web 1.0 from B")
    try runnerB.updateReference(tag, to: theirs, expected: nil, logMessage: "bind 1.0")
    #expect(try runnerB.push([tag], to: shared.remote, route: route) == [tag])
    // Even after fetching A's tag, B's unrelated commit is not a fast-forward of it.
    try runnerB.fetch(from: shared.remote, refspecs: ["+refs/tags/*:refs/remotes/shared/tags/*"])
    #expect(try runnerB.push([tag], to: shared.remote, route: route) == [tag])
    #expect(try await shared.remoteReference(tag) == ours.hex)
    try await shared.expectRemoteIsClean()
  }

  @Test(arguments: SharedLedger.Form.allCases, routes)
  func deletingARemoteLeaseHonoursItsExpectedValue(form: SharedLedger.Form, route: Ledger.PushRoute) async throws {
    let shared = try await SharedLedger(form)
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    let lease = "refs/airlock/leases/web/production"
    let held = try standaloneCommit(runnerA, #"{"holder":"A"}"#)
    try runnerA.updateReference(lease, to: held, expected: nil, logMessage: "lease")
    #expect(try runnerA.push([lease], to: shared.remote, route: route) == [])
    try runnerB.fetch(from: shared.remote)
    #expect(try runnerB.reference(lease) == held)

    let other = try standaloneCommit(runnerB, #"{"holder":"B"}"#)
    #expect(try !runnerB.deleteRemoteReference(lease, expected: other, on: shared.remote, route: route))
    #expect(try await shared.remoteReference(lease) == held.hex)
    #expect(try runnerB.reference(lease) == held)

    #expect(try runnerB.deleteRemoteReference(lease, expected: held, on: shared.remote, route: route))
    #expect(try await shared.remoteReference(lease) == nil)
    #expect(try runnerB.reference(lease) == nil)
    // Gone is gone: a second release of the same lease changes nothing.
    #expect(try !runnerB.deleteRemoteReference(lease, expected: held, on: shared.remote, route: route))

    // A still has its copy until it fetches; the fetch prunes what the remote no longer has.
    #expect(try runnerA.reference(lease) == held)
    try runnerA.fetch(from: shared.remote)
    #expect(try runnerA.reference(lease) == nil)
    try await shared.expectRemoteIsClean()
  }

  @Test func fetchMirrorsBranchesTagsAndAirlockRefsAndReplacesUnpushedEvents() async throws {
    let shared = try await SharedLedger(.path)
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    let event = try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok")
    let release = try standaloneCommit(runnerA, "release web 1.0")
    try runnerA.updateReference("refs/tags/web/1.0", to: release, expected: nil, logMessage: "bind")
    try runnerA.updateReference("refs/airlock/leases/web/staging", to: release, expected: nil, logMessage: "lease")
    let refs = [branch, "refs/tags/web/1.0", "refs/airlock/leases/web/staging"]
    #expect(try runnerA.push(refs, to: shared.remote) == [])

    try runnerB.appendTestEvent(branch: "web/staging", message: "never pushed")
    try runnerB.fetch(from: shared.remote)
    #expect(try runnerB.references(withPrefix: "refs/").map(\.name) == refs.sorted())
    #expect(try runnerB.reference(branch) == event)
    #expect(try runnerB.readFile("release.json", inCommit: event) != nil)
    #expect(try runnerB.reference("refs/tags/web/1.0") == release)
  }

  @Test func concurrentPushesOnOneHeadHaveExactlyOneWinnerEachRound() async throws {
    let shared = try await SharedLedger(.fileURL)
    let racers = 4
    let seed = try shared.mirror("seed")
    try seed.appendTestEvent(branch: "web/staging", message: "round 0")
    #expect(try seed.push([branch], to: shared.remote) == [])
    var accepted: [ObjectID] = []
    for round in 1...8 {
      let winners = Mutex<[ObjectID]>([])
      let failures = Mutex<[String]>([])
      let start = DispatchSemaphore(value: 0)
      let finished = DispatchGroup()
      for racer in 0..<racers {
        finished.enter()
        let folder = shared.scratch.url("racer-\(racer).git")
        let remote = shared.remote
        let branch = branch
        Thread {
          defer { finished.leave() }
          do {
            let mirror = try Ledger.open(at: folder, create: true)
            try mirror.fetch(from: remote)
            let commit = try mirror.appendTestEvent(branch: "web/staging", message: "round \(round) racer \(racer)")
            start.wait()
            if try mirror.push([branch], to: remote).isEmpty { winners.withLock { $0.append(commit) } }
          } catch {
            failures.withLock { $0.append("\(error)") }
          }
        }.start()
      }
      // Everyone fetches and records first, so that all racers build on the same head before any push.
      try await Task.sleep(for: .milliseconds(200))
      for _ in 0..<racers { start.signal() }
      finished.wait()
      #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
      let won = winners.withLock { $0 }
      #expect(won.count == 1, "round \(round): \(won.count) pushes accepted")
      #expect(try await shared.remoteReference(branch) == won.first?.hex)
      accepted += won
    }
    let log = try await shared.git("log", "--format=%H", "web/staging").stdout.split(separator: "\n").map(String.init)
    #expect(Array(log.dropLast()) == accepted.reversed().map(\.hex))
    try await shared.expectRemoteIsClean()
  }

  @Test(arguments: ["file:///nonexistent/airlock/ledger.git", "/nonexistent/airlock/ledger.git"])
  func anUnreachableRemoteIsAnIOErrorNamingIt(remote: String) throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let event = try ledger.appendTestEvent(branch: "web/staging", message: "deploy")
    let failures: [() throws -> Void] = [
      { try ledger.fetch(from: remote) },
      { _ = try ledger.push([branch], to: remote) },
      { _ = try ledger.push([branch], to: remote, route: .transport) },
      { _ = try ledger.deleteRemoteReference(branch, expected: event, on: remote) },
      { _ = try ledger.deleteRemoteReference(branch, expected: event, on: remote, route: .transport) },
    ]
    for attempt in failures {
      let error = try #require(throws: LedgerError.self) { try attempt() }
      #expect(error.code == .io)
      #expect(error.description.contains(remote), "\(error)")
    }
  }

  @Test func anSSHRemoteThatRefusesTheConnectionIsAnIOErrorNamingIt() throws {
    let scratch = try ScratchProject()
    let ledger = try scratch.openLedger()
    let remote = "ssh://airlock@127.0.0.1:1/srv/ledger.git"
    let error = try #require(throws: LedgerError.self) { try ledger.fetch(from: remote) }
    #expect(error.code == .io)
    #expect(error.description.contains(remote), "\(error)")
  }

  @Test func pushingARefThisLedgerDoesNotHaveIsNotFound() async throws {
    let shared = try await SharedLedger(.path)
    let mirror = try shared.mirror("a")
    let error = try #require(throws: LedgerError.self) { try mirror.push([branch], to: shared.remote) }
    #expect(error.code == .notFound)
    #expect(error.description.contains(branch))
  }

  @Test(arguments: [
    ("file:///srv/ledger.git", true), ("ssh://git@host/srv/ledger.git", true), ("https://host/ledger.git", true),
    ("git@host:ledgers/web.git", true), ("host:ledger.git", true), (".airlock/ledger.git", false),
    ("/srv/ledger.git", false), ("ledger.git", false), ("./odd:name.git", false), ("dir/odd:name.git", false),
    ("", false), (":ledger.git", false), ("://nothing", false),
  ])
  func tellsRemoteURLsFromLocalPaths(text: String, remote: Bool) {
    #expect(Ledger.isRemote(text) == remote)
  }

  @Test func findsTheFolderOfARemoteOnThisMachine() {
    #expect(Ledger.localFolder(of: "file:///srv/shared%20ledger.git") == "/srv/shared ledger.git")
    #expect(Ledger.localFolder(of: "file://localhost/srv/ledger.git") == "/srv/ledger.git")
    #expect(Ledger.localFolder(of: "/srv/a/../ledger.git") == "/srv/ledger.git")
    #expect(Ledger.localFolder(of: "ssh://host/srv/ledger.git") == nil)
    #expect(Ledger.localFolder(of: "git@host:ledger.git") == nil)
    #expect(Ledger.localFolder(of: "file://otherhost/srv/ledger.git") == nil)
  }
}

extension Ledger.PushRoute: CustomTestStringConvertible {
  /// The route's name in test output.
  public var testDescription: String { self == .automatic ? "compare-and-swap" : "libgit2 transport" }
}

/// The same races over ssh, against an sshd on this machine (opt-in: it needs sshd and ssh-agent).
///
/// Run with `AIRLOCK_TEST_SSH_HOST=user@127.0.0.1:2222` (a login on this machine that accepts a key held by the
/// ssh-agent at `SSH_AUTH_SOCK`, with the host key in `~/.ssh/known_hosts`); the shared ledger is created in a local temporary folder and reached as
/// `ssh://user@127.0.0.1:2222/<folder>`, so the push goes through libgit2's ssh transport and `git receive-pack`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["AIRLOCK_TEST_SSH_HOST"] != nil))
struct LedgerSSHRemoteTests {
  let branch = "refs/heads/web/staging"

  @Test func racesTagsAndLeasesOverSSH() async throws {
    // libgit2 does not percent-decode the path of an ssh:// URL, so this folder name has no space.
    let shared = try await SharedLedger(.path, folder: "shared-ledger.git")
    let host = ProcessInfo.processInfo.environment["AIRLOCK_TEST_SSH_HOST"] ?? ""
    let remote = "ssh://\(host)\(shared.remoteFolder.path)"
    let runnerA = try shared.mirror("a")
    let runnerB = try shared.mirror("b")
    try runnerA.fetch(from: remote)
    let first = try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.0 staging: ok")
    #expect(try runnerA.push([branch], to: remote) == [])
    try runnerB.fetch(from: remote)
    #expect(try runnerB.reference(branch) == first)
    let second = try runnerA.appendTestEvent(branch: "web/staging", message: "deploy web 1.1 staging: ok")
    #expect(try runnerA.push([branch], to: remote) == [])
    try runnerB.appendTestEvent(branch: "web/staging", message: "deploy web 1.2 staging: ok")
    #expect(try runnerB.push([branch], to: remote) == [branch])
    #expect(try await shared.remoteReference(branch) == second.hex)
    try runnerB.fetch(from: remote)
    #expect(try runnerB.reference(branch) == second)

    let tag = "refs/tags/web/1.0"
    let ours = try standaloneCommit(runnerA, "release web 1.0 from A")
    try runnerA.updateReference(tag, to: ours, expected: nil, logMessage: "bind")
    let theirs = try standaloneCommit(runnerB, "release web 1.0 from B")
    try runnerB.updateReference(tag, to: theirs, expected: nil, logMessage: "bind")
    #expect(try runnerA.push([tag], to: remote) == [])
    #expect(try runnerB.push([tag], to: remote) == [tag])
    #expect(try await shared.remoteReference(tag) == ours.hex)

    let lease = "refs/airlock/leases/web/staging"
    try runnerA.updateReference(lease, to: ours, expected: nil, logMessage: "lease")
    #expect(try runnerA.push([lease], to: remote) == [])
    #expect(try !runnerA.deleteRemoteReference(lease, expected: theirs, on: remote))
    #expect(try runnerA.deleteRemoteReference(lease, expected: ours, on: remote))
    #expect(try await shared.remoteReference(lease) == nil)
    try await shared.expectRemoteIsClean()
  }
}
