import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A real HTTP/1.1 server on 127.0.0.1 and an ephemeral port, for tests that need a live endpoint.
///
/// Plain POSIX sockets on background threads (one per connection, so a delayed response does not hold up the
/// others); one request per connection, answered with `Connection: close`. The handler decides every response, so a
/// test can script a sequence (503, then 200s), a body carrying a version, a redirect, a slow answer or a body that
/// never ends. `stop()` interrupts pending delays and endless bodies, waits for every thread and closes every
/// socket; it also runs on deinit.
///
/// ```swift
/// let server = try TestHTTPServer { request in
///   request.number == 1 ? .init(status: 503) : .init(status: 200, body: "version 1.4.2")
/// }
/// defer { server.stop() }
/// let url = server.url("/healthz")
/// ```
public final class TestHTTPServer: Sendable {
  /// One request as the server received it.
  public struct Request: Sendable, Hashable {
    /// 1 for the first request the server received, 2 for the second, and so on.
    public var number: Int
    /// The request method (`GET`).
    public var method: String
    /// The request target as sent, query included (`/healthz?v=1`).
    public var path: String
    /// Header fields with lower-cased names.
    public var headers: [String: String]
    /// The request body (`Content-Length` bytes).
    public var body: Data
  }

  /// The answer to one request.
  public struct Response: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// Extra header fields; `Content-Length` and `Connection: close` are always added.
    public var headers: [String: String]
    /// The response body.
    public var body: Data
    /// How long to wait before answering; `stop()` cuts it short (the connection then closes unanswered).
    public var delay: Duration
    /// When set, `body` is sent again and again, this long apart, until the client goes away or the server stops;
    /// the response then has no `Content-Length` (its body would end when the connection closes).
    public var repeatEvery: Duration?

    /// A response with a UTF-8 text body.
    public init(status: Int = 200, body: String = "", headers: [String: String] = [:], delay: Duration = .zero) {
      self.init(status: status, data: Data(body.utf8), headers: headers, delay: delay)
    }

    /// A response with a binary body.
    public init(status: Int, data: Data, headers: [String: String] = [:], delay: Duration = .zero) {
      self.status = status
      self.body = data
      self.headers = headers
      self.delay = delay
    }

    /// A response whose body never ends: `chunk`, then `chunk` again every `pause`, for as long as the client reads.
    public static func endless(status: Int = 200, chunk: String, pause: Duration = .zero) -> Response {
      var response = Response(status: status, body: chunk)
      response.repeatEvery = pause
      return response
    }

    /// A redirect to `location`.
    public static func redirect(to location: String, status: Int = 302) -> Response {
      Response(status: status, headers: ["Location": location])
    }
  }

  /// The port the server listens on.
  public let port: UInt16
  private let listener: Int32
  /// Readable once `stop()` was called; never drained, so every poller sees it.
  private let stopReader: Int32
  private let stopWriter: Int32
  private let handler: @Sendable (Request) -> Response
  private let threads = DispatchGroup()
  private let state = Mutex(State())

  private struct State {
    var requests: [Request] = []
    var received = 0
    var stopped = false
    var bodyBytesSent = 0
    var endlessBodies = 0
  }

  /// Starts a server whose responses come from `handler`, called on a background thread once per request.
  public init(handler: @escaping @Sendable (Request) -> Response) throws {
    self.handler = handler
    let (listener, port) = try Self.listen()
    self.listener = listener
    self.port = port
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      close(listener)
      throw TestHTTPServerError.socket("pipe", errno)
    }
    stopReader = fds[0]
    stopWriter = fds[1]
    for fd in [listener, stopReader, stopWriter] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    threads.enter()
    let thread = Thread { [self] in
      acceptLoop()
      threads.leave()
    }
    thread.name = "test-http-server.\(port)"
    thread.start()
  }

  /// Starts a server answering the n-th request with `responses[n-1]`, and every later one with the last response.
  public convenience init(responses: [Response]) throws {
    precondition(!responses.isEmpty, "a scripted server needs at least one response")
    try self.init { request in responses[min(request.number, responses.count) - 1] }
  }

  deinit {
    stop()
  }

  /// `http://127.0.0.1:PORT` followed by `path`.
  public func url(_ path: String = "/") -> URL {
    URL(string: urlString(path))!
  }

  /// `http://127.0.0.1:PORT` followed by `path`, as text (handy inside pipeline files and check definitions).
  public func urlString(_ path: String = "/") -> String {
    "http://127.0.0.1:\(port)\(path)"
  }

  /// How many requests the server has received (counted before the handler runs).
  public var requestCount: Int {
    state.withLock { $0.received }
  }

  /// Every request received so far, in order.
  public var requests: [Request] {
    state.withLock { $0.requests }
  }

  /// How many body bytes the server has handed to the kernel so far, over every connection: how much a client of
  /// an endless body made it send (the kernel's socket buffers hold a few MiB of it beyond what the client read).
  public var bodyBytesSent: Int {
    state.withLock { $0.bodyBytesSent }
  }

  /// How many endless bodies are being sent now: one stops when its client closes the connection.
  public var endlessBodiesInFlight: Int {
    state.withLock { $0.endlessBodies }
  }

  /// Stops accepting, interrupts pending delays, and waits until every server thread has finished. Idempotent.
  public func stop() {
    let first = state.withLock { state in
      defer { state.stopped = true }
      return !state.stopped
    }
    guard first else { return }
    var byte: UInt8 = 1
    _ = write(stopWriter, &byte, 1)
    threads.wait()
    close(listener)
    close(stopReader)
    close(stopWriter)
  }

  // MARK: Serving

  private static func listen() throws -> (Int32, UInt16) {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw TestHTTPServerError.socket("socket", errno) }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    #if canImport(Glibc)
      let listening = Glibc.listen(fd, 64)
    #else
      let listening = Darwin.listen(fd, 64)
    #endif
    guard bound == 0, listening == 0 else {
      let code = errno
      close(fd)
      throw TestHTTPServerError.socket("bind", code)
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, UInt16(bigEndian: address.sin_port))
  }

  private func acceptLoop() {
    while true {
      var fds = [
        pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
        pollfd(fd: stopReader, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&fds, 2, -1)
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 || fds[1].revents != 0 { return }
      let connection = accept(listener, nil, nil)
      guard connection >= 0 else { continue }
      _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
      threads.enter()
      let thread = Thread { [self] in
        serve(connection)
        close(connection)
        threads.leave()
      }
      thread.start()
    }
  }

  private func serve(_ connection: Int32) {
    guard var request = readRequest(connection) else { return }
    state.withLock { state in
      state.received += 1
      request.number = state.received
      state.requests.append(request)
    }
    let response = handler(request)
    if response.delay > .zero && waitForStop(upTo: response.delay) { return }
    var head = "HTTP/1.1 \(response.status) \(Self.reasonPhrase(response.status))\r\n"
    var headers = response.headers
    if response.repeatEvery == nil { headers["Content-Length"] = String(response.body.count) }
    headers["Connection"] = "close"
    if headers["Content-Type"] == nil { headers["Content-Type"] = "text/plain; charset=utf-8" }
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
    head += "\r\n"
    guard let pause = response.repeatEvery else {
      if sendAll(connection, Data(head.utf8) + response.body) { count(response.body.count) }
      return
    }
    guard sendAll(connection, Data(head.utf8)) else { return }
    state.withLock { $0.endlessBodies += 1 }
    defer { state.withLock { $0.endlessBodies -= 1 } }
    while sendAll(connection, response.body) {
      count(response.body.count)
      if pause > .zero && waitForStop(upTo: pause) { return }
    }
  }

  private func count(_ bytes: Int) {
    state.withLock { $0.bodyBytesSent += bytes }
  }

  /// Reads one request: the head up to the blank line, then `Content-Length` bytes of body. `nil` when the client
  /// closed early (a TCP check connects and leaves), sent garbage, or the server is stopping.
  private func readRequest(_ connection: Int32) -> Request? {
    var buffer = Data()
    var headEnd: Range<Data.Index>?
    while headEnd == nil {
      guard let chunk = receive(connection) else { return nil }
      buffer.append(chunk)
      headEnd = buffer.range(of: Data("\r\n\r\n".utf8))
      if buffer.count > 1 << 20 { return nil }
    }
    guard let headEnd else { return nil }
    let head = String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let requestLine = lines.removeFirst().split(separator: " ")
    guard requestLine.count >= 2 else { return nil }
    var headers: [String: String] = [:]
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Data(buffer[headEnd.upperBound...])
    let length = Int(headers["content-length"] ?? "0") ?? 0
    while body.count < length {
      guard let chunk = receive(connection) else { return nil }
      body.append(chunk)
    }
    return Request(
      number: 0, method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
      body: body.prefix(length))
  }

  /// The next bytes from the client, or `nil` on end of stream, error, stop, or ten idle seconds.
  private func receive(_ connection: Int32) -> Data? {
    var fds = [
      pollfd(fd: connection, events: Int16(POLLIN), revents: 0),
      pollfd(fd: stopReader, events: Int16(POLLIN), revents: 0),
    ]
    var ready: Int32
    repeat { ready = poll(&fds, 2, 10_000) } while ready < 0 && errno == EINTR
    guard ready > 0, fds[1].revents == 0 else { return nil }
    var bytes = [UInt8](repeating: 0, count: 8192)
    let count = recv(connection, &bytes, bytes.count, 0)
    guard count > 0 else { return nil }
    return Data(bytes[..<count])
  }

  /// Waits `duration` unless the server stops first; returns whether it stopped.
  private func waitForStop(upTo duration: Duration) -> Bool {
    let deadline = ContinuousClock.now + duration
    while true {
      let remaining = deadline - ContinuousClock.now
      if remaining <= .zero { return false }
      let milliseconds = Int32(min(remaining.components.seconds * 1000 + 1, Int64(Int32.max)))
      var fds = [pollfd(fd: stopReader, events: Int16(POLLIN), revents: 0)]
      if poll(&fds, 1, milliseconds) > 0 { return true }
    }
  }

  /// Sends all of `data`; false when the client went away (or stopped reading for ten seconds) or the server is
  /// stopping. Waits for room in the socket rather than blocking in `send`, so `stop()` is never held up.
  @discardableResult
  private func sendAll(_ connection: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        var fds = [
          pollfd(fd: connection, events: Int16(POLLOUT), revents: 0),
          pollfd(fd: stopReader, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, 2, 10_000)
        if ready < 0 && errno == EINTR { continue }
        guard ready > 0, fds[1].revents == 0, fds[0].revents & Int16(POLLOUT) != 0 else { return false }
        #if canImport(Glibc)
          let sent = send(
            connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        #else
          let sent = send(connection, raw.baseAddress! + offset, raw.count - offset, MSG_DONTWAIT)
        #endif
        if sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) { continue }
        guard sent > 0 else { return false }
        offset += sent
      }
      return true
    }
  }

  private static func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 204: return "No Content"
    case 301: return "Moved Permanently"
    case 302: return "Found"
    case 404: return "Not Found"
    case 500: return "Internal Server Error"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
  }

  /// A port on 127.0.0.1 that nothing listens on (bound, then released), for "connection refused" tests.
  public static func closedPort() throws -> UInt16 {
    let (fd, port) = try listen()
    close(fd)
    return port
  }
}

/// Why the test server could not start.
public enum TestHTTPServerError: Error, CustomStringConvertible {
  /// A socket call failed with this `errno`.
  case socket(String, Int32)

  /// The failed call and its error text.
  public var description: String {
    switch self {
    case .socket(let call, let code): return "test server: \(call) failed: \(String(cString: strerror(code)))"
    }
  }
}
