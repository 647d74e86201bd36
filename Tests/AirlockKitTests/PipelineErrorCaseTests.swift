import Foundation
import Testing

@testable import AirlockKit

/// One invalid pipeline and the diagnostic it must produce.
struct PipelineErrorCase: Sendable, CustomTestStringConvertible {
  var label: String
  var yaml: String
  var line: Int
  var column: Int
  var fragment: String
  /// How many diagnostics the file yields in all; most mistakes must yield exactly one, without follow-on noise.
  var count = 1

  var testDescription: String { label }
}

/// Lines 1–4 of most cases: a valid pipeline whose environment 'staging' later lines extend.
private let base = """
  pipeline: web
  environments:
    - name: staging
      target: {local: /srv/s}

  """

/// `base` plus a verify list naming check `h` (line 5), then `checks:` (6), `h:` (7), and `lines` from line 8 on.
private func withCheck(_ lines: String) -> String {
  base + "    verify: [h]\nchecks:\n  h:\n" + lines
}

/// A pipeline whose staging environment has the given target lines from line 4 on.
private func withTarget(_ lines: String) -> String {
  "pipeline: web\nenvironments:\n  - name: staging\n" + lines
}

/// The cases of the planned `ssh` and `command` targets count two diagnostics: the mistake, and the refusal of a kind
/// this build cannot run (at the kind's key), reported together so one pass shows both.
private let cases: [PipelineErrorCase] = [
  // Structure
  .init(
    label: "top level is a list", yaml: "- pipeline\n- web\n", line: 1, column: 1,
    fragment: "the top level must be a mapping"),
  .init(label: "empty document", yaml: "---\n", line: 1, column: 1, fragment: "the document is empty"),
  .init(
    label: "comments only", yaml: "# nothing here\n", line: 1, column: 1, fragment: "the file is empty"),
  .init(
    label: "duplicate top-level key", yaml: base + "pipeline: api\n", line: 5, column: 1,
    fragment: "duplicate key 'pipeline' (first at 1:1)"),
  .init(
    label: "duplicate environment key", yaml: base + "    start: a\n    start: b\n", line: 6, column: 5,
    fragment: "duplicate key 'start' (first at 5:5)"),
  .init(
    label: "unsupported tag", yaml: base + "keep: !!int 5\n", line: 5, column: 7,
    fragment: "YAML tag '!!int' is not supported"),
  .init(
    label: "anchor without alias", yaml: "pipeline: &name web\n" + base.split(separator: "\n", maxSplits: 1)[1],
    line: 1, column: 11, fragment: "aliases and anchors are not supported in pipelines"),

  // Unknown keys
  .init(
    label: "unknown environment key", yaml: base + "    verfy: [health]\n", line: 5, column: 5,
    fragment: "unknown key 'verfy' in environment 'staging' (did you mean 'verify'?)"),
  .init(
    label: "unknown top-level key", yaml: base + "kepe: 3\n", line: 5, column: 1,
    fragment: "unknown key 'kepe' at the top level (did you mean 'keep'?)"),
  .init(
    label: "misspelt environments", yaml: "pipeline: web\nenviroments: []\n", line: 2, column: 1,
    fragment: "(did you mean 'environments'?)", count: 2),
  .init(
    label: "unknown check key", yaml: withCheck("    command: [x]\n    atempts: 3\n"), line: 9, column: 5,
    fragment: "unknown key 'atempts' in check 'h' (did you mean 'attempts'?)"),
  .init(
    label: "unknown ssh key",
    yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /srv, bach: 2}\n"), line: 5, column: 37,
    fragment: "unknown key 'bach' in the ssh target of environment 'staging' (did you mean 'batch'?)"),
  .init(
    label: "unknown key without suggestion", yaml: base + "    colour: blue\n", line: 5, column: 5,
    fragment: "unknown key 'colour' in environment 'staging'"),
  .init(
    label: "unknown config rule key",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        requird: true\n",
    line: 10, column: 9, fragment: "unknown key 'requird' in rule 1 of check 'c' (did you mean 'required'?)"),

  // Types
  .init(
    label: "keep is text", yaml: base + "keep: five\n", line: 5, column: 7,
    fragment: "'keep' must be a whole number from 1 to 1000, found the text 'five'"),
  .init(
    label: "boolean where text is expected", yaml: "pipeline: yes\n" + base.split(separator: "\n", maxSplits: 1)[1],
    line: 1, column: 11, fragment: "'pipeline' must be text, found the boolean yes; quote it ('yes')"),
  .init(
    label: "number where text is expected", yaml: base + "    start: 42\n", line: 5, column: 12,
    fragment: "'start' must be text, found the number 42"),
  .init(
    label: "verify is a string", yaml: base + "    verify: h\nchecks:\n  h:\n    command: [x]\n", line: 5,
    column: 13, fragment: "'verify' must be a list of check names, found the text 'h'; write it as a list: [h]"),
  .init(
    label: "environments is a mapping", yaml: "pipeline: web\nenvironments:\n  staging: {}\n", line: 3, column: 3,
    fragment: "'environments' must be a list of environments, found a mapping"),
  .init(
    label: "target is a string", yaml: withTarget("    target: /srv/s\n"), line: 4, column: 13,
    fragment: "'target' must be a mapping with one of 'local', 'ssh' or 'command'"),
  .init(
    label: "dependency is quoted", yaml: withCheck("    command: [x]\n    dependency: 'true'\n"), line: 9,
    column: 17, fragment: "'dependency' must be true or false, found the text 'true'"),
  .init(
    label: "config value is a list", yaml: base + "    config:\n      DATABASE_URL: [a]\n", line: 6, column: 21,
    fragment: "config value 'DATABASE_URL' must be text, a number or a boolean, found a list"),
  .init(
    label: "config value is null", yaml: base + "    config:\n      DATABASE_URL: ~\n", line: 6, column: 21,
    fragment: "config value 'DATABASE_URL' in environment 'staging' is empty; write '' for an empty value"),
  .init(
    label: "config is a list", yaml: base + "    config: [A]\n", line: 5, column: 13,
    fragment: "'config' must be a mapping of keys to values"),

  // Required keys
  .init(
    label: "missing pipeline", yaml: "environments:\n  - name: staging\n    target: {local: /srv/s}\n", line: 1,
    column: 1, fragment: "missing required key 'pipeline' at the top level"),
  .init(
    label: "missing environments", yaml: "pipeline: web\n", line: 1, column: 1,
    fragment: "missing required key 'environments' at the top level"),
  .init(
    label: "empty environments", yaml: "pipeline: web\nenvironments: []\n", line: 2, column: 15,
    fragment: "'environments' is empty"),
  .init(
    label: "environment without name", yaml: "pipeline: web\nenvironments:\n  - target: {local: /srv/s}\n",
    line: 3, column: 5, fragment: "environment #1 has no 'name'"),
  .init(
    label: "environment without target", yaml: "pipeline: web\nenvironments:\n  - name: staging\n", line: 3,
    column: 5, fragment: "environment 'staging' has no 'target'; add 'target:' with one of 'local', 'ssh' or"),

  // Names
  .init(
    label: "uppercase pipeline name", yaml: "pipeline: Web\n" + base.split(separator: "\n", maxSplits: 1)[1],
    line: 1, column: 11, fragment: "invalid pipeline name 'Web': use lowercase letters"),
  .init(
    label: "pipeline name too long",
    yaml: "pipeline: \(String(repeating: "a", count: 65))\n" + base.split(separator: "\n", maxSplits: 1)[1],
    line: 1, column: 11, fragment: "at most 64 characters"),
  .init(
    label: "environment name with space",
    yaml: withTarget("    target: {local: /s}\n").replacingOccurrences(
      of: "name: staging", with: "name: my env"), line: 3, column: 11, fragment: "invalid environment name 'my env'"),
  .init(
    label: "check name", yaml: base + "checks:\n  Health:\n    command: [x]\n", line: 6, column: 3,
    fragment: "invalid check name 'Health'"),
  .init(
    label: "duplicate environment", yaml: base + "  - name: staging\n    target: {local: /srv/t}\n", line: 5,
    column: 11, fragment: "duplicate environment name 'staging' (first at 3:11)"),
  .init(
    label: "config key", yaml: base + "    config:\n      database-url: x\n", line: 6, column: 7,
    fragment: "invalid config key 'database-url' in environment 'staging': use letters, digits and '_'"),
  .init(
    label: "secret name", yaml: base + "    secrets: [api-token]\n", line: 5, column: 15,
    fragment: "invalid secret name 'api-token'"),
  .init(
    label: "secret name with '='", yaml: base + "    secrets: [API_TOKEN, 'A=B']\n", line: 5, column: 26,
    fragment: "invalid secret name 'A=B': it must be an environment variable name"),
  .init(
    label: "secret with Airlock's prefix", yaml: base + "    secrets: [AIRLOCK_ACTOR]\n", line: 5, column: 15,
    fragment: "secret 'AIRLOCK_ACTOR' in environment 'staging' starts with 'AIRLOCK_'"),
  .init(
    label: "config key with Airlock's prefix", yaml: base + "    config:\n      AIRLOCK_VERSION: '2'\n", line: 6,
    column: 7, fragment: "config key 'AIRLOCK_VERSION' in environment 'staging' starts with 'AIRLOCK_'"),
  .init(
    label: "pipeline name ending in .lock",
    yaml: "pipeline: web.lock\n" + base.split(separator: "\n", maxSplits: 1)[1], line: 1, column: 11,
    fragment: "invalid pipeline name 'web.lock': use lowercase letters"),
  .init(
    label: "pipeline name ending in a dot", yaml: "pipeline: web.\n" + base.split(separator: "\n", maxSplits: 1)[1],
    line: 1, column: 11, fragment: "without '..' and not ending in '.' or '.lock'"),
  .init(
    label: "environment name with two dots",
    yaml: base.replacingOccurrences(of: "name: staging", with: "name: stag..ing"), line: 3, column: 11,
    fragment: "invalid environment name 'stag..ing'"),
  .init(
    label: "check name ending in .lock", yaml: base + "checks:\n  h.lock:\n    command: [x]\n", line: 6, column: 3,
    fragment: "invalid check name 'h.lock'"),
  .init(
    label: "secret listed twice", yaml: base + "    secrets: [A, A]\n", line: 5, column: 18,
    fragment: "'A' is listed twice in 'secrets' (first at 5:15)"),
  .init(
    label: "unknown secret source key", yaml: base + "    secrets: {A: {commnd: [op, read]}}\n", line: 5, column: 19,
    fragment: "unknown key 'commnd' in the source of secret A (did you mean 'command'?)"),
  .init(
    label: "empty secret command", yaml: base + "    secrets: {A: {command: []}}\n", line: 5, column: 28,
    fragment: "'command' of secret A is empty"),
  .init(
    label: "secret with command and file", yaml: base + "    secrets: [B, {A: {command: [op], file: x}}]\n", line: 5,
    column: 22, fragment: "the source of secret A has both 'command' and 'file'; keep one of them"),
  .init(
    label: "secret source neither command nor file", yaml: base + "    secrets:\n      A: {timeout: 5s}\n", line: 6,
    column: 10, fragment: "the source of secret A needs 'command' or 'file'"),
  .init(
    label: "secret source word", yaml: base + "    secrets: {A: vault}\n", line: 5, column: 18,
    fragment: "the source of secret A must be 'env', '{command: [program, args…]}' or '{file: PATH}', found 'vault'"),
  .init(
    label: "secret command as text", yaml: base + "    secrets: {A: {command: op read x}}\n", line: 5, column: 28,
    fragment: "'command' of secret A must be a list of program and arguments"),
  .init(
    label: "secret file with timeout", yaml: base + "    secrets: {A: {file: x, timeout: 1s}}\n", line: 5,
    column: 37, fragment: "'timeout' applies to a 'command' source only"),
  .init(
    label: "secret mapping in list with two keys", yaml: base + "    secrets: [{A: env, B: env}]\n", line: 5,
    column: 15, fragment: "each mapping in 'secrets' names one secret and its source"),
  .init(
    label: "sourced secret listed twice", yaml: base + "    secrets: [A, {A: {file: x}}]\n", line: 5, column: 19,
    fragment: "'A' is listed twice in 'secrets' (first at 5:15)"),
  .init(
    label: "key both config and secret", yaml: base + "    config: {API_TOKEN: x}\n    secrets: [API_TOKEN]\n",
    line: 6, column: 15, fragment: "'API_TOKEN' is both a config key (at 5:14) and a secret"),

  // References
  .init(
    label: "requires unknown",
    yaml: base + "  - name: production\n    requires: stagin\n    target: {local: /srv/p}\n", line: 6, column: 15,
    fragment: "'requires' names environment 'stagin', which does not exist (did you mean 'staging'?)"),
  .init(
    label: "requires itself", yaml: base + "    requires: staging\n", line: 5, column: 15,
    fragment: "environment 'staging' cannot require itself"),
  .init(
    label: "requires a later environment",
    yaml: """
      pipeline: web
      environments:
        - name: production
          requires: staging
          target: {local: /srv/p}
        - name: staging
          target: {local: /srv/s}

      """, line: 4, column: 15, fragment: "'production' requires 'staging', which comes after it"),
  .init(
    label: "requires cycle of two",
    yaml: """
      pipeline: web
      environments:
        - name: a
          requires: b
          target: {local: /a}
        - name: b
          requires: a
          target: {local: /b}

      """, line: 4, column: 15, fragment: "requires cycle: a → b → a"),
  .init(
    label: "requires cycle of three",
    yaml: """
      pipeline: web
      environments:
        - name: a
          requires: c
          target: {local: /a}
        - name: b
          requires: a
          target: {local: /b}
        - name: c
          requires: b
          target: {local: /c}

      """, line: 4, column: 15, fragment: "requires cycle: a → c → b → a"),
  .init(
    label: "verify names unknown check",
    yaml: base + "    verify: [helth]\nchecks:\n  health:\n    command: [x]\n", line: 5, column: 14,
    fragment: "names check 'helth', which is not defined under 'checks' (did you mean 'health'?)"),
  .init(
    label: "preflight names unknown check", yaml: base + "    preflight: [nothing]\n", line: 5, column: 17,
    fragment: "preflight of environment 'staging' names check 'nothing', which is not defined"),
  .init(
    label: "check listed twice",
    yaml: withCheck("    command: [x]\n").replacingOccurrences(
      of: "verify: [h]", with: "verify: [h, h]"), line: 5, column: 17, fragment: "'h' is listed twice in 'verify'"),
  .init(
    label: "config check under verify",
    yaml: base + "    verify: [cfg]\nchecks:\n  cfg:\n    config:\n      - key: A\n        required: true\n",
    line: 5, column: 14, fragment: "check 'cfg' is a config check, which inspects configuration"),
  .init(
    label: "drift check under verify",
    yaml: base + "  - name: p\n    target: {local: /p}\n    verify: [d]\n"
      + "checks:\n  d:\n    drift: staging\n", line: 7, column: 14,
    fragment: "check 'd' is a drift check, which inspects configuration before anything changes; list it under "
      + "'preflight', not 'verify'"),
  .init(
    label: "drift names unknown environment", yaml: base + "    preflight: [d]\nchecks:\n  d:\n    drift: prod\n",
    line: 8, column: 12, fragment: "check 'd' compares with environment 'prod', which does not exist"),
  .init(
    label: "differs_from names unknown environment",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        differs_from: stagng\n",
    line: 10, column: 23, fragment: "environment 'stagng', which does not exist (did you mean 'staging'?)"),
  .init(
    label: "differs_from itself",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        differs_from: staging\n",
    line: 5, column: 17, fragment: "check 'c' compares environment 'staging' with itself; point its 'differs_from'"),
  .init(
    label: "drift with itself", yaml: base + "    preflight: [d]\nchecks:\n  d:\n    drift: staging\n", line: 5,
    column: 17, fragment: "check 'd' compares environment 'staging' with itself; point its 'drift'"),

  // Durations and numbers
  .init(
    label: "duration in words",
    yaml: withCheck("    command: [x]\n").replacingOccurrences(
      of: "    verify: [h]\n", with: "    verify: [h]\n    watch: 5 minutes\n"), line: 6, column: 12,
    fragment: "'watch' must be a duration like 100ms, 2s, 5m or 1h, found '5 minutes'"),
  .init(
    label: "negative duration", yaml: withCheck("    command: [x]\n    timeout: -1s\n"), line: 9, column: 14,
    fragment: "'timeout' cannot be negative, found '-1s'"),
  .init(
    label: "duration without unit", yaml: withCheck("    command: [x]\n    interval: 5\n"), line: 9, column: 15,
    fragment: "found '5'; add a unit, like 5s"),
  .init(
    label: "fractional duration", yaml: withCheck("    command: [x]\n    interval: 1.5s\n"), line: 9, column: 15,
    fragment: "use whole numbers, like 1500ms"),
  .init(
    label: "zero timeout", yaml: withCheck("    command: [x]\n    timeout: 0s\n"), line: 9, column: 14,
    fragment: "'timeout' must be longer than 0s"),
  .init(
    label: "attempts zero", yaml: withCheck("    command: [x]\n    attempts: 0\n"), line: 9, column: 15,
    fragment: "'attempts' must be a whole number from 1 to 100, found 0"),
  .init(
    label: "attempts too many", yaml: withCheck("    command: [x]\n    attempts: 101\n"), line: 9, column: 15,
    fragment: "'attempts' must be a whole number from 1 to 100, found 101"),
  .init(
    label: "pass above attempts", yaml: withCheck("    command: [x]\n    attempts: 2\n    pass: 3\n"), line: 10,
    column: 11, fragment: "'pass' is 3 but 'attempts' is 2; pass must be from 1 to attempts"),
  .init(
    label: "pass above default attempts", yaml: withCheck("    command: [x]\n    pass: 7\n"), line: 9, column: 11,
    fragment: "'attempts' is 5 by default"),
  .init(
    label: "pass zero", yaml: withCheck("    command: [x]\n    pass: 0\n"), line: 9, column: 11,
    fragment: "'pass' must be a whole number from 1 to 100, found 0"),
  .init(
    label: "expect out of range", yaml: withCheck("    http: http://x.test/\n    expect: 600\n"), line: 9, column: 13,
    fragment: "'expect' must be a whole number from 100 to 599, found 600"),
  .init(
    label: "keep zero", yaml: base + "keep: 0\n", line: 5, column: 7,
    fragment: "'keep' must be a whole number from 1 to 1000, found 0"),
  .init(
    label: "keep too large", yaml: base + "keep: 1001\n", line: 5, column: 7, fragment: "found 1001"),
  .init(
    label: "hosts zero percent", yaml: withCheck("    command: [x]\n    hosts: 0%\n"), line: 9, column: 12,
    fragment: "'hosts' must be a percentage from 1% to 100%, found '0%'"),
  .init(
    label: "hosts above 100 percent", yaml: withCheck("    command: [x]\n    hosts: 101%\n"), line: 9, column: 12,
    fragment: "from 1% to 100%, found '101%'"),
  .init(
    label: "hosts zero", yaml: withCheck("    command: [x]\n    hosts: 0\n"), line: 9, column: 12,
    fragment: "'hosts' must be at least 1, found 0"),
  .init(
    label: "batch is a word", yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /srv, batch: all}\n"),
    line: 5, column: 44, fragment: "'batch' must be a count of hosts switched at a time like 2 or a percentage"),
  .init(
    label: "invalid match regex",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        match: '(unclosed'\n",
    line: 10, column: 16, fragment: "'match' is not a valid regular expression: '(unclosed'"),
  .init(
    label: "invalid forbid regex",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - forbid: '[a'\n",
    line: 9, column: 17, fragment: "'forbid' is not a valid regular expression"),
  .init(
    label: "on_failure misspelt", yaml: base + "    on_failure: rollbak\n", line: 5, column: 17,
    fragment: "'on_failure' must be 'rollback' or 'halt', found the text 'rollbak' (did you mean 'rollback'?)"),
  .init(
    label: "approval word", yaml: base + "    approval: maybe\n", line: 5, column: 15,
    fragment: "'approval' must be 'required' or 'self' or 'none', found the text 'maybe'"),
  .init(
    label: "watch without verify", yaml: base + "    watch: 5m\n", line: 5, column: 12,
    fragment: "'watch' keeps running the verify checks after the switch, but environment 'staging' has none"),

  // Targets
  .init(
    label: "two target kinds",
    yaml: withTarget("    target:\n      local: /srv/s\n      ssh: {hosts: [a], path: /s}\n"),
    line: 6, column: 7, fragment: "the target of environment 'staging' has both 'local' and 'ssh'; give exactly one"),
  .init(
    label: "no target kind", yaml: withTarget("    target: {}\n"), line: 4, column: 13,
    fragment: "the target of environment 'staging' needs one of 'local', 'ssh' or 'command'"),
  .init(
    label: "empty ssh hosts", yaml: withTarget("    target:\n      ssh: {hosts: [], path: /srv}\n"), line: 5,
    column: 20, fragment: "'hosts' is empty; list at least one host"),
  .init(
    label: "ssh host that looks like an option",
    yaml: withTarget("    target:\n      ssh: {hosts: [-oProxyCommand=x], path: /srv}\n"), line: 5, column: 21,
    fragment: "invalid host '-oProxyCommand=x'"),
  .init(
    label: "ssh hosts missing", yaml: withTarget("    target:\n      ssh: {path: /srv}\n"), line: 5, column: 12,
    fragment: "the ssh target of environment 'staging' has no 'hosts'"),
  .init(
    label: "ssh path relative", yaml: withTarget("    target:\n      ssh: {hosts: [a], path: srv/web}\n"), line: 5,
    column: 31, fragment: "'path' of an ssh target must be absolute, like /srv/web, found 'srv/web'"),
  .init(
    label: "ssh port out of range", yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /s, port: 70000}\n"),
    line: 5, column: 41, fragment: "'port' must be a whole number from 1 to 65535, found 70000"),
  .init(
    label: "ssh batch steps that shrink",
    yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /srv, batch: [1, 50%, 25%]}\n"), line: 5, column: 53,
    fragment: "'batch' steps must grow: 25% after 50% switches no more hosts"),
  .init(
    label: "ssh batch empty list", yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /srv, batch: []}\n"),
    line: 5, column: 44, fragment: "'batch' is an empty list"),
  .init(
    label: "ssh connect_timeout not a duration",
    yaml: withTarget("    target:\n      ssh: {hosts: [a], path: /srv, connect_timeout: soon}\n"), line: 5, column: 54,
    fragment: "'connect_timeout'"),
  .init(
    label: "command target without apply", yaml: withTarget("    target:\n      command: {current: [x]}\n"),
    line: 5, column: 16, fragment: "the command target of environment 'staging' has no 'apply'"),
  .init(
    label: "command apply as one string", yaml: withTarget("    target:\n      command: {apply: 'kubectl apply'}\n"),
    line: 5, column: 24, fragment: "'apply'"),
  .init(
    label: "command timeout not a duration",
    yaml: withTarget("    target:\n      command: {apply: [x], timeout: later}\n"), line: 5, column: 38,
    fragment: "'timeout'"),
  .init(
    label: "command rollback is not a key",
    yaml: withTarget("    target:\n      command: {apply: [x], rollback: [y]}\n"), line: 5, column: 29,
    fragment: "unknown key 'rollback' in the command target of environment 'staging'"),

  // Checks
  .init(
    label: "http URL with another scheme", yaml: withCheck("    http: ftp://x.test/health\n"), line: 8, column: 11,
    fragment: "'http' must be an http:// or https:// URL like http://{host}:8080/healthz, found 'ftp://x.test/health'"),
  .init(
    label: "http URL with unknown placeholder", yaml: withCheck("    http: http://{hots}:8080/\n"), line: 8,
    column: 11, fragment: "unknown placeholder '{hots}' in 'http' (did you mean '{host}'?)"),
  .init(
    label: "tcp without port", yaml: withCheck("    tcp: db.internal\n"), line: 8, column: 10,
    fragment: "'tcp' must be HOST:PORT like db.internal:5432"),
  .init(
    label: "tcp with bad port", yaml: withCheck("    tcp: 'db.internal:99999'\n"), line: 8, column: 10,
    fragment: "the port is a number from 1 to 65535"),
  .init(
    label: "command as a string", yaml: withCheck("    command: bin/healthcheck --quick\n"), line: 8, column: 14,
    fragment: "'command' must be a list of program and arguments, found the text 'bin/healthcheck --quick'; it runs "
      + "without a shell, so write [bin/healthcheck, --quick]"),
  .init(
    label: "empty command", yaml: withCheck("    command: []\n"), line: 8, column: 14,
    fragment: "'command' is empty; give at least the program to run"),
  .init(
    label: "heartbeat without max_age", yaml: withCheck("    heartbeat: /srv/worker.heartbeat\n"), line: 7,
    column: 3, fragment: "heartbeat check 'h' needs 'max_age'"),
  .init(
    label: "check without kind", yaml: withCheck("    timeout: 2s\n"), line: 7, column: 3,
    fragment: "check 'h' has no kind; give one of 'http', 'tcp', 'command', 'heartbeat', 'config' or 'drift'"),
  .init(
    label: "check with two kinds", yaml: withCheck("    http: http://x.test/\n    tcp: 'x.test:80'\n"), line: 9,
    column: 5, fragment: "check 'h' has both 'http' and 'tcp'; a check has exactly one kind"),
  .init(
    label: "key of another kind", yaml: withCheck("    http: http://x.test/\n    max_age: 60s\n"), line: 9,
    column: 5, fragment: "'max_age' applies to heartbeat checks only, and 'h' is an http check"),
  .init(
    label: "probe key on a config check",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        required: true\n"
      + "    attempts: 3\n", line: 11, column: 5,
    fragment: "'attempts' does not apply to config checks, which inspect configuration once before the switch"),
  .init(
    label: "config rule without key", yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - match: x\n",
    line: 9, column: 9, fragment: "'match' needs a 'key' in rule 1 of check 'c'"),
  .init(
    label: "config rule that checks nothing",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n",
    line: 9, column: 9, fragment: "rule 1 of check 'c' checks nothing"),
  .init(
    label: "config check without rules", yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config: []\n", line: 8,
    column: 13, fragment: "'config' has no rules"),
  .init(
    label: "empty one_of",
    yaml: base + "    preflight: [c]\nchecks:\n  c:\n    config:\n      - key: A\n        one_of: []\n", line: 10,
    column: 17, fragment: "'one_of' is empty; list the allowed values"),
]

/// A secret named like each variable Airlock passes through from its own environment.
private let passedThroughSecretCases = PipelineNames.passedThroughVariables.map { name in
  PipelineErrorCase(
    label: "secret named \(name)", yaml: base + "    secrets: [API_TOKEN, \(name)]\n", line: 5, column: 26,
    fragment: "secret '\(name)' in environment 'staging' has the name of a variable Airlock passes through to start, "
      + "checks and hooks (PATH, HOME, LANG, USER, TZ, TMPDIR), so its value would reach them unmasked")
}

@Suite struct PipelineErrorCaseTests {
  @Test(arguments: cases + passedThroughSecretCases)
  func reportsPositionAndMessage(_ errorCase: PipelineErrorCase) {
    let diagnostics = PipelineTestSupport.diagnostics(errorCase.yaml)
    let match = diagnostics.first { $0.message.contains(errorCase.fragment) }
    #expect(
      match != nil,
      "no diagnostic contains \"\(errorCase.fragment)\"; got:\n\(diagnostics.map(\.description).joined(separator: "\n"))"
    )
    #expect(
      match?.line == errorCase.line && match?.column == errorCase.column,
      "at \(match.map { "\($0.line):\($0.column)" } ?? "-")")
    #expect(diagnostics.count == errorCase.count, "\(diagnostics.map(\.description).joined(separator: "\n"))")
    #expect(match?.file == "pipelines/web.yml")
  }
}
