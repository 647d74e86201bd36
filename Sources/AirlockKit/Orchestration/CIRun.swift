import Foundation

/// The CI job a command runs in, as the CI service's own variables describe it: who started it and where to see it.
///
/// Read from the process environment so an event records the person behind a pipeline run (not `runner` or the
/// OS user of a build agent) and a link to the run (`runURL`).
public struct CIRun: Sendable, Hashable {
  /// The CI services Airlock recognises.
  public enum Service: String, Sendable, CaseIterable {
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    case githubActions = "GitHub Actions"
    /// GitLab CI (`GITLAB_CI` set).
    case gitLab = "GitLab CI"
    /// Buildkite (`BUILDKITE` set).
    case buildkite = "Buildkite"
    /// Jenkins (`JENKINS_URL` set).
    case jenkins = "Jenkins"
  }

  /// The service the job runs on.
  public var service: Service
  /// Who started the job, when the service says; becomes the actor unless `AIRLOCK_ACTOR` is set.
  public var actor: String?
  /// A link to the job or build, when the service gives one.
  public var url: String?

  /// The job described by `environment`'s variables, or `nil` outside a CI service Airlock recognises.
  ///
  /// GitHub Actions: `GITHUB_ACTOR`, `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID`. GitLab:
  /// `GITLAB_USER_LOGIN`, `CI_JOB_URL`. Buildkite: `BUILDKITE_BUILD_CREATOR` else `BUILDKITE_BUILD_AUTHOR`,
  /// `BUILDKITE_BUILD_URL`. Jenkins: `BUILD_USER_ID` else `jenkins`, `BUILD_URL`. Empty variables count as unset.
  public static func detect(in environment: [String: String]) -> CIRun? {
    func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    if value("GITHUB_ACTIONS") == "true" {
      var url: String?
      if let server = value("GITHUB_SERVER_URL"), let repository = value("GITHUB_REPOSITORY"),
        let run = value("GITHUB_RUN_ID")
      {
        url = "\(server)/\(repository)/actions/runs/\(run)"
      }
      return CIRun(service: .githubActions, actor: value("GITHUB_ACTOR"), url: url)
    }
    if value("GITLAB_CI") != nil {
      return CIRun(service: .gitLab, actor: value("GITLAB_USER_LOGIN"), url: value("CI_JOB_URL"))
    }
    if value("BUILDKITE") != nil {
      return CIRun(
        service: .buildkite, actor: value("BUILDKITE_BUILD_CREATOR") ?? value("BUILDKITE_BUILD_AUTHOR"),
        url: value("BUILDKITE_BUILD_URL"))
    }
    if value("JENKINS_URL") != nil {
      return CIRun(service: .jenkins, actor: value("BUILD_USER_ID") ?? "jenkins", url: value("BUILD_URL"))
    }
    return nil
  }
}
