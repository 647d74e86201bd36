import Foundation

extension Ledger {
  /// Records one event: writes tree and commit, then moves `refs/heads/<branch>` from `expectedHead` to it.
  ///
  /// The commit's parent is `expectedHead` (none when nil); the branch moves by compare-and-swap.
  /// Returns the new commit id. A lost race (the branch is no longer at `expectedHead`) throws `.concurrentUpdate`
  /// and leaves the branch untouched; the unreferenced objects it wrote are harmless and `git gc` drops them.
  /// `branch` is `<pipeline>/<environment>`, e.g. `web/production`.
  public func appendEvent(
    branch: String, expectedHead: ObjectID?, files: [String: Data], subtrees: [String: ObjectID], message: String,
    author: Signature, time: Date
  ) throws -> ObjectID {
    let tree = try writeTree(files: files, subtrees: subtrees)
    let commit = try writeCommit(
      tree: tree, parents: expectedHead.map { [$0] } ?? [], message: message, author: author, time: time)
    try updateReference("refs/heads/" + branch, to: commit, expected: expectedHead, logMessage: message)
    return commit
  }

  /// First-parent history of refs/heads/<branch>, newest first, at most `limit` commits (nil = all).
  ///
  /// A branch that does not exist yet (no event recorded) has an empty history.
  public func history(branch: String, limit: Int?) throws -> [LedgerCommit] {
    let limit = max(limit ?? Int.max, 0)
    var next = try reference("refs/heads/" + branch)
    var commits: [LedgerCommit] = []
    while let id = next, commits.count < limit {
      let commit = try commit(id)
      commits.append(commit)
      next = commit.parents.first
    }
    return commits
  }

  /// Lock files (`*.lock`) under `refs/` and in the ledger's top folder, modified more than `age` before `now`.
  ///
  /// A writer that dies between taking a ref's lock and renaming it into place leaves `<ref>.lock` behind, and every
  /// later update of that ref fails as if it lost a race. Locks younger than `age` probably belong to a live writer.
  /// Removing a listed file is the caller's decision (report it, then delete it); this only looks.
  public func staleLockFiles(olderThan age: TimeInterval, now: Date) -> [URL] {
    let manager = FileManager.default
    let keys: [URLResourceKey] = [.contentModificationDateKey, .isRegularFileKey]
    var candidates = (try? manager.contentsOfDirectory(at: url, includingPropertiesForKeys: keys)) ?? []
    if let walk = manager.enumerator(at: url.appendingPathComponent("refs"), includingPropertiesForKeys: keys) {
      candidates += walk.compactMap { $0 as? URL }
    }
    return candidates.filter { file in
      guard file.pathExtension == "lock",
        let values = try? file.resourceValues(forKeys: Set(keys)), values.isRegularFile == true,
        let modified = values.contentModificationDate
      else { return false }
      return now.timeIntervalSince(modified) > age
    }
    .sorted { $0.path < $1.path }
  }
}
