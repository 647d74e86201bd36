import AirlockKit
import Testing

/// The did-you-mean of names that do not exist: close enough to be a typo, and quiet otherwise.
@Suite struct SuggestionTests {
  @Test(arguments: [
    ("prod", ["staging", "production"], "production"),
    ("promte", ["deploy", "promote", "plan"], "promote"),
    ("rollbakc", ["rollback", "releases"], "rollback"),
    ("Staging", ["staging", "production"], "staging"),
    ("stagin", ["staging", "production"], "staging"),
    ("1.2", ["1.2.0", "1.1.0"], "1.2.0"),
  ])
  func aTypoFindsTheNameMeant(typed: String, known: [String], meant: String) {
    #expect(Suggestion.closest(to: typed, among: known) == meant)
  }

  @Test(arguments: [
    ("qa", ["staging", "production"]),
    ("nope", ["web"]),
    ("x", ["xylophone"]),
    ("", ["staging"]),
  ])
  func aNameFarFromEveryKnownOneSuggestsNothing(typed: String, known: [String]) {
    #expect(Suggestion.closest(to: typed, among: known) == nil)
  }

  @Test func theListingNamesWhatExistsAndCountsTheRest() {
    #expect(
      Suggestion.listing(["staging", "production"], for: "prod")
        == " (it has: staging, production); did you mean 'production'?")
    #expect(
      Suggestion.listing(["a1", "b2", "c3", "d4"], for: "zz", lead: "labels", shown: 2)
        == " (labels: a1, b2 and 2 more)")
    #expect(Suggestion.listing([], for: "prod") == "")
  }
}
