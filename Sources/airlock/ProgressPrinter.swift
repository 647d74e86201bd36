import AirlockKit
import Foundation
import Synchronization

/// Draws progress on stderr: finished lines as they arrive, and the step that is still running (`start`, a hook, a
/// check's probes) with its elapsed time.
///
/// On a terminal (`TerminalStyle.inPlace`) the running step is one line below the finished ones, redrawn in place
/// as its time ticks and cleared when it ends; elsewhere a plain `  … start still running (10s)` line is written
/// every `noticeSeconds` at most. The clock and the writer are injected, and time only moves on `tick()`, which the
/// CLI calls a few times a second: the renderer is tested without sleeping and without a terminal.
final class ProgressPrinter: Sendable {
  /// How often, at most, a plain "still running" line is written for one step.
  static let noticeSeconds = 5

  private struct Running {
    var step: ProgressStep
    var since: Date
    /// The elapsed seconds of the last "still running" line written for the step.
    var noticed = 0
  }

  private struct State {
    var style: TerminalStyle
    /// Steps that have begun and not ended, oldest first; the newest one is drawn.
    var running: [Running] = []
    /// The running step's line as it is drawn now, without its escape codes; `nil` when none is.
    var drawn: String?
  }

  private let state: Mutex<State>
  private let clock: any AirlockClock
  private let write: @Sendable (String) -> Void

  /// A printer drawing in `style`, timing steps on `clock`, writing each batch of bytes with `write`.
  init(style: TerminalStyle, clock: any AirlockClock, write: @escaping @Sendable (String) -> Void) {
    state = Mutex(State(style: style))
    self.clock = clock
    self.write = write
  }

  /// Writes a finished line, keeping the running step's line below it.
  func line(_ text: String) {
    state.withLock { state in
      var output = state.drawn == nil ? "" : ANSI.clearLine
      output += Self.render(text, in: state.style) + "\n"
      state.drawn = nil
      output += redraw(&state)
      write(output)
    }
  }

  /// Takes note of a step that begins or ends.
  func step(_ step: ProgressStep) {
    let now = clock.now()
    state.withLock { state in
      switch step.phase {
      case .began: state.running.append(Running(step: step, since: now))
      case .ended: state.running.removeAll { $0.step.id == step.id }
      }
      let output = redraw(&state)
      if !output.isEmpty { write(output) }
    }
  }

  /// Brings the running step's elapsed time up to date: redrawn in place on a terminal, else a "still running"
  /// line once it has run another `noticeSeconds`.
  func tick() {
    let now = clock.now()
    state.withLock { state in
      var output = redraw(&state, now: now)
      if !state.style.inPlace, var newest = state.running.last {
        let seconds = Int(now.timeIntervalSince(newest.since))
        let mark = seconds / Self.noticeSeconds * Self.noticeSeconds
        if mark > newest.noticed {
          newest.noticed = mark
          state.running[state.running.count - 1] = newest
          output += Self.render("  … \(newest.step.title) still running (\(mark)s)", in: state.style) + "\n"
        }
      }
      if !output.isEmpty { write(output) }
    }
  }

  /// Turns colour off, for `--no-color`.
  func disableColour() {
    state.withLock { $0.style.colour = false }
  }

  /// What brings the in-place line from what is drawn to the newest running step (nothing off a terminal).
  private func redraw(_ state: inout State, now: Date? = nil) -> String {
    guard state.style.inPlace else { return "" }
    let wanted = state.running.last.map { running in
      "  … \(running.step.title) (\(Int((now ?? clock.now()).timeIntervalSince(running.since)))s)"
    }
    guard wanted != state.drawn else { return "" }
    var output = state.drawn == nil ? "" : ANSI.clearLine
    if let wanted { output += Self.paint(Self.glyphs(wanted, in: state.style), ANSI.dim, in: state.style) }
    state.drawn = wanted
    return output
  }

  /// `line` as `style` draws it: glyphs, then colour by what the line is (a pass, a failure, a detail, a warning,
  /// an error).
  static func render(_ line: String, in style: TerminalStyle) -> String {
    let body = line.drop { $0 == " " }
    let indent = String(line.prefix(line.count - body.count))
    let text = glyphs(line, in: style)
    guard style.colour else { return text }
    if let mark = ["✓": ANSI.green, "✗": ANSI.red].first(where: { body.hasPrefix($0.key) }) {
      let rest = glyphs(String(body.dropFirst()), in: style)
      return indent + paint(glyphs(mark.key, in: style), mark.value, in: style) + rest
    }
    if body.hasPrefix("·") || body.hasPrefix("|") { return paint(text, ANSI.dim, in: style) }
    if body.hasPrefix("! ") || body.hasPrefix("warning:") { return paint(text, ANSI.yellow, in: style) }
    if body.hasPrefix("error") || body.contains(": error: ") { return paint(text, ANSI.red, in: style) }
    return text
  }

  private static func glyphs(_ text: String, in style: TerminalStyle) -> String {
    style.unicode ? text : Glyph.asciiOnly(text)
  }

  private static func paint(_ text: String, _ colour: String, in style: TerminalStyle) -> String {
    style.colour ? colour + text + ANSI.reset : text
  }
}
