#ifndef AIRLOCK_CGIT2_CERTIFICATES_H
#define AIRLOCK_CGIT2_CERTIFICATES_H

/* libgit2 1.5.1 as Debian builds it parses the system CA bundle (through mbed TLS) inside git_libgit2_init(),
 * about 50 million instructions, for every process, though only an https remote ledger ever needs it. The `airlock`
 * executable links with `--wrap=mbedtls_x509_crt_parse_file`, so that parse goes through the wrapper below: while
 * the calling thread is inside airlock_git_init_deferring_certificates(), it is skipped and its file remembered;
 * everything else (https checks, libgit2's later loads) parses as usual. Before a transport to a network remote,
 * Airlock loads the remembered file through GIT_OPT_SET_SSL_CERT_LOCATIONS, so libgit2 verifies servers exactly as
 * before. A build linked without the flag never calls the wrapper: libgit2 then loads the bundle at initialisation,
 * as it always did, and nothing is remembered. */

/* git_libgit2_init() with its parse of the default CA bundle skipped (when linked with the wrap). */
int airlock_git_init_deferring_certificates(void);

/* The CA file libgit2's initialisation skipped, or NULL when it skipped none. */
const char *airlock_git_deferred_certificate_file(void);

#endif
