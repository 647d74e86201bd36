import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// File access by raw path bytes: file names need not be UTF-8, and a Swift `String` would replace such bytes.
public enum RawFiles {
  /// A failed system call, with the path shown byte-escaped and the errno text.
  public struct Failure: Error, CustomStringConvertible {
    /// The call, the byte-escaped path and the errno text.
    public let description: String
  }

  /// `bytes` as a NUL-terminated C path.
  public static func path(_ bytes: [UInt8]) -> [CChar] {
    bytes.map { CChar(bitPattern: $0) } + [0]
  }

  /// Creates the file at `path` (it must not exist) holding `content`.
  public static func write(_ path: [UInt8], _ content: [UInt8], mode: mode_t = 0o644) throws {
    let descriptor = open(Self.path(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    guard descriptor >= 0 else { throw failure("create", path) }
    defer { close(descriptor) }
    var offset = 0
    while offset < content.count {
      let written = content[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      guard written > 0 else { throw failure("write", path) }
      offset += written
    }
  }

  /// The whole content of the file at `path`.
  public static func read(_ path: [UInt8]) throws -> [UInt8] {
    let descriptor = open(Self.path(path), O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure("open", path) }
    defer { close(descriptor) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = Glibc.read(descriptor, &chunk, chunk.count)
      guard count >= 0 else { throw failure("read", path) }
      if count == 0 { return content }
      content += chunk.prefix(count)
    }
  }

  private static func failure(_ action: String, _ path: [UInt8]) -> Failure {
    let shown = path.map { (0x20..<0x7f).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
    return Failure(description: "cannot \(action) \(shown.joined()): \(String(cString: strerror(errno)))")
  }
}
