import AirlockTestSupport
import Foundation
import Testing
import Yams

@testable import AirlockKit

@Suite struct PipelineLoaderTests {
  let root = URL(fileURLWithPath: "/project")

  @Test func loadsAGoodPipelineWithDefaultsApplied() throws {
    let text = """
      pipeline: shop
      environments:
        - name: staging
          target:
            local: .airlock/targets/shop-staging
          config:
            DATABASE_URL: postgres://db-staging/shop
            PORT: 5432
            DEBUG: true
            RATIO: 1.50
          secrets: [API_TOKEN]
          start: bin/start --port 8080
          verify: [health]
        - name: production
          requires: staging
          target:
            local: /srv/shop
          config:
            DATABASE_URL: postgres://db-prod/shop
            PORT: 5432
            DEBUG: false
            RATIO: 1.50
          preflight: [config, drift]
          verify: [health, worker, db]
          watch: 5m
          on_failure: halt
          approval: true
      checks:
        health:
          http: http://{host}:8080/healthz
          contains: '{version}'
          attempts: 1
        worker:
          heartbeat: /srv/shop/worker.heartbeat
          max_age: 90s
          hosts: 2
          dependency: yes
        db:
          tcp: 'db-prod:5432'
          timeout: 250ms
          interval: 0s
          pass: 3
        config:
          config:
            - key: DATABASE_URL
              required: true
              match: '^postgres://db-prod'
              differs_from: staging
            - key: PORT
              one_of: [5432, '6543']
            - forbid: '(?i)localhost'
        drift:
          drift: staging
          allow: [DEBUG]

      """
    let pipeline = try PipelineLoader.parse(text, file: "pipelines/shop.yml", root: root)
    #expect(pipeline.name == "shop")
    #expect(pipeline.file == "pipelines/shop.yml")
    #expect(pipeline.root == "/project")
    #expect(pipeline.ledger == ".airlock/ledger.git")
    #expect(pipeline.keep == 5)
    #expect(pipeline.hooks == "hooks")
    #expect(pipeline.environments.map(\.name) == ["staging", "production"])

    let staging = try #require(pipeline.environment(named: "staging"))
    #expect(staging.requires == nil)
    #expect(staging.target == .local(path: ".airlock/targets/shop-staging"))
    #expect(
      staging.config == [
        "DATABASE_URL": "postgres://db-staging/shop", "PORT": "5432", "DEBUG": "true", "RATIO": "1.50",
      ])
    #expect(staging.secrets == ["API_TOKEN"])
    #expect(staging.start == "bin/start --port 8080")
    #expect(staging.preflight == [])
    #expect(staging.verify == ["health"])
    #expect(staging.watch == nil)
    #expect(staging.onFailure == .rollback)
    #expect(staging.approvalRequired == false)

    let production = try #require(pipeline.environment(named: "production"))
    #expect(production.requires == "staging")
    #expect(production.target == .local(path: "/srv/shop"))
    #expect(production.secrets == [])
    #expect(production.watch == TimeSpan(milliseconds: 300_000))
    #expect(production.onFailure == .halt)
    #expect(production.approvalRequired)

    #expect(pipeline.checks.keys.sorted() == ["config", "db", "drift", "health", "worker"])
    let health = try #require(pipeline.checks["health"])
    #expect(health.name == "health")
    #expect(health.kind == .http(url: "http://{host}:8080/healthz", expect: 200, contains: "{version}"))
    #expect(health.policy == ProbePolicy(attempts: 1, pass: 1))
    #expect(health.dependency == false)

    let worker = try #require(pipeline.checks["worker"])
    #expect(worker.kind == .heartbeat(path: "/srv/shop/worker.heartbeat", maxAge: .seconds(90)))
    #expect(worker.policy == ProbePolicy(hosts: .count(2)))
    #expect(worker.dependency)

    let db = try #require(pipeline.checks["db"])
    #expect(db.kind == .tcp(address: "db-prod:5432"))
    #expect(db.policy == ProbePolicy(pass: 3, interval: .milliseconds(0), timeout: .milliseconds(250)))

    #expect(
      pipeline.checks["config"]?.kind
        == .config(rules: [
          ConfigRule(key: "DATABASE_URL", required: true, match: "^postgres://db-prod", differsFrom: "staging"),
          ConfigRule(key: "PORT", oneOf: ["5432", "6543"]),
          ConfigRule(forbid: "(?i)localhost"),
        ]))
    #expect(pipeline.checks["drift"]?.kind == .drift(environment: "staging", allow: ["DEBUG"]))
  }

  @Test func appliesTopLevelSettings() throws {
    let text = """
      pipeline: k8s.app_2
      ledger: /var/lib/airlock/ledger.git
      keep: 12
      hooks: deploy/hooks
      environments:
        - name: cluster
          target:
            local: /srv/k8s
          approval: none
          on_failure: rollback
          preflight: ~
          config: ~
      checks: ~

      """
    let pipeline = try PipelineLoader.parse(text, file: "k8s.yml", root: root)
    #expect(pipeline.name == "k8s.app_2")
    #expect(pipeline.ledger == "/var/lib/airlock/ledger.git")
    #expect(pipeline.keep == 12)
    #expect(pipeline.hooks == "deploy/hooks")
    #expect(pipeline.checks.isEmpty)
    let cluster = try #require(pipeline.environments.first)
    #expect(cluster.target == .local(path: "/srv/k8s"))
    #expect(cluster.approvalRequired == false)
    #expect(cluster.config.isEmpty)
  }

  @Test func reportsEveryErrorOfAFileSortedByPosition() {
    let text = """
      pipeline: web
      keep: lots
      environments:
        - name: staging
          target: {local: /srv/s}
          verfy: [health]
          on_failure: explode

      """
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 3)
    #expect(diagnostics.map(\.line) == [2, 6, 7])
    #expect(diagnostics[0].message.contains("'keep' must be a whole number"))
    #expect(diagnostics[1].message.contains("unknown key 'verfy'"))
    #expect(diagnostics[2].message.contains("'on_failure' must be 'rollback' or 'halt'"))
    #expect(
      diagnostics[1].description
        == "pipelines/web.yml:6:5: error: unknown key 'verfy' in environment 'staging' (did you mean 'verify'?)")
  }

  @Test func errorDescriptionListsOneDiagnosticPerLine() {
    let error = PipelineError(diagnostics: [
      Diagnostic(file: "b.yml", line: 1, column: 1, message: "second file"),
      Diagnostic(file: "a.yml", line: 9, column: 2, message: "later"),
      Diagnostic(file: "a.yml", line: 3, column: 7, message: "earlier"),
      Diagnostic(file: "a.yml", line: 3, column: 7, message: "earlier"),
      Diagnostic(file: "pipelines", line: 0, column: 0, message: "no position"),
    ])
    #expect(
      error.description == """
        a.yml:3:7: error: earlier
        a.yml:9:2: error: later
        b.yml:1:1: error: second file
        pipelines: error: no position
        """)
  }

  @Test(arguments: [
    ("pipeline: web: api\n", 1, 14, "not valid YAML: mapping values are not allowed in this context"),
    ("pipeline: [web\n", 2, 1, "not valid YAML: did not find expected ',' or ']'"),
    ("pipeline: web\n  environments: x\n", 2, 15, "not valid YAML"),
    ("pipeline: 'web\n", 2, 1, "not valid YAML: found unexpected end of stream"),
    ("pipeline: web\n\tkeep: 5\n", 2, 1, "not valid YAML"),
  ])
  func reportsYAMLSyntaxErrorsWhereLibyamlFindsThem(text: String, line: Int, column: Int, fragment: String) {
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.contains(fragment) == true, "\(diagnostics)")
    #expect(diagnostics.first.map { [$0.line, $0.column] } == [line, column], "\(diagnostics)")
  }

  @Test func shortensLongValuesInMessages() {
    let diagnostics = PipelineTestSupport.diagnostics(
      PipelineTestSupport.minimalPipeline("web") + "keep: \(String(repeating: "x", count: 5000))\n")
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.hasSuffix("found the text '\(String(repeating: "x", count: 77))…'") == true)
  }

  @Test func refusesWhitespaceOnlyText() {
    let diagnostics = PipelineTestSupport.diagnostics(PipelineTestSupport.minimalPipeline("web") + "hooks: '  '\n")
    #expect(diagnostics.map(\.message) == ["'hooks' must not be empty"])
  }

  @Test func refusesAnEmptyFile() {
    let diagnostics = PipelineTestSupport.diagnostics("")
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.contains("the file is empty") == true)
    #expect(diagnostics.first.map { [$0.line, $0.column] } == [1, 1])
  }

  @Test func refusesASecondDocument() {
    let text = PipelineTestSupport.minimalPipeline("web") + "---\npipeline: api\n"
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.contains("a second one starts here") == true)
    #expect(diagnostics.first.map { [$0.line, $0.column] } == [5, 1])
  }

  @Test func refusesAnAliasBombAtItsFirstAlias() {
    var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    let letters = Array("abcdefghi")
    for index in 1..<letters.count {
      let previous = letters[index - 1]
      let aliases = Array(repeating: "*\(previous)", count: 9).joined(separator: ",")
      text += "\(letters[index]): &\(letters[index]) [\(aliases)]\n"
    }
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message == YAMLReader.aliasMessage)
    #expect(diagnostics.first.map { [$0.line, $0.column] } == [2, 8])
  }

  @Test func refusesMergeKeysThatUseAliases() {
    let text = """
      pipeline: web
      defaults: &defaults
        start: bin/start
      environments:
        - name: staging
          <<: *defaults
          target: {local: /s}

      """
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.map { [$0.line, $0.column] } == [[6, 9]])
    #expect(diagnostics.first?.message.contains("aliases and anchors are not supported") == true)
  }

  @Test(arguments: [100, 5000])
  func refusesDeepNesting(depth: Int) {
    let text = "pipeline: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.contains("the file nests too deeply") == true, "\(diagnostics)")
  }

  @Test func refusesAFileOverOneMebibyteBeforeParsing() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let file = folder.appendingPathComponent("huge.yml")
    // Not YAML at all: a size check that ran after parsing would report a syntax error instead.
    let line = Data(repeating: UInt8(ascii: "["), count: 1023) + Data([UInt8(ascii: "\n")])
    #expect(FileManager.default.createFile(atPath: file.path, contents: nil))
    let handle = try FileHandle(forWritingTo: file)
    for _ in 0..<(10 * 1024) { handle.write(line) }
    try handle.close()

    #expect {
      _ = try PipelineLoader.load(file: file, root: folder)
    } throws: { error in
      let diagnostics = (error as? PipelineError)?.diagnostics ?? []
      return diagnostics.count == 1
        && diagnostics[0].message == "file is 10.0 MiB; pipelines are limited to 1 MiB (is this the right file?)"
        && diagnostics[0].line == 0
    }
  }

  @Test func refusesLongTextPassedToParse() {
    let text = "pipeline: web\n" + String(repeating: "# padding\n", count: 110_000)
    let diagnostics = PipelineTestSupport.diagnostics(text)
    #expect(diagnostics.count == 1)
    #expect(diagnostics.first?.message.contains("pipelines are limited to 1 MiB") == true)
  }

  @Test func refusesTextThatIsNotUTF8() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let file = folder.appendingPathComponent("latin1.yml")
    try Data("pipeline: web\nkeep: caf".utf8 + [0xE9] + Data("\n".utf8)).write(to: file)
    #expect {
      _ = try PipelineLoader.load(file: file, root: folder)
    } throws: { error in
      let diagnostic = (error as? PipelineError)?.diagnostics.first
      return diagnostic?.message.contains("not UTF-8") == true && diagnostic?.line == 2
        && diagnostic?.column == 10
    }
  }

  @Test func acceptsAByteOrderMarkAndKeepsPositions() throws {
    let text = "\u{FEFF}" + PipelineTestSupport.minimalPipeline("web")
    #expect(try PipelineLoader.parse(text, file: "web.yml", root: root).name == "web")
    let diagnostics = PipelineTestSupport.diagnostics("\u{FEFF}pipeline: Web\nenvironments: []\n")
    #expect(diagnostics.map { "\($0.line):\($0.column)" } == ["1:11", "2:15"], "\(diagnostics)")
    let scratch = try ScratchProject()
    let folder = scratch.root
    let file = folder.appendingPathComponent("web.yml")
    try (Data([0xEF, 0xBB, 0xBF]) + Data(PipelineTestSupport.minimalPipeline("web").utf8)).write(to: file)
    #expect(try PipelineLoader.load(file: file, root: folder).environments.map(\.name) == ["staging"])
    try Data([0xEF, 0xBB, 0xBF, 0x61, 0xFF]).write(to: file)
    let error = #expect(throws: PipelineError.self) { try PipelineLoader.load(file: file, root: folder) }
    #expect(error?.diagnostics.map { "\($0.line):\($0.column)" } == ["1:2"])
  }

  @Test func configMayOverrideAPassedThroughVariable() throws {
    // Config is not secret, and TZ or LANG for the service is a fair use; only secrets must not take these names.
    let text = PipelineTestSupport.minimalPipeline("web") + "    config: {TZ: UTC, PATH: /opt/web/bin}\n"
    let pipeline = try PipelineLoader.parse(text, file: "web.yml", root: root)
    #expect(pipeline.environments[0].config == ["TZ": "UTC", "PATH": "/opt/web/bin"])
  }

  @Test func reportsAMissingFileAndAFolder() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    for (path, fragment) in [("missing.yml", "no such pipeline file"), (".", "is a folder")] {
      #expect {
        _ = try PipelineLoader.load(file: folder.appendingPathComponent(path), root: folder)
      } throws: { error in
        (error as? PipelineError)?.diagnostics.first?.message.contains(fragment) == true
      }
    }
  }

  @Test func showsTheFileAsGivenAndStoresTheRoot() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(PipelineTestSupport.minimalPipeline("web"), to: "pipelines/web.yml")
    let file = URL(fileURLWithPath: "pipelines/web.yml", relativeTo: folder)
    let pipeline = try PipelineLoader.load(file: file, root: folder)
    #expect(pipeline.file == "pipelines/web.yml")
    #expect(pipeline.root == folder.path)
    #expect(pipeline.resolve("x").path == folder.appendingPathComponent("x").path)
  }

  @Test func suggestsCloseNamesOnly() {
    #expect(Suggestion.nearest(to: "verfy", among: PipelineDecoder.environmentKeys) == "verify")
    #expect(Suggestion.nearest(to: "verfiy", among: PipelineDecoder.environmentKeys) == "verify")
    #expect(Suggestion.nearest(to: "Target", among: PipelineDecoder.environmentKeys) == "target")
    #expect(Suggestion.nearest(to: "colour", among: PipelineDecoder.environmentKeys) == nil)
    #expect(Suggestion.nearest(to: "x", among: ["a"]) == "a")
    #expect(Suggestion.nearest(to: "xy", among: ["ab"]) == nil)
  }

  @Test(arguments: [
    ("web", true), ("web-2.api_x", true), ("0day", true), ("", false), ("Web", false), ("-web", false),
    (".web", false), ("web/api", false), ("wéb", false), (String(repeating: "a", count: 64), true),
    (String(repeating: "a", count: 65), false),
  ])
  func validatesNames(name: String, valid: Bool) {
    #expect(PipelineNames.isValidName(name) == valid)
  }

  @Test(arguments: [
    "5", "42", "0", "05", "09", "1_000", "0x1F", "-3", "+7", "1.5", ".inf", ".nan", "1e3", "yes", "No", "TRUE",
    "off", "null", "~", "", "web", "1.4.2", "-1s", "5m", "2024-01-01", "<<", "=", "o", "t", "nothing",
  ])
  func resolvesPlainScalarsAsYamsDoes(text: String) {
    let expected: ScalarType =
      switch Yams.Resolver.default.resolveTag(of: Yams.Node(text)) {
      case .null: .null
      case .bool: .bool
      case .int: .int
      case .float: .float
      default: .string
      }
    #expect(YAMLReader.resolvePlain(text) == expected)
  }

  @Test(arguments: [
    ("DATABASE_URL", true), ("_x", true), ("a1", true), ("1a", false), ("A-B", false), ("", false), ("Ä", false),
  ])
  func validatesConfigKeys(key: String, valid: Bool) {
    #expect(PipelineNames.isValidConfigKey(key) == valid)
  }
}
