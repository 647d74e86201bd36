import AirlockTestSupport
import Foundation
import Testing

/// `examples/nginx-blue-green` against a real nginx: the command target's `apply` rewrites the root nginx serves and
/// reloads it, `current` asks nginx what it serves.
@Suite struct NginxExampleTests {
  static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/nginx-blue-green")

  @Test func promotesRollsBackAutomaticallyAndByCommandAndConvergesAHandMadeChange() async throws {
    let box = try ScratchProject()
    let nginx = try await TestNginx(in: box, example: Self.example)
    defer { nginx.stop() }
    try box.nginxProject(nginx)

    try await box.shipSite("1.0", to: nginx)
    #expect(try await box.fetch(nginx, "/VERSION") == "1.0\n")

    // 2.0 has no index page: its check fails, and the automatic rollback applies 1.0 again.
    try box.siteArtifact("2.0", index: false)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    let failed = try await box.airlock("promote", "production")
    #expect(failed.code == 4, "\(failed.output)")
    #expect(try await box.fetch(nginx, "/VERSION") == "1.0\n")
    #expect(try await box.airlock("promote", "production", "--release", "2.0").code == 3)

    try await box.shipSite("3.0", to: nginx)
    #expect(try await box.fetch(nginx, "/VERSION") == "3.0\n")
    let rollback = try await box.airlock("rollback", "production")
    #expect(rollback.code == 0, "\(rollback.output)")
    #expect(try await box.fetch(nginx, "/VERSION") == "1.0\n")

    // Someone points nginx elsewhere by hand: status says so, and the next promotion applies again.
    try "root \(nginx.prefix.path)/empty;\n".write(
      to: nginx.prefix.appendingPathComponent("served.conf"), atomically: true, encoding: .utf8)
    #expect(
      try await box.run(
        "/usr/sbin/nginx", ["-p", nginx.prefix.path, "-c", "nginx.conf", "-s", "reload"], environment: [:]
      ).code == 0)
    var status = try await box.airlock("status")
    for _ in 0..<100 where !status.stdout.contains("! target:") {
      try await Task.sleep(for: .milliseconds(20))
      status = try await box.airlock("status")
    }
    #expect(status.stdout.contains("production: 1.0"), "\(status.stdout)")
    #expect(status.stdout.contains("! target: the target's current program (bin/live) failed"), "\(status.stdout)")
    #expect(try await box.airlock("verify", "production").code == 3)
    try await box.shipSite("4.0", to: nginx)
    #expect(try await box.fetch(nginx, "/VERSION") == "4.0\n")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }
}

/// A failing `apply` and a run killed during `apply`, against the same real nginx.
@Suite struct NginxFailureTests {
  @Test func aFailingApplyRollsBackAndAKilledOneIsAppliedAgain() async throws {
    let box = try ScratchProject()
    let nginx = try await TestNginx(in: box, example: NginxExampleTests.example)
    defer { nginx.stop() }
    try box.nginxProject(nginx)
    try await box.shipSite("1.0", to: nginx)

    // 2.0's apply refuses before touching nginx: a failed verify, and 1.0 is applied again.
    try box.siteArtifact("2.0")
    try box.write(
      "#!/bin/sh\necho 'nginx: configuration test failed' >&2\nexit 1\n", to: "artifacts/2.0/bin/apply",
      executable: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/2.0", "--version", "2.0").code == 0)
    let failed = try await box.airlock("promote", "production")
    #expect(failed.code == 4, "\(failed.output)")
    #expect(failed.stderr.contains("apply exit 1: nginx: configuration test failed"), "\(failed.stderr)")
    #expect(try await box.fetch(nginx, "/VERSION") == "1.0\n")

    // 3.0's apply waits for a gate before doing its work; the promotion is killed meanwhile.
    try box.siteArtifact("3.0")
    let apply = try String(contentsOf: box.url("artifacts/3.0/bin/apply"), encoding: .utf8)
    let gate = box.path("gate")
    try box.write(
      apply.replacingOccurrences(
        of: "set -eu\n",
        with: "set -eu\necho $$ > \"\(box.path("in-apply"))\"\n"
          + "i=0; while [ ! -f \"\(gate)\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"),
      to: "artifacts/3.0/bin/apply", executable: true)
    #expect(try await box.airlock("deploy", "staging", "--artifact", "artifacts/3.0", "--version", "3.0").code == 0)
    let promote = try box.start(["promote", "production"])
    let pid = try #require(try await box.waitFor("in-apply")).trimmingCharacters(in: .whitespacesAndNewlines)
    kill(promote.pid, SIGKILL)
    _ = try? await promote.run.value
    kill(-(Int32(pid) ?? 0), SIGKILL)
    #expect(try await box.fetch(nginx, "/VERSION") == "1.0\n")
    let status = try await box.airlock("status")
    #expect(status.stdout.contains("! interrupted: promote by e2e-tester was interrupted"), "\(status.stdout)")

    try box.write("", to: "gate")
    let again = try await box.airlock("promote", "production")
    #expect(again.code == 0, "\(again.output)")
    #expect(try await box.fetch(nginx, "/VERSION") == "3.0\n")
    #expect(try await box.git("fsck", "--strict").code == 0)
  }
}

/// The command-target examples users copy: each one's pipeline is valid as shipped.
@Suite struct CommandExampleTests {
  @Test(arguments: ["nginx-blue-green", "kubernetes", "helm"])
  func theExamplePipelineValidates(example: String) async throws {
    let box = try ScratchProject()
    let folder = NginxExampleTests.example.deletingLastPathComponent().appendingPathComponent(example)
    let validate = try await box.airlock(["validate"], in: folder)
    #expect(validate.code == 0, "\(validate.output)")
    #expect(validate.stdout.contains(": ok (pipeline "), "\(validate.stdout)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".airlock").path))
  }
}

extension ScratchProject {
  /// The example's pipeline with this nginx's prefix and address.
  func nginxProject(_ nginx: TestNginx) throws {
    let text = try String(
      contentsOf: NginxExampleTests.example.appendingPathComponent("pipelines/site.yml"), encoding: .utf8)
    try pipeline(
      text.replacingOccurrences(of: "/srv/nginx-site", with: nginx.prefix.path)
        .replacingOccurrences(of: "http://127.0.0.1:8080", with: nginx.url), named: "site")
  }

  /// The example's site as release `version`: its scripts, a VERSION of `version`, and an index page unless told.
  func siteArtifact(_ version: String, index: Bool = true) throws {
    let site = NginxExampleTests.example.appendingPathComponent("site")
    for script in ["apply", "live", "serving"] {
      let text = try String(contentsOf: site.appendingPathComponent("bin/\(script)"), encoding: .utf8)
      try write(text, to: "artifacts/\(version)/bin/\(script)", executable: true)
    }
    try write("\(version)\n", to: "artifacts/\(version)/public/VERSION")
    if index { try write("<h1>site \(version)</h1>\n", to: "artifacts/\(version)/public/index.html") }
  }

  /// Deploys `version` to staging and promotes it to nginx, expecting both to succeed.
  func shipSite(_ version: String, to nginx: TestNginx) async throws {
    try siteArtifact(version)
    let deploy = try await airlock("deploy", "staging", "--artifact", "artifacts/\(version)", "--version", version)
    #expect(deploy.code == 0, "\(deploy.output)")
    let promote = try await airlock("promote", "production")
    #expect(promote.code == 0, "\(promote.output)")
  }

  /// What nginx answers for `path`.
  func fetch(_ nginx: TestNginx, _ path: String) async throws -> String {
    try await run("/usr/bin/curl", ["-fsS", nginx.url + path], environment: [:]).stdout
  }
}
