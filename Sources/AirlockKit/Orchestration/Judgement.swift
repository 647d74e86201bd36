import Foundation

/// The verdict of a verify run, with what decides the failure policy.
enum Judgement {
  case pass
  /// The release is at fault: a non-dependency check failed, or `start` failed.
  case fail(String, checks: [String])
  /// A check could not be performed (broken check); nothing is rolled back.
  case inconclusive(String, checks: [String])
  /// Only dependency checks failed: reported, never rolled back.
  case dependencyDown(String, checks: [String])

  init(results: [CheckResult], startFailure: String?) {
    if let startFailure {
      self = .fail(startFailure, checks: ["start"])
      return
    }
    let failing = results.filter { $0.verdict == .fail && !$0.dependency }
    if !failing.isEmpty {
      self = .fail(
        "verify failed: " + failing.map(\.summary).joined(separator: "; "), checks: failing.map(\.name))
      return
    }
    let broken = results.filter { $0.verdict == .inconclusive }
    if !broken.isEmpty {
      self = .inconclusive(
        "inconclusive: check " + broken.map(\.summary).joined(separator: "; ") + " is broken",
        checks: broken.map(\.name))
      return
    }
    let dependencies = results.filter { $0.verdict == .fail }
    if !dependencies.isEmpty {
      self = .dependencyDown(
        "dependency down: " + dependencies.map(\.summary).joined(separator: "; "), checks: dependencies.map(\.name))
      return
    }
    self = .pass
  }

  var passed: Bool {
    if case .pass = self { return true }
    return false
  }

  /// Whether the release itself is judged bad, which is the only case a rollback can fix.
  var isReleaseFailure: Bool {
    if case .fail = self { return true }
    return false
  }

  var detail: String {
    switch self {
    case .pass: return "verified"
    case .fail(let detail, _), .inconclusive(let detail, _), .dependencyDown(let detail, _): return detail
    }
  }

  var failingChecks: [String] {
    switch self {
    case .pass: return []
    case .fail(_, let checks), .inconclusive(_, let checks), .dependencyDown(_, let checks): return checks
    }
  }
}
