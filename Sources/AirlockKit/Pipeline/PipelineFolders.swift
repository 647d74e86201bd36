import Foundation

/// Refuses folders that overlap: a target's folder belongs to its releases, and retention and rollback delete and
/// replace what is in it, so a ledger inside a target (or a target inside the ledger, or two environments sharing
/// or nesting their targets) would lose history or another environment's releases.
///
/// Paths are compared as `FolderPath.resolve(_:root:)` makes them: absolute, standardized, with the symlinks of the
/// longest existing part resolved. This applies to `local` targets and to `ledger` when it is a path, not a URL.
extension PipelineDecoder {
  static let ledgerApart =
    "keep the ledger and every target in folders of their own: retention deletes what a target's folder holds, "
    + "and the ledger's history would go with it"

  func checkFolders(_ draft: PipelineDraft, root: URL) {
    var folders = FolderIndex()
    var targets: [(label: String, written: Located<String>, path: FolderPath)] = []
    for (number, environment) in draft.environments.enumerated() {
      guard let local = environment.local else { continue }
      let label = environment.name.map { "'\($0.value)'" } ?? "#\(number + 1)"
      let path = FolderPath.resolve(local.value, root: root)
      if let (other, relation) = folders.overlap(of: path) {
        let first = targets[other]
        report(
          "the target of environment \(label) (\(path)) \(relation.phrase) the target of environment \(first.label) "
            + "(at \(first.written.position), \(first.path)); each environment needs a folder of its own, or "
            + "retention in one deletes the other's releases", at: local.position)
      }
      folders.insert(path, as: targets.count)
      targets.append((label, local, path))
    }
    guard !Ledger.isRemote(draft.ledger) else { return }
    let ledger = FolderPath.resolve(draft.ledger, root: root)
    for target in targets {
      guard let relation = FolderPath.relation(of: ledger, to: target.path) else { continue }
      if let position = draft.ledgerPosition {
        report(
          "the ledger (\(ledger)) \(relation.phrase) the target of environment \(target.label) "
            + "(at \(target.written.position), \(target.path)); \(Self.ledgerApart)", at: position)
      } else {
        report(
          "the target of environment \(target.label) (\(target.path)) \(relation.inverse.phrase) the default ledger "
            + "(\(ledger)); \(Self.ledgerApart)", at: target.written.position)
      }
    }
  }
}

/// How two folders overlap.
enum FolderRelation {
  case same, inside, contains

  var phrase: String {
    switch self {
    case .same: return "is the same folder as"
    case .inside: return "is inside"
    case .contains: return "contains"
    }
  }

  /// The relation seen from the other folder.
  var inverse: FolderRelation {
    switch self {
    case .same: return .same
    case .inside: return .contains
    case .contains: return .inside
    }
  }
}

/// An absolute folder path as components, compared component by component (`/srv/web` does not contain
/// `/srv/web2`).
struct FolderPath: Hashable, CustomStringConvertible {
  var components: [String]

  var description: String { "/" + components.joined(separator: "/") }

  /// `path` made absolute against `root`, with the symlinks of its longest existing part resolved and `.` and `..`
  /// applied to the rest.
  static func resolve(_ path: String, root: URL) -> FolderPath {
    let absolute = path.hasPrefix("/") ? path : root.path + "/" + path
    let written = absolute.split(separator: "/").map(String.init)
    // Whether a prefix exists only shrinks as it grows, so the longest existing one is found by bisection.
    func exists(_ count: Int) -> Bool {
      count == 0 || FileManager.default.fileExists(atPath: "/" + written[..<count].joined(separator: "/"))
    }
    var (low, high) = (0, written.count)
    while low < high {
      let middle = (low + high + 1) / 2
      if exists(middle) { low = middle } else { high = middle - 1 }
    }
    var existing = low
    var components: [String] = []
    if existing > 0, let real = realPath("/" + written[..<existing].joined(separator: "/")) {
      components = real.split(separator: "/").map(String.init)
    } else {
      existing = 0
    }
    for component in written[existing...] {
      switch component {
      case ".": continue
      case "..": _ = components.popLast()
      default: components.append(component)
      }
    }
    return FolderPath(components: components)
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// How `path` relates to `other`, or nil when neither holds the other.
  static func relation(of path: FolderPath, to other: FolderPath) -> FolderRelation? {
    if path == other { return .same }
    if path.components.starts(with: other.components) { return .inside }
    if other.components.starts(with: path.components) { return .contains }
    return nil
  }
}

/// Folders seen so far, kept as a tree of path components, so checking a target costs time linear in its depth and
/// a hostile file with thousands of environments or very deep paths stays cheap.
struct FolderIndex {
  private struct Node {
    var children: [String: Int] = [:]
    /// The first folder inserted that ends here.
    var folder: Int?
    /// The first folder inserted below here.
    var below: Int?
  }

  private var nodes = [Node()]

  /// The first folder inserted that `path` is, is inside, or contains, and how.
  func overlap(of path: FolderPath) -> (Int, FolderRelation)? {
    var node = 0
    for component in path.components {
      if let folder = nodes[node].folder { return (folder, .inside) }
      guard let child = nodes[node].children[component] else { return nil }
      node = child
    }
    if let folder = nodes[node].folder { return (folder, .same) }
    return nodes[node].below.map { ($0, .contains) }
  }

  mutating func insert(_ path: FolderPath, as index: Int) {
    var node = 0
    for component in path.components {
      if nodes[node].below == nil { nodes[node].below = index }
      if let child = nodes[node].children[component] {
        node = child
      } else {
        nodes.append(Node())
        nodes[node].children[component] = nodes.count - 1
        node = nodes.count - 1
      }
    }
    if nodes[node].folder == nil { nodes[node].folder = index }
  }
}
