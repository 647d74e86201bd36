import Foundation

/// The project: root folder and its pipeline files.
public struct Project: Sendable {
  /// The folder that holds `pipelines/`; relative paths in pipelines resolve against it.
  public var root: URL

  /// Creates a project rooted at `root`, whether or not it holds a `pipelines/` folder yet.
  public init(root: URL) {
    // A directory URL, so file URLs made relative to it resolve inside it rather than beside it.
    self.root = URL(fileURLWithPath: root.standardizedFileURL.path, isDirectory: true)
  }

  /// The folder holding the pipeline files.
  public var pipelinesFolder: URL { root.appendingPathComponent("pipelines", isDirectory: true) }

  /// Finds the project root by walking up from `directory` to the first folder containing `pipelines/`; nil if none.
  ///
  /// Walking up lets on-call run `airlock rollback production` from anywhere inside the checkout, as git does.
  public static func locate(from directory: URL) -> Project? {
    var folder = directory.standardizedFileURL
    while true {
      var isDirectory: ObjCBool = false
      let candidate = folder.appendingPathComponent("pipelines").path
      if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
        return Project(root: folder)
      }
      let parent = folder.deletingLastPathComponent().standardizedFileURL
      if parent.path == folder.path { return nil }
      folder = parent
    }
  }

  /// The project root for a pipeline named with `-f FILE`.
  ///
  /// A file inside a `pipelines/` folder belongs to the project around that folder, wherever the user stands; any
  /// other file (a scratch pipeline, a test fixture) has no project of its own, so its relative paths resolve
  /// against `currentDirectory`, the folder the user runs airlock from.
  public static func root(forPipelineFile file: URL, currentDirectory: URL) -> URL {
    let folder = file.standardizedFileURL.deletingLastPathComponent()
    if folder.lastPathComponent == "pipelines" { return folder.deletingLastPathComponent().standardizedFileURL }
    return currentDirectory.standardizedFileURL
  }

  /// `pipelines/*.yml` and `*.yaml`, sorted by name.
  ///
  /// The URLs are relative to `root`, so diagnostics read `pipelines/web.yml` rather than a long absolute path.
  /// Hidden files (editor backups) and folders are skipped.
  public func pipelineFiles() -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: pipelinesFolder.path)) ?? []
    return names.filter { name in
      guard !name.hasPrefix("."), name.hasSuffix(".yml") || name.hasSuffix(".yaml") else { return false }
      var isDirectory: ObjCBool = false
      let path = pipelinesFolder.appendingPathComponent(name).path
      return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
    .sorted()
    .map { URL(fileURLWithPath: "pipelines/\($0)", relativeTo: root) }
  }

  /// Chooses the pipeline for a command.
  ///
  /// - `file` (`-f`) wins. Its root is `Project.root(forPipelineFile:currentDirectory:)` with this project's root
  ///   as the current directory, so for `-f` the CLI builds the project as `Project(root: currentDirectory)`. When
  ///   `name` is given too, it must match the file's pipeline name, so a script never acts on a different
  ///   pipeline than it names.
  /// - Else `name` (`-p`) matches the `pipeline:` name inside the files. The file named after the pipeline
  ///   (`pipelines/NAME.yml`) is tried first; only when it is missing or declares another name are the other files
  ///   loaded, so a broken unrelated file never blocks choosing a valid one.
  /// - Else the single pipeline in `pipelines/` is the default. Zero or several is an error that lists the
  ///   names and asks for `-p NAME`.
  public func selectPipeline(name: String?, file: URL?) throws(PipelineError) -> Pipeline {
    if let file {
      let pipeline = try PipelineLoader.load(
        file: file, root: Project.root(forPipelineFile: file, currentDirectory: root))
      if let name, pipeline.name != name {
        throw failure(
          "\(file.relativePath) defines pipeline '\(pipeline.name)', not '\(name)'; drop -p or name the right file",
          file: file.relativePath)
      }
      return pipeline
    }
    let files = pipelineFiles()
    if let name { return try select(named: name, among: files) }
    switch files.count {
    case 0:
      throw failure(
        "no pipeline files (*.yml, *.yaml) in \(pipelinesFolder.path); add one, e.g. pipelines/web.yml, "
          + "or name a file with -f FILE")
    case 1:
      return try PipelineLoader.load(file: files[0], root: root)
    default:
      throw failure(
        "several pipelines in pipelines/: \(describeNames(of: files)); choose one with -p NAME")
    }
  }

  /// Loads every pipeline file, returning per-file results; used by `airlock validate`, which reports all errors of
  /// all pipelines.
  ///
  /// Two files declaring the same pipeline name would write to the same ledger branches, so every file after the
  /// first that uses a name fails with a diagnostic at its `pipeline:` value.
  public func validateAll() -> [(file: URL, result: Result<Pipeline, PipelineError>)] {
    var firstFileByName: [String: String] = [:]
    return pipelineFiles().map { file in
      do throws(PipelineError) {
        let text = try PipelineLoader.read(file, shown: file.relativePath)
        let (pipeline, position) = try PipelineLoader.parseLocated(text, file: file.relativePath, root: root)
        if let first = firstFileByName[pipeline.name] {
          let diagnostic = Diagnostic(
            file: file.relativePath, line: position.line, column: position.column,
            message: "pipeline name '\(pipeline.name)' is also used by \(first); each pipeline needs its own name, "
              + "because the name keys its ledger branches")
          return (file, .failure(PipelineError(diagnostics: [diagnostic])))
        }
        firstFileByName[pipeline.name] = file.relativePath
        return (file, .success(pipeline))
      } catch {
        return (file, .failure(error))
      }
    }
  }

  private func select(named name: String, among files: [URL]) throws(PipelineError) -> Pipeline {
    guard PipelineNames.isValidName(name) else {
      throw failure("invalid pipeline name '\(name)': \(PipelineNames.nameRule)")
    }
    var namedFileError: PipelineError?
    let namedFile = files.first { [name + ".yml", name + ".yaml"].contains($0.lastPathComponent) }
    if let namedFile {
      do throws(PipelineError) {
        let pipeline = try PipelineLoader.load(file: namedFile, root: root)
        if pipeline.name == name { return pipeline }
      } catch {
        namedFileError = error
      }
    }
    var matches: [Pipeline] = []
    var available: [String] = []
    var broken: [String] = []
    for file in files where file != namedFile {
      do throws(PipelineError) {
        let pipeline = try PipelineLoader.load(file: file, root: root)
        if pipeline.name == name { matches.append(pipeline) } else { available.append(pipeline.name) }
      } catch {
        broken.append(file.relativePath)
      }
    }
    if matches.count == 1 { return matches[0] }
    if matches.count > 1 {
      throw failure(
        "several files define pipeline '\(name)': \(matches.map(\.file).joined(separator: ", ")); "
          + "each pipeline needs its own name")
    }
    // The file named after the pipeline is almost surely the one meant, so its own errors are the useful answer.
    if let namedFileError { throw namedFileError }
    var message = "no pipeline named '\(name)' in pipelines/"
    message += available.isEmpty ? "" : "; available: \(available.sorted().joined(separator: ", "))"
    if !broken.isEmpty {
      message += "; not loadable: \(broken.joined(separator: ", ")) (run 'airlock validate')"
    }
    throw failure(message)
  }

  /// The pipeline names declared in `files`; a file that does not load is shown by its path instead.
  private func describeNames(of files: [URL]) -> String {
    files.map { file in
      (try? PipelineLoader.load(file: file, root: root).name) ?? "\(file.relativePath) (invalid)"
    }
    .joined(separator: ", ")
  }

  private func failure(_ message: String, file: String = "pipelines") -> PipelineError {
    PipelineError(diagnostics: [Diagnostic(file: file, line: 0, column: 0, message: message)])
  }
}
