import Foundation

/// One host of an `ssh` target, as a pipeline's `hosts:` list names it: `web1`, `deploy@web1`, `web1:2222`,
/// `deploy@web1:2222`, or an IPv6 address in brackets (`[2001:db8::1]:22`).
///
/// `name` is what the ssh client is given as the destination, so a name that the user's `~/.ssh/config` (or the
/// target's `ssh_config:`) defines keeps its HostName, ProxyJump, IdentityFile and the rest. A user or port written
/// on the host wins over the target's `user:` and `port:`; with neither, the ssh configuration decides.
public struct SSHHost: Sendable, Hashable, CustomStringConvertible {
  /// The destination given to ssh: a host name, an alias from an ssh config, or an address.
  public var name: String
  /// The login user, if the pipeline gives one.
  public var user: String?
  /// The port, if the pipeline gives one.
  public var port: Int?

  /// A host with an explicit name, user and port.
  public init(name: String, user: String? = nil, port: Int? = nil) {
    self.name = name
    self.user = user
    self.port = port
  }

  /// Parses one `hosts:` entry; `user` and `port` are the target's defaults. Nil when the entry is not a host.
  ///
  /// Refused: an empty name, a name starting with `-` (ssh would read it as an option), white space or control
  /// characters, an empty user, a port outside 1–65535.
  public init?(_ entry: String, user defaultUser: String? = nil, port defaultPort: Int? = nil) {
    var rest = Substring(entry)
    var user = defaultUser
    if let at = rest.lastIndex(of: "@") {
      let written = rest[..<at]
      guard !written.isEmpty else { return nil }
      user = String(written)
      rest = rest[rest.index(after: at)...]
    }
    var port = defaultPort
    let name: Substring
    if rest.hasPrefix("[") {
      guard let close = rest.firstIndex(of: "]") else { return nil }
      name = rest[rest.index(after: rest.startIndex)..<close]
      let after = rest[rest.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
        port = value
      }
    } else if let colon = rest.lastIndex(of: ":") {
      guard let value = Int(rest[rest.index(after: colon)...]) else { return nil }
      name = rest[..<colon]
      port = value
    } else {
      name = rest
    }
    let forbidden = CharacterSet.whitespacesAndNewlines.union(.controlCharacters)
    guard !name.isEmpty, !name.hasPrefix("-"), name.unicodeScalars.allSatisfy({ !forbidden.contains($0) }),
      user.map({ !$0.hasPrefix("-") && $0.unicodeScalars.allSatisfy { !forbidden.contains($0) } }) ?? true,
      port.map({ (1...65_535).contains($0) }) ?? true
    else { return nil }
    self.init(name: String(name), user: user, port: port)
  }

  /// The host as people read it: `user@name:port` with whatever parts are set.
  public var description: String {
    let shownName = name.contains(":") ? "[\(name)]" : name
    return (user.map { "\($0)@" } ?? "") + shownName + (port.map { ":\($0)" } ?? "")
  }
}
