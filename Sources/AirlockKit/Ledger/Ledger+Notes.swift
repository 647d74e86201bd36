internal import CGit2
import Foundation

/// Git notes: text attached to a commit after it was written, without changing it (`git notes --ref=REF show`).
extension Ledger {
  /// Attaches `text` to `commit` under the notes ref `ref` (a full name under `refs/notes/`), replacing the note
  /// `commit` had there; written by `author` at `time`.
  public func writeNote(_ text: String, on commit: ObjectID, ref: String, author: Signature, time: Date) throws {
    let signature = try makeSignature(author, time: time)
    defer { git_signature_free(signature) }
    var target = commit.oid
    var written = git_oid()
    try check(
      git_note_create(&written, repository, ref, signature, signature, &target, text, 1),
      "writing a note on \(commit.short) in \(ref)", ledger: path)
  }

  /// The note on `commit` under `ref`, or `nil` when it has none.
  public func note(on commit: ObjectID, ref: String) throws -> String? {
    var note: OpaquePointer?
    var target = commit.oid
    let status = git_note_read(&note, repository, ref, &target)
    if status == GIT_ENOTFOUND.rawValue { return nil }
    try check(status, "reading the note on \(commit.short) in \(ref)", ledger: path)
    defer { git_note_free(note) }
    return git_note_message(note).map { String(cString: $0) }
  }
}

extension PipelineLedger {
  /// The notes ref that holds the hook runs of `environment`'s events: one per environment, so only the holder of
  /// its lease writes there.
  func hooksRef(_ environment: String) -> String { "refs/notes/airlock/\(pipeline)/\(environment)" }

  /// Records `runs` (their output already redacted) as the note of `commit`, an event of `environment`, after any
  /// runs recorded there before, and publishes the notes ref to a shared ledger.
  func recordHooks(_ runs: [HookRun], on commit: ObjectID, in environment: String, author: Signature, time: Date)
    throws
  {
    guard !runs.isEmpty else { return }
    let ref = hooksRef(environment)
    let earlier = try hooks(of: commit, in: environment) ?? []
    let text = String(decoding: try LedgerCoding.encode(earlier + runs), as: UTF8.self)
    try ledger.writeNote(text, on: commit, ref: ref, author: author, time: time)
    try publish([ref], what: "the hook runs of \(environment)")
  }

  /// The hook runs recorded for `commit`, an event of `environment`; `nil` when none were.
  public func hooks(of commit: ObjectID, in environment: String) throws -> [HookRun]? {
    guard let text = try ledger.note(on: commit, ref: hooksRef(environment)) else { return nil }
    return try? LedgerCoding.decode([HookRun].self, from: Data(text.utf8))
  }
}
