#ifndef AIRLOCK_CGIT2_NEGOTIATE_H
#define AIRLOCK_CGIT2_NEGOTIATE_H

/* libgit2 1.5.1 as Debian builds it speaks HTTP Negotiate (SPNEGO / Kerberos) through GSSAPI, which Debian ships
 * only as a shared library. Linking libgssapi_krb5.so.2 made every `airlock` start map and relocate it and the five
 * Kerberos libraries behind it (about 0.6 ms here), though only an https ledger remote behind Kerberos ever uses it.
 * This target defines the nine GSSAPI symbols libgit2 references; each loads libgssapi_krb5.so.2 on first use and
 * calls the real function, so Negotiate works exactly as before. Without the library, the calls fail with
 * GSS_S_FAILURE and libgit2 reports that Negotiate authentication is unavailable. */

/* 1 when libgssapi_krb5.so.2 is (or now gets) loaded and every forwarded symbol was found, else 0. */
int airlock_gssapi_load(void);

/* Asks the real library for its mechanisms through the forwarders (gss_indicate_mechs, gss_release_oid_set):
 * the count, or -1 when the library is missing or the call fails. For tests. */
int airlock_gssapi_mechanism_count(void);

#endif
