import Foundation

/// The project, pipeline and ledger one command works on, found the way DESIGN.md describes.
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
  /// Where the ledger lives.
  public let ledgerURL: URL

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

    public init(directory: URL, pipelineName: String? = nil, pipelineFile: String? = nil, ledgerPath: String? = nil) {
      self.directory = directory
      self.pipelineName = pipelineName
      self.pipelineFile = pipelineFile
      self.ledgerPath = ledgerPath
    }
  }

  /// Finds the project, loads the chosen pipeline (keeping a load failure) and resolves the ledger location.
  public static func open(_ request: Request) throws -> Workspace {
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
    if let path = request.ledgerPath, !path.isEmpty {
      ledgerURL = URL(fileURLWithPath: path, relativeTo: request.directory).standardized
    } else {
      let path = pipeline?.ledger ?? Pipeline.defaultLedger
      ledgerURL = path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }
    let name =
      pipeline?.name ?? request.pipelineName ?? fileURL?.deletingPathExtension().lastPathComponent
      ?? Self.soleRecordedPipeline(ledgerURL)
      ?? project.pipelineFiles().first.map { $0.deletingPathExtension().lastPathComponent } ?? "default"
    return Workspace(
      root: root, pipeline: pipeline, pipelineError: failure, pipelineName: name, ledgerURL: ledgerURL)
  }

  /// The loaded pipeline, or the load failure.
  public func requirePipeline() throws -> Pipeline {
    if let pipeline { return pipeline }
    throw pipelineError ?? PipelineError(diagnostics: [])
  }

  /// Opens the ledger; with `create` false a missing ledger is `nil` (read-only commands must not create it).
  public func openLedger(create: Bool) throws -> Ledger? {
    do {
      return try Ledger.open(at: ledgerURL, create: create)
    } catch let error as LedgerError where error.code == .notFound && !create {
      return nil
    }
  }

  /// An orchestrator over this workspace's pipeline (or its snapshots) and `ledger`.
  public func orchestrator(ledger: Ledger, options: OperationOptions) -> Orchestrator {
    if let pipeline { return Orchestrator(pipeline: pipeline, ledger: ledger, options: options) }
    return Orchestrator(pipelineName: pipelineName, ledger: ledger, options: options)
  }

  /// The one pipeline the ledger has branches for, when a broken file leaves no other way to know the name.
  static func soleRecordedPipeline(_ url: URL) -> String? {
    guard let ledger = try? Ledger.open(at: url, create: false),
      let refs = try? ledger.references(withPrefix: "refs/heads/")
    else { return nil }
    let names = Set(
      refs.compactMap { $0.name.dropFirst("refs/heads/".count).split(separator: "/").first.map(String.init) })
    return names.count == 1 ? names.first : nil
  }
}
