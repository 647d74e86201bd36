import CGit2Negotiate
import Testing

/// libgit2's GSSAPI calls go through CGit2Negotiate, which loads libgssapi_krb5.so.2 on first use: the forwarders
/// reach the real library (which scripts/setup installs with libgit2-dev).
@Suite struct NegotiateTests {
  @Test func theForwardersReachTheRealGSSAPILibrary() {
    #expect(airlock_gssapi_load() == 1)
    // MIT Kerberos always offers at least krb5 and SPNEGO.
    #expect(airlock_gssapi_mechanism_count() >= 2)
  }
}
