import AirlockTestSupport
import Foundation
import Testing

/// `validate` refuses the planned `command` target with file, line and column, so a pipeline that validates is one
/// the commands can run; deploy refuses it the same way, before anything is created.
@Suite struct PlannedTargetTests {
  static let targets: [(kind: String, lines: String)] = [
    ("command", "      command:\n        deploy: [bin/deploy, '{release}']\n")
  ]

  @Test(arguments: targets)
  func validateAndDeployRefuseAPlannedTargetKind(kind: String, lines: String) async throws {
    let box = try ScratchProject()
    try box.write(
      "pipeline: web\nenvironments:\n  - name: staging\n    target:\n" + lines, to: "pipelines/web.yml")
    _ = try box.artifact("1")
    let validate = try await box.airlock("validate")
    #expect(validate.code == 2, "\(validate.output)")
    #expect(
      validate.stderr.contains(
        "pipelines/web.yml:5:7: error: target kind '\(kind)' is not implemented in this build of airlock (it is "
          + "planned); use 'local' or a registered kind"), "\(validate.stderr)")
    let deploy = try await box.airlock("deploy", "staging", "--artifact", "artifacts/1")
    #expect(deploy.code == 2, "\(deploy.output)")
    #expect(deploy.stderr.contains("web.yml:5:7"), "\(deploy.stderr)")
    #expect(!box.exists(".airlock"))
  }
}
