import Foundation

/// A value and where the file states it, kept until cross-references have been checked.
struct Located<Value: Sendable>: Sendable {
  var value: Value
  var position: SourcePosition
}

/// An environment as written, with the positions that cross-reference checks report against.
struct EnvironmentDraft {
  var spec: EnvironmentSpec
  var name: Located<String>?
  var requires: Located<String>?
  /// The folder of a `local` target, as written.
  var local: Located<String>?
  var preflight: [Located<String>] = []
  var verify: [Located<String>] = []
  var watch: Located<TimeSpan>?
  /// The environment's own `notify:` list; `nil` when it has none and the pipeline's applies.
  var notify: [NotifySpec]?
}

/// A check as written; `kind` is nil when its definition is broken, so uses of it are not reported a second time.
struct CheckDraft {
  var name: Located<String>
  var kind: CheckKind?
  var policy = ProbePolicy()
  var dependency = false
  var drift: Located<String>?
  var differsFrom: [Located<String>] = []
}

/// The whole file as written, before cross-references are checked.
struct PipelineDraft {
  var name: Located<String>?
  var ledger = Pipeline.defaultLedger
  /// Where `ledger:` is written; nil when the default applies.
  var ledgerPosition: SourcePosition?
  var keep = 5
  var hooks = "hooks"
  var environments: [EnvironmentDraft] = []
  var checks: [CheckDraft] = []
  /// The top-level `notify:` list, for every environment without its own.
  var notify: [NotifySpec] = []
}

/// Turns a YAML tree into a `PipelineDraft`, checking keys, types and values and collecting every problem.
///
/// Each broken part is replaced by a harmless placeholder so decoding goes on and reports the rest of the file;
/// a draft is only turned into a `Pipeline` when no diagnostic was reported.
final class PipelineDecoder {
  static let topLevelKeys = ["pipeline", "ledger", "keep", "hooks", "environments", "checks", "notify"]

  let file: String
  private(set) var diagnostics: [Diagnostic] = []

  init(file: String) {
    self.file = file
  }

  /// " (did you mean 'x'?)" while few problems were found; a file with hundreds of mistakes gets no suggestions,
  /// which keeps a hostile file with thousands of dangling names from costing quadratic time.
  func didYouMean(_ word: String, among candidates: some Collection<String>) -> String {
    diagnostics.count < 100 ? PipelineNames.didYouMean(word, among: candidates) : ""
  }

  func report(_ message: String, at position: SourcePosition) {
    diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, message: message))
  }

  // MARK: - Pipeline

  func decode(_ root: YAMLNode) -> PipelineDraft? {
    guard case .mapping = root.content else {
      report(
        "the top level must be a mapping with 'pipeline:' and 'environments:' (and optionally 'checks:', "
          + "'ledger:', 'keep:', 'hooks:'), found \(describe(root))", at: root.position)
      return nil
    }
    guard let top = fields(root, subject: "the top level", allowed: Self.topLevelKeys, context: "at the top level")
    else { return nil }
    var draft = PipelineDraft()
    if let node = top["pipeline"] {
      draft.name = name(node, subject: "'pipeline'", kind: "pipeline")
    } else {
      report(
        "missing required key 'pipeline' at the top level; name the pipeline, e.g. 'pipeline: web'", at: root.position)
    }
    if let node = top["ledger"], let ledger = text(node, subject: "'ledger'") {
      draft.ledger = ledger
      draft.ledgerPosition = node.position
    }
    if let node = top["keep"], let keep = integer(node, subject: "'keep'", in: 1...1000) { draft.keep = keep }
    if let node = top["hooks"], let hooks = text(node, subject: "'hooks'") { draft.hooks = hooks }
    if let node = top["checks"] { draft.checks = checks(node) }
    if let node = top["notify"] { draft.notify = notify(node) }
    if let node = top["environments"] {
      draft.environments = environments(node)
    } else {
      report(
        "missing required key 'environments' at the top level; list the environments in promotion order, "
          + "e.g. 'environments: [{name: staging, target: {local: /srv/web}}]'", at: root.position)
    }
    return draft
  }
}
