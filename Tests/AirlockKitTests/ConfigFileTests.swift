import Testing

@testable import AirlockKit

/// The config.env format must give back exactly what it was given: rollback restores config from it.
@Suite struct ConfigFileTests {
  @Test(arguments: [
    "plain", "", "with space", "quote ' inside", "two\nlines", "-----BEGIN CERT-----\nabc=\n-----END CERT-----\n",
    "back\\slash", "'", "a=b", "#not a comment", "tab\there", "ünïcode",
  ])
  func roundTrips(value: String) {
    let text = ConfigFile.render(config: ["KEY": value, "OTHER": "x"], secrets: ["TOKEN": "sha256:ab"])
    let parsed = ConfigFile.parse(text)
    #expect(parsed.config == ["KEY": value, "OTHER": "x"])
    #expect(parsed.secrets == ["TOKEN": "sha256:ab"])
  }
}
