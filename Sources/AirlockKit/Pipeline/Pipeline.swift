import Foundation

/// One application's delivery pipeline, loaded from a YAML file in `pipelines/`.
///
/// Values are fully resolved: defaults applied, names validated, durations parsed. The type is `Codable` so the
/// ledger can keep a snapshot of an environment's definition (`environment.json`) that rollback can use when the
/// pipeline file is gone or broken.
public struct Pipeline: Sendable, Codable, Hashable {
  /// The pipeline name (`[a-z0-9][a-z0-9._-]*`); it prefixes every ledger branch and tag.
  public var name: String
  /// The file the pipeline was loaded from.
  public var file: String
  /// The project root: the folder that holds `pipelines/`. Relative paths resolve against it.
  public var root: String
  /// The ledger location as written in the file (default `.airlock/ledger.git`), not yet resolved.
  public var ledger: String
  /// How many releases each target keeps on disk for instant rollback.
  public var keep: Int
  /// The folder holding lifecycle hooks, as written (default `hooks`).
  public var hooks: String
  /// Environments in promotion order.
  public var environments: [EnvironmentSpec]
  /// Named checks that environments refer to in `preflight` and `verify`.
  public var checks: [String: CheckSpec]

  /// A resolved pipeline; the loader builds one from a file, tests build them directly.
  public init(
    name: String, file: String, root: String, ledger: String = Pipeline.defaultLedger, keep: Int = 5,
    hooks: String = "hooks", environments: [EnvironmentSpec], checks: [String: CheckSpec]
  ) {
    self.name = name
    self.file = file
    self.root = root
    self.ledger = ledger
    self.keep = keep
    self.hooks = hooks
    self.environments = environments
    self.checks = checks
  }

  /// The ledger path used when a pipeline names none.
  public static let defaultLedger = ".airlock/ledger.git"

  /// The environment called `name`, if the pipeline has one.
  public func environment(named name: String) -> EnvironmentSpec? {
    environments.first { $0.name == name }
  }

  /// Resolves a path from the pipeline against the project root.
  public func resolve(_ path: String) -> URL {
    URL(resolving: path, under: URL(fileURLWithPath: root))
  }
}

/// One stage of a pipeline, such as `staging` or `production`.
public struct EnvironmentSpec: Sendable, Codable, Hashable {
  /// The environment name (`[a-z0-9][a-z0-9._-]*`).
  public var name: String
  /// The environment whose verified releases are the only ones this one accepts; `nil` for the first stage.
  public var requires: String?
  /// Where the environment runs.
  public var target: TargetSpec
  /// Plain configuration written into each release as `.airlock/config.env`.
  public var config: [String: String]
  /// Names of the secrets, resolved once per command before anything changes; values are never written to the
  /// ledger.
  public var secrets: [String]
  /// Where secrets that do not come from the process environment come from, by name; `nil` when every secret does
  /// (and in snapshots recorded before sources existed).
  public var secretSources: [String: SecretSource]?
  /// A command line run in the release directory after the switch, split on whitespace; no shell.
  public var start: String?
  /// Checks run before anything changes; they can only block.
  public var preflight: [String]
  /// Checks run after the switch; they decide between keeping and rolling back.
  public var verify: [String]
  /// How long to keep verifying after the switch; `nil` for no watch window.
  public var watch: TimeSpan?
  /// What a failed verify does.
  public var onFailure: FailurePolicy
  /// Whether a named person must approve a release before it is promoted here.
  public var approvalRequired: Bool
  /// `approval: self`: the person who shipped a release upstream may approve it too. Otherwise (`approval:
  /// required`) an approval takes a second person; `nil` in snapshots recorded before the rule existed.
  public var selfApproval: Bool?
  /// Who is told about this environment's events: its own `notify:` list, else the pipeline's; `nil` for nobody
  /// (and in snapshots recorded before notifications existed).
  public var notify: [NotifySpec]?

  /// The source of the secret `name`: the one the pipeline gives, else the process environment.
  public func source(ofSecret name: String) -> SecretSource { secretSources?[name] ?? .environment }

  /// The secrets read from the process environment, which read-only commands may look at; the others need their
  /// command run or their file read.
  public var secretsFromEnvironment: [String] { secrets.filter { source(ofSecret: $0) == .environment } }

  /// An environment with the documented defaults for everything not given.
  public init(
    name: String, requires: String? = nil, target: TargetSpec, config: [String: String] = [:],
    secrets: [String] = [], start: String? = nil, preflight: [String] = [], verify: [String] = [],
    watch: TimeSpan? = nil, onFailure: FailurePolicy = .rollback, approvalRequired: Bool = false
  ) {
    self.name = name
    self.requires = requires
    self.target = target
    self.config = config
    self.secrets = secrets
    self.start = start
    self.preflight = preflight
    self.verify = verify
    self.watch = watch
    self.onFailure = onFailure
    self.approvalRequired = approvalRequired
  }
}

/// What happens when verification fails after a switch.
public enum FailurePolicy: String, Sendable, Codable, Hashable {
  /// Switch back to the previous verified-good release.
  case rollback
  /// Leave the environment as it is and report.
  case halt
}

/// Where an environment runs.
public enum TargetSpec: Sendable, Codable, Hashable {
  /// A directory on this machine holding `releases/<label>/` and a `current` symlink.
  case local(path: String)
  /// A fleet of hosts reached with the system OpenSSH client.
  case ssh(SSHTargetSpec)
  /// User commands (for example kubectl or helm) as an escape hatch.
  case command(CommandTargetSpec)
  /// A kind a library user registered under `kind` (see `TargetKinds`), with the options the pipeline gives.
  case custom(kind: String, options: [String: String])

  /// The YAML key that names this kind.
  public var keyword: String {
    switch self {
    case .local: return BuiltInTargetKind.local.rawValue
    case .ssh: return BuiltInTargetKind.ssh.rawValue
    case .command: return BuiltInTargetKind.command.rawValue
    case .custom(let kind, _): return kind
    }
  }
}

/// The hosts, user, path, rolling steps and connection settings of an `ssh` target.
public struct SSHTargetSpec: Sendable, Codable, Hashable {
  /// The keys an `ssh` mapping takes.
  public enum Key: String, CaseIterable, Sendable {
    case hosts, user, path, port, batch
    case sshConfig = "ssh_config"
    case knownHosts = "known_hosts"
    case connectTimeout = "connect_timeout"
  }

  /// The hosts to deploy to, in order: names from ssh_config, or `user@host:port`.
  public var hosts: [String]
  /// The SSH user for hosts that do not name one; `nil` for SSH's default.
  public var user: String?
  /// The folder on each host that holds `releases/` and `current`.
  public var path: String
  /// The SSH port for hosts that do not name one; `nil` for SSH's default.
  public var port: Int?
  /// The rolling steps: how many hosts have been switched once each step is done. The last one repeats until every
  /// host is switched, so `[5]` is batches of five and `[1, 25%, 100%]` is a canary, a quarter, then the rest.
  public var batch: [Share]
  /// An ssh_config file (relative to the project root) used instead of the user's.
  public var sshConfig: String?
  /// A known_hosts file (relative to the project root) used instead of the user's.
  public var knownHosts: String?
  /// How long each host may take to accept a connection; `nil` for ten seconds.
  public var connectTimeout: TimeSpan?

  /// An `ssh` target switching one host at a time unless `batch` says otherwise.
  public init(
    hosts: [String], user: String? = nil, path: String, port: Int? = nil, batch: [Share] = [.count(1)],
    sshConfig: String? = nil, knownHosts: String? = nil, connectTimeout: TimeSpan? = nil
  ) {
    self.hosts = hosts
    self.user = user
    self.path = path
    self.port = port
    self.batch = batch
    self.sshConfig = sshConfig
    self.knownHosts = knownHosts
    self.connectTimeout = connectTimeout
  }
}

/// The programs of a `command` target; each is an argument vector run without a shell, in a release's folder.
public struct CommandTargetSpec: Sendable, Codable, Hashable {
  /// The keys a `command` target's mapping takes.
  public enum Key: String, CaseIterable, Sendable {
    case apply, current, timeout, hosts
  }

  /// The program that makes the release in its working directory live; exit 0 means it is live.
  public var apply: [String]
  /// The program that prints the label (or tree id) live now, if the target has one.
  public var current: [String]?
  /// How long each run of `apply` or `current` may take; `nil` for five minutes.
  public var timeout: TimeSpan?
  /// Names `{host}` stands for in checks; `nil` for `localhost`.
  public var hosts: [String]?

  /// A `command` target from its argument vectors.
  public init(apply: [String], current: [String]? = nil, timeout: TimeSpan? = nil, hosts: [String]? = nil) {
    self.apply = apply
    self.current = current
    self.timeout = timeout
    self.hosts = hosts
  }
}

/// An absolute count or a percentage, as used by `batch` and `hosts`.
public enum Share: Sendable, Codable, Hashable, CustomStringConvertible {
  case count(Int)
  case percent(Int)

  /// How many of `total` items the share covers: at least one when `total` is positive, never more than `total`.
  public func of(_ total: Int) -> Int {
    guard total > 0 else { return 0 }
    switch self {
    case .count(let n): return min(max(n, 1), total)
    case .percent(let p): return min(max(Int((Double(total) * Double(p) / 100).rounded(.up)), 1), total)
    }
  }

  /// `3` for a count, `50%` for a percentage, as written in a pipeline.
  public var description: String {
    switch self {
    case .count(let n): return "\(n)"
    case .percent(let p): return "\(p)%"
    }
  }
}

/// A named check: its kind and the probe policy shared by every kind.
public struct CheckSpec: Sendable, Codable, Hashable {
  /// The name environments use in `preflight` and `verify`.
  public var name: String
  /// What the check probes and how.
  public var kind: CheckKind
  /// Retry-quorum and host-share settings; ignored by `config` and `drift`.
  public var policy: ProbePolicy
  /// A dependency check blocks promotion when it fails, but never triggers a rollback.
  public var dependency: Bool

  /// A check with the default probe policy unless `policy` says otherwise.
  public init(name: String, kind: CheckKind, policy: ProbePolicy = ProbePolicy(), dependency: Bool = false) {
    self.name = name
    self.kind = kind
    self.policy = policy
    self.dependency = dependency
  }
}

/// The kinds of check a pipeline can declare.
public enum CheckKind: Sendable, Codable, Hashable {
  /// Passes when the status equals `expect` and the body contains `contains`, if given.
  case http(url: String, expect: Int, contains: String?)
  /// Passes when a TCP connection to `address` (`HOST:PORT`) opens within the timeout.
  case tcp(address: String)
  /// Passes when the program exits 0 within the timeout; run without a shell in the release directory.
  case command(arguments: [String])
  /// Passes when the file exists and was modified at most `maxAge` ago.
  case heartbeat(path: String, maxAge: TimeSpan)
  /// Passes when every rule holds for the environment's resolved config. Preflight only.
  case config(rules: [ConfigRule])
  /// Passes when the config key set equals `environment`'s, except keys in `allow`. Preflight only.
  case drift(environment: String, allow: [String])
  /// A kind a library user registered under `kind` (see `CheckKinds`), with the value of its key and its options.
  case custom(kind: String, subject: String, options: [String: String])

  /// The YAML key that names this kind.
  public var keyword: String {
    switch self {
    case .http: return BuiltInCheckKind.http.rawValue
    case .tcp: return BuiltInCheckKind.tcp.rawValue
    case .command: return BuiltInCheckKind.command.rawValue
    case .heartbeat: return BuiltInCheckKind.heartbeat.rawValue
    case .config: return BuiltInCheckKind.config.rawValue
    case .drift: return BuiltInCheckKind.drift.rawValue
    case .custom(let kind, _, _): return kind
    }
  }

  /// Whether the kind only inspects configuration and so can run only as a preflight check.
  public var isPreflightOnly: Bool {
    switch self {
    case .config, .drift: return true
    case .http, .tcp, .command, .heartbeat, .custom: return false
    }
  }
}

/// One rule of a `config` check. A rule either names a `key` (and any of `required`, `match`, `differsFrom`,
/// `oneOf`) or, with no key, a `forbid` pattern applied to every value.
public struct ConfigRule: Sendable, Codable, Hashable {
  /// The config key the rule is about; `nil` for a `forbid` rule over every value.
  public var key: String?
  /// Whether the key must be set.
  public var required: Bool
  /// A regular expression the whole value must match.
  public var match: String?
  /// A regular expression no value (or the key's value) may contain.
  public var forbid: String?
  /// Another environment whose value for the key this one must not equal.
  public var differsFrom: String?
  /// The values the key may take.
  public var oneOf: [String]?

  /// A rule; give `key` with any of the others, or only `forbid`.
  public init(
    key: String? = nil, required: Bool = false, match: String? = nil, forbid: String? = nil,
    differsFrom: String? = nil, oneOf: [String]? = nil
  ) {
    self.key = key
    self.required = required
    self.match = match
    self.forbid = forbid
    self.differsFrom = differsFrom
    self.oneOf = oneOf
  }
}

/// The retry quorum of a probing check: see docs/pipeline.md, Retry quorum.
public struct ProbePolicy: Sendable, Codable, Hashable {
  /// Probes made at most per host.
  public var attempts: Int
  /// Successful probes that make a host pass.
  public var pass: Int
  /// Pause between probes.
  public var interval: TimeSpan
  /// Bound on each probe.
  public var timeout: TimeSpan
  /// Share of hosts that must pass.
  public var hosts: Share

  /// The documented defaults: 5 attempts, 2 passes, 1 s apart, 5 s each, every host.
  public init(
    attempts: Int = 5, pass: Int = 2, interval: TimeSpan = .seconds(1), timeout: TimeSpan = .seconds(5),
    hosts: Share = .percent(100)
  ) {
    self.attempts = attempts
    self.pass = pass
    self.interval = interval
    self.timeout = timeout
    self.hosts = hosts
  }
}
