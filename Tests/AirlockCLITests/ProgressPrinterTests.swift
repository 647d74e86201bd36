import AirlockKit
import AirlockTestSupport
import Foundation
import Testing

@testable import airlock

/// The progress renderer with a fake terminal (a writer capturing bytes) and a manual clock: which style each
/// terminal gets, what a line looks like in it, and how a running step is shown as time passes.
@Suite struct ProgressPrinterTests {
  /// A printer in `style` on a manual clock, and every byte it wrote.
  struct Fixture {
    let clock = ManualClock()
    let written = LockedValue("")
    let printer: ProgressPrinter

    init(_ style: TerminalStyle) {
      let written = self.written
      printer = ProgressPrinter(style: style, clock: clock, write: { text in written.withLock { $0 += text } })
    }

    /// Prints `line`, then begins a step called `title`, as the library announces `start` or verify's checks.
    func begin(_ title: String, after line: String) -> ProgressStep {
      let step = ProgressStep(title: title)
      printer.line(line)
      printer.step(step)
      return step
    }
  }

  static let terminal = TerminalStyle(colour: true, inPlace: true, unicode: true)
  static let pipe = TerminalStyle(colour: false, inPlace: false, unicode: true)

  static func traits(tty: Bool = true, _ environment: [String: String] = [:]) -> TerminalTraits {
    TerminalTraits(isTTY: tty, environment: ["LANG": "C.UTF-8", "TERM": "xterm-256color"].merging(environment) { $1 })
  }

  @Test(
    "style from the terminal's traits",
    arguments: [
      (traits(), false, TerminalStyle(colour: true, inPlace: true, unicode: true)),
      (traits(tty: false), false, TerminalStyle(colour: false, inPlace: false, unicode: true)),
      (traits(["NO_COLOR": "1"]), false, TerminalStyle(colour: false, inPlace: true, unicode: true)),
      (traits(["NO_COLOR": ""]), false, TerminalStyle(colour: true, inPlace: true, unicode: true)),
      (traits(), true, TerminalStyle(colour: false, inPlace: true, unicode: true)),
      (traits(["TERM": "dumb"]), false, TerminalStyle(colour: false, inPlace: false, unicode: true)),
      (traits(["LANG": "C"]), false, TerminalStyle(colour: true, inPlace: true, unicode: false)),
      (
        traits(["LANG": "en_US.UTF-8", "LC_ALL": "POSIX"]), false,
        TerminalStyle(colour: true, inPlace: true, unicode: false)
      ),
      (
        traits(["LANG": "C", "LC_CTYPE": "de_DE.utf8"]), false,
        TerminalStyle(colour: true, inPlace: true, unicode: true)
      ),
      (traits(["LANG": "C", "LC_ALL": ""]), false, TerminalStyle(colour: true, inPlace: true, unicode: false)),
      (
        TerminalTraits(isTTY: false, environment: [:]), false,
        TerminalStyle(colour: false, inPlace: false, unicode: true)
      ),
    ])
  func style(traits: TerminalTraits, noColor: Bool, expected: TerminalStyle) {
    #expect(TerminalStyle(traits, noColor: noColor) == expected, "\(traits.environment)")
  }

  @Test("colour on a terminal: green ✓, red ✗ and errors, dim probes and output, yellow warnings")
  func colours() {
    let lines = [
      ("  ✓ health: pass on 1 of 1 host", "  \u{1B}[32m✓\u{1B}[0m health: pass on 1 of 1 host"),
      ("✗ staging 1.2.0 failed health", "\u{1B}[31m✗\u{1B}[0m staging 1.2.0 failed health"),
      (
        "  · health web2 attempt 2 of 5: status 503 (0.8s)",
        "\u{1B}[2m  · health web2 attempt 2 of 5: status 503 (0.8s)\u{1B}[0m"
      ),
      ("  | started", "\u{1B}[2m  | started\u{1B}[0m"),
      ("warning: stale lock", "\u{1B}[33mwarning: stale lock\u{1B}[0m"),
      ("! web1 cannot be reached: refused", "\u{1B}[33m! web1 cannot be reached: refused\u{1B}[0m"),
      ("error: no environment 'prod'", "\u{1B}[31merror: no environment 'prod'\u{1B}[0m"),
      ("→ start: bin/start", "→ start: bin/start"),
    ]
    for (line, drawn) in lines {
      #expect(ProgressPrinter.render(line, in: Self.terminal) == drawn)
      #expect(ProgressPrinter.render(line, in: Self.pipe) == line)
    }
  }

  @Test("ASCII instead of ✓ ✗ → · … when the locale is not UTF-8, coloured the same")
  func ascii() {
    let ascii = TerminalStyle(colour: false, inPlace: false, unicode: false)
    #expect(ProgressPrinter.render("  ✓ health: pass", in: ascii) == "  ok health: pass")
    #expect(
      ProgressPrinter.render("✗ watch round 2: staging degraded", in: ascii) == "FAIL watch round 2: staging degraded")
    #expect(
      ProgressPrinter.render("→ switched staging current → 1.2.0", in: ascii) == "-> switched staging current -> 1.2.0")
    #expect(ProgressPrinter.render("  · health web2 attempt 1 of 3: exit 1 (0.3s)", in: ascii).hasPrefix("  - health"))
    #expect(
      ProgressPrinter.render("→ start: bin/start … done in 1.2s", in: ascii) == "-> start: bin/start ... done in 1.2s")
    let colouredASCII = TerminalStyle(colour: true, inPlace: true, unicode: false)
    #expect(ProgressPrinter.render("  ✗ health: fail", in: colouredASCII) == "  \u{1B}[31mFAIL\u{1B}[0m health: fail")
  }

  @Test("on a terminal the running step is one line redrawn in place, below the finished lines")
  func inPlace() {
    let fixture = Fixture(Self.terminal)
    let step = fixture.begin("health", after: "→ verify staging: health")
    fixture.clock.advance(by: .milliseconds(400))
    fixture.printer.tick()  // still 0s: nothing to redraw
    fixture.clock.advance(by: .milliseconds(700))
    fixture.printer.tick()
    fixture.printer.line("  · health web1 attempt 1 of 3: exit 1 (1.1s)")
    fixture.printer.step(step.ended)
    fixture.printer.line("  ✗ health: fail on 1 of 1 host (web1: exit 1)")
    let dim = "\u{1B}[2m"
    let reset = "\u{1B}[0m"
    let clear = "\r\u{1B}[K"
    #expect(
      fixture.written.value
        == "→ verify staging: health\n"
        + "\(dim)  … health (0s)\(reset)"
        + "\(clear)\(dim)  … health (1s)\(reset)"
        + "\(clear)\(dim)  · health web1 attempt 1 of 3: exit 1 (1.1s)\(reset)\n\(dim)  … health (1s)\(reset)"
        + clear
        + "  \u{1B}[31m✗\u{1B}[0m health: fail on 1 of 1 host (web1: exit 1)\n")
  }

  @Test("a nested step: the newest is drawn, and the outer one comes back when it ends")
  func nested() {
    let fixture = Fixture(TerminalStyle(colour: false, inPlace: true, unicode: false))
    let round = ProgressStep(title: "watch round 1")
    let check = ProgressStep(title: "health")
    fixture.printer.step(round)
    fixture.printer.step(check)
    fixture.printer.step(check.ended)
    fixture.printer.step(round.ended)
    #expect(
      fixture.written.value
        == "  ... watch round 1 (0s)\r\u{1B}[K  ... health (0s)\r\u{1B}[K  ... watch round 1 (0s)\r\u{1B}[K")
  }

  @Test("off a terminal: plain lines, no escape codes, a still-running line every 5 s at most")
  func plain() {
    let fixture = Fixture(Self.pipe)
    let step = fixture.begin("start", after: "→ start: bin/start")
    for _ in 0..<50 {
      fixture.clock.advance(by: .milliseconds(250))
      fixture.printer.tick()
    }
    fixture.printer.step(step.ended)
    fixture.printer.line("→ start: bin/start … done in 12.5s")
    fixture.clock.advance(by: .seconds(30))
    fixture.printer.tick()  // nothing runs: nothing to say
    #expect(
      fixture.written.value
        == """
        → start: bin/start
          … start still running (5s)
          … start still running (10s)
        → start: bin/start … done in 12.5s

        """)
    #expect(!fixture.written.value.contains("\u{1B}"))
    #expect(!fixture.written.value.contains("\r"))
  }

  @Test("--no-color turns colour off on a terminal, keeping the in-place line")
  func noColor() {
    let fixture = Fixture(Self.terminal)
    fixture.printer.disableColour()
    let step = ProgressStep(title: "hook post-deploy")
    fixture.printer.step(step)
    fixture.printer.step(step.ended)
    fixture.printer.line("  ✓ health: pass")
    #expect(fixture.written.value == "  … hook post-deploy (0s)\r\u{1B}[K  ✓ health: pass\n")
  }
}
