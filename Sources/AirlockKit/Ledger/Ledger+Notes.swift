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

  /// The notes ref that holds what telling `notify:` receivers about `environment`'s events did.
  func notificationsRef(_ environment: String) -> String {
    "refs/notes/airlock-notify/\(pipeline)/\(environment)"
  }

  /// Records `runs` (their output already redacted) as the note of `commit`, an event of `environment`, after any
  /// runs recorded there before, and publishes the notes ref to a shared ledger.
  func recordHooks(_ runs: [HookRun], on commit: ObjectID, in environment: String, author: Signature, time: Date)
    throws
  {
    try append(runs, to: commit, ref: hooksRef(environment), author: author, time: time) {
      "the hook runs of \(environment)"
    }
  }

  /// The hook runs recorded for `commit`, an event of `environment`; `nil` when none were.
  public func hooks(of commit: ObjectID, in environment: String) throws -> [HookRun]? {
    try list(on: commit, ref: hooksRef(environment))
  }

  /// Records `deliveries` as the note of `commit`, an event of `environment`, after any recorded there before,
  /// and publishes the notes ref to a shared ledger.
  func recordDeliveries(
    _ deliveries: [NotificationDelivery], on commit: ObjectID, in environment: String, author: Signature, time: Date
  ) throws {
    try append(deliveries, to: commit, ref: notificationsRef(environment), author: author, time: time) {
      "the notifications of \(environment)"
    }
  }

  /// The deliveries recorded for `commit`, an event of `environment`; `nil` when none were.
  public func notifications(of commit: ObjectID, in environment: String) throws -> [NotificationDelivery]? {
    try list(on: commit, ref: notificationsRef(environment))
  }

  /// Appends `items` to the JSON list that is `commit`'s note under `ref`, and publishes the ref.
  private func append<Item: Codable>(
    _ items: [Item], to commit: ObjectID, ref: String, author: Signature, time: Date, what: () -> String
  ) throws {
    guard !items.isEmpty else { return }
    let earlier: [Item] = try list(on: commit, ref: ref) ?? []
    let text = String(decoding: try LedgerCoding.encode(earlier + items), as: UTF8.self)
    try ledger.writeNote(text, on: commit, ref: ref, author: author, time: time)
    try publish([ref], what: what())
  }

  /// The JSON list that is `commit`'s note under `ref`; `nil` when it has none (or an unreadable one).
  private func list<Item: Codable>(on commit: ObjectID, ref: String) throws -> [Item]? {
    guard let text = try ledger.note(on: commit, ref: ref) else { return nil }
    return try? LedgerCoding.decode([Item].self, from: Data(text.utf8))
  }
}
