import AirlockTestSupport
import Foundation
import Synchronization
import Testing

@testable import AirlockKit

@Suite struct CheckHTTPTests {
  /// The default quorum with a timeout no stall of a busy shared machine reaches: these tests are about statuses
  /// and quorum, not deadlines (the timeout tests below set their own). At the start of a test run every suite starts
  /// at once, and a first probe once waited more than the default five seconds for its thread.
  static let patient = ProbePolicy(timeout: .seconds(30))

  @Test func passesOnTheExpectedStatus() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 200, body: "ok")])
    defer { server.stop() }
    let check = HTTPCheck(name: "health", url: "http://{host}:\(server.port)/healthz", policy: Self.patient)

    let result = await check.evaluate(in: .testing(hosts: ["127.0.0.1"]))

    #expect(result.verdict == .pass)
    #expect(result.reasons() == ["ok", "ok"])
    #expect(server.requestCount == 2)
    #expect(server.requests.map(\.path) == ["/healthz", "/healthz"])
    #expect(server.requests.first?.method == "GET")
    #expect(result.summary == "health: pass on 1 of 1 host")
  }

  @Test func recordsAFailingProbeBeforeTheQuorumPasses() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 503), .init(status: 200)])
    defer { server.stop() }
    let clock = ManualClock()
    let check = HTTPCheck(name: "health", url: server.urlString("/healthz"), policy: Self.patient)

    let result = await check.evaluate(in: .testing(clock: clock))

    #expect(result.verdict == .pass)
    #expect(result.reasons() == ["status 503", "ok", "ok"])
    #expect(result.hosts[0].probes.map(\.outcome) == [.failed, .ok, .ok])
    #expect(clock.sleeps.count == 2)
  }

  @Test func failsWhenTheStatusStaysWrong() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 500)])
    defer { server.stop() }
    let check = HTTPCheck(name: "health", url: server.urlString(), policy: Self.patient)

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == Array(repeating: "status 500", count: 4))
    #expect(server.requestCount == 4)
  }

  @Test(arguments: [("1.4.2", Verdict.pass, "ok"), ("1.4.3", .fail, "body lacks \"version 1.4.3\"")])
  func substitutesTheVersionInURLAndBody(version: String, verdict: Verdict, reason: String) async throws {
    let server = try TestHTTPServer { request in
      .init(status: 200, body: "{\"status\": \"up\", \"version 1.4.2\": true, \"path\": \"\(request.path)\"}")
    }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "version", url: server.urlString("/version?expect={version}&tree={release}"), contains: "version {version}",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: Self.patient.timeout))

    let result = await check.evaluate(in: .testing(version: version))

    #expect(result.verdict == verdict)
    #expect(result.reasons() == [reason])
    #expect(server.requests.first?.path == "/version?expect=\(version)&tree=abc123")
  }

  @Test func reportsARefusedConnection() async throws {
    let port = try TestHTTPServer.closedPort()
    let check = HTTPCheck(name: "health", url: "http://127.0.0.1:\(port)/healthz", policy: Self.patient)

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["refused", "refused", "refused", "refused"])
  }

  @Test func reportsASlowResponseAsTimeout() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 200, delay: .seconds(5))])
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: server.urlString(), policy: ProbePolicy(attempts: 1, pass: 1, timeout: .milliseconds(200)))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["timeout"])
  }

  @Test func doesNotFollowRedirects() async throws {
    let server = try TestHTTPServer { request in
      request.path == "/healthz" ? .redirect(to: "/login") : .init(status: 200, body: "login page")
    }
    defer { server.stop() }
    let once = ProbePolicy(attempts: 1, pass: 1, timeout: Self.patient.timeout)
    let failing = HTTPCheck(name: "health", url: server.urlString("/healthz"), policy: once)
    let accepting = HTTPCheck(name: "health", url: server.urlString("/healthz"), expect: 302, policy: once)

    let failed = await failing.evaluate(in: .testing())
    let passed = await accepting.evaluate(in: .testing())

    #expect(failed.reasons() == ["status 302 (redirect to /login)"])
    #expect(passed.verdict == .pass)
    #expect(server.requests.map(\.path) == ["/healthz", "/healthz"])
  }

  @Test(arguments: [
    ("not a url", "invalid URL: not a url"),
    ("ftp://127.0.0.1/file", "unsupported scheme: ftp"),
    ("http:///healthz", "invalid URL: http:///healthz"),
  ])
  func reportsAnUnusableURLAsInconclusive(url: String, reason: String) async {
    let check = HTTPCheck(name: "health", url: url)

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .inconclusive)
    #expect(result.reasons() == [reason])
    #expect(result.hosts[0].probes[0].outcome == .error)
  }

  @Test func bracketsAnIPv6HostInTheURL() {
    let context = CheckContext.testing()
    #expect(context.substituteAddress("http://{host}:8080/", host: "::1") == "http://[::1]:8080/")
    #expect(context.substituteAddress("http://{host}:8080/", host: "web1") == "http://web1:8080/")
    #expect(context.substitute("{host} {version} {release}", host: "::1") == "::1 1.4.2 abc123")
  }

  /// An IPv6 literal is connected to without its brackets: nothing listens there, so the probe is refused (or finds
  /// no IPv6 loopback), but the name is never looked up as `[::1]`.
  @Test func connectsToAnIPv6LiteralHost() async throws {
    let port = try TestHTTPServer.closedPort()
    let check = HTTPCheck(name: "health", url: "http://{host}:\(port)/", policy: ProbePolicy(attempts: 1, pass: 1))

    let result = await check.evaluate(in: .testing(hosts: ["::1"]))

    #expect(result.verdict == .fail)
    #expect(result.reasons().count == 1)
    #expect(result.reasons().allSatisfy { !$0.hasPrefix("cannot resolve") }, "\(result.reasons())")
  }

  @Test func probesEveryHost() async throws {
    let server = try TestHTTPServer(responses: [.init(status: 200)])
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: "http://{host}:\(server.port)/", policy: ProbePolicy(attempts: 1, pass: 1))

    let result = await check.evaluate(in: .testing(hosts: ["127.0.0.1", "localhost"]))

    #expect(result.verdict == .pass)
    #expect(result.hosts.map(\.host) == ["127.0.0.1", "localhost"])
    #expect(server.requestCount == 2)
  }
}

@Suite struct CheckHTTPDeadlineTests {
  /// A probe whose deadline passes before its request task even started (a busy machine, a short timeout) must
  /// report a timeout and leave nothing behind that traps later: swift-corelibs-foundation ends the process when a
  /// request starts on a session that was already invalidated.
  ///
  /// Every thread of the cooperative pool is held while the probe runs on a thread of its own, so the request's
  /// task can only start after the probe gave up and returned; then the threads are let go.
  @Test(arguments: ["http", "https"])
  func aProbeAbandonedBeforeItsRequestStartsReportsATimeoutAndNothingTrapsLater(scheme: String) async throws {
    let server = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: "\(scheme)://127.0.0.1:\(server.port)/healthz",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .milliseconds(1)))
    let executor = OwnThreadExecutor()
    defer { executor.stop() }

    let (outcome, reason) = await withTaskExecutorPreference(executor) {
      // Other tests may hold a pool thread for seconds; never keep the rest of the pool waiting for it.
      var hold: PoolHold?
      for _ in 0..<50 where hold == nil {
        hold = PoolHold.takeEveryThread(within: .milliseconds(50))
      }
      defer { hold?.letGo() }
      return await check.probe(host: "localhost", attempt: 1, in: .testing())
    }

    #expect(outcome == .failed)
    #expect(reason == "timeout")
    // Give the abandoned request's task its turn; before the fix it trapped here.
    try await Task.sleep(for: .milliseconds(300))
  }
}

extension CheckHTTPDeadlineTests {
  /// An endpoint that accepts the connection but never completes a TLS handshake (it speaks plain HTTP and waits
  /// for a request line that never comes): the deadline ends the probe and cancels the transfer.
  @Test func anHTTPSProbeWhoseHandshakeNeverEndsTimesOut() async throws {
    let server = try TestHTTPServer { _ in .init(status: 200, body: "ok") }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "health", url: "https://127.0.0.1:\(server.port)/healthz",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .milliseconds(500)))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["timeout"])
  }
}

/// Holds every thread of Swift's cooperative pool until `letGo()`, so that work enqueued there cannot start.
final class PoolHold: Sendable {
  let width: Int
  private let holding = LockedValue(0)
  private let release = DispatchSemaphore(value: 0)

  private init(width: Int) {
    self.width = width
  }

  /// Starts one blocking task per pool thread; returns the hold once all of them run, or lets go and returns `nil`
  /// when they do not all run within `limit`. Call it off the pool.
  static func takeEveryThread(within limit: Duration) -> PoolHold? {
    let hold = PoolHold(width: ProcessInfo.processInfo.activeProcessorCount)
    for _ in 0..<hold.width {
      Task.detached { hold.hold() }
    }
    let deadline = ContinuousClock.now + limit
    while hold.holding.value < hold.width {
      if ContinuousClock.now > deadline {
        hold.letGo()
        return nil
      }
      usleep(1000)
    }
    return hold
  }

  /// Lets every blocking task finish, including those that have not started yet.
  func letGo() {
    for _ in 0..<width { release.signal() }
  }

  private func hold() {
    holding.withLock { $0 += 1 }
    release.wait()
  }
}

/// Runs the jobs of the tasks that prefer it on one thread of its own, outside the cooperative pool.
final class OwnThreadExecutor: TaskExecutor {
  private let jobs = Mutex<(queue: [UnownedJob], stopped: Bool)>(([], false))
  private let ready = DispatchSemaphore(value: 0)

  init() {
    let thread = Thread { [self] in run() }
    thread.name = "test.own-thread-executor"
    thread.start()
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    jobs.withLock { $0.queue.append(job) }
    ready.signal()
  }

  /// Ends the thread once the jobs enqueued so far have run.
  func stop() {
    jobs.withLock { $0.stopped = true }
    ready.signal()
  }

  private func run() {
    while true {
      ready.wait()
      while let job = jobs.withLock({ $0.queue.isEmpty ? nil : $0.queue.removeFirst() }) {
        job.runSynchronously(on: asUnownedTaskExecutor())
      }
      if jobs.withLock({ $0.stopped && $0.queue.isEmpty }) { return }
    }
  }
}

/// Item 6: a probe is bounded by its timeout in wall time, body included, and reads at most `HTTPCheck.bodyLimit`
/// bytes of a body, however long the endpoint goes on sending.
@Suite struct CheckHTTPBodyLimitTests {
  /// What the kernel's socket buffers on both ends of a loopback connection may hold beyond what the probe read.
  static let socketBuffers = 32 << 20

  /// A probe's deadline long enough that only the body limit can end a fast endless body first.
  static let generous = ProbePolicy(attempts: 1, pass: 1, timeout: .seconds(20))

  /// Waits (at most 30 s) until the server no longer sends any endless body: the probe's transfer has stopped.
  static func transfersStopped(_ server: TestHTTPServer) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(30)
    while server.endlessBodiesInFlight > 0 && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    return server.endlessBodiesInFlight == 0
  }

  @Test func anEndlessBodyWithoutTheStringStopsAtTheLimit() async throws {
    let server = try TestHTTPServer { _ in .endless(chunk: String(repeating: "x", count: 64 * 1024)) }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "version", url: server.urlString(), contains: "version {version}", policy: Self.generous)

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["body lacks \"version 1.4.2\" in its first 1 MiB"])
    #expect(try await Self.transfersStopped(server))
    #expect(server.bodyBytesSent <= HTTPCheck.bodyLimit + Self.socketBuffers, "\(server.bodyBytesSent) bytes sent")
  }

  @Test func anEndlessBodyPassesAsSoonAsTheStringArrives() async throws {
    let server = try TestHTTPServer { _ in .endless(chunk: "{\"version\": \"1.4.2\"}\n") }
    defer { server.stop() }
    let check = HTTPCheck(name: "version", url: server.urlString(), contains: "\"1.4.2\"", policy: Self.generous)

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .pass)
    #expect(result.reasons() == ["ok"])
    #expect(try await Self.transfersStopped(server))
    #expect(server.bodyBytesSent <= HTTPCheck.bodyLimit + Self.socketBuffers, "\(server.bodyBytesSent) bytes sent")
  }

  @Test func withoutContainsTheStatusDecidesAndTheBodyIsNotRead() async throws {
    let server = try TestHTTPServer { request in
      .endless(status: request.number == 1 ? 200 : 503, chunk: String(repeating: "x", count: 64 * 1024))
    }
    defer { server.stop() }
    let check = HTTPCheck(name: "health", url: server.urlString(), policy: Self.generous)

    let passed = await check.evaluate(host: "localhost", in: .testing())
    let failed = await check.evaluate(host: "localhost", in: .testing())

    #expect(passed.probes.first.map(\.reason) == "ok")
    #expect(failed.probes.first.map(\.reason) == "status 503")
    #expect(try await Self.transfersStopped(server))
    #expect(server.bodyBytesSent <= Self.socketBuffers, "\(server.bodyBytesSent) bytes sent")
  }

  /// A slow endless body never reaches the limit: the deadline ends the probe, and the transfer with it.
  @Test func aSlowEndlessBodyEndsAtTheDeadline() async throws {
    let server = try TestHTTPServer { _ in .endless(chunk: "still going\n", pause: .milliseconds(20)) }
    defer { server.stop() }
    let check = HTTPCheck(
      name: "version", url: server.urlString(), contains: "version {version}",
      policy: ProbePolicy(attempts: 1, pass: 1, timeout: .milliseconds(500)))

    let result = await check.evaluate(in: .testing())

    #expect(result.verdict == .fail)
    #expect(result.reasons() == ["timeout"])
    #expect(try await Self.transfersStopped(server))
  }

  /// Where the string sits relative to the limit: wholly inside it is seen, crossing it or beyond it is not.
  @Test(arguments: [
    (HTTPCheck.bodyLimit - 6, "ok"), (HTTPCheck.bodyLimit - 3, "body lacks \"needle\" in its first 1 MiB"),
    (HTTPCheck.bodyLimit, "body lacks \"needle\" in its first 1 MiB"), (100_003, "ok"),
  ])
  func containsSeesTheFirstMebibyteOnly(offset: Int, reason: String) async throws {
    let body = Data(repeating: UInt8(ascii: "x"), count: offset) + Data("needle".utf8) + Data(count: 10)
    let server = try TestHTTPServer(responses: [.init(status: 200, data: body)])
    defer { server.stop() }
    let check = HTTPCheck(name: "needle", url: server.urlString(), contains: "needle", policy: Self.generous)

    let result = await check.evaluate(in: .testing())

    #expect(result.reasons() == [reason])
  }
}

extension CheckHTTPBodyLimitTests {
  /// A chunked body is decoded before the search, so a string split across chunks is found and the chunk sizes
  /// never match.
  @Test(arguments: [("needle", "ok"), ("5\r\nne", "body lacks \"5\r\nne\"")])
  func searchesAChunkedBodyAsDecoded(needle: String, reason: String) async throws {
    let chunked = "4\r\nxxne\r\n5\r\nedle \r\n3\r\nend\r\n0\r\n\r\n"
    let server = try TestHTTPServer(responses: [
      .init(status: 200, body: chunked, headers: ["Transfer-Encoding": "chunked"])
    ])
    defer { server.stop() }
    let check = HTTPCheck(name: "needle", url: server.urlString(), contains: needle, policy: Self.generous)

    let result = await check.evaluate(in: .testing())

    #expect(result.reasons() == [reason])
  }
}
