import Foundation

/// A git object id (40 lowercase hex digits).
///
/// Identifies blobs, trees and commits in the ledger. A release *is* the tree id of its artifact, so two
/// environments run the same release exactly when their artifact ids compare equal. Encodes as a plain string.
public struct ObjectID: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
  /// The 40 lowercase hex digits.
  public let hex: String

  /// Accepts exactly 40 hex digits in either case and lowercases them; returns nil for anything else.
  public init?(hex: String) {
    guard hex.utf8.count == 40, hex.utf8.allSatisfy(\.isHexDigit) else { return nil }
    // Ids come lowercase from libgit2 and the ledger's files; lowercasing copies the string, so only when needed.
    self.hex = hex.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) } ? hex.lowercased() : hex
  }

  /// The first 12 hex digits, as shown to people (and the default version label of a release).
  public var short: String { String(hex.prefix(12)) }

  /// The full 40 hex digits.
  public var description: String { hex }

  /// Orders by hex digits, which is also git's byte order of the raw ids.
  public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.hex < rhs.hex }

  /// Decodes from a string of 40 hex digits.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let id = ObjectID(hex: text) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "expected a git object id of 40 hex digits, found \"\(text)\"")
    }
    self = id
  }

  /// Encodes as the plain hex string.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(hex)
  }
}

extension UInt8 {
  fileprivate var isHexDigit: Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
      || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
  }
}

/// Name and email of whoever made a ledger event (commit author and committer).
///
/// Both must be non-empty and free of `<`, `>` and line breaks: git stores them as `Name <email>`.
public struct Signature: Sendable, Hashable, Codable {
  /// The person's or bot's display name, e.g. `Ada Lovelace` or `ci`.
  public var name: String
  /// The email address, e.g. `ada@example.com`.
  public var email: String

  /// Makes a signature; validity is checked when a commit is written.
  public init(name: String, email: String) {
    self.name = name
    self.email = email
  }
}

/// A commit as listed by `history`.
///
/// One ledger event: `tree` is the environment's state after the event, `message` its one-line summary.
public struct LedgerCommit: Sendable, Hashable {
  /// The commit's own id.
  public let id: ObjectID
  /// The id of the commit's root tree (environment.json, release.json, config.env, checks.json, artifact/).
  public let tree: ObjectID
  /// Parent commits; the first is the previous event on the same branch, none for the first event.
  public let parents: [ObjectID]
  /// The commit message without its trailing newline.
  public let message: String
  /// Who made the event.
  public let author: Signature
  /// When the event was recorded, to the second.
  public let time: Date

  /// Makes a commit description; the ledger builds these, callers normally only read them.
  public init(id: ObjectID, tree: ObjectID, parents: [ObjectID], message: String, author: Signature, time: Date) {
    self.id = id
    self.tree = tree
    self.parents = parents
    self.message = message
    self.author = author
    self.time = time
  }
}
