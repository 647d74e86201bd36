import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What one HTTP exchange produced, in a form that can cross the deadline's task boundary.
enum HTTPAnswer: Sendable {
  /// What the body showed, as far as it was read.
  enum Body: Sendable {
    /// Not read: the status alone decides.
    case unread
    /// The string turned up.
    case found
    /// The whole body was read without the string.
    case lacking
    /// The first `HTTPCheck.bodyLimit` bytes were read without the string; the rest was not.
    case lackingWithinLimit
  }

  /// A response: its status, where it redirects, what the body showed, and the body's first bytes as read
  /// (`HTTPCheck.excerptLimit` at most), the evidence of a failing probe.
  case response(status: Int, location: String?, body: Body, excerpt: Data)
  case failure(Probe.Outcome, String)
}

/// Looks for a string in a body as it arrives, keeping at most `limit` bytes; without a string, only keeps them.
struct BodySearch {
  let needle: Data?
  let limit: Int
  private(set) var seen = Data()

  init(needle: Data?, limit: Int) {
    self.needle = needle
    self.limit = limit
  }

  /// Takes the next bytes of the body; returns the verdict once it is known (found, or `limit` bytes without it).
  mutating func take(_ bytes: some DataProtocol) -> HTTPAnswer.Body? {
    // Only the bytes that could complete a match with what came before are searched again.
    let from = max(0, seen.count - (needle?.count ?? 0) + 1)
    seen.append(contentsOf: bytes.prefix(limit - seen.count))
    if let needle, seen.range(of: needle, in: from..<seen.count) != nil { return .found }
    return seen.count >= limit ? .lackingWithinLimit : nil
  }
}

/// One `GET` (or a `POST` of a small body) over a TCP connection, plain or TLS, bounded by a deadline and by the body limit: the `http://` and
/// `https://` probe.
///
/// HTTP/1.1 with `Connection: close`; a body framed by `Content-Length`, by chunked transfer coding or by the end of
/// the connection. It stops reading as soon as the answer is known: the status when it decides alone, the string
/// found, or `limit` body bytes read. Blocks the calling thread; every wait ends at `deadline`.
struct HTTPExchange: Sendable {
  /// The host to connect to (an IPv6 literal without brackets) and its port.
  var host: String
  var port: UInt16
  /// The request: path and query, and the `Host` header's value.
  var target: String
  var hostHeader: String
  var userAgent: String
  /// The status a healthy response has, and the string its body must contain (`nil`: the status decides).
  var expect: Int
  var needle: Data?
  var limit: Int
  /// For `https`: the PEM bundle whose certificates the server's must chain to; `nil` speaks plain HTTP.
  var trustedFile: String? = nil
  /// A body to send with `POST` and its media type; `nil` sends a `GET`.
  var payload: (body: Data, type: String)? = nil

  /// The most a response head may take.
  static let headLimit = 64 * 1024

  /// Why a URL cannot be asked.
  enum AddressError: Error {
    /// Not a URL with a host and a valid port.
    case invalid
    /// A scheme other than `http` and `https`.
    case unsupportedScheme(String)
  }

  /// An exchange with `address`, an `http://` or `https://` URL; `https` trusts the PEM bundle `SSL_CERT_FILE` in
  /// `environment` names, else the system's.
  static func to(
    _ address: String, expect: Int, needle: Data?, limit: Int, environment: [String: String],
    payload: (body: Data, type: String)? = nil
  ) -> Result<HTTPExchange, AddressError> {
    guard let url = URL(string: address), let scheme = url.scheme?.lowercased() else { return .failure(.invalid) }
    guard scheme == "http" || scheme == "https" else { return .failure(.unsupportedScheme(scheme)) }
    guard let host = url.host, !host.isEmpty,
      let port = UInt16(exactly: url.port ?? (scheme == "http" ? 80 : 443)), port > 0
    else { return .failure(.invalid) }
    return .success(
      HTTPExchange(
        host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port,
        target: HTTPCheck.requestTarget(url),
        hostHeader: url.port.map { "\(HTTPCheck.bracketed(host)):\($0)" } ?? HTTPCheck.bracketed(host),
        userAgent: HTTPCheck.userAgent, expect: expect, needle: needle, limit: limit,
        trustedFile: scheme == "https" ? TLSChannel.trustedFile(in: environment) : nil, payload: payload))
  }

  /// Performs the exchange on a thread of its own, giving up after `timeout`: `nil` then.
  ///
  /// Name resolution cannot be interrupted, so the thread is abandoned if it outlives the deadline; every other
  /// wait of the exchange ends soon after the caller stopped waiting for it (deadline or cancellation).
  func run(timeout: Duration, thread: String) async -> HTTPAnswer? {
    let deadline = ContinuousClock.now + timeout
    let abandoned = TCPConnector.Abandonment()
    defer { abandoned.raise() }
    return await withDeadline(timeout) {
      await onDedicatedThread(named: thread) { perform(until: deadline, abandoned: abandoned) }
    }
  }

  /// Runs the exchange; the answer, or why there is none. Once `abandoned` is raised, every wait ends soon.
  func perform(until deadline: ContinuousClock.Instant, abandoned: TCPConnector.Abandonment) -> HTTPAnswer {
    let fd: Int32
    switch TCPConnector.open(host: host, port: port, deadline: deadline, abandoned: abandoned) {
    case .success(let descriptor): fd = descriptor
    case .failure(let failure): return .failure(.failed, failure.reason)
    }
    defer { close(fd) }
    var tls: TLSChannel?
    if let trustedFile {
      switch TLSChannel.open(fd: fd, host: host, trustedFile: trustedFile, deadline: deadline, abandoned: abandoned) {
      case .success(let channel): tls = channel
      case .failure(let failure): return .failure(.failed, failure.reason)
      }
    }
    var connection = Connection(fd: fd, deadline: deadline, abandoned: abandoned, tls: tls)
    var request =
      "\(payload == nil ? "GET" : "POST") \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: \(userAgent)\r\n"
      + "Accept: */*\r\nCache-Control: no-cache\r\nConnection: close\r\n"
    if let payload {
      request += "Content-Type: \(payload.type)\r\nContent-Length: \(payload.body.count)\r\n"
    }
    if let reason = connection.send(Data((request + "\r\n").utf8) + (payload?.body ?? Data())) {
      return .failure(.failed, reason)
    }

    var head: Head
    repeat {
      switch connection.readHead() {
      case .failure(let failure): return .failure(.failed, failure.reason)
      case .success(let parsed): head = parsed
      }
    } while (100..<200).contains(head.status)  // 100 Continue and friends precede the real response
    let location = head.fields["location"]
    guard head.status == expect, let needle else {
      guard head.status != expect else {
        return .response(status: head.status, location: location, body: .unread, excerpt: Data())
      }
      // The wrong status decides; the body's first bytes, as far as they come before the deadline, say why.
      var excerpt = BodySearch(needle: nil, limit: HTTPCheck.excerptLimit)
      _ = connection.readBody(framing: head.framing, into: &excerpt)
      return .response(status: head.status, location: location, body: .unread, excerpt: excerpt.seen)
    }
    var search = BodySearch(needle: needle, limit: limit)
    switch connection.readBody(framing: head.framing, into: &search) {
    case .failure(let failure): return .failure(.failed, failure.reason)
    case .success(let body):
      return .response(
        status: head.status, location: location, body: body, excerpt: search.seen.prefix(HTTPCheck.excerptLimit))
    }
  }

  /// A parsed response head.
  struct Head {
    var status: Int
    /// Header fields, names lower-cased.
    var fields: [String: String]

    /// How the body's end is marked.
    enum Framing {
      case length(Int)
      case chunked
      case untilClose
    }

    var framing: Framing {
      if status == 204 || status == 304 { return .length(0) }
      if fields["transfer-encoding"]?.lowercased().contains("chunked") == true { return .chunked }
      if let text = fields["content-length"], let length = Int(text), length >= 0 { return .length(length) }
      return .untilClose
    }

    /// Parses `HTTP/1.x NNN reason` and the field lines; `nil` when it is not an HTTP response head.
    init?(_ text: String) {
      var lines = text.components(separatedBy: "\r\n")
      let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
      guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]),
        (100..<1000).contains(status)
      else { return nil }
      self.status = status
      fields = [:]
      for line in lines {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
  }

  /// The socket with what was received and not yet used.
  struct Connection {
    let fd: Int32
    let deadline: ContinuousClock.Instant
    let abandoned: TCPConnector.Abandonment
    /// The TLS session bytes go through, if any.
    let tls: TLSChannel?
    private var pending = Data()
    private var ended = false

    init(fd: Int32, deadline: ContinuousClock.Instant, abandoned: TCPConnector.Abandonment, tls: TLSChannel? = nil) {
      self.fd = fd
      self.deadline = deadline
      self.abandoned = abandoned
      self.tls = tls
    }

    typealias Failure = TCPConnector.Failure

    /// Sends all of `data`; `nil`, or why it could not.
    func send(_ data: Data) -> String? {
      if let tls { return tls.send(data) }
      return data.withUnsafeBytes { raw -> String? in
        var offset = 0
        while offset < raw.count {
          switch TCPConnector.wait(for: fd, events: POLLOUT, until: deadline, abandoned: abandoned) {
          case .timedOut: return "timeout"
          case .failed(let code): return TCPConnector.describe(code)
          case .ready: break
          }
          #if canImport(Glibc)
            let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
          #else
            let sent = Darwin.send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
          #endif
          if sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) { continue }
          guard sent > 0 else { return TCPConnector.describe(errno) }
          offset += sent
        }
        return nil
      }
    }

    /// Receives more bytes into `pending`; false at the end of the stream.
    private mutating func receive() -> Result<Bool, Failure> {
      guard !ended else { return .success(false) }
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      if let tls {
        switch tls.receive(into: &buffer) {
        case .failure(let failure): return .failure(failure)
        case .success(0):
          ended = true
          return .success(false)
        case .success(let count):
          pending.append(contentsOf: buffer[..<count])
          return .success(true)
        }
      }
      while true {
        switch TCPConnector.wait(for: fd, events: POLLIN, until: deadline, abandoned: abandoned) {
        case .timedOut: return .failure(Failure(reason: "timeout"))
        case .failed(let code): return .failure(Failure(reason: TCPConnector.describe(code)))
        case .ready: break
        }
        let count = recv(fd, &buffer, buffer.count, 0)
        if count > 0 {
          pending.append(contentsOf: buffer[..<count])
          return .success(true)
        }
        if count == 0 {
          ended = true
          return .success(false)
        }
        if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
        return .failure(Failure(reason: TCPConnector.describe(errno)))
      }
    }

    /// Reads up to the blank line that ends a response head and parses it.
    mutating func readHead() -> Result<Head, Failure> {
      let separator = Data("\r\n\r\n".utf8)
      while true {
        if let end = pending.range(of: separator) {
          let text = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
          pending.removeSubrange(..<end.upperBound)
          guard let head = Head(text) else { return .failure(Failure(reason: "bad response")) }
          return .success(head)
        }
        guard pending.count <= HTTPExchange.headLimit else { return .failure(Failure(reason: "bad response")) }
        switch receive() {
        case .failure(let failure): return .failure(failure)
        case .success(true): continue
        case .success(false): return .failure(Failure(reason: pending.isEmpty ? "connection lost" : "bad response"))
        }
      }
    }

    /// Feeds the body to `search` until it has a verdict or the body ends.
    mutating func readBody(framing: Head.Framing, into search: inout BodySearch) -> Result<HTTPAnswer.Body, Failure> {
      switch framing {
      case .length(var remaining):
        while true {
          let piece = pending.prefix(remaining)
          pending.removeFirst(piece.count)
          remaining -= piece.count
          if let verdict = search.take(piece) { return .success(verdict) }
          if remaining == 0 { return .success(.lacking) }
          switch receive() {
          case .failure(let failure): return .failure(failure)
          case .success(true): continue
          case .success(false): return .failure(Failure(reason: "connection lost"))
          }
        }
      case .untilClose:
        while true {
          let piece = pending
          pending.removeAll()
          if let verdict = search.take(piece) { return .success(verdict) }
          switch receive() {
          case .failure(let failure): return .failure(failure)
          case .success(true): continue
          case .success(false): return .success(.lacking)
          }
        }
      case .chunked:
        return readChunks(into: &search)
      }
    }

    /// Decodes a chunked body: `SIZE[;ext]CRLF DATA CRLF`, …, `0 CRLF` (trailers are not read).
    private mutating func readChunks(into search: inout BodySearch) -> Result<HTTPAnswer.Body, Failure> {
      let lineEnd = Data("\r\n".utf8)
      while true {
        // The size line.
        var size: Int?
        while size == nil {
          if let end = pending.range(of: lineEnd) {
            let line = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
            pending.removeSubrange(..<end.upperBound)
            let digits = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
            guard let digits, let parsed = Int(digits, radix: 16), parsed >= 0 else {
              return .failure(Failure(reason: "bad response"))
            }
            size = parsed
          } else {
            guard pending.count <= 1024 else { return .failure(Failure(reason: "bad response")) }
            switch receive() {
            case .failure(let failure): return .failure(failure)
            case .success(true): continue
            case .success(false): return .failure(Failure(reason: "connection lost"))
            }
          }
        }
        guard var remaining = size, remaining > 0 else { return .success(.lacking) }
        // The chunk's data, then its CRLF.
        remaining += lineEnd.count
        while remaining > 0 {
          let piece = pending.prefix(remaining)
          pending.removeFirst(piece.count)
          let data = piece.prefix(max(0, remaining - lineEnd.count))
          remaining -= piece.count
          if let verdict = search.take(data) { return .success(verdict) }
          if remaining == 0 { break }
          switch receive() {
          case .failure(let failure): return .failure(failure)
          case .success(true): continue
          case .success(false): return .failure(Failure(reason: "connection lost"))
          }
        }
      }
    }
  }
}
