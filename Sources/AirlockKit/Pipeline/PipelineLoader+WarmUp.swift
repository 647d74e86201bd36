import Foundation

extension PipelineLoader {
  /// A pipeline using what most pipelines use (two local environments, config and secrets, a start command, a
  /// command check and a config check), parsed by `warmUp()`.
  static let warmUpSample = """
    pipeline: warm-up
    keep: 5
    environments:
      - name: staging
        target:
          local: targets/staging
        config:
          DATABASE_URL: postgres://db-staging/web
        secrets: [API_TOKEN]
        start: bin/start
        verify: [health]
      - name: production
        requires: staging
        target:
          local: targets/production
        config:
          DATABASE_URL: postgres://db/web
        preflight: [config]
        verify: [health]
        on_failure: rollback
    checks:
      config:
        config:
          - key: DATABASE_URL
            required: true
            differs_from: staging
      health:
        command: [bin/healthcheck]
        attempts: 3
        pass: 2
    """

  /// Parses `warmUpSample` in memory and throws the result away, so that the runtime's caches of the loader's
  /// types (YAML nodes, the decoder's tables, the pipeline model) are warm when the command loads its own pipeline;
  /// `Startup.prepareInBackground()` runs it beside argument parsing. Returns whether the sample parsed (a test
  /// pins it, so a sample the loader stops accepting is noticed).
  @discardableResult
  static func warmUp() -> Bool {
    (try? parse(warmUpSample, file: "warm-up.yml", root: URL(fileURLWithPath: "/"))) != nil
  }
}
