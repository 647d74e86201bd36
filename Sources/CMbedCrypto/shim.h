#ifndef AIRLOCK_CMBEDCRYPTO_SHIM_H
#define AIRLOCK_CMBEDCRYPTO_SHIM_H

/* SHA-256 from mbed TLS's crypto library, which libgit2-dev already brings (and libgit2 already loads), so Airlock
   needs no crypto package of its own to fingerprint secrets. */

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <stddef.h>

/* Writes the 32-byte SHA-256 digest of `length` bytes at `input` to `digest`; 0 on success. */
static inline int airlock_sha256(const unsigned char *input, size_t length, unsigned char digest[32]) {
#if MBEDTLS_VERSION_MAJOR >= 3
  return mbedtls_sha256(input, length, digest, 0);
#else
  return mbedtls_sha256_ret(input, length, digest, 0);
#endif
}

#endif
