import Foundation

/// Checks what names refer to across a pipeline: environments in `requires`, `drift` and `differs_from`, and checks
/// in `preflight` and `verify`.
///
/// `requires` must name an environment listed earlier: `environments` is the promotion order, so a stage that
/// depends on a later one is a mistake even when it forms no cycle. A cycle is reported once, as a path, instead of
/// as one "comes later" error per edge.
extension PipelineDecoder {
  func checkReferences(_ draft: PipelineDraft) {
    var index: [String: Int] = [:]
    for (position, environment) in draft.environments.enumerated() {
      guard let name = environment.name else { continue }
      if let first = index[name.value], let firstPosition = draft.environments[first].name?.position {
        report(
          "duplicate environment name '\(name.value)' (first at \(firstPosition)); each environment needs its own name",
          at: name.position)
      } else {
        index[name.value] = position
      }
    }
    let environmentNames = draft.environments.compactMap { $0.name?.value }
    let cycleMembers = checkRequires(draft.environments, index: index)
    for (position, environment) in draft.environments.enumerated() {
      guard let requires = environment.requires, let name = environment.name?.value else { continue }
      if requires.value == name {
        report(
          "environment '\(name)' cannot require itself; 'requires' names the environment releases come from",
          at: requires.position)
      } else if let target = index[requires.value] {
        if target > position && !cycleMembers.contains(name) {
          report(
            "'\(name)' requires '\(requires.value)', which comes after it in 'environments'; environments are "
              + "listed in promotion order, so move '\(requires.value)' before '\(name)'", at: requires.position)
        }
      } else {
        report(
          "'requires' names environment '\(requires.value)', which does not exist"
            + didYouMean(requires.value, among: environmentNames), at: requires.position)
      }
    }

    var checks: [String: CheckDraft] = [:]
    for check in draft.checks { checks[check.name.value] = checks[check.name.value] ?? check }
    let checkNames = checks.keys.sorted()
    for check in draft.checks {
      for reference in check.differsFrom + (check.drift.map { [$0] } ?? []) where index[reference.value] == nil {
        report(
          "check '\(check.name.value)' compares with environment '\(reference.value)', which does not exist"
            + didYouMean(reference.value, among: environmentNames), at: reference.position)
      }
    }
    for environment in draft.environments {
      let name = environment.name?.value
      let label = name.map { "'\($0)'" } ?? "without a name"
      for (list, uses) in [("preflight", environment.preflight), ("verify", environment.verify)] {
        for use in uses {
          guard let check = checks[use.value] else {
            report(
              "\(list) of environment \(label) names check '\(use.value)', which is not defined under 'checks'"
                + didYouMean(use.value, among: checkNames), at: use.position)
            continue
          }
          if list == "verify", let kind = check.kind, kind.isPreflightOnly {
            report(
              "check '\(use.value)' is a \(kind.keyword) check, which inspects configuration before anything "
                + "changes; list it under 'preflight', not 'verify'", at: use.position)
          }
          let compared = check.differsFrom.map(\.value) + (check.drift.map { [$0.value] } ?? [])
          if let name, compared.contains(name) {
            report(
              "check '\(use.value)' compares environment '\(name)' with itself; point its "
                + "'\(check.drift == nil ? "differs_from" : "drift")' at another environment", at: use.position)
          }
        }
      }
      if let watch = environment.watch, watch.value.milliseconds > 0, environment.verify.isEmpty {
        report(
          "'watch' keeps running the verify checks after the switch, but environment \(label) has none; "
            + "add 'verify:' or remove 'watch'", at: watch.position)
      }
    }
  }

  /// Reports each cycle in `requires` once, at the first environment of the cycle in list order; returns the names
  /// of every environment on a cycle.
  private func checkRequires(_ environments: [EnvironmentDraft], index: [String: Int]) -> Set<String> {
    var next: [Int: Int] = [:]
    for (position, environment) in environments.enumerated() {
      guard let name = environment.name?.value, index[name] == position, let requires = environment.requires,
        let target = index[requires.value], target != position
      else { continue }
      next[position] = target
    }
    var members = Set<String>()
    var reported = Set<Int>()
    for start in environments.indices {
      var path = [start]
      var current = start
      while let target = next[current], !reported.contains(target) {
        if let loopStart = path.firstIndex(of: target) {
          let cycle = Array(path[loopStart...])
          reported.formUnion(cycle)
          let first = cycle.min()!
          let rotated = Array(cycle[cycle.firstIndex(of: first)!...] + cycle[..<cycle.firstIndex(of: first)!])
          let names = (rotated + [first]).compactMap { environments[$0].name?.value }
          members.formUnion(names)
          if let position = environments[first].requires?.position {
            report("requires cycle: \(names.joined(separator: " → ")); remove one of these 'requires'", at: position)
          }
          break
        }
        path.append(target)
        current = target
      }
    }
    return members
  }
}
