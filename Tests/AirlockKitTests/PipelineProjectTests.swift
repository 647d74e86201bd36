import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockKit

@Suite struct PipelineProjectTests {
  typealias Support = PipelineTestSupport

  @Test func locatesTheRootFromANestedFolder() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web.yml")
    let nested = folder.appendingPathComponent("src/app/deep", isDirectory: true)
    try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
    #expect(Project.locate(from: nested)?.root.path == folder.path)
    #expect(Project.locate(from: folder)?.root.path == folder.path)
  }

  @Test func findsNoProjectWithoutAPipelinesFolder() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    // A file called `pipelines` is not a pipelines folder.
    try FileManager.default.removeItem(at: scratch.url("pipelines"))
    try scratch.write("", to: "pipelines")
    #expect(Project.locate(from: folder) == nil)
  }

  @Test func listsYAMLFilesSortedByName() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    for name in ["web.yml", "api.yaml", "notes.txt", ".web.yml.swp", ".hidden.yml"] {
      try scratch.write(Support.minimalPipeline("x"), to: "pipelines/\(name)")
    }
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("pipelines/folder.yml"), withIntermediateDirectories: true)
    let files = Project(root: folder).pipelineFiles()
    #expect(files.map(\.relativePath) == ["pipelines/api.yaml", "pipelines/web.yml"])
    #expect(files.first?.path == folder.appendingPathComponent("pipelines/api.yaml").path)
  }

  @Test func choosesTheOnlyPipelineByDefault() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("shop"), to: "pipelines/main.yml")
    let pipeline = try Project(root: folder).selectPipeline(name: nil, file: nil)
    #expect(pipeline.name == "shop")
    #expect(pipeline.file == "pipelines/main.yml")
    #expect(pipeline.root == folder.path)
  }

  @Test func reportsTheErrorsOfTheOnlyPipeline() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write("pipeline: web\nkeep: 0\n", to: "pipelines/web.yml")
    #expect {
      _ = try Project(root: folder).selectPipeline(name: nil, file: nil)
    } throws: { error in
      let diagnostics = (error as? PipelineError)?.diagnostics ?? []
      return diagnostics.count == 2 && diagnostics.allSatisfy { $0.file == "pipelines/web.yml" }
    }
  }

  @Test func refusesToGuessAmongSeveralPipelines() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web.yml")
    try scratch.write(Support.minimalPipeline("api"), to: "pipelines/api.yml")
    try scratch.write("pipeline: [", to: "pipelines/broken.yml")
    #expect {
      _ = try Project(root: folder).selectPipeline(name: nil, file: nil)
    } throws: { error in
      let message = (error as? PipelineError)?.diagnostics.first?.message ?? ""
      return message
        == "several pipelines in pipelines/: api, pipelines/broken.yml (invalid), web; choose one with -p NAME"
    }
  }

  @Test func reportsAnEmptyPipelinesFolder() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    #expect {
      _ = try Project(root: folder).selectPipeline(name: nil, file: nil)
    } throws: { error in
      (error as? PipelineError)?.description.contains("no pipeline files") == true
    }
  }

  @Test func choosesByNameDespiteABrokenUnrelatedFile() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web.yml")
    try scratch.write(Support.minimalPipeline("api"), to: "pipelines/backend.yml")
    try scratch.write("pipeline: [", to: "pipelines/broken.yml")
    let project = Project(root: folder)
    #expect(try project.selectPipeline(name: "web", file: nil).file == "pipelines/web.yml")
    // Not found by file name: every loadable file is read to find the `pipeline:` name.
    #expect(try project.selectPipeline(name: "api", file: nil).file == "pipelines/backend.yml")
  }

  @Test func readsOtherFilesWhenTheNamedFileDeclaresAnotherPipeline() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("legacy"), to: "pipelines/web.yml")
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web-v2.yml")
    let pipeline = try Project(root: folder).selectPipeline(name: "web", file: nil)
    #expect(pipeline.file == "pipelines/web-v2.yml")
  }

  @Test func reportsTheNamedFilesOwnErrors() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write("pipeline: web\nkeep: lots\n", to: "pipelines/web.yml")
    try scratch.write(Support.minimalPipeline("api"), to: "pipelines/api.yml")
    #expect {
      _ = try Project(root: folder).selectPipeline(name: "web", file: nil)
    } throws: { error in
      (error as? PipelineError)?.diagnostics.contains { $0.file == "pipelines/web.yml" && $0.line == 2 } == true
    }
  }

  @Test func listsAvailablePipelinesForAnUnknownName() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web.yml")
    try scratch.write(Support.minimalPipeline("api"), to: "pipelines/api.yml")
    try scratch.write("pipeline: [", to: "pipelines/broken.yml")
    #expect {
      _ = try Project(root: folder).selectPipeline(name: "shop", file: nil)
    } throws: { error in
      (error as? PipelineError)?.description
        == "pipelines: error: no pipeline named 'shop' in pipelines/; available: api, web; "
        + "not loadable: pipelines/broken.yml (run 'airlock validate')"
    }
  }

  @Test func refusesAnInvalidNameAndAmbiguousNames() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/a.yml")
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/b.yml")
    let project = Project(root: folder)
    #expect {
      _ = try project.selectPipeline(name: "Web/..", file: nil)
    } throws: { error in
      (error as? PipelineError)?.description.contains("invalid pipeline name 'Web/..'") == true
    }
    #expect {
      _ = try project.selectPipeline(name: "web", file: nil)
    } throws: { error in
      (error as? PipelineError)?.description.contains(
        "several files define pipeline 'web': pipelines/a.yml, pipelines/b.yml") == true
    }
  }

  @Test func loadsAFileInsideAPipelinesFolderAgainstItsProject() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let other = folder.appendingPathComponent("elsewhere", isDirectory: true)
    let file = try scratch.write(Support.minimalPipeline("web"), to: "project/pipelines/web.yml")
    #expect(Project.root(forPipelineFile: file, currentDirectory: other).path == folder.path + "/project")
    let pipeline = try Project(root: other).selectPipeline(name: nil, file: file)
    #expect(pipeline.root == folder.path + "/project")
    #expect(pipeline.file == file.path)
  }

  @Test func loadsAFileOutsideAPipelinesFolderAgainstTheCurrentDirectory() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let file = try scratch.write(Support.minimalPipeline("scratch"), to: "tmp/scratch.yml")
    #expect(Project.root(forPipelineFile: file, currentDirectory: folder).path == folder.path)
    let pipeline = try Project(root: folder).selectPipeline(name: nil, file: file)
    #expect(pipeline.name == "scratch")
    #expect(pipeline.root == folder.path)
  }

  @Test func refusesAFileWhoseNameContradictsP() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    let file = try scratch.write(Support.minimalPipeline("web"), to: "pipelines/web.yml")
    let project = Project(root: folder)
    #expect(try project.selectPipeline(name: "web", file: file).name == "web")
    #expect {
      _ = try project.selectPipeline(name: "api", file: file)
    } throws: { error in
      (error as? PipelineError)?.description.contains("defines pipeline 'web', not 'api'") == true
    }
  }

  @Test func validatesEveryFileAndReportsAllErrors() throws {
    let scratch = try ScratchProject()
    let folder = scratch.root
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/a.yml")
    try scratch.write("pipeline: api\nkeep: 0\nhooks: 5\n", to: "pipelines/b.yml")
    try scratch.write(Support.minimalPipeline("web"), to: "pipelines/c.yml")
    let results = Project(root: folder).validateAll()
    #expect(results.map(\.file.relativePath) == ["pipelines/a.yml", "pipelines/b.yml", "pipelines/c.yml"])
    #expect((try? results[0].result.get())?.name == "web")
    guard case .failure(let second) = results[1].result, case .failure(let third) = results[2].result else {
      Issue.record("b.yml and c.yml must fail")
      return
    }
    #expect(second.diagnostics.map(\.line) == [1, 2, 3])
    #expect(third.diagnostics.count == 1)
    #expect(third.diagnostics.first?.message.contains("pipeline name 'web' is also used by pipelines/a.yml") == true)
    #expect(third.diagnostics.first.map { [$0.line, $0.column] } == [1, 11])
  }
}
