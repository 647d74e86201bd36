import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// This machine's name as `gethostname` reports it.
///
/// Not `ProcessInfo.hostName`, which may resolve the name through DNS: a rollback must not wait on a resolver.
enum HostName {
  static let current: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
  }()
}
