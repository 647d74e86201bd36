import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The test servers' loopback addresses (all of 127/8 is loopback, so each server gets its own).
public enum Loopback {
  /// Whether something accepts TCP connections on `address:port` (an IPv4 address) right now.
  public static func accepts(_ address: String, _ port: Int) -> Bool {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { return false }
    defer { close(socketFD) }
    var peer = sockaddr_in()
    peer.sin_family = sa_family_t(AF_INET)
    peer.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, address, &peer.sin_addr)
    return withUnsafePointer(to: &peer) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }
}
