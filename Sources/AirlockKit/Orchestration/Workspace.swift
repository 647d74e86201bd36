import Foundation

/// The project, pipeline and ledger one command works on, found the way docs/cli.md describes.
///
/// A pipeline that fails to load is kept as `pipelineError` rather than thrown, so rollback and the read-only
/// queries can still work from the ledger; commands that need the pipeline call `requirePipeline()`.
public struct Workspace {
  /// The project root: the folder that holds `pipelines/` (or the current folder when there is none).
  public let root: URL
  /// The pipeline, when it loaded.
  public let pipeline: Pipeline?
  /// Why the pipeline did not load.
  public let pipelineError: PipelineError?
  /// The pipeline's name: from the file when it loaded, else from `-p`, the file name, or the ledger.
  public let pipelineName: String
  /// Where the ledger lives: the ledger itself, or the local mirror of a shared one.
  public let ledgerURL: URL
  /// The shared ledger (`file://`, `ssh://`…) that `ledgerURL` mirrors, when the ledger is remote.
  public let remote: String?

  /// How to find the workspace.
  public struct Request: Sendable {
    /// Where to start looking for `pipelines/` (the current directory).
    public var directory: URL
    /// `-p NAME`.
    public var pipelineName: String?
    /// `-f FILE`.
    public var pipelineFile: String?
    /// `--ledger PATH`, else `AIRLOCK_LEDGER`.
    public var ledgerPath: String?

    /// A request; what is not given is found from `directory` and the environment.
    public init(directory: URL, pipelineName: String? = nil, pipelineFile: String? = nil, ledgerPath: String? = nil) {
      self.directory = directory
      self.pipelineName = pipelineName
      self.pipelineFile = pipelineFile
      self.ledgerPath = ledgerPath
    }
  }

  /// Finds the project, loads the chosen pipeline (keeping a load failure) and resolves the ledger location.
  public static func open(_ request: Request) throws -> Workspace {
    if let name = request.pipelineName, !PipelineNames.isValidName(name) {
      throw AirlockError(.invalidInput, "-p '\(name)' is not a pipeline name: \(PipelineNames.nameRule)")
    }
    let fileURL = request.pipelineFile.map { URL(fileURLWithPath: $0, relativeTo: request.directory).standardized }
    // With -f the file decides the root (Project.root(forPipelineFile:)); otherwise pipelines/ is searched upward.
    let project =
      fileURL != nil
      ? Project(root: request.directory) : Project.locate(from: request.directory) ?? Project(root: request.directory)
    var pipeline: Pipeline?
    var failure: PipelineError?
    do {
      pipeline = try project.selectPipeline(name: request.pipelineName, file: fileURL)
    } catch {
      failure = error
    }
    let root = pipeline.map { URL(fileURLWithPath: $0.root) } ?? project.root
    let ledgerURL: URL
    var remote: String?
    if let path = request.ledgerPath, !path.isEmpty, !Ledger.isRemote(path) {
      ledgerURL = URL(fileURLWithPath: path, relativeTo: request.directory).standardized
    } else {
      let path = request.ledgerPath.flatMap { $0.isEmpty ? nil : $0 } ?? pipeline?.ledger ?? Pipeline.defaultLedger
      if Ledger.isRemote(path) {
        // A shared ledger is worked on through a local mirror, fetched before and pushed after every event.
        remote = path
        let name = String(path.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        ledgerURL = root.appendingPathComponent(".airlock/ledger-cache/\(name).git")
      } else {
        ledgerURL = URL(resolving: path, under: root)
      }
    }
    if let pipeline, remote == nil, request.ledgerPath.map({ !$0.isEmpty }) == true {
      try requireApart(ledger: ledgerURL, from: pipeline)
    }
    if pipeline == nil, fileURL == nil, let name = request.pipelineName {
      try requireKnown(pipeline: name, in: project, ledger: ledgerURL)
    }
    let name =
      pipeline?.name ?? request.pipelineName ?? fileURL?.deletingPathExtension().lastPathComponent
      ?? Self.soleRecordedPipeline(ledgerURL)
      ?? project.pipelineFiles().first.map { $0.deletingPathExtension().lastPathComponent } ?? "default"
    return Workspace(
      root: root, pipeline: pipeline, pipelineError: failure, pipelineName: name, ledgerURL: ledgerURL, remote: remote)
  }

  /// Refuses a ledger named by `--ledger` or `AIRLOCK_LEDGER` that overlaps a local target, as `validate` refuses
  /// such a `ledger:` in the file: retention and rollback replace what is in a target's folder.
  private static func requireApart(ledger: URL, from pipeline: Pipeline) throws {
    let ledgerFolder = FolderPath.resolve(ledger.path, root: URL(fileURLWithPath: pipeline.root))
    for environment in pipeline.environments {
      guard case .local(let path) = environment.target else { continue }
      let target = FolderPath.resolve(path, root: URL(fileURLWithPath: pipeline.root))
      if let relation = FolderPath.relation(of: ledgerFolder, to: target) {
        throw AirlockError(
          .invalidInput,
          "the ledger \(ledger.path) (from --ledger or AIRLOCK_LEDGER) \(relation.phrase) the target of "
            + "\(environment.name) (\(path)); keep the ledger outside every target folder")
      }
    }
  }

  /// The loaded pipeline, or the load failure.
  public func requirePipeline() throws -> Pipeline {
    if let pipeline { return pipeline }
    throw pipelineError ?? PipelineError(diagnostics: [])
  }

  /// Opens the ledger; with `create` false a missing ledger is `nil` (read-only commands must not create it).
  ///
  /// With a shared ledger the local mirror is created and fetched whatever `create` says: it is a cache, and a
  /// query must see what the other runners recorded.
  public func openLedger(create: Bool) throws -> Ledger? {
    if let remote {
      let mirror = try Ledger.open(at: ledgerURL, create: true)
      try PipelineLedger(ledger: mirror, pipeline: pipelineName, remote: remote).synchronize()
      return mirror
    }
    do {
      return try Ledger.open(at: ledgerURL, create: create)
    } catch let error as LedgerError where error.code == .notFound && !create {
      return nil
    }
  }

  /// The ledger for a read-only query: the real one, or, before the first deploy created it, an empty one in a
  /// temporary folder (deleted when the returned value goes away), so `plan`, `drift` and `history` answer from the
  /// pipeline exactly as they would against a ledger that has no events yet, and create nothing in the project.
  public func ledgerForReading() throws -> ReadingLedger {
    if let ledger = try openLedger(create: false) { return ReadingLedger(ledger: ledger, scratch: nil) }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-empty-\(UUID().uuidString)")
    return ReadingLedger(ledger: try Ledger.open(at: scratch, create: true), scratch: scratch)
  }

  /// An orchestrator over this workspace's pipeline (or its snapshots) and `ledger`.
  public func orchestrator(ledger: Ledger, options: OperationOptions) -> Orchestrator {
    if let pipeline { return Orchestrator(pipeline: pipeline, ledger: ledger, remote: remote, options: options) }
    return Orchestrator(pipelineName: pipelineName, ledger: ledger, remote: remote, options: options)
  }

  /// Refuses `-p NAME` when no pipeline file could be it and the ledger has never recorded it: a typo must not
  /// turn into "the pipeline file could not be loaded" or an empty answer. A file that does not load might declare
  /// the name, so then the loader's own error stands.
  private static func requireKnown(pipeline name: String, in project: Project, ledger: URL) throws {
    let files = project.pipelineFiles()
    guard !files.contains(where: { $0.deletingPathExtension().lastPathComponent == name }) else { return }
    guard
      let declared = try? files.map({ file throws(PipelineError) in
        try PipelineLoader.load(file: file, root: project.root).name
      })
    else { return }
    let recorded = recordedPipelines(ledger)
    guard !declared.contains(name), !recorded.contains(name) else { return }
    let known = (declared + recorded.subtracting(declared).sorted())
    throw AirlockError(
      .invalidInput,
      "no pipeline '\(name)' in \(project.root.path)/pipelines or its ledger"
        + (known.isEmpty ? "" : Suggestion.listing(known, for: name, lead: "pipelines")))
  }

  /// The pipelines the ledger at `url` has branches for (none when there is no ledger).
  static func recordedPipelines(_ url: URL) -> Set<String> {
    guard let ledger = try? Ledger.open(at: url, create: false),
      let refs = try? ledger.references(withPrefix: "refs/heads/")
    else { return [] }
    return Set(refs.compactMap { $0.name.dropFirst("refs/heads/".count).split(separator: "/").first.map(String.init) })
  }

  /// The one pipeline the ledger has branches for, when a broken file leaves no other way to know the name.
  static func soleRecordedPipeline(_ url: URL) -> String? {
    let names = recordedPipelines(url)
    return names.count == 1 ? names.first : nil
  }
}

/// A ledger opened for a read-only query; see `Workspace.ledgerForReading()`.
public final class ReadingLedger {
  /// The ledger to query.
  public let ledger: Ledger
  /// The temporary folder of the empty stand-in, removed on deinit; nil for the real ledger.
  let scratch: URL?

  init(ledger: Ledger, scratch: URL?) {
    self.ledger = ledger
    self.scratch = scratch
  }

  deinit {
    if let scratch { try? FileManager.default.removeItem(at: scratch) }
  }
}
