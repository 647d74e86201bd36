#include "CGit2Certificates.h"

#include <git2.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>

/* Resolved by the linker only under --wrap=mbedtls_x509_crt_parse_file; without the flag nothing calls the wrapper. */
extern int __real_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path) __attribute__((weak));

static _Thread_local int deferring = 0;
static char *deferred_file = NULL;

int __wrap_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path) {
  if (deferring && path != NULL) {
    if (deferred_file == NULL) deferred_file = strdup(path);
    return 0; /* an empty chain: libgit2 installs it, and Airlock replaces it before any https transport */
  }
  return __real_mbedtls_x509_crt_parse_file(chain, path);
}

int airlock_git_init_deferring_certificates(void) {
  deferring = 1;
  int status = git_libgit2_init();
  deferring = 0;
  return status;
}

const char *airlock_git_deferred_certificate_file(void) { return deferred_file; }
