import AirlockTestSupport
import Testing
import Yams

@testable import AirlockKit

/// The pipeline reader decides what a plain scalar means without regular expressions; Yams' default resolver (its
/// regular expressions) is the reference it must agree with, on every short string over the characters those rules
/// look at and on longer random ones.
@Suite struct YAMLScalarTypeTests {
  static let alphabet = Array("0159+-._:eExXbBoOaifnNIlsuY~ ")

  static func yams(_ text: String) -> ScalarType {
    switch Yams.Resolver.default.resolveTag(of: Yams.Node(text)) {
    case .null: .null
    case .bool: .bool
    case .int: .int
    case .float: .float
    default: .string
    }
  }

  @Test func agreesWithYamsOnEveryShortString() {
    var disagreements: [String] = []
    var texts: [String] = [""]
    for _ in 1...3 {
      texts = texts.flatMap { text in Self.alphabet.map { text + String($0) } }
      for text in texts where YAMLScalarType.resolve(text) != Self.yams(text) { disagreements.append(text) }
    }
    #expect(disagreements.isEmpty, "differs from Yams on \(disagreements.prefix(20))")
  }

  @Test func agreesWithYamsOnLongerRandomStrings() {
    var generator = SeededRandom(seed: 0x5EED)
    let shapes = Array("0123456789_:.+-eE")
    var disagreements: [String] = []
    for _ in 0..<20_000 {
      let length = Int.random(in: 4...12, using: &generator)
      let pool = Bool.random(using: &generator) ? shapes : Self.alphabet
      let text = String((0..<length).map { _ in pool.randomElement(using: &generator)! })
      if YAMLScalarType.resolve(text) != Self.yams(text) { disagreements.append(text) }
    }
    #expect(disagreements.isEmpty, "differs from Yams on \(disagreements.prefix(20))")
  }

  @Test(arguments: [
    ("190:20:30", ScalarType.int), ("190:20:30.15", .float), ("1:60", .string), ("1:59", .int), ("0b1_0", .int),
    ("0o17", .int),
    ("0x_1F", .int), ("+.inf", .float), (".5e+3", .float), (".5e3", .string), ("1e", .string), ("1.", .float),
    ("2001-12-14", .string), ("Yes", .bool), ("yES", .string), ("~", .null), ("", .null), ("targets/web", .string),
  ])
  func readsTheShapesYAMLDefines(text: String, expected: ScalarType) {
    #expect(YAMLScalarType.resolve(text) == expected)
    #expect(Self.yams(text) == expected)
  }
}
