#ifndef AIRLOCK_CMBEDTLS_SHIM_H
#define AIRLOCK_CMBEDTLS_SHIM_H

/* A TLS client over a connected non-blocking socket, from mbed TLS (which libgit2-dev already brings), so that
   `https://` checks need neither libcurl nor FoundationNetworking, whose dozens of shared libraries every `airlock`
   start would otherwise load. The caller waits on the socket between calls that answer AIRLOCK_TLS_WANT_*. */

#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define AIRLOCK_TLS_WANT_READ 1
#define AIRLOCK_TLS_WANT_WRITE 2

typedef struct airlock_tls {
  int fd;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt trusted;
  mbedtls_ssl_config config;
  mbedtls_ssl_context ssl;
} airlock_tls;

static int airlock_tls_send_cb(void *context, const unsigned char *bytes, size_t length) {
  int fd = ((airlock_tls *)context)->fd;
  ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
  if (sent >= 0) return (int)sent;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int airlock_tls_recv_cb(void *context, unsigned char *bytes, size_t length) {
  int fd = ((airlock_tls *)context)->fd;
  ssize_t received = recv(fd, bytes, length, 0);
  if (received >= 0) return (int)received;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

static inline void airlock_tls_free(airlock_tls *tls) {
  if (tls == NULL) return;
  mbedtls_ssl_free(&tls->ssl);
  mbedtls_ssl_config_free(&tls->config);
  mbedtls_x509_crt_free(&tls->trusted);
  mbedtls_ctr_drbg_free(&tls->drbg);
  mbedtls_entropy_free(&tls->entropy);
  free(tls);
}

/* A client for `host` (checked against the server's certificate) over `fd`, trusting the certificates in the PEM
   file `trusted_file`; NULL with *error set (an mbed TLS error code) when it cannot be set up. */
static inline airlock_tls *airlock_tls_new(int fd, const char *host, const char *trusted_file, int *error) {
  airlock_tls *tls = calloc(1, sizeof(airlock_tls));
  if (tls == NULL) {
    *error = MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return NULL;
  }
  tls->fd = fd;
  mbedtls_entropy_init(&tls->entropy);
  mbedtls_ctr_drbg_init(&tls->drbg);
  mbedtls_x509_crt_init(&tls->trusted);
  mbedtls_ssl_config_init(&tls->config);
  mbedtls_ssl_init(&tls->ssl);
  static const unsigned char personal[] = "airlock https check";
  int code = mbedtls_ctr_drbg_seed(&tls->drbg, mbedtls_entropy_func, &tls->entropy, personal, sizeof personal - 1);
  /* A bundle may hold a certificate mbed TLS cannot parse (a positive count); the others are still trusted. */
  if (code == 0) code = mbedtls_x509_crt_parse_file(&tls->trusted, trusted_file);
  if (code > 0) code = tls->trusted.version == 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT : 0;
  if (code == 0)
    code = mbedtls_ssl_config_defaults(&tls->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (code == 0) {
    mbedtls_ssl_conf_authmode(&tls->config, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&tls->config, &tls->trusted, NULL);
    mbedtls_ssl_conf_rng(&tls->config, mbedtls_ctr_drbg_random, &tls->drbg);
    code = mbedtls_ssl_setup(&tls->ssl, &tls->config);
  }
  if (code == 0) code = mbedtls_ssl_set_hostname(&tls->ssl, host);
  if (code != 0) {
    *error = code;
    airlock_tls_free(tls);
    return NULL;
  }
  mbedtls_ssl_set_bio(&tls->ssl, tls, airlock_tls_send_cb, airlock_tls_recv_cb, NULL);
  return tls;
}

/* Maps mbed TLS's "call again" codes to AIRLOCK_TLS_WANT_*; other codes pass through. */
static inline int airlock_tls_status(int code) {
  if (code == MBEDTLS_ERR_SSL_WANT_READ) return -AIRLOCK_TLS_WANT_READ;
  if (code == MBEDTLS_ERR_SSL_WANT_WRITE) return -AIRLOCK_TLS_WANT_WRITE;
  return code;
}

/* 0 once the handshake is done (certificate verified); -AIRLOCK_TLS_WANT_* to call again; another negative code
   on failure. */
static inline int airlock_tls_handshake(airlock_tls *tls) { return airlock_tls_status(mbedtls_ssl_handshake(&tls->ssl)); }

/* The bytes written (> 0), -AIRLOCK_TLS_WANT_* to call again, or another negative code. */
static inline int airlock_tls_write(airlock_tls *tls, const unsigned char *bytes, size_t length) {
  return airlock_tls_status(mbedtls_ssl_write(&tls->ssl, bytes, length));
}

/* The bytes read (> 0), 0 at the end of the stream, -AIRLOCK_TLS_WANT_* to call again, or another negative code. */
static inline int airlock_tls_read(airlock_tls *tls, unsigned char *bytes, size_t length) {
  int code = mbedtls_ssl_read(&tls->ssl, bytes, length);
  if (code == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || code == MBEDTLS_ERR_SSL_CONN_EOF) return 0;
  return airlock_tls_status(code);
}

/* Why the server's certificate was refused, or "" when it was not. */
static inline void airlock_tls_verify_failure(airlock_tls *tls, char *text, size_t size) {
  text[0] = 0;
  uint32_t flags = mbedtls_ssl_get_verify_result(&tls->ssl);
  if (flags != 0 && flags != (uint32_t)-1) mbedtls_x509_crt_verify_info(text, size, "", flags);
}

/* mbed TLS's description of an error code. */
static inline void airlock_tls_describe(int code, char *text, size_t size) { mbedtls_strerror(code, text, size); }

#endif
