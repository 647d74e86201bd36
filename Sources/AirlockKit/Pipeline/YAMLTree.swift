// Yams does not expose parser events, and composing with Yams resolves aliases and hashes mapping keys, both of
// which an alias bomb turns exponential. So the pipeline reader drives libyaml (the C library Yams vendors and
// links as the `CYaml` module) event by event and builds its own small tree, refusing aliases as soon as it sees
// one. What a plain scalar means (null, bool, int, float) follows Yams' resolver rules, in YAMLScalarType.swift.
import CYaml
import Foundation
import Yams

/// A 1-based line and column in a pipeline file.
struct SourcePosition: Hashable, Sendable, Comparable, CustomStringConvertible {
  var line: Int
  var column: Int

  static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
    (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }

  var description: String { "\(line):\(column)" }
}

/// What a scalar means once quoting, tags and YAML's implicit typing are applied.
enum ScalarType: Sendable {
  case string, null, bool, int, float
}

/// One node of a pipeline file, with where it starts.
struct YAMLNode: Sendable {
  enum Content: Sendable {
    case scalar(text: String, type: ScalarType)
    case sequence([YAMLNode])
    case mapping([YAMLPair])
  }

  var content: Content
  var position: SourcePosition

  /// The scalar's text, whatever its type; `nil` for collections.
  var scalarText: String? {
    if case .scalar(let text, _) = content { return text }
    return nil
  }

  /// The scalar's type; `nil` for collections.
  var scalarType: ScalarType? {
    if case .scalar(_, let type) = content { return type }
    return nil
  }

  var isNull: Bool { scalarType == .null }
}

/// A key and its value in a mapping; keys are always scalars.
struct YAMLPair: Sendable {
  var key: YAMLNode
  var value: YAMLNode
  var name: String { key.scalarText ?? "" }
}

/// Reads YAML text into a `YAMLNode` tree, reporting problems as diagnostics instead of stopping at the first one
/// where the rest of the file can still be understood.
enum YAMLReader {
  /// Deeper than any pipeline needs (about six levels); bounds recursion in later passes and in deinitialisation.
  static let maximumDepth = 64

  /// The UTF-8 byte order mark, which editors on some systems write at the start of a file.
  static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

  static let aliasMessage =
    "aliases and anchors are not supported in pipelines; write each value out where it is used"

  /// Parses `text`; returns the single document's root when the file could be read far enough to validate it.
  static func read(_ text: String, file: String) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
    var composer = Composer(file: file)
    var bytes = Array(text.utf8)
    // YAML allows a byte order mark before the stream; dropping it keeps line 1, column 1 on the first character
    // an editor shows.
    if bytes.starts(with: YAMLReader.byteOrderMark) { bytes.removeFirst(YAMLReader.byteOrderMark.count) }
    if bytes.isEmpty {
      composer.report("the file is empty; a pipeline needs at least 'pipeline:' and 'environments:'", at: .start)
      return (nil, composer.diagnostics)
    }
    bytes.withUnsafeMutableBufferPointer { buffer in
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else {
        composer.report("out of memory while reading the file", at: .start)
        return
      }
      defer { yaml_parser_delete(&parser) }
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      while true {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
          composer.reportSyntaxError(parser, bytes: UnsafeBufferPointer(buffer))
          return
        }
        defer { yaml_event_delete(&event) }
        if !composer.consume(event) { return }
      }
    }
    return (composer.finish(), composer.diagnostics)
  }

  /// What an unquoted, untagged scalar means.
  static func resolvePlain(_ text: String) -> ScalarType { Composer.resolve(text) }
}

extension SourcePosition {
  static let start = SourcePosition(line: 1, column: 1)

  init(_ mark: yaml_mark_t) {
    self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
  }
}

/// Builds the tree from libyaml events with an explicit stack, so nesting never recurses.
private struct Composer {
  /// An open collection. A class, so appending to it mutates in place instead of copying the array each time.
  final class Frame {
    let position: SourcePosition
    let isMapping: Bool
    var items: [YAMLNode] = []
    var pairs: [YAMLPair] = []
    var pendingKey: YAMLNode?
    var seen: [String: SourcePosition] = [:]

    init(position: SourcePosition, isMapping: Bool) {
      self.position = position
      self.isMapping = isMapping
    }
  }

  let file: String
  var diagnostics: [Diagnostic] = []
  var stack: [Frame] = []
  var root: YAMLNode?
  var documents = 0
  var documentStart = SourcePosition.start
  var firstAnchor: SourcePosition?

  init(file: String) {
    self.file = file
  }

  mutating func report(_ message: String, at position: SourcePosition) {
    diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, message: message))
  }

  /// Takes one event; returns false when reading must stop.
  mutating func consume(_ event: yaml_event_t) -> Bool {
    let position = SourcePosition(event.start_mark)
    switch event.type {
    case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
      return true
    case YAML_STREAM_END_EVENT:
      return false
    case YAML_DOCUMENT_START_EVENT:
      documents += 1
      documentStart = position
      if documents > 1 {
        report(
          "a pipeline file holds one YAML document, but a second one starts here; remove the '---' "
            + "or move the second pipeline into its own file", at: position)
        return false
      }
      return true
    case YAML_ALIAS_EVENT:
      // Stopping here is what keeps an alias bomb cheap: nothing is ever expanded.
      report(YAMLReader.aliasMessage, at: position)
      abandon()
      return false
    case YAML_SCALAR_EVENT:
      let scalar = event.data.scalar
      noteAnchor(scalar.anchor, at: position)
      let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
      let type: ScalarType
      if let tag = string(scalar.tag), tag == Tag.Name.str.rawValue || tag == "!" {
        type = .string
      } else if let tag = string(scalar.tag) {
        // Reported, then read as if untagged, so the one mistake does not also surface as a type error.
        report(unsupportedTag(tag), at: position)
        type = scalar.style == YAML_PLAIN_SCALAR_STYLE ? Self.resolve(text) : .string
      } else if scalar.style == YAML_PLAIN_SCALAR_STYLE {
        type = Self.resolve(text)
      } else {
        type = .string
      }
      attach(YAMLNode(content: .scalar(text: text, type: type), position: position))
      return true
    case YAML_SEQUENCE_START_EVENT:
      noteAnchor(event.data.sequence_start.anchor, at: position)
      if let tag = string(event.data.sequence_start.tag), tag != Tag.Name.seq.rawValue {
        report(unsupportedTag(tag), at: position)
      }
      return push(Frame(position: position, isMapping: false))
    case YAML_MAPPING_START_EVENT:
      noteAnchor(event.data.mapping_start.anchor, at: position)
      if let tag = string(event.data.mapping_start.tag), tag != Tag.Name.map.rawValue {
        report(unsupportedTag(tag), at: position)
      }
      return push(Frame(position: position, isMapping: true))
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
      guard let frame = stack.popLast() else { return false }
      let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
      attach(YAMLNode(content: content, position: frame.position))
      return true
    default:
      return true
    }
  }

  /// Drops everything read so far: the file cannot be validated further.
  mutating func abandon() {
    root = nil
    stack.removeAll()
    documents = -1
  }

  mutating func push(_ frame: Frame) -> Bool {
    guard stack.count < YAMLReader.maximumDepth else {
      report(
        "the file nests too deeply (over \(YAMLReader.maximumDepth) levels); a pipeline needs about six",
        at: frame.position)
      abandon()
      return false
    }
    stack.append(frame)
    return true
  }

  mutating func attach(_ node: YAMLNode) {
    guard let frame = stack.last else {
      root = node
      return
    }
    guard frame.isMapping else {
      frame.items.append(node)
      return
    }
    guard let key = frame.pendingKey else {
      frame.pendingKey = node
      return
    }
    frame.pendingKey = nil
    guard let name = key.scalarText else {
      report("a mapping key must be a plain name, not a list or a mapping", at: key.position)
      return
    }
    if let first = frame.seen[name] {
      report("duplicate key '\(name)' (first at \(first)); each key may appear once in a mapping", at: key.position)
    } else {
      frame.seen[name] = key.position
      frame.pairs.append(YAMLPair(key: key, value: node))
    }
  }

  mutating func noteAnchor(_ anchor: UnsafeMutablePointer<yaml_char_t>?, at position: SourcePosition) {
    if anchor != nil && firstAnchor == nil { firstAnchor = position }
  }

  func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    guard let pointer else { return nil }
    return String(cString: pointer)
  }

  func unsupportedTag(_ tag: String) -> String {
    let shown = tag.replacingOccurrences(of: "tag:yaml.org,2002:", with: "!!")
    return "YAML tag '\(shown)' is not supported in pipelines; remove it (quote the value if it must stay text)"
  }

  /// Returns the document's root once the stream ended cleanly.
  mutating func finish() -> YAMLNode? {
    guard documents >= 0 else { return nil }
    // An anchor nobody refers to is harmless, but refusing it keeps the rule simple to state and to follow.
    if let firstAnchor { report(YAMLReader.aliasMessage, at: firstAnchor) }
    guard let root else {
      report("the file is empty; a pipeline needs at least 'pipeline:' and 'environments:'", at: .start)
      return nil
    }
    if root.isNull {
      // libyaml places an empty document's null after the '---'; the '---' itself is the useful place to point.
      report("the document is empty; a pipeline needs at least 'pipeline:' and 'environments:'", at: documentStart)
      return nil
    }
    return root
  }

  mutating func reportSyntaxError(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) {
    let problem = parser.problem.map { String(cString: $0) } ?? "unreadable input"
    var position = SourcePosition(parser.problem_mark)
    if parser.error == YAML_READER_ERROR {
      // Reader errors carry a byte offset rather than a mark.
      position = Self.position(ofByte: Int(parser.problem_offset), in: bytes)
    }
    var message = "not valid YAML: \(problem)"
    if problem.hasPrefix("Maximum nesting level") {
      // libyaml's own limit (1000) can trip before ours; it speaks of an API the user cannot call.
      report("the file nests too deeply; a pipeline needs about six levels", at: position)
      abandon()
      return
    }
    if let context = parser.context.map({ String(cString: $0) }) {
      message += " (\(context) at \(SourcePosition(parser.context_mark)))"
    }
    if parser.error == YAML_SCANNER_ERROR || parser.error == YAML_PARSER_ERROR {
      message += "; check the indentation, and quote values that contain ': ' or start with a YAML symbol"
    }
    report(message, at: position)
    abandon()
  }

  static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
    var line = 1
    var column = 1
    for byte in bytes.prefix(offset) {
      if byte == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else if byte & 0xC0 != 0x80 {
        column += 1
      }
    }
    return SourcePosition(line: line, column: column)
  }

  static func resolve(_ text: String) -> ScalarType { YAMLScalarType.resolve(text) }
}
