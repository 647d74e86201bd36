import Foundation

/// Decoding values: mappings with known keys, text, names, numbers, durations, shares, lists and arguments.
extension PipelineDecoder {
  /// A mapping's pairs after unknown keys were reported.
  struct Fields {
    var position: SourcePosition
    var pairs: [YAMLPair]
    var hadUnknownKeys: Bool

    subscript(key: String) -> YAMLNode? {
      pairs.first { $0.name == key }?.value
    }

    /// The value of a key a kind's `Key` enum names.
    subscript<Key: RawRepresentable>(key: Key) -> YAMLNode? where Key.RawValue == String {
      self[key.rawValue]
    }
  }

  func fields(
    _ node: YAMLNode, subject: String, allowed: [String], context: String, expected: String = "a mapping"
  ) -> Fields? {
    guard case .mapping(let pairs) = node.content else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    var known: [YAMLPair] = []
    var hadUnknownKeys = false
    for pair in pairs {
      if allowed.contains(pair.name) {
        known.append(pair)
      } else {
        hadUnknownKeys = true
        report(
          "unknown key '\(short(pair.name))' \(context)\(didYouMean(pair.name, among: allowed))",
          at: pair.key.position)
      }
    }
    return Fields(position: node.position, pairs: known, hadUnknownKeys: hadUnknownKeys)
  }

  /// `text` cut to a readable length, so a stray megabyte of text does not end up in a message.
  func short(_ text: String) -> String {
    text.count <= 80 ? text : text.prefix(77) + "…"
  }

  func describe(_ node: YAMLNode) -> String {
    switch node.content {
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    case .scalar(let text, let type):
      switch type {
      case .null: return "nothing"
      case .bool: return "the boolean \(short(text))"
      case .int, .float: return "the number \(short(text))"
      case .string: return "the text '\(short(text))'"
      }
    }
  }

  func mismatch(_ node: YAMLNode, subject: String, expected: String) {
    var message = "\(subject) must be \(expected), found \(describe(node))"
    if expected.hasPrefix("text"), let text = node.scalarText,
      node.scalarType == .bool || node.scalarType == .int
        || node.scalarType == .float
    {
      message += "; quote it ('\(text)') if you mean the text"
    } else if expected.hasPrefix("a list"), node.scalarType == .string, let text = node.scalarText {
      message += "; write it as a list: [\(text)]"
    }
    report(message, at: node.position)
  }

  /// Non-empty text; numbers and booleans are refused so that `name: yes` or `expect: '200'` surface as mistakes.
  func text(_ node: YAMLNode, subject: String) -> String? {
    guard node.scalarType == .string, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: "text")
      return nil
    }
    if text.allSatisfy(\.isWhitespace) {
      report("\(subject) must not be empty", at: node.position)
      return nil
    }
    return text
  }

  func name(_ node: YAMLNode, subject: String, kind: String) -> Located<String>? {
    guard let name = text(node, subject: subject) else { return nil }
    if !PipelineNames.isValidName(name) {
      report("invalid \(kind) name '\(name)': \(PipelineNames.nameRule)", at: node.position)
    }
    return Located(value: name, position: node.position)
  }

  func choice(_ node: YAMLNode, subject: String, among choices: [String]) -> String? {
    let expected = choices.map { "'\($0)'" }.joined(separator: " or ")
    guard node.scalarType == .string, let word = node.scalarText, choices.contains(word) else {
      var message = "\(subject) must be \(expected), found \(describe(node))"
      if let word = node.scalarText { message += didYouMean(word, among: choices) }
      report(message, at: node.position)
      return nil
    }
    return word
  }

  func bool(_ node: YAMLNode, subject: String) -> Bool? {
    guard node.scalarType == .bool, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: "true or false")
      return nil
    }
    return ["true", "yes", "on"].contains(text.lowercased())
  }

  func integer(_ node: YAMLNode, subject: String, in range: ClosedRange<Int>) -> Int? {
    let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
    guard node.scalarType == .int, let text = node.scalarText else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    guard let value = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
      report("\(subject) must be \(expected), found \(text)", at: node.position)
      return nil
    }
    return value
  }

  func duration(_ node: YAMLNode, subject: String, allowZero: Bool) -> TimeSpan? {
    let expected = "a duration like 100ms, 2s, 5m or 1h"
    guard let text = node.scalarText, node.scalarType != .null else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    guard let span = TimeSpan(parsing: text) else {
      var message = "\(subject) must be \(expected), found '\(short(text))'"
      if text.hasPrefix("-") {
        message = "\(subject) cannot be negative, found '\(short(text))'"
      } else if node.scalarType == .int {
        message += "; add a unit, like \(text)s"
      } else if text.contains(".") {
        message += "; use whole numbers, like 1500ms instead of 1.5s"
      }
      report(message, at: node.position)
      return nil
    }
    if !allowZero && span.milliseconds == 0 {
      report("\(subject) must be longer than 0s", at: node.position)
      return nil
    }
    return span
  }

  func share(_ node: YAMLNode, subject: String, of what: String) -> Share? {
    let expected = "a count of \(what) like 2 or a percentage like 50%"
    if node.scalarType == .int, let text = node.scalarText {
      guard let count = Int(text), count >= 1 else {
        report("\(subject) must be at least 1, found \(text)", at: node.position)
        return nil
      }
      return .count(count)
    }
    if node.scalarType == .string, let text = node.scalarText, text.hasSuffix("%") {
      guard let percent = Int(text.dropLast()), (1...100).contains(percent) else {
        report("\(subject) must be a percentage from 1% to 100%, found '\(short(text))'", at: node.position)
        return nil
      }
      return .percent(percent)
    }
    mismatch(node, subject: subject, expected: expected)
    return nil
  }

  func list(_ node: YAMLNode, subject: String, expected: String) -> [YAMLNode]? {
    if node.isNull { return [] }
    guard case .sequence(let items) = node.content else {
      mismatch(node, subject: subject, expected: expected)
      return nil
    }
    return items
  }

  /// A list of names (checks, secrets, hosts); a name listed twice is reported, since it is always a slip.
  func names(_ node: YAMLNode, subject: String, what: String) -> [Located<String>] {
    guard let items = list(node, subject: subject, expected: "a list of \(what)") else { return [] }
    var result: [Located<String>] = []
    var seen: [String: SourcePosition] = [:]
    for item in items {
      guard let name = text(item, subject: "each entry of \(subject)") else { continue }
      if let first = seen[name] {
        report("'\(name)' is listed twice in \(subject) (first at \(first))", at: item.position)
        continue
      }
      seen[name] = item.position
      result.append(Located(value: name, position: item.position))
    }
    return result
  }

  /// A program and its arguments. Arguments may be numbers or booleans (`[sleep, 1]`) and are taken as written,
  /// because an argument vector is text by nature; a single string is refused because it would need a shell.
  func arguments(_ node: YAMLNode, subject: String) -> [String]? {
    let expected = "a list of program and arguments like [bin/healthcheck, --quick] (run without a shell)"
    guard case .sequence(let items) = node.content else {
      if node.scalarType == .string, let text = node.scalarText {
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: ", ")
        report(
          "\(subject) must be a list of program and arguments, found the text '\(short(text))'; it runs without a shell, "
            + "so write [\(words)]", at: node.position)
      } else {
        mismatch(node, subject: subject, expected: expected)
      }
      return nil
    }
    guard !items.isEmpty else {
      report("\(subject) is empty; give at least the program to run", at: node.position)
      return nil
    }
    var result: [String] = []
    for item in items {
      guard let text = item.scalarText, !item.isNull else {
        mismatch(item, subject: "each argument of \(subject)", expected: "text")
        return nil
      }
      result.append(text)
    }
    if result[0].isEmpty {
      report("the program in \(subject) must not be empty", at: items[0].position)
      return nil
    }
    return result
  }
}
