#include "negotiate.h"

/* Linux only: elsewhere libgit2 links its platform's GSSAPI as usual. */
#if defined(__linux__)

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The GSSAPI types, as RFC 2744 defines them; handles are opaque pointers. */
typedef uint32_t OM_uint32;
typedef struct {
  OM_uint32 length;
  void *elements;
} gss_OID_desc, *gss_OID;
typedef struct {
  size_t count;
  gss_OID elements;
} gss_OID_set_desc, *gss_OID_set;
typedef struct {
  size_t length;
  void *value;
} gss_buffer_desc, *gss_buffer_t;
typedef void *gss_name_t;
typedef void *gss_ctx_id_t;
typedef void *gss_cred_id_t;
typedef void *gss_channel_bindings_t;

#define AIRLOCK_GSS_S_FAILURE (((OM_uint32)13ul) << 16)

/* GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4: a stand-in with the standard's bytes, swapped for the real
 * library's own pointer on the way in (libraries compare name types by pointer as well as by value). */
static gss_OID_desc hostbased_service = {10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &hostbased_service;

static struct {
  OM_uint32 (*delete_sec_context)(OM_uint32 *, gss_ctx_id_t *, gss_buffer_t);
  OM_uint32 (*display_status)(OM_uint32 *, OM_uint32, int, gss_OID, OM_uint32 *, gss_buffer_t);
  OM_uint32 (*import_name)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
  OM_uint32 (*indicate_mechs)(OM_uint32 *, gss_OID_set *);
  OM_uint32 (*init_sec_context)(
    OM_uint32 *, gss_cred_id_t, gss_ctx_id_t *, gss_name_t, gss_OID, OM_uint32, OM_uint32, gss_channel_bindings_t,
    gss_buffer_t, gss_OID *, gss_buffer_t, OM_uint32 *, OM_uint32 *);
  OM_uint32 (*release_buffer)(OM_uint32 *, gss_buffer_t);
  OM_uint32 (*release_name)(OM_uint32 *, gss_name_t *);
  OM_uint32 (*release_oid_set)(OM_uint32 *, gss_OID_set *);
  gss_OID *hostbased_service;
  int loaded;
} real;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
  void *library = dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) return;
  *(void **)&real.delete_sec_context = dlsym(library, "gss_delete_sec_context");
  *(void **)&real.display_status = dlsym(library, "gss_display_status");
  *(void **)&real.import_name = dlsym(library, "gss_import_name");
  *(void **)&real.indicate_mechs = dlsym(library, "gss_indicate_mechs");
  *(void **)&real.init_sec_context = dlsym(library, "gss_init_sec_context");
  *(void **)&real.release_buffer = dlsym(library, "gss_release_buffer");
  *(void **)&real.release_name = dlsym(library, "gss_release_name");
  *(void **)&real.release_oid_set = dlsym(library, "gss_release_oid_set");
  real.hostbased_service = dlsym(library, "GSS_C_NT_HOSTBASED_SERVICE");
  real.loaded = real.delete_sec_context && real.display_status && real.import_name && real.indicate_mechs
    && real.init_sec_context && real.release_buffer && real.release_name && real.release_oid_set
    && real.hostbased_service;
}

int airlock_gssapi_load(void) {
  pthread_once(&load_once, load);
  return real.loaded;
}

/* Loads the library or fails the call the way a GSSAPI call fails, with no minor status. */
#define REQUIRE_LIBRARY(minor)                   \
  do {                                           \
    if (!airlock_gssapi_load()) {                \
      if ((minor) != NULL) *(minor) = 0;         \
      return AIRLOCK_GSS_S_FAILURE;              \
    }                                            \
  } while (0)

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output) {
  REQUIRE_LIBRARY(minor);
  return real.delete_sec_context(minor, context, output);
}

OM_uint32 gss_display_status(
  OM_uint32 *minor, OM_uint32 status, int type, gss_OID mechanism, OM_uint32 *message_context, gss_buffer_t text
) {
  if (!airlock_gssapi_load()) {
    if (minor != NULL) *minor = 0;
    if (message_context != NULL) *message_context = 0;
    if (text != NULL) {
      text->length = 0;
      text->value = NULL;
    }
    return AIRLOCK_GSS_S_FAILURE;
  }
  return real.display_status(minor, status, type, mechanism, message_context, text);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t name, gss_OID type, gss_name_t *output) {
  REQUIRE_LIBRARY(minor);
  return real.import_name(minor, name, type == &hostbased_service ? *real.hostbased_service : type, output);
}

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mechanisms) {
  REQUIRE_LIBRARY(minor);
  return real.indicate_mechs(minor, mechanisms);
}

OM_uint32 gss_init_sec_context(
  OM_uint32 *minor, gss_cred_id_t credential, gss_ctx_id_t *context, gss_name_t target, gss_OID mechanism,
  OM_uint32 flags, OM_uint32 time, gss_channel_bindings_t bindings, gss_buffer_t input, gss_OID *actual,
  gss_buffer_t output, OM_uint32 *returned_flags, OM_uint32 *time_left
) {
  REQUIRE_LIBRARY(minor);
  return real.init_sec_context(
    minor, credential, context, target, mechanism, flags, time, bindings, input, actual, output, returned_flags,
    time_left);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) {
  REQUIRE_LIBRARY(minor);
  return real.release_buffer(minor, buffer);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) {
  REQUIRE_LIBRARY(minor);
  return real.release_name(minor, name);
}

OM_uint32 gss_release_oid_set(OM_uint32 *minor, gss_OID_set *set) {
  REQUIRE_LIBRARY(minor);
  return real.release_oid_set(minor, set);
}

int airlock_gssapi_mechanism_count(void) {
  OM_uint32 minor = 0;
  gss_OID_set mechanisms = NULL;
  if (gss_indicate_mechs(&minor, &mechanisms) != 0 || mechanisms == NULL) return -1;
  int count = (int)mechanisms->count;
  gss_release_oid_set(&minor, &mechanisms);
  return count;
}

#else

int airlock_gssapi_load(void) { return 0; }
int airlock_gssapi_mechanism_count(void) { return -1; }

#endif
