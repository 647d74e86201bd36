import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Reads pipeline files into `Pipeline` values, reporting every problem with its file, line and column.
///
/// Paths stay as written (relative to `Pipeline.root`); the file system is only read to resolve the symlinks of
/// existing folders when `local` targets and the ledger are compared, so that overlapping ones are refused.
///
/// Rules beyond the pipeline format itself (docs/choices.md, Pipeline files), chosen to catch slips early:
/// - `requires` must name an environment listed *earlier*: the list is the promotion order. A cycle is reported
///   once, as a path (`requires cycle: a → b → a`).
/// - Text fields refuse numbers and booleans (`name: yes`, `start: 42`); the message says to quote them. Config
///   values, `one_of` values and command arguments are the exceptions and keep numbers and booleans as written.
/// - `approval` takes `required` or `none`, and also a boolean. `watch: 0s` means no watch window; a positive
///   `watch` needs `verify` checks. `timeout` and `max_age` must be positive; `interval` may be 0s.
/// - Argument vectors (`command` checks, command targets) must be YAML lists; a single string is refused because
///   running it would need a shell.
/// - Check keys that belong to another kind (`max_age` on an http check) and probe keys on `config`/`drift` checks
///   are errors, not silently ignored. Without `pass`, the quorum is `min(2, attempts)`.
/// - `ssh.path` must be absolute; hosts may not start with `-` (ssh would read them as options).
/// - The planned `ssh` and `command` targets are checked key by key, then refused at the kind's key
///   (`BuiltInTargetKind.notImplementedMessage`), so a pipeline that loads is one the commands can run.
/// - Anchors and aliases, YAML tags other than `!!str`, more than one document, and nesting deeper than 64 levels
///   are refused; names, secrets, hosts and checks listed twice are errors. A leading byte order mark is skipped.
/// - A `local` target may not be, hold or lie inside another target or the ledger (see `checkFolders`). Secrets may
///   not take a name Airlock passes through (`PipelineNames.passedThroughVariables`) or `AIRLOCK_*`; config keys may
///   not be `AIRLOCK_*`. A secret's source is `env`, a `command` (a non-empty argument list, optional `timeout`) or a
///   `file`, never both.
public enum PipelineLoader {
  /// The largest pipeline file accepted; a real pipeline is a few kilobytes, and the limit keeps a wrong `-f` (a log,
  /// a binary) from being read into memory.
  public static let maximumFileSize = 1 << 20

  /// Parses and validates one file.
  ///
  /// - Parameters:
  ///   - file: The pipeline file. `Pipeline.file` and diagnostics show it as given: `relativePath`, so a URL made
  ///     relative to the project root reads `pipelines/web.yml`.
  ///   - root: The project root (the folder holding `pipelines/`) that relative paths resolve against; stored into
  ///     `Pipeline.root`.
  /// - Throws: `PipelineError` with every problem found, sorted by position.
  public static func load(file: URL, root: URL) throws(PipelineError) -> Pipeline {
    let shown = file.relativePath
    let text = try read(file, shown: shown)
    return try parse(text, file: shown, root: root)
  }

  /// Parses YAML text (for tests); `file` is used in diagnostics and `Pipeline.file` only.
  public static func parse(_ text: String, file: String, root: URL) throws(PipelineError) -> Pipeline {
    try parseLocated(text, file: file, root: root).pipeline
  }

  /// Parses and validates, also returning where the pipeline name is written, so callers comparing several files
  /// can point at it.
  static func parseLocated(_ text: String, file: String, root: URL) throws(PipelineError) -> (
    pipeline: Pipeline, namePosition: SourcePosition
  ) {
    let size = text.utf8.count
    guard size <= maximumFileSize else {
      throw PipelineError(diagnostics: [tooLarge(size, file: file)])
    }
    let (tree, readDiagnostics) = YAMLReader.read(text, file: file)
    guard let tree else { throw PipelineError(diagnostics: readDiagnostics) }
    let decoder = PipelineDecoder(file: file)
    let draft = decoder.decode(tree)
    if let draft {
      decoder.checkReferences(draft)
      decoder.checkFolders(draft, root: root)
    }
    let diagnostics = readDiagnostics + decoder.diagnostics
    guard diagnostics.isEmpty, let draft, let name = draft.name else {
      throw PipelineError(diagnostics: diagnostics)
    }
    var checks: [String: CheckSpec] = [:]
    for check in draft.checks {
      guard let kind = check.kind else { continue }
      checks[check.name.value] = CheckSpec(
        name: check.name.value, kind: kind, policy: check.policy, dependency: check.dependency)
    }
    let pipeline = Pipeline(
      name: name.value, file: file, root: root.standardizedFileURL.path, ledger: draft.ledger, keep: draft.keep,
      hooks: draft.hooks,
      environments: draft.environments.map { environment in
        var spec = environment.spec
        let notify = environment.notify ?? draft.notify
        spec.notify = notify.isEmpty ? nil : notify
        return spec
      }, checks: checks)
    return (pipeline, name.position)
  }

  static func tooLarge(_ size: Int, file: String) -> Diagnostic {
    let mebibytes = String(format: "%.1f", Double(size) / Double(1 << 20))
    return Diagnostic(
      file: file, line: 0, column: 0,
      message: "file is \(mebibytes) MiB; pipelines are limited to 1 MiB (is this the right file?)")
  }

  /// Reads at most one byte more than the limit, so a huge file (or a device that never ends) costs nothing.
  static func read(_ file: URL, shown: String) throws(PipelineError) -> String {
    func failure(_ message: String) -> PipelineError {
      PipelineError(diagnostics: [Diagnostic(file: shown, line: 0, column: 0, message: message)])
    }
    // One open, fstat and read: FileManager's attributes also look up the owner's user and group names (NSS,
    // /etc/passwd), which cost more than parsing a pipeline.
    let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw failure("no such pipeline file") }
      throw failure("cannot read the file: \(String(cString: strerror(code)))")
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      throw failure("cannot read the file: \(String(cString: strerror(errno)))")
    }
    guard info.st_mode & S_IFMT != S_IFDIR else { throw failure("is a folder, not a pipeline file") }
    let reported = Int(info.st_size)
    if reported > maximumFileSize { throw PipelineError(diagnostics: [tooLarge(reported, file: shown)]) }
    // Up to one byte past the limit, so a file that grew (or a device that reports no size) is still caught.
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: min(maximumFileSize + 1, max(reported + 1, 4096)))
    while data.count <= maximumFileSize {
      let wanted = min(chunk.count, maximumFileSize + 1 - data.count)
      let read = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
      if read == 0 { break }
      guard read > 0 else {
        if errno == EINTR { continue }
        throw failure("cannot read the file: \(String(cString: strerror(errno)))")
      }
      data.append(contentsOf: chunk[..<read])
    }
    if data.count > maximumFileSize {
      throw PipelineError(diagnostics: [tooLarge(max(reported, data.count), file: shown)])
    }
    return try text(of: data, shown: shown)
  }

  /// Parses a file's bytes exactly as `load(file:root:)` does once it has read them: the same size limit, UTF-8
  /// check and byte order mark handling. For the fuzz target, which must not touch the disk for each input.
  @_spi(Fuzzing) public static func parse(bytes: Data, file: String, root: URL) throws(PipelineError) -> Pipeline {
    guard bytes.count <= maximumFileSize else { throw PipelineError(diagnostics: [tooLarge(bytes.count, file: file)]) }
    return try parse(text(of: bytes, shown: file), file: file, root: root)
  }

  /// What is wrong when the loader breaks its contract for `bytes`: they must give a pipeline, or diagnostics that
  /// each carry a position, a message and the file name given. `nil` when the contract holds. The fuzz target and
  /// the regression tests of its findings both ask this.
  @_spi(Fuzzing) public static func contractViolation(bytes: Data) -> String? {
    let file = "pipelines/fuzz.yml"
    do throws(PipelineError) {
      _ = try parse(bytes: bytes, file: file, root: URL(fileURLWithPath: "/nonexistent/airlock-fuzz-project"))
      return nil
    } catch {
      if error.diagnostics.isEmpty { return "a PipelineError without diagnostics" }
      let broken = error.diagnostics.first {
        $0.line < 1 || $0.column < 1 || $0.message.isEmpty || $0.file != file
      }
      return broken.map { "a diagnostic without a position, message or file: \($0)" }
    }
  }

  /// The file's bytes as text, or the position of the first byte that is not UTF-8.
  static func text(of data: Data, shown: String) throws(PipelineError) -> String {
    guard let text = String(validating: data, as: UTF8.self) else {
      let position = firstInvalidUTF8(in: data)
      throw PipelineError(diagnostics: [
        Diagnostic(
          file: shown, line: position.line, column: position.column,
          message: "the file is not UTF-8 text; save it as UTF-8")
      ])
    }
    return text
  }

  static func firstInvalidUTF8(in data: Data) -> SourcePosition {
    var line = 1
    var column = 1
    var parser = Unicode.UTF8.ForwardParser()
    // A byte order mark is not a column, as in `YAMLReader.read`.
    let start = data.starts(with: YAMLReader.byteOrderMark) ? YAMLReader.byteOrderMark.count : 0
    var iterator = data.dropFirst(start).makeIterator()
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let scalar):
        if scalar.count == 1 && scalar.first == UInt8(ascii: "\n") {
          line += 1
          column = 1
        } else {
          column += 1
        }
      case .error, .emptyInput:
        return SourcePosition(line: line, column: column)
      }
    }
  }
}
