import AirlockKit
import Foundation

/// Sets up a project in the folder given as the first argument (a pipeline whose verify names the
/// `min-free-space` kind, and an artifact), registers the kind, deploys through AirlockKit, and prints the verdict.
/// Exits with the documented exit code of the deploy.
@main
enum CustomCheckExample {
  static func main() async {
    guard CommandLine.arguments.count == 2 else {
      FileHandle.standardError.write(Data("usage: custom-check DIR\n".utf8))
      exit(2)
    }
    do {
      exit(try await run(in: URL(fileURLWithPath: CommandLine.arguments[1]).standardizedFileURL))
    } catch {
      FileHandle.standardError.write(Data("custom-check: \(error)\n".utf8))
      exit(1)
    }
  }

  static func run(in folder: URL) async throws -> Int32 {
    try CheckKinds.register(MinFreeSpaceCheck.registration)
    try write(
      """
      pipeline: app
      environments:
        - name: staging
          target:
            local: targets/staging
          verify: [disk]
      checks:
        disk:
          min-free-space: release
          bytes: 1048576
          attempts: 1
          pass: 1
      """, to: folder.appendingPathComponent("pipelines/app.yml"))
    let artifact = folder.appendingPathComponent("artifact")
    try write("hello from a custom check\n", to: artifact.appendingPathComponent("index.html"))

    let workspace = try Workspace.open(Workspace.Request(directory: folder))
    let pipeline = try workspace.requirePipeline()
    guard let ledger = try workspace.openLedger(create: true) else { return 1 }
    let environment = ProcessInfo.processInfo.environment
    let options = OperationOptions(
      actor: OperationOptions.actor(from: environment, gitIdentity: nil), environment: environment,
      progress: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    let report = try await workspace.orchestrator(ledger: ledger, options: options)
      .deploy(environment: "staging", artifact: artifact, version: "1.0.0")
    for check in report.checks { print("\(check.name) (\(check.kind)): \(check.verdict.rawValue) — \(check.summary)") }
    print("\(pipeline.name): \(report.summary)")
    return report.exitCode
  }

  static func write(_ text: String, to file: URL) throws {
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: file, atomically: true, encoding: .utf8)
  }
}
