#ifndef AIRLOCK_CGIT2_SHIM_H
#define AIRLOCK_CGIT2_SHIM_H

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* glibc hands freed memory at the top of a heap back to the kernel once 128 KiB are free. libgit2 allocates and
 * frees zlib's buffers (about 256 KiB) for every object it writes, so each object faulted those pages in again.
 * A higher threshold keeps them; the memory kept is bounded by the process's peak. Elsewhere this does nothing. */
static inline void airlock_keep_freed_memory(void) {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

/* git_libgit2_opts is variadic, which Swift cannot call; these wrappers give each option we use a fixed signature. */

static inline int airlock_git_enable_fsync_gitdir(int enabled) {
  return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

static inline int airlock_git_set_certificate_file(const char *file) {
  return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL);
}

static inline int airlock_git_enable_strict_object_creation(int enabled) {
  return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

static inline int airlock_git_set_search_path(int level, const char *path) {
  return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

/* syncfs(2) is declared only under _GNU_SOURCE, which Swift's Glibc module is not built with. */
extern int syncfs(int fd);

/* Flushes the file system holding `path` (a file or folder) to stable storage: one call for every write on it. */
static inline int airlock_syncfs_at(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int status = syncfs(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return status;
}

/* fsync(2) of one file or folder by path; a folder's fsync makes the names created in it durable. */
static inline int airlock_fsync_at(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int status = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return status;
}

/*
 * The loose-object guard: an object-database backend, consulted before libgit2's own loose backend, that reads
 * loose objects itself and refuses damaged ones with an error naming the object and its file.
 *
 * Why: libgit2 1.5.1 inflates a loose object with git_zstream_get_output, which loops until it has the size the
 * header announces. When the zlib data is cut short (a power cut while fsync is off leaves exactly that), inflate
 * returns Z_BUF_ERROR without progress, which libgit2 treats as "retry", so the loop spins forever at 100% CPU.
 * Here inflate is given the whole file at once, so one call either finishes the stream or proves it is cut short.
 *
 * Objects that are not loose (packed) pass through to the other backends. Reading the header only
 * (git_odb_read_header) is left to libgit2: it inflates one chunk and cannot spin.
 */
typedef struct {
  git_odb_backend parent;
  char *objects; /* the objects folder, with no trailing slash */
} airlock_loose_guard;

/* One message per kind of damage, so each text is written once. */
#define AIRLOCK_DAMAGE_NOT_FILE "it is not a regular file"
#define AIRLOCK_DAMAGE_UNREADABLE "it cannot be read"
#define AIRLOCK_DAMAGE_NOT_ZLIB "it is not zlib-compressed data"
#define AIRLOCK_DAMAGE_INVALID "its compressed data is invalid"
#define AIRLOCK_DAMAGE_CUT_SHORT "its compressed data ends early (the file was cut short)"
#define AIRLOCK_DAMAGE_BAD_HEADER "its header is not \"<type> <size>\""
#define AIRLOCK_DAMAGE_LONGER "it holds more data than its header announces"
#define AIRLOCK_DAMAGE_TRAILING "it has bytes after the end of its compressed data"

static inline int airlock_guard_fail(const char *hex, const char *file, const char *reason, const char *zlib_detail) {
  char message[1024];
  snprintf(
    message, sizeof message, "loose object %s (file %s) is damaged: %s%s%s", hex, file, reason,
    zlib_detail ? ": " : "", zlib_detail ? zlib_detail : "");
  git_error_set_str(GIT_ERROR_ZLIB, message);
  return GIT_ERROR;
}

/* Reads all of `fd` into a malloc'd buffer; returns NULL (errno set) on failure. */
static inline unsigned char *airlock_guard_slurp(int fd, size_t size) {
  unsigned char *data = malloc(size ? size : 1);
  if (!data) return NULL;
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, data + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      free(data);
      if (got == 0) errno = EIO;
      return NULL;
    }
    done += (size_t)got;
  }
  return data;
}

static inline int airlock_guard_read(
  void **out, size_t *out_len, git_object_t *out_type, git_odb_backend *backend, const git_oid *oid) {
  airlock_loose_guard *guard = (airlock_loose_guard *)backend;
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  char file[PATH_MAX];
  if (snprintf(file, sizeof file, "%s/%.2s/%s", guard->objects, hex, hex + 2) >= (int)sizeof file)
    return GIT_PASSTHROUGH;
  /* O_NONBLOCK: a FIFO in the objects folder must not block the open. */
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return GIT_PASSTHROUGH; /* not loose (packed, or absent): the other backends answer */
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return airlock_guard_fail(hex, file, AIRLOCK_DAMAGE_NOT_FILE, NULL);
  }
  /* Beyond zlib's 32-bit counters libgit2's own path reads it; no ledger file comes near that. */
  if ((unsigned long long)info.st_size >= UINT_MAX) {
    close(fd);
    return GIT_PASSTHROUGH;
  }
  size_t compressed_size = (size_t)info.st_size;
  unsigned char *compressed = airlock_guard_slurp(fd, compressed_size);
  close(fd);
  if (!compressed) return airlock_guard_fail(hex, file, AIRLOCK_DAMAGE_UNREADABLE, strerror(errno));
  /* A zlib stream starts with a deflate header whose 16 bits are a multiple of 31. */
  if (compressed_size < 2 || (compressed[0] & 0x8f) != 0x08 || ((compressed[0] << 8) | compressed[1]) % 31 != 0) {
    free(compressed);
    return airlock_guard_fail(hex, file, AIRLOCK_DAMAGE_NOT_ZLIB, NULL);
  }

  z_stream stream;
  memset(&stream, 0, sizeof stream);
  if (inflateInit(&stream) != Z_OK) {
    free(compressed);
    git_error_set_str(GIT_ERROR_NOMEMORY, "zlib could not start inflating a loose object");
    return GIT_ERROR;
  }
  stream.next_in = compressed;
  stream.avail_in = (uInt)compressed_size;

  /* The header "<type> <size>\0" fits in 64 bytes; inflate stops when the buffer is full or the input ends. */
  unsigned char header[64];
  stream.next_out = header;
  stream.avail_out = sizeof header;
  int status = inflate(&stream, Z_NO_FLUSH);
  const char *reason = NULL;
  const char *detail = NULL;
  unsigned char *body = NULL;
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  size_t inflated = sizeof header - stream.avail_out;
  unsigned char *end = memchr(header, 0, inflated);
  if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
    reason = AIRLOCK_DAMAGE_INVALID;
    detail = stream.msg;
  } else if (!end) {
    reason = (stream.avail_in == 0 && status != Z_STREAM_END) ? AIRLOCK_DAMAGE_CUT_SHORT : AIRLOCK_DAMAGE_BAD_HEADER;
  } else {
    char *space = memchr(header, ' ', (size_t)(end - header));
    if (space) {
      *space = 0;
      type = git_object_string2type((const char *)header);
    }
    const unsigned char *digit = space ? (const unsigned char *)space + 1 : end;
    if (digit == end || (*digit == '0' && digit + 1 != end)) type = GIT_OBJECT_INVALID;
    for (; digit < end && type != GIT_OBJECT_INVALID; digit++) {
      if (*digit < '0' || *digit > '9' || size > (SIZE_MAX - 9) / 10) type = GIT_OBJECT_INVALID;
      size = size * 10 + (size_t)(*digit - '0');
    }
    if (!git_object_typeisloose(type)) reason = AIRLOCK_DAMAGE_BAD_HEADER;
  }
  size_t header_length = end ? (size_t)(end - header) + 1 : 0;
  size_t have = inflated - header_length;
  if (!reason && have > size) reason = AIRLOCK_DAMAGE_LONGER;
  if (!reason && size >= UINT_MAX) {
    inflateEnd(&stream);
    free(compressed);
    return GIT_PASSTHROUGH;
  }
  if (!reason) {
    body = git_odb_backend_data_alloc(backend, size + 1);
    if (!body) {
      inflateEnd(&stream);
      free(compressed);
      return GIT_ERROR;
    }
    memcpy(body, header + header_length, have);
    if (status != Z_STREAM_END) {
      /* One byte of room beyond the announced size, so that a longer body shows instead of stopping inflate. */
      stream.next_out = body + have;
      stream.avail_out = (uInt)(size + 1 - have);
      status = inflate(&stream, Z_NO_FLUSH);
      have = size + 1 - stream.avail_out;
    }
    if (status == Z_STREAM_END) {
      if (have != size) reason = have > size ? AIRLOCK_DAMAGE_LONGER : AIRLOCK_DAMAGE_CUT_SHORT;
      else if (stream.avail_in != 0) reason = AIRLOCK_DAMAGE_TRAILING;
    } else if (status == Z_OK || status == Z_BUF_ERROR) {
      /* Inflate stopped with all the input given: either the output is full (too long) or the input ran out. */
      reason = stream.avail_out == 0 ? AIRLOCK_DAMAGE_LONGER : AIRLOCK_DAMAGE_CUT_SHORT;
    } else {
      reason = AIRLOCK_DAMAGE_INVALID;
      detail = stream.msg;
    }
  }
  int failed = reason ? airlock_guard_fail(hex, file, reason, detail) : 0;
  inflateEnd(&stream);
  free(compressed);
  if (failed) {
    git_odb_backend_data_free(backend, body);
    return failed;
  }
  body[size] = 0;
  *out = body;
  *out_len = size;
  *out_type = type;
  return 0;
}

static inline void airlock_guard_free(git_odb_backend *backend) {
  airlock_loose_guard *guard = (airlock_loose_guard *)backend;
  free(guard->objects);
  free(guard);
}

/* Puts the loose-object guard in front of `odb`'s backends; `objects` is the repository's objects folder. */
static inline int airlock_odb_add_loose_guard(git_odb *odb, const char *objects) {
  airlock_loose_guard *guard = calloc(1, sizeof *guard);
  if (!guard) return GIT_ERROR;
  if (git_odb_init_backend(&guard->parent, GIT_ODB_BACKEND_VERSION) < 0 || !(guard->objects = strdup(objects))) {
    free(guard);
    return GIT_ERROR;
  }
  guard->parent.read = airlock_guard_read;
  guard->parent.free = airlock_guard_free;
  /* libgit2's loose backend has priority 1 and its pack backend 2; higher is asked first. */
  int status = git_odb_add_backend(odb, &guard->parent, 3);
  if (status < 0) airlock_guard_free(&guard->parent);
  return status;
}

#endif
