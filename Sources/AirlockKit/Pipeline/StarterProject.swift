import Foundation

/// The project `airlock init` writes: a pipeline of two local environments, example hooks and an example artifact,
/// which `airlock validate` accepts and which deploys to staging and promotes to production on this machine.
///
/// It never overwrites: when any file it would write is already there, it writes nothing.
public enum StarterProject {
  /// One file of the starter project.
  public struct File: Sendable {
    /// The path relative to the project folder, e.g. `pipelines/app.yml`.
    public var path: String
    /// The file's text.
    public var contents: String
    /// Whether the file gets mode 755 (hooks and the artifact's scripts) rather than 644.
    public var executable: Bool
  }

  /// The artifact folder the starter pipeline deploys, relative to the project folder.
  public static let artifact = "release"

  /// The commands that take the starter project from nothing to production, in order.
  public static let nextCommands = [
    "airlock validate",
    "airlock deploy staging --artifact \(artifact) --version 1.0.0",
    "airlock promote production",
  ]

  /// Every file, in the order it is written and listed.
  public static let files: [File] = [
    File(path: "pipelines/app.yml", contents: pipeline, executable: false),
    File(path: "hooks/pre-deploy", contents: hook(pre: true, "before a deploy switches anything"), executable: true),
    File(path: "hooks/post-deploy", contents: hook(pre: false, "after a deploy passed verify"), executable: true),
    File(
      path: "hooks/on-failure", contents: hook(pre: false, "after a deploy or promotion failed verify"),
      executable: true),
    File(path: "\(artifact)/VERSION", contents: "1.0.0\n", executable: false),
    File(path: "\(artifact)/bin/start", contents: start, executable: true),
    File(path: "\(artifact)/bin/healthcheck", contents: healthcheck, executable: true),
  ]

  /// The starter files (or their folders) already in `folder`, as paths relative to it: what `write(into:)` refuses.
  public static func conflicts(in folder: URL) -> [String] {
    var found: [String] = []
    for file in files {
      // A file in the way, or a file where one of its folders should be; lstat, so a dangling symlink counts.
      let components = file.path.split(separator: "/").map(String.init)
      for depth in 1...components.count {
        let relative = components.prefix(depth).joined(separator: "/")
        var status = stat()
        guard lstat(folder.appendingPathComponent(relative).path, &status) == 0 else { break }
        let isFolder = (status.st_mode & S_IFMT) == S_IFDIR
        if depth == components.count || !isFolder {
          if !found.contains(relative) { found.append(relative) }
          break
        }
      }
    }
    return found
  }

  /// Writes every starter file into `folder` and returns their relative paths, or writes nothing and throws
  /// `AirlockError` `.invalidInput` (exit 2) naming the files already there.
  public static func write(into folder: URL) throws -> [String] {
    let existing = conflicts(in: folder)
    guard existing.isEmpty else { throw AirlockError.starterFilesExist(existing, in: folder) }
    var written: [URL] = []
    do {
      for file in files {
        let url = folder.appendingPathComponent(file.path)
        try FileManager.default.createDirectory(
          at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // withoutOverwriting: a file that appeared since the look above is never replaced.
        try Data(file.contents.utf8).write(to: url, options: .withoutOverwriting)
        written.append(url)
        try FileManager.default.setAttributes(
          [.posixPermissions: file.executable ? 0o755 : 0o644], ofItemAtPath: url.path)
      }
    } catch {
      // All or nothing: a half-written starter would only confuse the next `airlock init`.
      for url in written { try? FileManager.default.removeItem(at: url) }
      throw AirlockError(.unexpected, "airlock init could not write \(folder.path): \(error.localizedDescription)")
    }
    return files.map(\.path)
  }

  static let pipeline = """
    # A starter pipeline written by `airlock init`: one application promoted from staging to production. Both
    # environments are local folders under .airlock/targets/, so the whole flow runs on this machine:
    #   \(nextCommands.joined(separator: "\n#   "))
    # Then change the artifact in \(artifact)/, deploy it as 1.1.0, promote it, and try `airlock rollback production`.
    # Every key is described in Airlock's docs/pipeline.md; hooks/ holds example hooks (docs/hooks.md).
    pipeline: app
    keep: 5

    environments:
      - name: staging
        target:
          local: .airlock/targets/staging
        config:
          GREETING: hello from staging
        start: bin/start              # run in the release folder after every switch
        verify: [health]

      - name: production
        requires: staging             # only releases verified in staging may come here
        target:
          local: .airlock/targets/production
        config:
          GREETING: hello from production
        start: bin/start
        verify: [health]
        on_failure: rollback          # a failed verify switches back to the previous verified release

    checks:
      health:
        command: [bin/healthcheck]    # run in the release folder, without a shell; exit 0 is healthy
        timeout: 5s
        attempts: 3
        pass: 1
        interval: 200ms

    # Tell a chat channel or a pager about failures and rollbacks (docs/notifications.md):
    # notify:
    #   - webhook_secret: SLACK_WEBHOOK_URL   # the variable holding the webhook's URL, a secret
    #     on: [promote, rollback, failure]

    """

  /// A hook that prints the variables it got and appends them to `.airlock/hooks.log`.
  static func hook(pre: Bool, _ when: String) -> String {
    """
    #!/bin/sh
    # An example hook written by `airlock init`: Airlock runs it \(when), in the project folder, with only
    # AIRLOCK_* variables (never config, never a secret). \(
      pre
        ? "Exiting non-zero blocks the change (exit 3, nothing changed)."
        : "Its failure is only reported; the outcome stands.")
    # Other hook names: pre-promote, post-promote, pre-rollback, post-rollback (see Airlock's docs/hooks.md).
    mkdir -p .airlock
    echo "$(basename "$0"): $AIRLOCK_EVENT $AIRLOCK_PIPELINE/$AIRLOCK_ENVIRONMENT ${AIRLOCK_VERSION:-nothing}" \\
      "(release ${AIRLOCK_RELEASE:-none}, previous ${AIRLOCK_PREVIOUS_RELEASE:-none}) by $AIRLOCK_ACTOR" |
      tee -a .airlock/hooks.log

    """
  }

  static let start = """
    #!/bin/sh
    # The example app's start command: Airlock runs it in the release folder after every switch, with the
    # environment's config in its environment. A real app would restart its service here.
    set -eu
    mkdir -p .airlock
    echo "$AIRLOCK_VERSION started in $AIRLOCK_ENVIRONMENT: $GREETING" >.airlock/started

    """

  static let healthcheck = """
    #!/bin/sh
    # The example app's health check, the `health` command check: Airlock runs it in the release folder after the
    # switch, with the environment's config. Exit 0 means healthy; anything else fails verify.
    [ -f .airlock/started ] || { echo "bin/start has not run"; exit 1; }
    [ -n "${GREETING:-}" ] || { echo "GREETING is not configured"; exit 2; }
    exit 0

    """
}

extension AirlockError {
  /// `airlock init` found starter files already in `folder` and wrote nothing (exit 2).
  static func starterFilesExist(_ paths: [String], in folder: URL) -> AirlockError {
    AirlockError(
      .invalidInput,
      "airlock init wrote nothing: \(paths.joined(separator: ", ")) already \(paths.count == 1 ? "exists" : "exist") "
        + "in \(folder.path); move \(paths.count == 1 ? "it" : "them") away or run airlock init in an empty folder")
  }
}
