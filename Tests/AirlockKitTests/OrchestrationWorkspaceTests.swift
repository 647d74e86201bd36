import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

/// How a library user opens a project: `Workspace.open` with a folder URL, however that URL was made.
@Suite struct OrchestrationWorkspaceTests {
  /// A folder URL made by `appendingPathComponent` before the folder existed has no trailing slash; a relative URL
  /// resolved against it must still land inside the folder, not beside it.
  @Test(arguments: [false, true])
  func opensThePipelineWhetherOrNotTheFolderURLEndsInASlash(isDirectory: Bool) throws {
    let folder = try ScratchProject("airlock-workspace")
    try folder.pipeline(
      """
      pipeline: web
      environments:
        - name: staging
          target:
            local: targets/staging

      """)
    let directory = URL(fileURLWithPath: folder.root.path, isDirectory: isDirectory)
    let workspace = try Workspace.open(Workspace.Request(directory: directory))
    #expect(workspace.pipelineError == nil, "\(workspace.pipelineError.map { "\($0)" } ?? "")")
    #expect(workspace.pipeline?.name == "web")
    #expect(workspace.ledgerURL.path == folder.root.appendingPathComponent(".airlock/ledger.git").path)

    let inside = URL(fileURLWithPath: folder.path("pipelines"), isDirectory: isDirectory)
    #expect(try Workspace.open(Workspace.Request(directory: inside)).pipeline?.name == "web")
  }
}
